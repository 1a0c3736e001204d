// End to end: `splitpath serve`'s gateway in-process (real time, on a thread
// of its own) driven by real NBD clients from Debian packages: qemu-io
// (qemu-utils) and nbdinfo (libnbd-bin), fio's nbd engine, qemu-img to read a
// whole export back. The bytes are then checked on the simulated disks behind
// the virtual volumes. A test whose client is missing skips and says so
// (tools/setup-debian.sh installs them all).
//
// No assertion depends on timing: the clients run to completion, then the
// gateway stops and the fabric is inspected.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "boost/asio/post.hpp"
#include "fabric_sim/gateway/gateway.h"
#include "fabric_sim/gateway/nbd_codec.h"
#include "fabric_sim/switch/switch_virtualization.h"
#include "fabric_sim/topology/default_scenario.h"
#include "fabric_sim/topology/topology_yaml.h"
#include "fmt/format.h"
#include "gtest/gtest.h"

namespace splitpath::sim {
namespace {

bool have(const char* program) {
  return std::system(fmt::format("command -v {} >/dev/null 2>&1", program).c_str()) == 0;
}

#define REQUIRE_PROGRAM(program, package)                                        \
  do {                                                                           \
    if (!have(program))                                                          \
      GTEST_SKIP() << program << " is not installed (Debian package " << package \
                   << "; tools/setup-debian.sh installs it)";                    \
  } while (0)

struct CommandResult {
  int status = -1;
  std::string output;
};

// Runs a shell command, stdout and stderr together.
CommandResult run(const std::string& command) {
  CommandResult r;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
    r.output.append(buf.data(), n);
  const int w = pclose(p);
  r.status = WIFEXITED(w) ? WEXITSTATUS(w) : -1;
  return r;
}

// The gateway on an ephemeral loopback port, running on its own thread.
class Served {
 public:
  explicit Served(Topology topology, uint32_t initiators = 2) {
    GatewayOptions options;
    options.initiators = initiators;
    options.nbd->port = 0;
    auto g = Gateway::create(std::move(topology), options);
    if (!g.ok()) {
      error_ = std::string(g.status().message());
      return;
    }
    gateway_ = *std::move(g);
    if (auto s = gateway_->bring_up(std::chrono::seconds(30)); !s.ok()) {
      error_ = std::string(s.message());
      return;
    }
    thread_ = std::thread([this] { gateway_->run(); });
  }
  ~Served() { stop(); }
  void stop() {
    if (thread_.joinable()) {
      gateway_->request_stop();
      thread_.join();
    }
  }
  const std::string& error() const { return error_; }
  uint16_t port() const { return gateway_->nbd().port(); }
  std::string uri(const std::string& name) const {
    return fmt::format("nbd://127.0.0.1:{}/{}", port(), name);
  }
  Gateway& gateway() { return *gateway_; }
  Fabric& fabric() { return gateway_->fabric(); }
  // Runs `f` on the gateway's thread (while it runs) and returns its result.
  template <typename F>
  auto on_gateway_thread(F f) {
    std::promise<decltype(f())> result;
    auto future = result.get_future();
    boost::asio::post(gateway_->io(), [&] { result.set_value(f()); });
    return future.get();
  }

 private:
  std::unique_ptr<Gateway> gateway_;
  std::thread thread_;
  std::string error_;
};

std::vector<uint8_t> disk_bytes(Fabric& fabric, const std::string& disk, uint64_t offset,
                                uint64_t length) {
  std::vector<uint8_t> out(length);
  fabric.disk(disk)->store(0)->read(offset, out);
  return out;
}

bool all_equal(const std::vector<uint8_t>& bytes, uint8_t value) {
  for (uint8_t b : bytes)
    if (b != value) return false;
  return true;
}

// The switch port a gateway initiator is plugged into.
uint32_t port_of(const Fabric& fabric, const std::string& host) {
  for (const auto& h : fabric.topology().hosts)
    if (h.name == host) return h.attach.port.port;
  return ~0u;
}

TEST(NbdGateway, QemuIoWritesCrossTheSwitchToTheDisks) {
  REQUIRE_PROGRAM("qemu-io", "qemu-utils");
  Served served(default_topology(), 1);
  ASSERT_EQ(served.error(), "");
  // vol1 lies on disk2 from LBA 0; vol0's first VSEG is disk0 [0, 256 MiB),
  // its second disk1 from 0: the vol0 write straddles the two VSEGs.
  const uint64_t boundary = 256ull << 20;
  const auto result = run(
      fmt::format("qemu-io -f raw {} -c 'write -P 0x5a 1048576 65536' -c 'write -f -P 0xa5 0 4096' "
                  "-c 'read -P 0x5a 1048576 65536' -c 'flush' && "
                  "qemu-io -f raw {} -c 'write -P 0x3c {} 65536' -c 'read -P 0x3c {} 65536' "
                  "-c 'read -P 0 {} 512'",
                  served.uri("vol1"), served.uri("vol0"), boundary - 32768, boundary - 32768,
                  boundary + 32768));
  served.stop();
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(result.output.find("verification failed"), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find("error"), std::string::npos) << result.output;

  Fabric& f = served.fabric();
  EXPECT_TRUE(all_equal(disk_bytes(f, "disk2", 1048576, 65536), 0x5a));
  // Written with FUA (qemu-io's -f).
  EXPECT_TRUE(all_equal(disk_bytes(f, "disk2", 0, 4096), 0xa5));
  EXPECT_TRUE(all_equal(disk_bytes(f, "disk2", 1048576 + 65536, 512), 0));
  EXPECT_TRUE(all_equal(disk_bytes(f, "disk0", boundary - 32768, 32768), 0x3c));
  EXPECT_TRUE(all_equal(disk_bytes(f, "disk1", 0, 32768), 0x3c));
  EXPECT_TRUE(all_equal(disk_bytes(f, "disk1", 32768, 512), 0));

  // The commands entered the switch at the gateway initiator's port FP.
  const uint32_t port = port_of(f, "gw0");
  const auto stats = f.switch_named("sw0")->virtualization()->stats();
  uint64_t written = 0, commands = 0;
  for (const auto& p : stats.ports) {
    if (p.port != port) continue;
    written = p.write_bytes;
    commands = p.commands;
  }
  EXPECT_GE(commands, 5u);
  EXPECT_GE(written, 65536u + 4096u + 65536u);
  EXPECT_EQ(served.gateway().nbd().stats().dropped, 0u);
}

TEST(NbdGateway, NbdinfoListsOneExportPerVirtualVolume) {
  REQUIRE_PROGRAM("nbdinfo", "libnbd-bin");
  Served served(default_topology(), 1);
  ASSERT_EQ(served.error(), "");
  const auto list = run(fmt::format("nbdinfo --list --json nbd://127.0.0.1:{}", served.port()));
  const auto one = run(fmt::format("nbdinfo --json {}", served.uri("vol0")));
  served.stop();
  ASSERT_EQ(list.status, 0) << list.output;
  EXPECT_NE(list.output.find("\"vol0\""), std::string::npos) << list.output;
  EXPECT_NE(list.output.find("\"vol1\""), std::string::npos) << list.output;
  EXPECT_NE(list.output.find("536870912"), std::string::npos) << list.output;   // 512 MiB
  EXPECT_NE(list.output.find("1073741824"), std::string::npos) << list.output;  // 1 GiB
  ASSERT_EQ(one.status, 0) << one.output;
  EXPECT_NE(one.output.find("\"block_size_minimum\": 512"), std::string::npos) << one.output;
  EXPECT_NE(one.output.find("\"block_size_maximum\": 1048576"), std::string::npos) << one.output;
  EXPECT_NE(one.output.find("\"can_flush\": true"), std::string::npos) << one.output;
  EXPECT_NE(one.output.find("\"can_fua\": true"), std::string::npos) << one.output;
}

// A raw TCP client for protocol violations.
class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    // Only a guard against a hung test: a server that never answers fails it.
    timeval tv{30, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawClient() { close(fd_); }
  bool connected() const { return connected_; }
  bool send_bytes(const std::vector<uint8_t>& b) {
    return ::send(fd_, b.data(), b.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(b.size());
  }
  // Reads exactly n bytes; empty if the connection ended first.
  std::vector<uint8_t> read_bytes(size_t n) {
    std::vector<uint8_t> out(n);
    size_t got = 0;
    while (got < n) {
      const ssize_t r = recv(fd_, out.data() + got, n - got, 0);
      if (r <= 0) return {};
      got += static_cast<size_t>(r);
    }
    return out;
  }
  // True once the server closed the connection (EOF or reset).
  bool closed_by_server() {
    uint8_t b;
    const ssize_t r = recv(fd_, &b, 1, 0);
    return r == 0 || (r < 0 && errno == ECONNRESET);
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

void put(std::vector<uint8_t>& b, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i)
    b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// Negotiates export `name` with NBD_OPT_GO; false if that failed.
bool go(RawClient& c, const std::string& name) {
  if (c.read_bytes(nbd::kGreetingSize).empty()) return false;
  std::vector<uint8_t> b;
  put(b, nbd::kClientFlagFixedNewstyle | nbd::kClientFlagNoZeroes, 4);
  put(b, nbd::kOptionMagic, 8);
  put(b, nbd::kOptGo, 4);
  put(b, 4 + name.size() + 2, 4);
  put(b, name.size(), 4);
  b.insert(b.end(), name.begin(), name.end());
  put(b, 0, 2);
  if (!c.send_bytes(b)) return false;
  for (;;) {
    auto header = c.read_bytes(20);
    if (header.empty()) return false;
    const uint32_t type = (header[12] << 24) | (header[13] << 16) | (header[14] << 8) | header[15];
    const uint32_t length =
        (header[16] << 24) | (header[17] << 16) | (header[18] << 8) | header[19];
    if (length > 0 && c.read_bytes(length).empty()) return false;
    if (type == nbd::kRepAck) return true;
    if (type != nbd::kRepInfo) return false;
  }
}

TEST(NbdGateway, ProtocolViolationsDropOnlyTheirConnection) {
  REQUIRE_PROGRAM("qemu-io", "qemu-utils");
  Served served(default_topology(), 2);
  ASSERT_EQ(served.error(), "");
  {
    // Bad option magic during the haggling.
    RawClient c(served.port());
    ASSERT_TRUE(c.connected());
    ASSERT_FALSE(c.read_bytes(nbd::kGreetingSize).empty());
    std::vector<uint8_t> b;
    put(b, nbd::kClientFlagFixedNewstyle, 4);
    put(b, 0xdeadbeefdeadbeefULL, 8);
    put(b, nbd::kOptList, 4);
    put(b, 0, 4);
    ASSERT_TRUE(c.send_bytes(b));
    EXPECT_TRUE(c.closed_by_server());
  }
  // An open, well-behaved connection next to the bad ones.
  RawClient good(served.port());
  ASSERT_TRUE(good.connected());
  ASSERT_TRUE(go(good, "vol1"));
  {
    // A write longer than the advertised maximum (1 MiB).
    RawClient c(served.port());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(go(c, "vol1"));
    std::vector<uint8_t> r;
    put(r, nbd::kRequestMagic, 4);
    put(r, 0, 2);
    put(r, nbd::kCmdWrite, 2);
    put(r, 7, 8);
    put(r, 0, 8);
    put(r, 2u << 20, 4);
    ASSERT_TRUE(c.send_bytes(r));
    EXPECT_TRUE(c.closed_by_server());
  }
  {
    // An unknown command.
    RawClient c(served.port());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(go(c, "vol1"));
    std::vector<uint8_t> r;
    put(r, nbd::kRequestMagic, 4);
    put(r, 0, 2);
    put(r, 77, 2);
    put(r, 8, 8);
    put(r, 0, 8);
    put(r, 512, 4);
    ASSERT_TRUE(c.send_bytes(r));
    EXPECT_TRUE(c.closed_by_server());
  }
  // The good connection still works: a read past the end gets EINVAL and the
  // connection stays; then a real read of written data.
  {
    std::vector<uint8_t> r;
    put(r, nbd::kRequestMagic, 4);
    put(r, 0, 2);
    put(r, nbd::kCmdRead, 2);
    put(r, 42, 8);
    put(r, 1ull << 30, 8);  // vol1 is 1 GiB
    put(r, 512, 4);
    ASSERT_TRUE(good.send_bytes(r));
    auto reply = good.read_bytes(nbd::kSimpleReplySize);
    ASSERT_EQ(reply.size(), nbd::kSimpleReplySize);
    EXPECT_EQ(reply[7], nbd::kEinval);
    EXPECT_EQ(reply[15], 42);
  }
  const auto qemu =
      run(fmt::format("qemu-io -f raw {} -c 'write -P 0x77 8192 4096'", served.uri("vol1")));
  EXPECT_EQ(qemu.status, 0) << qemu.output;
  {
    std::vector<uint8_t> r;
    put(r, nbd::kRequestMagic, 4);
    put(r, 0, 2);
    put(r, nbd::kCmdRead, 2);
    put(r, 43, 8);
    put(r, 8192, 8);
    put(r, 4096, 4);
    ASSERT_TRUE(good.send_bytes(r));
    auto reply = good.read_bytes(nbd::kSimpleReplySize + 4096);
    ASSERT_EQ(reply.size(), nbd::kSimpleReplySize + 4096);
    EXPECT_EQ(reply[7], 0);
    EXPECT_EQ(reply[15], 43);
    EXPECT_TRUE(all_equal(std::vector<uint8_t>(reply.begin() + 16, reply.end()), 0x77));
  }
  served.stop();
  EXPECT_EQ(served.gateway().nbd().stats().dropped, 3u);
  EXPECT_TRUE(all_equal(disk_bytes(served.fabric(), "disk2", 8192, 4096), 0x77));
}

// fio with verify=crc32c (size based) over NBD: a mirrored volume whose
// second side fails and returns, a volume snapshotted and one migrated, all
// scheduled (tests/gateway/services.yaml) while fio writes. Then every volume
// is read back whole with qemu-img and compared with the disks behind it.
TEST(NbdGateway, FioVerifiesThroughMirrorFailureSnapshotAndMigration) {
  REQUIRE_PROGRAM("fio", "fio");
  REQUIRE_PROGRAM("qemu-img", "qemu-utils");
  auto topology = load_topology_file(std::string(GATEWAY_TEST_DIR) + "/services.yaml");
  ASSERT_TRUE(topology.ok()) << topology.status();
  Served served(*std::move(topology), 3);
  ASSERT_EQ(served.error(), "");
  const std::string common =
      "--ioengine=nbd --rw=randwrite --bs=4k --size=8M --iodepth=8 --rate=2M "
      "--verify=crc32c --verify_fatal=1";
  // fio runs in a scratch directory (it leaves its verify state files there).
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / fmt::format("nbd_gateway_test_{}", getpid());
  std::filesystem::create_directories(dir);
  struct RemoveOnExit {
    std::filesystem::path path;
    ~RemoveOnExit() { std::filesystem::remove_all(path); }
  } remove_on_exit{dir};
  const auto fio = run(fmt::format(
      "cd {} && fio --name=mirror {} --uri={} --name=snap {} --uri={} --name=migrate {} --uri={}",
      dir.string(), common, served.uri("mvol"), common, served.uri("svol"), common,
      served.uri("gvol")));
  // The simulation may lag the wall clock on a loaded machine: let every
  // service end (in simulated time) before reading the volumes back.
  for (int i = 0; i < 600; ++i) {
    const bool ended = served.on_gateway_thread([&] {
      for (const auto& o : served.fabric().service_outcomes())
        if (o.state == ServiceOutcome::State::kScheduled ||
            o.state == ServiceOutcome::State::kRunning)
          return false;
      return true;
    });
    if (ended) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::vector<CommandResult> dumps;
  for (const char* v : {"mvol", "svol", "gvol"}) {
    dumps.push_back(run(fmt::format("qemu-img convert -f raw -O raw {} {}/{}.img", served.uri(v),
                                    dir.string(), v)));
  }
  served.stop();
  ASSERT_EQ(fio.status, 0) << fio.output;
  EXPECT_EQ(fio.output.find("verify"), std::string::npos) << fio.output;
  for (const auto& d : dumps)
    ASSERT_EQ(d.status, 0) << d.output;

  Fabric& f = served.fabric();
  for (size_t i = 0; i < f.service_outcomes().size(); ++i) {
    EXPECT_EQ(f.service_outcomes()[i].state, ServiceOutcome::State::kDone)
        << "service " << i << ": " << f.service_outcomes()[i].error;
  }
  auto image = [&](const char* v) {
    std::ifstream in(dir / fmt::format("{}.img", v), std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
  };
  constexpr uint64_t kSize = 8 << 20;
  const auto mvol = image("mvol");
  const auto svol = image("svol");
  const auto gvol = image("gvol");
  ASSERT_EQ(mvol.size(), kSize);
  ASSERT_EQ(svol.size(), kSize);
  ASSERT_EQ(gvol.size(), kSize);
  // fio wrote every block (random map): nothing reads as never written.
  EXPECT_FALSE(all_equal(std::vector<uint8_t>(mvol.begin(), mvol.begin() + 4096), 0));
  // The mirror's sides both hold the volume (side 1 resynchronized).
  EXPECT_TRUE(disk_bytes(f, "d0", 0, kSize) == mvol);
  EXPECT_TRUE(disk_bytes(f, "d1", 0, kSize) == mvol);
  EXPECT_TRUE(disk_bytes(f, "d2", 0, kSize) == svol);
  // The migrated volume now lives on d3 from LBA 0.
  EXPECT_TRUE(disk_bytes(f, "d3", 0, kSize) == gvol);
  EXPECT_EQ(served.gateway().nbd().stats().dropped, 0u);
  EXPECT_EQ(served.gateway().nbd().stats().errors, 0u);
}

}  // namespace
}  // namespace splitpath::sim
