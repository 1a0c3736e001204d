#include "fabric_sim/torture/io_tracker.h"

#include <algorithm>

#include "fabric_sim/switch/switch_virtualization.h"
#include "fabric_sim/switch/virtual_addresses.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/frame_header.h"
#include "splitpath/fc/scsi_cdb.h"

namespace splitpath::sim::torture {

namespace {

// Beyond its host's I/O timeout an I/O may take this long to show its ABTS.
// The ABTS queues behind the host's data frames, which wait for BB credit when
// slow links congest the path: seed 6000115 at 3000 I/Os (slow_links) saw one
// reach the host's switch 21.4 ms after the timeout. A hang is infinite, so a
// wide margin delays its report without hiding it.
constexpr SimTime kProgressMargin = 100 * kNsPerMs;

uint64_t exchange_key(uint32_t host, uint16_t ox_id) {
  return (uint64_t{host} << 16) | ox_id;
}

}  // namespace

class IoTracker::SwitchTap : public FrameTap {
 public:
  SwitchTap(IoTracker& owner, uint8_t domain) : owner_(owner), domain_(domain) {}
  void on_frame(SimTime at, std::span<const uint8_t> frame) override {
    owner_.on_frame(domain_, at, frame);
  }

 private:
  IoTracker& owner_;
  uint8_t domain_;
};

IoTracker::IoTracker(const TortureScenario& scenario, Fabric& fabric, DurabilityChecker& durability,
                     RevocationChecker& revocation, ProgressChecker& progress,
                     MirrorChecker& mirror, EventLog& log, PcapWriter* capture)
    : scenario_(scenario),
      fabric_(fabric),
      durability_(durability),
      revocation_(revocation),
      progress_(progress),
      mirror_(mirror),
      log_(log),
      capture_(capture) {}

IoTracker::~IoTracker() = default;

void IoTracker::attach() {
  for (const auto& sw : fabric_.switches()) {
    taps_.push_back(std::make_unique<SwitchTap>(*this, sw->domain()));
    sw->set_tap(taps_.back().get(), {});
  }
}

void IoTracker::report(std::optional<Violation> v) {
  if (v && !violation_) {
    log_.log(v->at, "VIOLATION {}: {}", v->invariant, v->summary);
    violation_ = std::move(v);
    fabric_.kernel().stop();  // stop at the violation, not after the current slice
  }
}

const IoTracker::VolumeRef* IoTracker::volume_of(uint32_t target, uint16_t lun) {
  const uint64_t k = (uint64_t{target} << 16) | lun;
  if (auto it = volumes_.find(k); it != volumes_.end()) return &it->second;
  // Virtual target N_Port IDs are fabricated by the CPs at start: ask them.
  const Topology& t = scenario_.topology;
  for (const VirtualTargetConfig& vt : t.virtual_targets) {
    Switch* sw = fabric_.switch_named(vt.switch_name);
    if (!sw || !sw->virtualization()) continue;
    if (sw->virtualization()->control_path().target_port_id(vt.name) != target) continue;
    for (const VirtualLunConfig& l : vt.luns) {
      if (l.lun != lun) continue;
      for (size_t v = 0; v < t.volumes.size(); ++v) {
        if (t.volumes[v].name != l.volume) continue;
        VolumeRef ref{v, t.volumes[v].block_size, 0};
        for (const VsegConfig& s : t.volumes[v].vsegs)
          ref.blocks += s.blocks;
        return &volumes_.emplace(k, ref).first->second;
      }
    }
  }
  return nullptr;
}

const std::string* IoTracker::disk_of(uint32_t port_id) {
  if (auto it = disks_.find(port_id); it != disks_.end()) return &it->second;
  for (const auto& d : fabric_.disks()) {
    if (d->port_id().value == port_id) return &disks_.emplace(port_id, d->name()).first->second;
  }
  return nullptr;
}

SimTime IoTracker::timeout_of(uint32_t host_id) {
  if (auto it = timeouts_.find(host_id); it != timeouts_.end()) return it->second;
  for (const auto& h : fabric_.hosts()) {
    if (h->port_id().value == host_id) {
      return timeouts_.emplace(host_id, h->config().workload.io_timeout_ns).first->second;
    }
  }
  return scenario_.max_io_timeout_ns;
}

void IoTracker::on_frame(uint8_t domain, SimTime at, std::span<const uint8_t> frame) {
  if (capture_) capture_->write(at, frame);
  if (violation_) return;
  auto h = fc::decode_frame_header(frame);
  if (!h.ok()) return;
  const auto payload = frame.subspan(fc::kFrameHeaderSize);
  const bool fcp = h->type == fc::fc_type::kFcp;
  const bool abts = h->type == fc::fc_type::kBls && h->r_ctl == fc::rctl::kBlsAbts;
  if (!fcp && !abts) return;
  if (is_virtual_initiator_id(h->s_id)) {
    // Downstream: checked once, at the switch of the virtual initiator.
    if (fcp && h->r_ctl == fc::rctl::kDeviceDataUnsolicitedCmd && h->s_id.domain() == domain)
      on_downstream_command(at, *h, payload);
    return;
  }
  if (is_virtual_target_id(h->d_id) && !is_virtual_id(h->s_id)) {
    if (h->s_id.domain() == domain) on_host_frame(at, *h, payload, true);
  } else if (is_virtual_target_id(h->s_id) && !is_virtual_id(h->d_id)) {
    if (h->d_id.domain() == domain && fcp) on_host_frame(at, *h, payload, false);
  }
}

void IoTracker::on_host_frame(SimTime at, const fc::FrameHeader& h,
                              std::span<const uint8_t> payload, bool from_host) {
  const uint32_t host = from_host ? h.s_id.value : h.d_id.value;
  const uint64_t k = exchange_key(host, h.ox_id);
  if (from_host && h.type == fc::fc_type::kFcp && h.r_ctl == fc::rctl::kDeviceDataUnsolicitedCmd) {
    // A new command on this OX_ID ends whatever the host used it for before.
    if (auto it = exchanges_.find(k); it != exchanges_.end()) {
      end_io(it->second, at, false, "replaced");
      exchanges_.erase(it);
    }
    auto cmnd = fc::decode_fcp_cmnd(payload);
    if (!cmnd.ok() || cmnd->task_management_flags) return;
    auto cmd = fc::decode_cdb(cmnd->cdb_bytes());
    if (!cmd.ok()) return;
    if (cmd->kind != fc::ScsiCommandKind::kRead && cmd->kind != fc::ScsiCommandKind::kWrite) return;
    auto lun = fc::decode_lun(cmnd->lun);
    if (!lun.ok()) return;
    const VolumeRef* vol = volume_of(h.d_id.value, *lun);
    if (!vol || cmd->transfer_length == 0 || cmd->lba + cmd->transfer_length > vol->blocks) return;
    HostIo io;
    io.id = next_io_++;
    io.host = host;
    io.target = h.d_id.value;
    io.ox_id = h.ox_id;
    io.lun = *lun;
    io.write = cmd->kind == fc::ScsiCommandKind::kWrite;
    io.volume = vol->volume;
    const uint64_t per_block = vol->block_size / kStampUnit;
    io.first_unit = cmd->lba * per_block;
    io.units = static_cast<uint32_t>(cmd->transfer_length * per_block);
    io.issued = at;
    io.deadline = at + timeout_of(host) + kProgressMargin;
    io.data.resize(io.units);
    ++counters_.host_ios;
    log_.log(at, "{} {:06x} ox {:04x} volume {} units [{}, +{})", io.write ? "WRITE" : "READ", host,
             io.ox_id, io.volume, io.first_unit, io.units);
    if (io.write) {
      durability_.begin_write(io);
    } else {
      durability_.begin_read(io);
    }
    progress_.open(io);
    exchanges_.emplace(k, std::move(io));
    return;
  }
  auto it = exchanges_.find(k);
  if (it == exchanges_.end()) return;
  HostIo& io = it->second;
  if (h.type == fc::fc_type::kBls) {  // the host's ABTS
    ++counters_.aborted;
    end_io(io, at, false, "aborted");
    exchanges_.erase(it);
    return;
  }
  if (h.r_ctl == fc::rctl::kDeviceDataSolicitedData && io.write == from_host) {
    const uint64_t offset = fc::fcp_data_relative_offset(h);
    if (offset % kStampUnit != 0) return;
    for (size_t pos = 0; pos + kStampUnit <= payload.size(); pos += kStampUnit) {
      const uint64_t index = (offset + pos) / kStampUnit;
      if (index >= io.units) break;
      UnitData& d = io.data[index];
      d.seen = true;
      d.check = read_stamp(std::span<const uint8_t, kStampUnit>(payload.data() + pos, kStampUnit),
                           &d.stamp);
      if (io.write) durability_.write_data(io, static_cast<uint32_t>(index));
    }
    return;
  }
  if (h.r_ctl == fc::rctl::kDeviceDataCommandStatus && !from_host) {
    auto rsp = fc::decode_fcp_rsp(payload);
    const IoEnd end = rsp.ok() ? judge_response(io, *rsp) : IoEnd::kError;
    if (end == IoEnd::kShortRead) ++counters_.short_reads;
    end_io(io, at, end == IoEnd::kGood,
           end == IoEnd::kGood        ? "good"
           : end == IoEnd::kShortRead ? "short (data frames lost)"
                                      : "error");
    exchanges_.erase(it);
  }
}

void IoTracker::end_io(HostIo& io, SimTime at, bool good, const char* how) {
  progress_.close(io);
  if (good) ++counters_.host_ios_good;
  log_.log(at, "END {} {:06x} ox {:04x} {}", io.write ? "WRITE" : "READ", io.host, io.ox_id, how);
  if (io.write) {
    durability_.end_write(io, good, at);
    mirror_.end_write(io, good);
    if (snapshots_) report(snapshots_->end_write(io, good));
  } else {
    report(durability_.end_read(io, good, at));
  }
}

void IoTracker::end_open_writes() {
  for (const auto& [k, io] : exchanges_)
    if (io.write) mirror_.end_write(io, false);
}

void IoTracker::abandon_host(uint32_t host_id, SimTime now) {
  std::vector<uint64_t> keys;
  for (const auto& [k, io] : exchanges_)
    if (io.host == host_id) keys.push_back(k);
  std::sort(keys.begin(), keys.end());  // deterministic order
  for (uint64_t k : keys) {
    ++counters_.abandoned;
    end_io(exchanges_.at(k), now, false, "abandoned");
    exchanges_.erase(k);
  }
}

void IoTracker::on_downstream_command(SimTime at, const fc::FrameHeader& h,
                                      std::span<const uint8_t> payload) {
  auto cmnd = fc::decode_fcp_cmnd(payload);
  if (!cmnd.ok() || cmnd->task_management_flags) return;
  auto cmd = fc::decode_cdb(cmnd->cdb_bytes());
  if (!cmd.ok()) return;
  if (cmd->kind != fc::ScsiCommandKind::kRead && cmd->kind != fc::ScsiCommandKind::kWrite) return;
  auto lun = fc::decode_lun(cmnd->lun);
  const std::string* disk = disk_of(h.d_id.value);
  if (!lun.ok() || !disk) return;
  ++counters_.downstream;
  DownstreamCommand c{at,
                      h.s_id.value,
                      *disk,
                      *lun,
                      cmd->lba,
                      cmd->transfer_length,
                      cmd->kind == fc::ScsiCommandKind::kWrite};
  log_.log(at, "DOWN {:06x} {} {} LUN {} LBA {} +{}", c.initiator, c.write ? "WRITE" : "READ",
           c.disk, c.lun, c.lba, c.blocks);
  report(revocation_.on_command(c));
}

}  // namespace splitpath::sim::torture
