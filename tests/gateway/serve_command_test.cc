// `splitpath serve` as a process: the ready line with the ephemeral port, a
// client served, the summary after SIGTERM, and bad arguments.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "fmt/format.h"
#include "gtest/gtest.h"

namespace {

struct Process {
  pid_t pid = -1;
  FILE* out = nullptr;  // its stdout
};

// Starts `splitpath serve` with `args`; stderr goes to /dev/null.
Process start_serve(const std::vector<std::string>& args) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::freopen("/dev/null", "w", stderr);
    std::vector<char*> argv;
    std::string binary = SPLITPATH_BINARY;
    std::string serve = "serve";
    argv.push_back(binary.data());
    argv.push_back(serve.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  return Process{pid, fdopen(fds[0], "r")};
}

std::string read_line(FILE* f) {
  std::string line;
  int c;
  while ((c = std::fgetc(f)) != EOF && c != '\n')
    line.push_back(static_cast<char>(c));
  return line;
}

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ServeCommand, ServesUntilSigtermAndReportsItsConnections) {
  if (std::system("command -v qemu-io >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "qemu-io is not installed (Debian package qemu-utils; tools/setup-debian.sh "
                    "installs it)";
  Process p = start_serve({"--nbd", "127.0.0.1:0", "--initiators", "1"});
  ASSERT_GT(p.pid, 0);
  ASSERT_NE(p.out, nullptr);
  const std::string ready = read_line(p.out);
  unsigned port = 0;
  ASSERT_EQ(std::sscanf(ready.c_str(), "serving NBD on 127.0.0.1:%u:", &port), 1) << ready;
  EXPECT_NE(ready.find("vol0 (536870912 bytes), vol1 (1073741824 bytes)"), std::string::npos)
      << ready;
  const int qemu =
      std::system(fmt::format("qemu-io -f raw -c 'write -P 0x11 0 8192' -c 'read -P 0x11 0 8192' "
                              "nbd://127.0.0.1:{}/vol0 >/dev/null 2>&1",
                              port)
                      .c_str());
  EXPECT_EQ(qemu, 0);
  kill(p.pid, SIGTERM);
  const std::string summary = read_line(p.out);
  EXPECT_EQ(wait_exit(p.pid), 0);
  std::fclose(p.out);
  EXPECT_NE(summary.find("served 1 connections (0 refused, 0 dropped)"), std::string::npos)
      << summary;
  EXPECT_NE(summary.find("0 errors"), std::string::npos) << summary;
}

TEST(ServeCommand, ServesNbdAndIscsiTogetherFromOnePool) {
  if (std::system("command -v iscsi-inq >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "iscsi-inq is not installed (Debian package libiscsi-bin; "
                    "tools/setup-debian.sh installs it)";
  Process p = start_serve({"--nbd", "127.0.0.1:0", "--iscsi", "127.0.0.1:0", "--initiators", "2"});
  ASSERT_GT(p.pid, 0);
  ASSERT_NE(p.out, nullptr);
  const std::string nbd = read_line(p.out);
  const std::string iscsi = read_line(p.out);
  EXPECT_EQ(nbd.rfind("serving NBD on 127.0.0.1:", 0), 0u) << nbd;
  unsigned port = 0;
  ASSERT_EQ(std::sscanf(iscsi.c_str(), "serving iSCSI on 127.0.0.1:%u:", &port), 1) << iscsi;
  const std::string iqn = "iqn.2026-12.io.splitpath:vt-5000000000001000";
  EXPECT_NE(iscsi.find(iqn + " (vt0: LUN 0 vol0, LUN 1 vol1)"), std::string::npos) << iscsi;
  const int inq = std::system(
      fmt::format("iscsi-inq iscsi://127.0.0.1:{}/{}/1 >/dev/null 2>&1", port, iqn).c_str());
  EXPECT_EQ(inq, 0);
  kill(p.pid, SIGTERM);
  const std::string nbd_summary = read_line(p.out);
  const std::string iscsi_summary = read_line(p.out);
  EXPECT_EQ(wait_exit(p.pid), 0);
  std::fclose(p.out);
  EXPECT_NE(nbd_summary.find("served 0 connections"), std::string::npos) << nbd_summary;
  EXPECT_NE(iscsi_summary.find("served 1 iSCSI connections (0 discovery sessions, 1 sessions, 0 "
                               "logins refused, 0 failed, 0 dropped)"),
            std::string::npos)
      << iscsi_summary;
  EXPECT_NE(iscsi_summary.find(" 0 not GOOD"), std::string::npos) << iscsi_summary;
}

TEST(ServeCommand, BadArgumentsExitWithStatus2) {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"--nbd", "localhost"},
                                               {"--nbd", "127.0.0.1:99999"},
                                               {"--nbd", "not-an-address:1"},
                                               {"--iscsi", "localhost"},
                                               {"--iscsi", "not-an-address:3260"},
                                               {"--initiators", "0"},
                                               {"--max-block", "100"},
                                               {"/nonexistent/topology.yaml"}}) {
    Process p = start_serve(args);
    ASSERT_GT(p.pid, 0);
    EXPECT_EQ(wait_exit(p.pid), 2) << args[0] << " " << (args.size() > 1 ? args[1] : "");
    std::fclose(p.out);
  }
}

}  // namespace
