#include "fabric_sim/bench/reconfig_bench.h"

#include <algorithm>
#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "cp/control_path.h"
#include "fabric_sim/bench/service_bench_fabric.h"
#include "fabric_sim/kernel/rng.h"
#include "fabric_sim/run/fabric.h"
#include "fabric_sim/switch/switch.h"
#include "fabric_sim/switch/switch_virtualization.h"
#include "fabric_sim/topology/topology_validate.h"
#include "fmt/format.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_cdb_encode.h"
#include "splitpath/fc/scsi_sense.h"

namespace splitpath::sim {
namespace {

constexpr uint32_t kBlockSize = kServiceBenchBlockSize;
constexpr uint32_t kWriteBytes = 4096;
constexpr uint32_t kWriteBlocks = kWriteBytes / kBlockSize;
constexpr uint64_t kHostWwpn = 0x1000'5350'0000'0002ull;
constexpr uint64_t kTargetWwpn = 0x5000'5350'0010'0002ull;
constexpr uint64_t kDiskWwpn = 0x5000'5350'0003'0000ull;  // disk0; disk1 is + 1
// The kernel is stopped this often to look: a reconfiguration's or a
// command's end is seen within 10 us (the figures are taken in the
// simulation, at the instant itself).
constexpr SimTime kStep = 100 * kNsPerUs;
constexpr SimTime kFineStep = 10 * kNsPerUs;
// Every write of a slot writes slot_pattern(slot, kSalt): two writes of one
// slot in flight at once leave the same bytes whichever lands last.
constexpr uint64_t kSalt = 11;

bool is_unit_attention(const ScsiResult& r) {
  return !r.timed_out && r.status == fc::scsi_status::kCheckCondition && r.has_sense &&
         r.sense.sense_key == fc::sense_key::kUnitAttention;
}

bool is_capacity_changed(const ScsiResult& r) {
  return is_unit_attention(r) && r.sense.code == fc::asc::kCapacityDataChanged;
}

fc::FcId lun_target(Fabric& f) {
  fc::FcId target{0};
  for (const DiscoveredLun& l : f.host("host0")->luns())
    target = l.target;
  return target;
}

// 4 KiB writes to vol0, `depth` in flight, each completion sending the next
// while there are more: drawn from the seeded Rng while `more()`, or the
// slots of a list given. Records each completed write's latency and the
// slots it sent, in order.
class Writer {
 public:
  Writer(Fabric& f, uint32_t depth, LatencyHistogram* into)
      : f_(f), host_(*f.host("host0")), target_(lun_target(f)), depth_(depth), into_(into) {}

  void start_random(Rng* rng, uint64_t slots, std::function<bool()> more) {
    next_ = [rng, slots, more = std::move(more)](uint64_t* slot) {
      if (!more()) return false;
      *slot = rng->uniform(slots);
      return true;
    };
    fill();
  }

  void start_list(const std::vector<uint64_t>& list) {
    auto index = std::make_shared<size_t>(0);
    next_ = [&list, index](uint64_t* slot) {
      if (*index >= list.size()) return false;
      *slot = list[(*index)++];
      return true;
    };
    fill();
  }

  // Runs until every write sent has completed (or `limit` has passed).
  void drain(SimTime limit) {
    const SimTime end = f_.kernel().now() + limit;
    while (in_flight_ > 0 && f_.kernel().now() < end)
      f_.run_until(f_.kernel().now() + kFineStep);
  }

  const std::vector<uint64_t>& sent() const { return sent_; }
  uint64_t errors() const { return errors_ + in_flight_; }

 private:
  void fill() {
    while (in_flight_ < depth_ && send()) {
    }
  }

  bool send() {
    uint64_t slot = 0;
    if (!next_(&slot)) return false;
    std::array<uint8_t, fc::kMaxCdbSize> cdb{};
    const auto n = fc::encode_cdb(fc::make_write(slot * kWriteBlocks, kWriteBlocks), cdb);
    const SimTime issued = f_.kernel().now();
    if (!n.ok() || !host_.submit_command(target_, 0, {cdb.data(), *n}, 0, slot_pattern(slot, kSalt),
                                         [this, issued](const ScsiResult& r) {
                                           --in_flight_;
                                           if (r.timed_out || r.status != fc::scsi_status::kGood) {
                                             ++errors_;
                                           } else {
                                             into_->record(f_.kernel().now() - issued);
                                           }
                                           send();
                                         })) {
      ++errors_;
      return false;
    }
    ++in_flight_;
    sent_.push_back(slot);
    return true;
  }

  Fabric& f_;
  Host& host_;
  fc::FcId target_;
  uint32_t depth_;
  LatencyHistogram* into_;
  std::function<bool(uint64_t*)> next_;
  std::vector<uint64_t> sent_;
  uint32_t in_flight_ = 0;
  uint64_t errors_ = 0;
};

enum class Change { kSplit, kMerge };

const char* change_name(Change c) {
  return c == Change::kSplit ? "split" : "merge";
}

// Splits vol0's VSEG at `lba` (or merges the one starting there back) while
// the host writes random slots `depth` at a time, from the request to done:
// the duration, the latencies of the writes sent meanwhile and their slots.
absl::Status reconfigure_under_writes(Fabric& f, const ReconfigBenchOptions& o, Change change,
                                      uint64_t lba, Rng* rng, LatencyHistogram* overlap,
                                      LatencyHistogram* duration, std::vector<uint64_t>* sent) {
  cp::ControlPath& cp = bench_control_path(f);
  struct State {
    bool done = false, ok = false;
    SimTime end = 0;
  };
  auto state = std::make_shared<State>();
  Kernel& kernel = f.kernel();
  Writer writer(f, o.depth, overlap);
  writer.start_random(rng, o.vseg_bytes / kWriteBytes, [state] { return !state->done; });
  const SimTime requested = kernel.now();
  std::string error;
  auto done = [state, &kernel](bool r) {
    state->done = true;
    state->ok = r;
    state->end = kernel.now();
  };
  const bool accepted = change == Change::kSplit ? cp.split_vseg("vol0", lba, &error, done)
                                                 : cp.merge_vsegs("vol0", lba, &error, done);
  if (!accepted) {
    state->done = true;
    writer.drain(o.limit_ns);
    return absl::InternalError(fmt::format("reconfig bench: the {} at LBA {} was refused: {}",
                                           change_name(change), lba, error));
  }
  const SimTime end = requested + o.limit_ns;
  while (!state->done && kernel.now() < end)
    f.run_until(kernel.now() + kFineStep);
  if (!state->done) {
    return absl::DeadlineExceededError(
        fmt::format("reconfig bench: the {} at LBA {} not done after {} ms of simulated time",
                    change_name(change), lba, o.limit_ns / kNsPerMs));
  }
  if (!state->ok) {
    return absl::InternalError(
        fmt::format("reconfig bench: the {} at LBA {} failed", change_name(change), lba));
  }
  duration->record(state->end - requested);
  writer.drain(o.limit_ns);
  if (writer.errors() != 0) {
    return absl::InternalError(fmt::format("reconfig bench: {} of {} writes during the {} failed",
                                           writer.errors(), writer.sent().size(),
                                           change_name(change)));
  }
  *sent = writer.sent();
  return absl::OkStatus();
}

// The same writes again, with no reconfiguration.
absl::Status replay(Fabric& f, const ReconfigBenchOptions& o, const std::vector<uint64_t>& slots,
                    LatencyHistogram* quiet) {
  Writer writer(f, o.depth, quiet);
  writer.start_list(slots);
  writer.drain(o.limit_ns);
  if (writer.errors() != 0 || writer.sent().size() != slots.size()) {
    return absl::InternalError(
        fmt::format("reconfig bench: {} of {} writes with no reconfiguration failed",
                    writer.errors() + slots.size() - writer.sent().size(), slots.size()));
  }
  return absl::OkStatus();
}

// One command to LUN 0, alone, run until its response.
absl::StatusOr<ScsiResult> command(Fabric& f, const fc::ScsiCommand& cmd, uint32_t data_in,
                                   std::vector<uint8_t> data_out, SimTime limit, const char* what) {
  std::array<uint8_t, fc::kMaxCdbSize> cdb{};
  const auto n = fc::encode_cdb(cmd, cdb);
  if (!n.ok()) return absl::InternalError(fmt::format("reconfig bench: {}: no CDB", what));
  auto result = std::make_shared<std::optional<ScsiResult>>();
  if (!f.host("host0")->submit_command(lun_target(f), 0, {cdb.data(), *n}, data_in,
                                       std::move(data_out),
                                       [result](const ScsiResult& r) { *result = r; })) {
    return absl::InternalError(fmt::format("reconfig bench: the host could not send {}", what));
  }
  const SimTime end = f.kernel().now() + limit;
  while (!result->has_value() && f.kernel().now() < end)
    f.run_until(f.kernel().now() + kFineStep);
  if (!result->has_value() || (*result)->timed_out) {
    return absl::InternalError(fmt::format("reconfig bench: {} did not complete", what));
  }
  return **result;
}

// The grow: vol0 grows by a VSEG on disk0 after its own blocks. The host's
// READ of slot 0, sent at done, meets the UA; READ CAPACITY(16) and a WRITE
// into the new blocks then run.
absl::Status grow(Fabric& f, const ReconfigBenchOptions& o, ReconfigBenchResult* r) {
  cp::ControlPath& cp = bench_control_path(f);
  Host& host = *f.host("host0");
  Kernel& kernel = f.kernel();
  const uint64_t vseg_blocks = o.vseg_bytes / kBlockSize;
  const uint64_t grow_blocks = o.grow_bytes / kBlockSize;
  r->capacity_before = vseg_blocks;
  const uint64_t uas_before = cp.stats().unit_attentions;
  const uint64_t host_uas_before = host.stats().unit_attentions;
  // From done on, the host sends READs of slot 0, one at a time, until one
  // is answered with the UA: the FPs get the masked exposure a mailbox
  // latency after the grow, so a command sent meanwhile may still run on
  // them (counted).
  struct State {
    bool done = false, ok = false, stopped = false, refused = false;
    SimTime done_at = 0;
    uint64_t before = 0;               // READs answered GOOD before the UA
    std::optional<ScsiResult> answer;  // the UA, or the READ that failed
    SimTime answered_at = 0;
    std::function<void()> send;
  };
  auto state = std::make_shared<State>();
  std::array<uint8_t, fc::kMaxCdbSize> cdb{};
  const auto n = fc::encode_cdb(fc::make_read(0, kWriteBlocks), cdb);
  if (!n.ok()) return absl::InternalError("reconfig bench: a READ CDB that does not encode");
  const fc::FcId target = lun_target(f);
  State* raw = state.get();
  state->send = [raw, &kernel, &host, target, cdb, len = *n] {
    const bool sent = host.submit_command(
        target, 0, {cdb.data(), len}, kWriteBytes, {}, [raw, &kernel](const ScsiResult& res) {
          if (!res.timed_out && res.status == fc::scsi_status::kGood) {
            ++raw->before;
            raw->send();
            return;
          }
          raw->answer = res;
          raw->answered_at = kernel.now();
          raw->stopped = true;
        });
    if (!sent) {
      raw->refused = true;
      raw->stopped = true;
    }
  };
  cp::GrowRequest g;
  g.volume = "vol0";
  g.vseg.blocks = grow_blocks;
  g.vseg.disk_wwpn = kDiskWwpn;
  g.vseg.lun = 0;
  g.vseg.lba = vseg_blocks;
  const SimTime requested = kernel.now();
  std::string error;
  if (!cp.grow_volume(g, &error, [raw, &kernel](bool ok) {
        raw->done = true;
        raw->ok = ok;
        raw->done_at = kernel.now();
        if (ok) raw->send();  // the host's next command, sent at done
      })) {
    return absl::InternalError("reconfig bench: the grow was refused: " + error);
  }
  const SimTime end = requested + o.limit_ns;
  while ((!state->done || (state->ok && !state->stopped)) && kernel.now() < end)
    f.run_until(kernel.now() + kFineStep);
  if (!state->done) {
    return absl::DeadlineExceededError(fmt::format(
        "reconfig bench: the grow not done after {} ms of simulated time", o.limit_ns / kNsPerMs));
  }
  if (!state->ok) return absl::InternalError("reconfig bench: the grow failed");
  if (state->refused) return absl::InternalError("reconfig bench: the host could not send a READ");
  if (!state->answer) {
    return absl::DeadlineExceededError(fmt::format(
        "reconfig bench: {} READs after the grow ran, none met a UNIT ATTENTION in {} ms",
        state->before, o.limit_ns / kNsPerMs));
  }
  if (state->answer->timed_out) {
    return absl::InternalError("reconfig bench: a READ after the grow timed out");
  }
  if (!is_capacity_changed(*state->answer)) {
    return absl::InternalError(fmt::format(
        "reconfig bench: the host's READ after the grow got status {:#04x}, sense key "
        "{:#x}, ASC/ASCQ {:#04x}/{:#04x}, not UNIT ATTENTION (CAPACITY DATA HAS CHANGED)",
        state->answer->status, state->answer->has_sense ? state->answer->sense.sense_key : 0,
        state->answer->sense.code.asc, state->answer->sense.code.ascq));
  }
  r->commands_before_ua = state->before;
  state->send = nullptr;
  r->grow_ns = state->done_at - requested;
  r->ua_ns = state->answered_at - requested;
  uint64_t uas = 1;

  auto capacity = command(f, fc::make_read_capacity16(32), 32, {}, o.limit_ns, "READ CAPACITY(16)");
  if (!capacity.ok()) return capacity.status();
  if (is_unit_attention(*capacity)) ++uas;
  if (capacity->status != fc::scsi_status::kGood || capacity->data_in.size() < 12) {
    return absl::InternalError(fmt::format(
        "reconfig bench: READ CAPACITY(16) after the grow got status {:#04x} and {} bytes",
        capacity->status, capacity->data_in.size()));
  }
  uint64_t last = 0;
  for (int i = 0; i < 8; ++i)
    last = last << 8 | capacity->data_in[i];
  uint32_t block = 0;
  for (int i = 8; i < 12; ++i)
    block = block << 8 | capacity->data_in[i];
  r->capacity_after = last + 1;
  if (r->capacity_after != vseg_blocks + grow_blocks || block != kBlockSize) {
    return absl::InternalError(fmt::format(
        "reconfig bench: READ CAPACITY(16) after the grow reports {} blocks of {} bytes, not {} "
        "of {}",
        r->capacity_after, block, vseg_blocks + grow_blocks, kBlockSize));
  }
  // A write into the new blocks: its last slot.
  const uint64_t slot = (o.vseg_bytes + o.grow_bytes) / kWriteBytes - 1;
  auto w = command(f, fc::make_write(slot * kWriteBlocks, kWriteBlocks), 0,
                   slot_pattern(slot, kSalt), o.limit_ns, "the WRITE into the grown blocks");
  if (!w.ok()) return w.status();
  if (is_unit_attention(*w)) ++uas;
  if (w->status != fc::scsi_status::kGood) {
    return absl::InternalError(fmt::format(
        "reconfig bench: the WRITE into the grown blocks got status {:#04x}", w->status));
  }
  const uint64_t cp_uas = cp.stats().unit_attentions - uas_before;
  const uint64_t host_uas = host.stats().unit_attentions - host_uas_before;
  r->unit_attentions = uas;
  if (uas != 1 || cp_uas != 1 || host_uas != 1) {
    return absl::InternalError(fmt::format(
        "reconfig bench: after the grow the host's commands met {} UAs (the CP sent {}, the host "
        "counted {}), not one",
        uas, cp_uas, host_uas));
  }
  std::vector<uint8_t> got(kWriteBytes);
  f.disk("disk0")->store(0)->read(slot * kWriteBytes, got);
  if (got != slot_pattern(slot, kSalt)) {
    return absl::InternalError(fmt::format(
        "reconfig bench: the 4 KiB slot {} written into the grown blocks is not on disk0 at "
        "byte {}",
        slot, slot * kWriteBytes));
  }
  return absl::OkStatus();
}

// Every 4 KiB slot of vol0's first VSEG written holds its pattern on disk0,
// every other one is still zero.
absl::Status check_image(Fabric& f, const ReconfigBenchOptions& o, const std::vector<bool>& written,
                         ReconfigBenchResult* r) {
  const SparseStore* store = f.disk("disk0")->store(0);
  const std::vector<uint8_t> zero(kWriteBytes, 0);
  std::vector<uint8_t> got(kWriteBytes);
  for (uint64_t s = 0; s < o.vseg_bytes / kWriteBytes; ++s) {
    store->read(s * kWriteBytes, got);
    if (written[s]) {
      if (got != slot_pattern(s, kSalt)) {
        return absl::InternalError(fmt::format(
            "reconfig bench: the 4 KiB slot {} written through the LUN differs on disk0", s));
      }
      ++r->slots_checked;
    } else if (got != zero) {
      return absl::InternalError(
          fmt::format("reconfig bench: the 4 KiB slot {}, never written, is not zero on disk0", s));
    }
  }
  return absl::OkStatus();
}

double ratio(double a, double b) {
  return b > 0 ? a / b : 0;
}

}  // namespace

ReconfigBenchOptions reconfig_bench_options(bool quick) {
  ReconfigBenchOptions o;
  // Each round takes well under a millisecond of wall time: --quick only
  // shrinks the VSEG.
  o.vseg_bytes = (quick ? 16ull : 64ull) << 20;
  return o;
}

absl::StatusOr<Topology> reconfig_bench_topology(const ReconfigBenchOptions& o) {
  if (o.vseg_bytes < 2 * kWriteBytes || o.vseg_bytes % kWriteBytes != 0) {
    return absl::InvalidArgumentError(fmt::format(
        "reconfig bench: the VSEG's {} bytes are not two or more whole 4 KiB slots", o.vseg_bytes));
  }
  if (o.grow_bytes == 0 || o.grow_bytes % kWriteBytes != 0) {
    return absl::InvalidArgumentError(fmt::format(
        "reconfig bench: the grow's {} bytes are not one or more whole 4 KiB slots", o.grow_bytes));
  }
  if (o.depth == 0 || o.depth > 64) {
    return absl::InvalidArgumentError(
        fmt::format("reconfig bench: {} writes in flight, not 1 to 64", o.depth));
  }
  if (o.rounds == 0) return absl::InvalidArgumentError("reconfig bench: no split and merge");
  if (o.limit_ns == 0) return absl::InvalidArgumentError("reconfig bench: no time limit");
  const uint64_t blocks = o.vseg_bytes / kBlockSize;
  Topology t = service_bench_topology({.source = "<reconfig bench>",
                                       .seed = o.seed,
                                       .limit_ns = o.limit_ns,
                                       .host_wwpn = kHostWwpn,
                                       .target_wwpn = kTargetWwpn,
                                       .disk_wwpn = kDiskWwpn,
                                       .disk_blocks = {blocks + o.grow_bytes / kBlockSize, 8},
                                       .vseg_blocks = blocks});
  if (absl::Status s = validate_topology(t); !s.ok()) return s;
  return t;
}

absl::StatusOr<ReconfigBenchResult> run_reconfig_bench(const ReconfigBenchOptions& o) {
  const QuietInfo quiet_info;
  auto topology = reconfig_bench_topology(o);
  if (!topology.ok()) return topology.status();
  auto built = Fabric::build(*topology, FabricOptions{});
  if (!built.ok()) return built.status();
  Fabric& f = **built;
  if (auto st = bring_up_bench_host(f, 1, kStep, "reconfig"); !st.ok()) return st;

  ReconfigBenchResult r;
  r.depth = o.depth;
  r.rounds = o.rounds;
  const uint64_t middle = o.vseg_bytes / kBlockSize / 2;
  Rng rng(o.seed);
  std::vector<std::vector<uint64_t>> split_sent(o.rounds), merge_sent(o.rounds);
  for (uint32_t i = 0; i < o.rounds; ++i) {
    if (auto s = reconfigure_under_writes(f, o, Change::kSplit, middle, &rng, &r.split_overlap,
                                          &r.split_duration, &split_sent[i]);
        !s.ok()) {
      return s;
    }
    if (auto s = reconfigure_under_writes(f, o, Change::kMerge, middle, &rng, &r.merge_overlap,
                                          &r.merge_duration, &merge_sent[i]);
        !s.ok()) {
      return s;
    }
  }
  // vol0 is one VSEG again, as before the first split: the same writes with
  // no reconfiguration, round by round.
  for (uint32_t i = 0; i < o.rounds; ++i) {
    if (auto s = replay(f, o, split_sent[i], &r.split_quiet); !s.ok()) return s;
    if (auto s = replay(f, o, merge_sent[i], &r.merge_quiet); !s.ok()) return s;
  }
  std::vector<bool> written(o.vseg_bytes / kWriteBytes, false);
  for (const auto* sent : {&split_sent, &merge_sent}) {
    for (const std::vector<uint64_t>& round : *sent) {
      for (uint64_t s : round)
        written[s] = true;
    }
  }
  for (const std::vector<uint64_t>& round : split_sent)
    r.split_writes += round.size();
  for (const std::vector<uint64_t>& round : merge_sent)
    r.merge_writes += round.size();
  if (r.split_writes == 0 || r.merge_writes == 0) {
    return absl::InternalError(
        fmt::format("reconfig bench: {} writes overlapped the splits and {} the merges",
                    r.split_writes, r.merge_writes));
  }
  if (r.split_overlap.count() != r.split_writes || r.split_quiet.count() != r.split_writes ||
      r.merge_overlap.count() != r.merge_writes || r.merge_quiet.count() != r.merge_writes) {
    return absl::InternalError("reconfig bench: a write was not timed");
  }
  const cp::CpStats& stats = bench_control_path(f).stats();
  if (stats.vseg_splits != o.rounds || stats.vseg_merges != o.rounds) {
    return absl::InternalError(
        fmt::format("reconfig bench: the CP counts {} splits and {} merges of {} each",
                    stats.vseg_splits, stats.vseg_merges, o.rounds));
  }
  if (auto s = check_image(f, o, written, &r); !s.ok()) return s;
  if (auto s = grow(f, o, &r); !s.ok()) return s;

  r.split_penalty = ratio(r.split_overlap.mean(), r.split_quiet.mean());
  r.merge_penalty = ratio(r.merge_overlap.mean(), r.merge_quiet.mean());
  r.split_p99_penalty = ratio(static_cast<double>(r.split_overlap.percentile(0.99)),
                              static_cast<double>(r.split_quiet.percentile(0.99)));
  r.merge_p99_penalty = ratio(static_cast<double>(r.merge_overlap.percentile(0.99)),
                              static_cast<double>(r.merge_quiet.percentile(0.99)));
  return r;
}

}  // namespace splitpath::sim
