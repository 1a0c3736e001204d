#include "fabric_sim/torture/mirror_checker.h"

#include <algorithm>
#include <span>
#include <string>
#include <vector>

#include "cp/cluster/oplock_node.h"
#include "cp/control_path.h"
#include "fabric_sim/node/block_stamp.h"
#include "fabric_sim/switch/switch.h"
#include "fabric_sim/switch/switch_virtualization.h"
#include "fmt/format.h"

namespace splitpath::sim::torture {

std::string describe_unit(const uint8_t* unit) {
  BlockStamp stamp;
  switch (read_stamp(std::span<const uint8_t, kStampUnit>(unit, kStampUnit), &stamp)) {
    case StampCheck::kValid:
      return fmt::format("the write of {:016x} generation {}", stamp.writer, stamp.generation);
    case StampCheck::kZero:
      return "zeros";
    case StampCheck::kCorrupt:
      break;
  }
  return "no valid stamp";
}

void MirrorChecker::end_write(const HostIo& io, bool acknowledged) {
  if (acknowledged) return;
  if (failed_.size() <= io.volume) failed_.resize(io.volume + 1);
  std::vector<uint8_t>& units = failed_[io.volume];
  if (units.size() < io.first_unit + io.units) units.resize(io.first_unit + io.units);
  std::fill_n(units.begin() + static_cast<std::ptrdiff_t>(io.first_unit), io.units, 1);
}

bool MirrorChecker::failed_unit(size_t volume, uint64_t unit) const {
  return volume < failed_.size() && unit < failed_[volume].size() && failed_[volume][unit] != 0;
}

namespace {

// The side states of the mirrored VSEG of `vol` starting at volume block
// `lba`, as its switch's CP has them (empty: not a plain mirror, all sides
// written alike). A volume several DVEs serve: as every DVE whose copy is
// current has them (a side is ALIVE only if ALIVE for each); a fenced or
// booting DVE's copy is stale until it applies the record again, so it is
// left out unless no copy is current.
std::vector<map::SideState> side_states(const Fabric& fabric, const VolumeConfig& vol,
                                        uint64_t lba) {
  std::vector<std::string> switches{vol.switch_name};
  switches.insert(switches.end(), vol.shared_with.begin(), vol.shared_with.end());
  std::vector<map::SideState> out;
  bool any = false;
  for (int pass = 0; pass < 2 && !any; ++pass) {
    for (const std::string& name : switches) {
      const Switch* sw = fabric.switch_named(name);
      if (!sw || !sw->virtualization()) continue;
      for (const cp::MirrorReport& m : sw->virtualization()->control_path().mirrors()) {
        if (m.volume != vol.name || m.lba != lba || (pass == 0 && !m.current)) continue;
        out.resize(std::max(out.size(), m.sides.size()), map::SideState::kAlive);
        for (size_t i = 0; i < m.sides.size(); ++i)
          if (m.sides[i].state != map::SideState::kAlive) out[i] = m.sides[i].state;
        any = true;
      }
    }
  }
  return out;
}

}  // namespace

std::optional<Violation> MirrorChecker::check(const Fabric& fabric, SimTime now) {
  for (const TortureVseg& v : scenario_.vsegs) {
    const VsegPlace& place = v.place[0];
    if (!place.split_writes()) continue;
    const VolumeConfig& vol = scenario_.topology.volumes[v.volume];
    // A side that is not ALIVE (DEAD, or still resynchronizing) may differ:
    // only the ALIVE sides are compared, with the first of them.
    const std::vector<map::SideState> states = side_states(fabric, vol, v.volume_lba);
    auto alive = [&](size_t side) {
      return side >= states.size() || states[side] == map::SideState::kAlive;
    };
    size_t reference = 0;
    while (!alive(reference))
      ++reference;
    const uint32_t bs = vol.block_size;
    const uint64_t per_block = bs / kStampUnit;
    std::vector<uint8_t> first(bs);
    std::vector<uint8_t> other(bs);
    for (uint64_t b = 0; b < v.blocks; ++b) {
      const uint64_t unit = (v.volume_lba + b) * per_block;
      bool skip = false;
      for (uint64_t u = 0; u < per_block; ++u)
        skip = skip || failed_unit(v.volume, unit + u);
      if (skip) {
        ++skipped_;
        continue;
      }
      ++compared_;
      const std::vector<PlaceElement> copies = place.copies_of(b);
      if (reference >= copies.size()) break;
      const PlaceElement& s0 = copies[reference];
      fabric.disk(s0.disk)->store(s0.lun)->read(s0.lba * bs, first);
      for (size_t i = reference + 1; i < copies.size(); ++i) {
        if (!alive(i)) continue;
        const PlaceElement& si = copies[i];
        fabric.disk(si.disk)->store(si.lun)->read(si.lba * bs, other);
        if (other == first) continue;
        Violation out;
        out.invariant = kMirror;
        out.at = now;
        out.summary = fmt::format(
            "volume {} LBA {}: mirror side {} ({} LUN {} LBA {}) differs from side {} ({} LUN {} "
            "LBA {}), both ALIVE, and no write to the block failed",
            vol.name, v.volume_lba + b, i, si.disk, si.lun, si.lba, reference, s0.disk, s0.lun,
            s0.lba);
        for (uint64_t u = 0; u < per_block; ++u) {
          const auto at = static_cast<size_t>(u * kStampUnit);
          out.history.push_back(fmt::format("unit {}: side {} holds {}, side {} holds {}", unit + u,
                                            reference, describe_unit(first.data() + at), i,
                                            describe_unit(other.data() + at)));
        }
        return out;
      }
    }
  }
  return std::nullopt;
}

}  // namespace splitpath::sim::torture
