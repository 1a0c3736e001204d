// A whole simulated fabric from a topology YAML, with the hosts' jobs stopped
// so a test can drive SCSI commands itself, one at a time or several in
// flight, through the frames of the fabric, and read back what reached the
// disks. For the split-path tests: hosts talk to virtual targets, the switch's
// FPs and CP serve them.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "fabric_sim/run/fabric.h"
#include "fabric_sim/switch/switch_virtualization.h"
#include "fabric_sim/topology/topology_yaml.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/scsi_cdb_encode.h"

namespace splitpath::testing {

class VirtualTestbed {
 public:
  // Parses and builds the fabric, then runs until every host has found
  // `luns_per_host` LUNs (or 1 s of simulated time has passed).
  explicit VirtualTestbed(const std::string& yaml, size_t luns_per_host = 1,
                          const sim::FabricOptions& options = {}) {
    auto topology = sim::parse_topology_yaml(yaml, "test.yaml");
    if (!topology.ok()) {
      ADD_FAILURE() << topology.status();
      return;
    }
    auto fabric = sim::Fabric::build(*topology, options);
    if (!fabric.ok()) {
      ADD_FAILURE() << fabric.status();
      return;
    }
    fabric_ = std::move(*fabric);
    for (const auto& h : fabric_->hosts())
      h->stop_workload();
    // Ready when every host has found its LUNs and the logins of the
    // switches' virtual initiators that the hosts' PLOGIs asked for are done.
    for (int step = 0; step < 1000; ++step) {
      bool all = true;
      for (const auto& h : fabric_->hosts())
        all = all && h->luns().size() >= luns_per_host;
      for (const auto& s : fabric_->switches())
        all = all && s->virtualization_stats().cp.vi_logins_pending == 0;
      if (all) break;
      run_for(100 * sim::kNsPerUs);
    }
  }

  bool ok() const { return fabric_ != nullptr; }
  sim::Fabric& fabric() { return *fabric_; }
  sim::Kernel& kernel() { return fabric_->kernel(); }
  sim::Host& host(const std::string& name) { return *fabric_->host(name); }
  sim::Disk& disk(const std::string& name) { return *fabric_->disk(name); }
  sim::Switch& sw(const std::string& name = "sw0") { return *fabric_->switch_named(name); }
  sim::SwitchVirtualization& virtualization(const std::string& name = "sw0") {
    return *sw(name).virtualization();
  }
  sim::SwitchVirtualizationStats stats(const std::string& name = "sw0") {
    return sw(name).virtualization_stats();
  }
  void run_for(sim::SimTime ns) { fabric_->run_until(kernel().now() + ns); }

  // The virtual target port ID a host found `lun` on.
  fc::FcId target_of(const std::string& host_name, uint16_t lun) {
    for (const sim::DiscoveredLun& l : host(host_name).luns()) {
      if (l.lun == lun) return l.target;
    }
    ADD_FAILURE() << host_name << " has not found LUN " << lun;
    return fc::FcId{0};
  }

  // A command in flight; done once `result` is set.
  struct Pending {
    bool done = false;
    sim::SimTime done_at = 0;
    sim::ScsiResult result;
  };

  // Starts a command from `host_name` to `lun` of the target it found it on.
  std::shared_ptr<Pending> start(const std::string& host_name, uint16_t lun,
                                 const fc::ScsiCommand& cmd, uint32_t data_in_length,
                                 std::vector<uint8_t> data_out = {}) {
    auto p = std::make_shared<Pending>();
    std::array<uint8_t, fc::kMaxCdbSize> cdb{};
    auto n = fc::encode_cdb(cmd, cdb);
    EXPECT_TRUE(n.ok());
    sim::Kernel* k = &kernel();
    const bool sent = host(host_name).submit_command(
        target_of(host_name, lun), lun, {cdb.data(), *n}, data_in_length, std::move(data_out),
        [p, k](const sim::ScsiResult& r) {
          p->done = true;
          p->done_at = k->now();
          p->result = r;
        });
    EXPECT_TRUE(sent) << host_name << " could not send";
    if (!sent) p->done = true;
    return p;
  }

  // Runs until `p` is done (at most `limit` of simulated time).
  void wait(const Pending& p, sim::SimTime limit = 3 * sim::kNsPerSec) {
    const sim::SimTime end = kernel().now() + limit;
    while (!p.done && kernel().now() < end)
      run_for(10 * sim::kNsPerUs);
    EXPECT_TRUE(p.done) << "command did not complete";
  }

  sim::ScsiResult command(const std::string& host_name, uint16_t lun, const fc::ScsiCommand& cmd,
                          uint32_t data_in_length, std::vector<uint8_t> data_out = {}) {
    auto p = start(host_name, lun, cmd, data_in_length, std::move(data_out));
    wait(*p);
    return p->result;
  }

  sim::ScsiResult write(const std::string& host_name, uint16_t lun, uint64_t lba,
                        std::vector<uint8_t> data, uint32_t block_size = 512) {
    const auto blocks = static_cast<uint32_t>(data.size() / block_size);
    return command(host_name, lun, fc::make_write(lba, blocks), 0, std::move(data));
  }

  sim::ScsiResult read(const std::string& host_name, uint16_t lun, uint64_t lba, uint32_t blocks,
                       uint32_t block_size = 512) {
    return command(host_name, lun, fc::make_read(lba, blocks), blocks * block_size);
  }

  // Bytes of disk `name`'s LUN at `lba`, straight from its store.
  std::vector<uint8_t> disk_bytes(const std::string& name, uint16_t lun, uint64_t lba,
                                  uint64_t blocks, uint32_t block_size = 512) {
    std::vector<uint8_t> out(blocks * block_size);
    disk(name).store(lun)->read(lba * block_size, out);
    return out;
  }

 private:
  std::unique_ptr<sim::Fabric> fabric_;
};

// `blocks` blocks of bytes derived from `seed`: different seeds, different data.
inline std::vector<uint8_t> pattern(uint64_t seed, uint64_t blocks, uint32_t block_size = 512) {
  std::vector<uint8_t> out(blocks * block_size);
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b = static_cast<uint8_t>(x);
  }
  return out;
}

}  // namespace splitpath::testing
