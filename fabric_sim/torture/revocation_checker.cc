#include "fabric_sim/torture/revocation_checker.h"

#include <algorithm>

#include "fmt/format.h"

namespace splitpath::sim::torture {

namespace {

std::string describe(const DownstreamCommand& c) {
  return fmt::format("{:>12} {:02x}.{:02x}.{:02x} {} {} LUN {} LBA {} +{}", c.at,
                     (c.initiator >> 16) & 0xFF, (c.initiator >> 8) & 0xFF, c.initiator & 0xFF,
                     c.write ? "WRITE" : "READ", c.disk, c.lun, c.lba, c.blocks);
}

}  // namespace

std::optional<Violation> RevocationChecker::on_command(const DownstreamCommand& c) {
  ++checked_;
  recent_.push_back(c);
  if (recent_.size() > kRecent) recent_.pop_front();
  for (size_t s = 0; s < scenario_.vsegs.size(); ++s) {
    const TortureVseg& v = scenario_.vsegs[s];
    for (uint8_t p = 0; p < 2; ++p) {
      const VsegPlace& place = v.place[p];
      for (size_t i = 0; i < place.elements(); ++i) {
        const PlaceElement e = place.element(i);
        if (e.disk != c.disk || e.lun != c.lun) continue;
        const uint64_t lo = std::max(c.lba, e.lba);
        const uint64_t hi = std::min(c.lba + c.blocks, e.lba + place.element_blocks(i, v.blocks));
        for (uint64_t lba = lo; lba < hi; ++lba) {
          const uint64_t block = place.block_at(i, lba - e.lba);
          const std::optional<uint8_t> copying = placement_.copying_into(s, block);
          auto where = [&] {
            return fmt::format("{} {} block {} (volume {} LBA {}) through its {}", describe(c),
                               c.write ? "writes" : "reads", lba,
                               scenario_.topology.volumes[v.volume].name, v.volume_lba + block,
                               p == 0 ? "own place" : "shadow area");
          };
          std::string why;
          if (placement_.place_of(s, block) != p) {
            // A migration's copy into its destination: the block is in the
            // copy barrier, being copied into this place (a write only).
            if (c.write && copying == p) continue;
            if (!c.write && snapshot_reads_ && snapshot_reads_(s, p)) continue;
            why = fmt::format(
                "{}: the block lives in the {} since a completed restrictive update{}", where(),
                p == 0 ? "shadow area" : "own place",
                copying ? " (it is in a migration's copy barrier: only the copy's writes go to "
                          "the destination)"
                        : "");
          } else if (c.write && copying && *copying != p) {
            // The barrier's writes wait in the CP until it moves (figure
            // 23): one reaching the source could be missed by the copy.
            why = fmt::format(
                "{}: the block is in a migration's copy barrier (being copied into its {}), "
                "whose writes must wait for the barrier to move",
                where(), *copying == 0 ? "own place" : "shadow area");
          } else {
            continue;
          }
          Violation out;
          out.invariant = kRevocation;
          out.at = c.at;
          out.summary = std::move(why);
          out.history.push_back("last downstream commands:");
          for (const DownstreamCommand& r : recent_)
            out.history.push_back("  " + describe(r));
          if (notes_) {
            for (std::string& line : notes_(s))
              out.history.push_back(std::move(line));
          }
          return out;
        }
      }
    }
  }
  return std::nullopt;
}

}  // namespace splitpath::sim::torture
