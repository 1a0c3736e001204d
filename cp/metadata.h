// The CP's authoritative virtualization metadata (figures 9-14): logical
// volumes (LVs) made of VSEGs, each VSEG with its Rmap of variable-length
// extents and its storage redirect table of storage descriptors (simple or
// stripe), the
// backing disks by WWPN, and the virtual targets with their LUNs.
//
// Only the CP writes it; the FPs cache subsets, loaded through FP API messages.
// Pure data structure: no I/O, no time. Not thread-safe (the CP handles one
// message at a time).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "cp/control_path.h"
#include "cp/storage_layout.h"
#include "splitpath/map/rmap_types.h"

namespace splitpath::cp {

// A backing disk, named by WWPN; its N_Port ID once the name server knows it.
struct Disk {
  uint64_t wwpn = 0;
  std::optional<uint32_t> port_id;
};

// One VSEG: descriptor, Rmap (extents keyed by first block) and redirect
// table. Redirect entries name their disks by index into Metadata::disks(),
// one per storage element of their descriptor (a stripe: one per column);
// an element's port_id is filled in when its disk resolves.
struct Vseg {
  map::VsegDescriptor descriptor;
  uint32_t lv_id = 0;
  absl::btree_map<uint64_t, map::Extent> rmap;
  std::vector<map::RedirectEntry> redirects;
  // Per redirect entry: the disk of its first element (what the login and
  // update code waits for), and the disks of all its elements, in order.
  std::vector<uint32_t> redirect_disk;
  std::vector<std::vector<uint32_t>> redirect_disks;
  // The disk blocks the VSEG was defined on (every column of a stripe).
  std::vector<PhysicalRange> ranges;
  // A VSEG with alternate paths (figures 11 and 12): redirect entry p goes
  // through path p (path 0: the VSEG's disk port; then its alternates), except
  // that under the global policy entry 0 goes through path `active`.
  struct Multipath {
    MultipathPolicy policy = MultipathPolicy::kPerEntry;
    std::vector<uint32_t> path_disks;  // disk index of each path
    uint32_t active = 0;               // kGlobal: the path entry 0 goes through
    bool failback = false;             // VolumeDef::failback
  };
  std::optional<Multipath> multipath;
  // A journaled VSEG: its journal area, carved into journals (journal.cc).
  struct JournalArea {
    uint64_t wwpn = 0;
    uint16_t lun = 0;
    uint64_t lba = 0;
    uint64_t blocks = 0;
    uint32_t journal_blocks = 0;
  };
  std::optional<JournalArea> journal_area;

  // The extent holding VSEG-relative block `lba`, or null.
  const map::Extent* extent_at(uint64_t lba) const;
};

struct Volume {
  std::string name;
  uint32_t lv_id = 0;
  uint32_t block_size = 512;
  uint64_t blocks = 0;
  std::vector<uint32_t> vsegs;  // VSEG ids in LBA order
};

struct Lun {
  LunDef def;
  uint32_t lv_id = 0;
};

struct Target {
  VirtualTargetDef def;
  uint32_t index = 0;
  uint32_t port_id = 0;
  uint64_t wwnn = 0;
  std::vector<Lun> luns;
};

// Fixed-size chunks of a VSEG's Rmap (the global-metadata form of figure 19):
// each chunk covers `chunk_blocks` VSEG-relative blocks and lists the extents
// overlapping it, clipped to the chunk, with their redirect entries.
inline constexpr uint32_t kRmapChunkMagic = 0x524D4350;  // "RMCP"

class Metadata {
 public:
  // The fabricated N_Port ID of virtual target `index` on domain `domain`.
  static uint32_t target_port_id(uint8_t domain, uint32_t index) {
    return (uint32_t{domain} << 16) | (0xFFu << 8) | (0x80u + index);
  }

  bool add_volume(const VolumeDef& def, std::string* error);
  bool add_target(const VirtualTargetDef& def, uint8_t domain, std::string* error);

  const Volume* volume(const std::string& name) const;
  const Volume* volume_by_lv(uint32_t lv_id) const;
  Vseg* vseg(uint32_t id);
  const Vseg* vseg(uint32_t id) const;
  // The VSEG of `lv_id` holding volume block `lba`, or null.
  const Vseg* vseg_at(uint32_t lv_id, uint64_t lba) const;
  const Target* target_by_port_id(uint32_t port_id) const;
  const Target* target_by_name(const std::string& name) const;
  const Lun* lun(uint32_t target_port_id, uint16_t lun) const;

  const std::vector<Volume>& volumes() const { return volumes_; }
  const std::vector<Target>& targets() const { return targets_; }
  const absl::btree_map<uint32_t, Vseg>& vsegs() const { return vsegs_; }
  std::vector<Disk>& disks() { return disks_; }
  const std::vector<Disk>& disks() const { return disks_; }
  // Index of the disk `wwpn`, added if new.
  uint32_t disk_index(uint64_t wwpn);
  // Fills the port_id of every redirect descriptor element on disk `index`.
  void set_disk_port_id(uint32_t index, uint32_t port_id);

  // Makes blocks [start, start + length) of VSEG `vseg_id` (VSEG-relative)
  // map through a redirect entry derived from each current one by replacing
  // its storage (if `storage`, on disk `disk`) and/or flags. Splits extents at
  // the range's ends. Returns the redirect indexes that are new (to add to the
  // FPs) and those reused with the same content; false with *error if the
  // range is outside the VSEG.
  bool remap_range(uint32_t vseg_id, uint64_t start, uint64_t length,
                   const std::optional<map::SimpleStorage>& storage, uint32_t disk,
                   std::optional<uint8_t> flags, std::vector<map::RedirectIndex>* new_indexes,
                   std::string* error);

  // LV reconfiguration. append_vseg adds `def` at the end of `volume` (its
  // capacity grows): the same checks as add_volume's VSEGs (no journal or
  // alternate paths here), no blocks shared with any VSEG; *vseg_id is the
  // new VSEG's.
  bool append_vseg(const std::string& volume, const VsegDef& def, uint32_t* vseg_id,
                   std::string* error);
  // Is every redirect entry of the VSEG a simple descriptor, with no
  // alternate paths or journal, on one disk range? (What split and merge
  // can re-base.) False with *error naming why.
  bool simple_vseg(uint32_t vseg_id, std::string* error) const;
  // Cuts VSEG `vseg_id` in two at VSEG-relative block `at`: it keeps
  // [0, at), a new VSEG (*new_id, next in the volume) maps the rest to the
  // same storage (each redirect entry re-based by `at`).
  bool split_vseg(uint32_t vseg_id, uint64_t at, uint32_t* new_id, std::string* error);
  // Merges VSEG `second_id` into `first_id`, the VSEG before it in their
  // volume: both simple, contiguous on one disk LUN, every entry with the
  // same flags. `second_id` is gone afterwards.
  // `check_only`: only whether it could.
  bool merge_vsegs(uint32_t first_id, uint32_t second_id, std::string* error,
                   bool check_only = false);

  // Cuts the extent holding VSEG-relative block `block` in two there (both
  // through the same redirect entry: nothing an FP caches becomes wrong).
  void split_extent_at(uint32_t vseg_id, uint64_t block);

  // After a service is done with a VSEG's table (a migration, figure 24):
  // removes the redirect entries no extent uses, renumbers the others in
  // order, and merges neighbouring extents with the same entry. Returns, per
  // old index, the new one (or kNoEntry if removed).
  static constexpr uint32_t kNoEntry = ~0u;
  std::vector<uint32_t> compact_redirects(uint32_t vseg_id);

  // The Rmap of a VSEG as fixed-size chunks of `chunk_bytes` bytes each
  // (header: magic, vseg id, chunk index, first block, blocks, extent count;
  // then the clipped extents, each marked if it continues one of the
  // previous chunk). Chunks with more extents than fit are rejected
  // (empty result).
  std::vector<std::vector<uint8_t>> serialize_rmap(uint32_t vseg_id, uint64_t chunk_blocks,
                                                   size_t chunk_bytes) const;
  // Reads chunks back into extents (the pieces of an extent cut by a chunk
  // boundary are joined again). False on a malformed chunk.
  static bool deserialize_rmap(std::span<const std::vector<uint8_t>> chunks,
                               absl::btree_map<uint64_t, map::Extent>* rmap);

 private:
  std::vector<Volume> volumes_;
  absl::btree_map<uint32_t, Vseg> vsegs_;
  std::vector<Target> targets_;
  std::vector<Disk> disks_;
  absl::flat_hash_map<uint64_t, uint32_t> disk_by_wwpn_;
  uint32_t next_vseg_id_ = 1;

  // Builds VSEG `v` of `vol` (laid out as `descriptor` over `wwpns`,
  // occupying `ranges`) at the end of the volume. `volume_def`: for
  // alternate paths.
  uint32_t insert_vseg(Volume* vol, const VsegDef& v, const map::StorageDescriptor& descriptor,
                       const std::vector<uint64_t>& wwpns, std::vector<PhysicalRange> ranges,
                       const VolumeDef* volume_def);
  // The entry index of `entry` over `disks` in `seg`'s table, added if new.
  static map::RedirectIndex find_or_add_entry(Vseg* seg, const map::RedirectEntry& entry,
                                              const std::vector<uint32_t>& disks);

  // A redirect entry per alternate path of `def` (a copy of entry 0 through
  // that port) and seg->multipath.
  void add_paths(const VsegDef& def, const VolumeDef& volume, Vseg* seg);
};

}  // namespace splitpath::cp
