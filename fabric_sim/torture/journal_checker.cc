#include "fabric_sim/torture/journal_checker.h"

#include <algorithm>
#include <string>

#include "fabric_sim/node/block_stamp.h"
#include "fabric_sim/switch/switch.h"
#include "fabric_sim/switch/switch_virtualization.h"
#include "fmt/format.h"
#include "splitpath/map/journal_record.h"

namespace splitpath::sim::torture {

namespace {

std::string describe_block(const uint8_t* block, uint32_t block_size) {
  return describe_unit(block) + (block_size > kStampUnit ? " (its first 512 bytes)" : "");
}

}  // namespace

JournalChecker::JournalChecker(const TortureScenario& scenario) : scenario_(scenario) {
  for (size_t s = 0; s < scenario.vsegs.size(); ++s) {
    const TortureVseg& v = scenario.vsegs[s];
    if (!v.place[0].journaled()) continue;
    Replay r;
    r.vseg = s;
    r.block_size = scenario.topology.volumes[v.volume].block_size;
    r.time.assign(v.blocks, 0);
    r.order.assign(v.blocks, 0);
    r.data.assign(v.blocks * r.block_size, 0);
    replays_.push_back(std::move(r));
  }
}

JournalChecker::Replay* JournalChecker::replay_of(const cp::JournalInfo& j) {
  for (Replay& r : replays_) {
    const JournalArea& area = *scenario_.vsegs[r.vseg].place[0].journal;
    for (const DiskConfig& d : scenario_.topology.disks) {
      if (d.name == area.at.disk && d.wwpn == j.disk_wwpn && area.at.lun == j.lun &&
          j.lba >= area.at.lba && j.lba + j.blocks <= area.at.lba + area.area_blocks)
        return &r;
    }
  }
  return nullptr;
}

void JournalChecker::read_journal(const Fabric& fabric, const cp::JournalInfo& j) {
  Replay* r = replay_of(j);
  if (r == nullptr) return;
  ++journals_;
  const JournalArea& area = *scenario_.vsegs[r->vseg].place[0].journal;
  std::vector<uint8_t> bytes(uint64_t{j.blocks} * r->block_size);
  fabric.disk(area.at.disk)->store(j.lun)->read(j.lba * r->block_size, bytes);
  replay_records(r, bytes, j.journal_id);
}

void JournalChecker::read_staged(const Fabric& fabric, const std::string& staging, uint16_t lun,
                                 const cp::StagedJournal& s) {
  std::vector<uint8_t> bytes(uint64_t{s.blocks} * s.block_size);
  fabric.disk(staging)->store(lun)->read(s.staging_lba * s.block_size, bytes);
  // The journal's VSEG: the one of volume `s.volume` its first record names.
  Replay* r = nullptr;
  for (uint64_t at = 0; at < s.blocks && r == nullptr; ++at) {
    map::JournalRecordHeader h;
    if (!map::decode_journal_header(bytes.data() + at * s.block_size, &h) ||
        h.journal_id != s.journal_id || h.block_size != s.block_size || h.lv_lba < h.vseg_lba)
      continue;
    for (Replay& x : replays_) {
      const TortureVseg& v = scenario_.vsegs[x.vseg];
      if (scenario_.topology.volumes[v.volume].name == s.volume &&
          v.volume_lba == h.lv_lba - h.vseg_lba)
        r = &x;
    }
  }
  if (r == nullptr) return;  // no record
  ++journals_;
  replay_records(r, bytes, s.journal_id);
}

void JournalChecker::replay_records(Replay* r, const std::vector<uint8_t>& bytes,
                                    uint16_t journal_id) {
  const TortureVseg& v = scenario_.vsegs[r->vseg];
  const uint32_t bs = r->block_size;
  const uint64_t blocks = bytes.size() / bs;
  uint64_t at = 0;
  uint64_t next_sequence = 0;
  while (at < blocks) {
    map::JournalRecordHeader h;
    const bool ours = map::decode_journal_header(bytes.data() + at * bs, &h) &&
                      h.journal_id == journal_id && h.sequence >= next_sequence &&
                      h.block_size == bs && h.blocks > 0 && at + 1 + h.blocks <= blocks &&
                      h.vseg_lba + h.blocks <= v.blocks;
    if (!ours) {
      // A hole (a record whose leg failed), or the unused end: look on.
      ++hole_blocks_;
      ++at;
      continue;
    }
    ++records_;
    const uint64_t order = uint64_t{h.journal_id} << 32 | h.sequence;
    for (uint64_t b = 0; b < h.blocks; ++b) {
      const uint64_t block = h.vseg_lba + b;
      if (std::tie(h.timestamp_ns, order) < std::tie(r->time[block], r->order[block])) continue;
      r->time[block] = h.timestamp_ns;
      r->order[block] = order;
      std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>((at + 1 + b) * bs), bs,
                  r->data.begin() + static_cast<std::ptrdiff_t>(block * bs));
    }
    at += 1 + h.blocks;
    next_sequence = h.sequence + 1;
  }
}

void JournalChecker::attach(Fabric& fabric) {
  if (replays_.empty()) return;
  for (const auto& sw : fabric.switches()) {
    if (sw->virtualization()) sw->virtualization()->control_path().attach_journal_consumer();
  }
}

void JournalChecker::consume(Fabric& fabric) {
  if (replays_.empty()) return;
  for (const auto& sw : fabric.switches()) {
    if (!sw->virtualization()) continue;
    cp::ControlPath& cp = sw->virtualization()->control_path();
    for (const cp::JournalInfo& j : cp.sealed_journals()) {
      const Replay* r = replay_of(j);
      if (r != nullptr && r->replicated) continue;
      read_journal(fabric, j);
      cp.release_journal(j.vseg_id, j.journal_id);
    }
  }
}

void JournalChecker::set_replicated(const std::vector<size_t>& volumes) {
  for (Replay& r : replays_) {
    const size_t volume = scenario_.vsegs[r.vseg].volume;
    if (std::find(volumes.begin(), volumes.end(), volume) != volumes.end()) r.replicated = true;
  }
}

std::optional<Violation> JournalChecker::check(Fabric& fabric, const MirrorChecker& failed,
                                               SimTime now) {
  consume(fabric);
  for (const auto& sw : fabric.switches()) {
    if (!sw->virtualization()) continue;
    // Those still in use, and the sealed ones of replicated VSEGs not
    // shipped yet (consume left them).
    for (const cp::JournalInfo& j : sw->virtualization()->control_path().active_journals())
      read_journal(fabric, j);
    for (const cp::JournalInfo& j : sw->virtualization()->control_path().sealed_journals())
      read_journal(fabric, j);
  }
  for (const Replay& r : replays_) {
    const TortureVseg& v = scenario_.vsegs[r.vseg];
    const uint32_t bs = r.block_size;
    const uint64_t per_block = bs / kStampUnit;
    std::vector<uint8_t> on_disk(bs);
    for (uint64_t b = 0; b < v.blocks; ++b) {
      if (r.order[b] == 0) continue;  // no record wrote it
      const uint64_t unit = (v.volume_lba + b) * per_block;
      bool skip = false;
      for (uint64_t u = 0; u < per_block; ++u)
        skip = skip || failed.failed_unit(v.volume, unit + u);
      if (skip) continue;
      ++compared_;
      const PlaceElement at = v.place[0].locate(b);
      fabric.disk(at.disk)->store(at.lun)->read(at.lba * bs, on_disk);
      const uint8_t* replayed = r.data.data() + b * bs;
      if (std::equal(on_disk.begin(), on_disk.end(), replayed)) continue;
      Violation out;
      out.invariant = kJournal;
      out.at = now;
      out.summary = fmt::format(
          "volume {} LBA {}: the data device ({} LUN {} LBA {}) differs from the replay of the "
          "journal records, and no write to the block failed",
          scenario_.topology.volumes[v.volume].name, v.volume_lba + b, at.disk, at.lun, at.lba);
      out.history.push_back(
          fmt::format("the data device holds {}", describe_block(on_disk.data(), bs)));
      out.history.push_back(
          fmt::format("the latest record (time {}, journal {}, sequence {}) holds {}", r.time[b],
                      r.order[b] >> 32, r.order[b] & 0xFFFFFFFF, describe_block(replayed, bs)));
      return out;
    }
  }
  return std::nullopt;
}

}  // namespace splitpath::sim::torture
