#include "fabric_sim/bench/block_command_bench.h"

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "cp/target/scsi_target.h"
#include "fabric_sim/bench/service_bench_fabric.h"
#include "fabric_sim/run/fabric.h"
#include "fabric_sim/topology/topology_validate.h"
#include "fmt/format.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_cdb_encode.h"
#include "splitpath/fc/scsi_data.h"

namespace splitpath::sim {
namespace {

constexpr uint32_t kBlockSize = kServiceBenchBlockSize;
constexpr uint32_t kWriteBytes = 1u << 20;
constexpr uint64_t kHostWwpn = 0x1000'5350'0000'0003ull;
constexpr uint64_t kTargetWwpn = 0x5000'5350'0010'0003ull;
constexpr uint64_t kDiskWwpn = 0x5000'5350'0004'0000ull;
constexpr SimTime kStep = 10 * kNsPerUs;

class Runner {
 public:
  Runner(Fabric& f, SimTime limit) : f_(f), host_(*f.host("host0")), limit_(limit) {
    for (const DiscoveredLun& l : host_.luns())
      target_ = l.target;
  }

  // Sends one command and runs until it ends; its status must be GOOD.
  absl::Status run(const fc::ScsiCommand& cmd, std::vector<uint8_t> data_out,
                   BlockCommandPass* pass) {
    std::array<uint8_t, fc::kMaxCdbSize> cdb{};
    const auto n = fc::encode_cdb(cmd, cdb);
    auto done = std::make_shared<bool>(false);
    auto result = std::make_shared<ScsiResult>();
    if (!n.ok() || !host_.submit_command(target_, 0, {cdb.data(), *n}, 0, std::move(data_out),
                                         [done, result](const ScsiResult& r) {
                                           *done = true;
                                           *result = r;
                                         })) {
      return absl::InternalError("block command bench: the host could not send a command");
    }
    while (!*done && f_.kernel().now() < limit_)
      f_.run_until(f_.kernel().now() + kStep);
    if (!*done || result->timed_out || result->status != fc::scsi_status::kGood) {
      return absl::InternalError(
          fmt::format("block command bench: opcode {:#04x} at LBA {} ended with status {:#04x}",
                      cmd.opcode, cmd.lba, *done ? result->status : 0xFF));
    }
    if (pass) {
      ++pass->commands;
      pass->data_out_bytes += result->data_out_sent;
    }
    return absl::OkStatus();
  }

  SimTime now() const { return f_.kernel().now(); }

 private:
  Fabric& f_;
  Host& host_;
  fc::FcId target_{0};
  SimTime limit_;
};

absl::Status fill(Runner& run, uint64_t volume_bytes, uint64_t salt, BlockCommandPass* pass) {
  std::vector<uint8_t> data(kWriteBytes);
  for (uint64_t off = 0; off < volume_bytes; off += kWriteBytes) {
    for (size_t i = 0; i < data.size(); i += 4096) {
      const auto slot = slot_pattern((off + i) / 4096, salt);
      std::copy(slot.begin(), slot.end(), data.begin() + static_cast<ptrdiff_t>(i));
    }
    const auto cmd = fc::make_write(off / kBlockSize, kWriteBytes / kBlockSize);
    if (auto s = run.run(cmd, data, pass); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// Every block of vol0 on disk0 reads zero.
absl::Status expect_zeros(Fabric& f, uint64_t volume_bytes, const char* after) {
  std::vector<uint8_t> buf(kWriteBytes);
  for (uint64_t off = 0; off < volume_bytes; off += kWriteBytes) {
    f.disk("disk0")->store(0)->read(off, buf);
    if (std::any_of(buf.begin(), buf.end(), [](uint8_t b) { return b != 0; })) {
      return absl::InternalError(
          fmt::format("block command bench: vol0 is not zero at byte {} after {}", off, after));
    }
  }
  return absl::OkStatus();
}

}  // namespace

BlockCommandBenchOptions block_command_bench_options(bool quick) {
  BlockCommandBenchOptions o;
  if (quick) o.volume_bytes = 16ull << 20;
  return o;
}

absl::StatusOr<BlockCommandBenchResult> run_block_command_bench(const BlockCommandBenchOptions& o) {
  if (o.volume_bytes == 0 || o.volume_bytes % kWriteBytes != 0) {
    return absl::InvalidArgumentError(
        fmt::format("block command bench: {} bytes are not whole MiB", o.volume_bytes));
  }
  const QuietInfo quiet_info;
  const uint64_t blocks = o.volume_bytes / kBlockSize;
  Topology t = service_bench_topology({.source = "<block command bench>",
                                       .seed = o.seed,
                                       .limit_ns = o.limit_ns,
                                       .host_wwpn = kHostWwpn,
                                       .target_wwpn = kTargetWwpn,
                                       .disk_wwpn = kDiskWwpn,
                                       .disk_blocks = {blocks, 8},
                                       .vseg_blocks = blocks});
  if (absl::Status s = validate_topology(t); !s.ok()) return s;
  auto built = Fabric::build(t, FabricOptions{});
  if (!built.ok()) return built.status();
  Fabric& f = **built;
  if (auto s = bring_up_bench_host(f, 1, 100 * kNsPerUs, "block command"); !s.ok()) return s;
  Runner run(f, o.limit_ns);
  const SparseStore& store = *f.disk("disk0")->store(0);
  BlockCommandBenchResult r;
  r.volume_bytes = o.volume_bytes;

  SimTime start = run.now();
  if (auto s = fill(run, o.volume_bytes, 1, &r.write); !s.ok()) return s;
  r.write.duration_ns = run.now() - start;
  r.write.allocated_after = store.allocated_bytes();

  start = run.now();
  const std::vector<uint8_t> zero_block(kBlockSize, 0);
  for (uint64_t lba = 0; lba < blocks; lba += cp::kMaxWriteSameBlocks) {
    const auto n = static_cast<uint32_t>(std::min<uint64_t>(cp::kMaxWriteSameBlocks, blocks - lba));
    if (auto s = run.run(fc::make_write_same(lba, n), zero_block, &r.write_same); !s.ok()) return s;
  }
  r.write_same.duration_ns = run.now() - start;
  r.write_same.allocated_after = store.allocated_bytes();
  if (auto s = expect_zeros(f, o.volume_bytes, "WRITE SAME"); !s.ok()) return s;

  if (auto s = fill(run, o.volume_bytes, 2, nullptr); !s.ok()) return s;
  start = run.now();
  for (uint64_t lba = 0; lba < blocks; lba += cp::kMaxUnmapBlocks) {
    const fc::UnmapDescriptor d{
        lba, static_cast<uint32_t>(std::min<uint64_t>(cp::kMaxUnmapBlocks, blocks - lba))};
    std::vector<uint8_t> list(fc::kUnmapHeaderSize + fc::kUnmapDescriptorSize);
    (void)fc::encode_unmap_parameters({&d, 1}, list);
    const auto size = static_cast<uint16_t>(list.size());
    if (auto s = run.run(fc::make_unmap(size), std::move(list), &r.unmap); !s.ok()) return s;
  }
  r.unmap.duration_ns = run.now() - start;
  r.unmap.allocated_after = store.allocated_bytes();
  if (auto s = expect_zeros(f, o.volume_bytes, "UNMAP"); !s.ok()) return s;
  return r;
}

}  // namespace splitpath::sim
