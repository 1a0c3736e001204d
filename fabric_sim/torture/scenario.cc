#include "fabric_sim/torture/scenario.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "fabric_sim/kernel/rng.h"
#include "fabric_sim/topology/wwn.h"
#include "fmt/format.h"
#include "fmt/ranges.h"
#include "splitpath/fc/frame_header.h"
#include "splitpath/map/rmap_types.h"

namespace splitpath::sim::torture {

const char* fault_kind_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::kDiskFailure:
      return "disk_failure";
    case FaultKind::kMediumError:
      return "medium_error";
    case FaultKind::kHostLinkLoss:
      return "host_link_loss";
    case FaultKind::kDiskLinkLoss:
      return "disk_link_loss";
    case FaultKind::kIslLoss:
      return "isl_loss";
    case FaultKind::kSlowDisk:
      return "slow_disk";
    case FaultKind::kRangeMove:
      return "range_move";
    case FaultKind::kFlagChange:
      return "flag_change";
    case FaultKind::kTablePressure:
      return "table_pressure";
    case FaultKind::kSlowLinks:
      return "slow_links";
    case FaultKind::kMigration:
      return "migration";
    case FaultKind::kSnapshot:
      return "snapshot";
    case FaultKind::kIncremental:
      return "incremental";
    case FaultKind::kVsegSplit:
      return "vseg_split";
    case FaultKind::kMirrorSide:
      return "mirror_side";
    case FaultKind::kReplication:
      return "replication";
    case FaultKind::kDveCluster:
      return "dve_cluster";
    case FaultKind::kSharedMirror:
      return "shared_mirror";
  }
  return "?";
}

const char* dve_cluster_op_name(DveClusterOp::Kind kind) {
  switch (kind) {
    case DveClusterOp::Kind::kUpdate:
      return "update";
    case DveClusterOp::Kind::kShare:
      return "share";
    case DveClusterOp::Kind::kUnshare:
      return "unshare";
    case DveClusterOp::Kind::kLoss:
      return "loss";
    case DveClusterOp::Kind::kPartition:
      return "partition";
    case DveClusterOp::Kind::kCrash:
      return "crash";
    case DveClusterOp::Kind::kJitter:
      return "jitter";
  }
  return "?";
}

PlaceElement VsegPlace::element(size_t i) const {
  if (raid10()) return column_sides[i / sides_per_column()][i % sides_per_column()];
  return striped() ? columns[i] : mirrored() ? sides[i] : PlaceElement{disk, lun, lba};
}

uint64_t VsegPlace::element_blocks(size_t i, uint64_t vseg_blocks) const {
  if (!striped()) return vseg_blocks;  // the one element, or every side, holds all
  const size_t column = i / sides_per_column();
  const uint64_t unit = uint64_t{1} << unit_shift;
  const uint64_t row = unit * columns.size();
  const uint64_t rest = vseg_blocks % row;
  const uint64_t before = column * unit;
  return vseg_blocks / row * unit + (rest > before ? std::min(unit, rest - before) : 0);
}

PlaceElement VsegPlace::locate(uint64_t block) const {
  if (mirrored()) return PlaceElement{sides[0].disk, sides[0].lun, sides[0].lba + block};
  if (!striped()) return PlaceElement{disk, lun, lba + block};
  const uint64_t unit = block >> unit_shift;
  const uint64_t offset = block & ((uint64_t{1} << unit_shift) - 1);
  PlaceElement e = columns[unit % columns.size()];
  e.lba += ((unit / columns.size()) << unit_shift) + offset;
  return e;
}

std::vector<PlaceElement> VsegPlace::copies_of(uint64_t block) const {
  if (mirrored()) {
    std::vector<PlaceElement> out;
    for (const PlaceElement& s : sides)
      out.push_back(PlaceElement{s.disk, s.lun, s.lba + block});
    return out;
  }
  if (!raid10()) return {locate(block)};
  const PlaceElement first = locate(block);
  const size_t column = (block >> unit_shift) % columns.size();
  const uint64_t column_block = first.lba - columns[column].lba;
  std::vector<PlaceElement> out;
  for (const PlaceElement& s : column_sides[column])
    out.push_back(PlaceElement{s.disk, s.lun, s.lba + column_block});
  return out;
}

uint64_t VsegPlace::block_at(size_t i, uint64_t element_block) const {
  if (!striped()) return element_block;
  const size_t column = i / sides_per_column();
  const uint64_t row = element_block >> unit_shift;
  const uint64_t offset = element_block & ((uint64_t{1} << unit_shift) - 1);
  return ((row * columns.size() + column) << unit_shift) + offset;
}

namespace {

constexpr uint32_t kPortsPerSwitch = 16;
constexpr uint64_t kLun0Blocks = uint64_t{1} << 21;  // 1 GiB of 512-byte blocks
constexpr uint64_t kLun1Blocks = uint64_t{1} << 18;  // 1 GiB of 4096-byte blocks

// Draws one scenario; each part from its own stream so that changing how one
// part is drawn does not reshuffle the others.
class Generator {
 public:
  Generator(uint64_t seed, uint64_t ops, bool all_kinds, const std::vector<std::string>& without)
      : seed_(seed), ops_(ops) {
    out_.seed = seed;
    out_.topology.source = fmt::format("<torture seed {}>", seed);
    out_.topology.seed = seed;
    // The harness ends the run; the topology's duration only bounds start times.
    out_.topology.duration_ns = 3600 * kNsPerSec;
    Rng r = Rng::derive(seed, "torture/swarm");
    // One draw per kind, in kind order: a kind appended at the end leaves the
    // earlier kinds' draws (and so every older seed's swarm) as they were.
    const double p[kFaultKinds] = {0.5,  0.5, 0.4, 0.4, 0.5, 0.5, 0.75, 0.4, 0.3,
                                   0.25, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5,  0.5, 0.5};
    for (size_t k = 0; k < kFaultKinds; ++k)
      out_.enabled[k] = all_kinds || r.unit() < p[k];
    for (const std::string& name : without) {
      FaultKind k;
      if (parse_fault_kind(name, &k)) out_.enabled[static_cast<size_t>(k)] = false;
    }
  }

  TortureScenario run() {
    switches();
    disks();
    volumes();
    hosts();
    hot_spot();
    multipath();
    feasible_timeouts();
    settings();
    if (out_.topology.isls.empty()) out_.enabled[static_cast<size_t>(FaultKind::kIslLoss)] = false;
    schedule();
    migrations();
    services();
    splits();
    mirror_sides();
    replication();
    dve_cluster();
    shared_mirrors();
    return std::move(out_);
  }

 private:
  bool on(FaultKind k) const { return out_.enabled[static_cast<size_t>(k)]; }
  Rng stream(const char* name) { return Rng::derive(seed_, fmt::format("torture/{}", name)); }
  uint64_t between(Rng& r, uint64_t lo, uint64_t hi) { return lo + r.uniform(hi - lo + 1); }

  LinkParams link(Rng& r) {
    LinkParams l;
    if (on(FaultKind::kSlowLinks) && r.uniform(2) == 0) {
      l.speed = LinkSpeed::k8G;
      l.bb_credit = static_cast<uint16_t>(between(r, 1, 4));
      l.propagation_ns = between(r, 2'000, 20'000);
    } else {
      const LinkSpeed speeds[] = {LinkSpeed::k8G, LinkSpeed::k16G, LinkSpeed::k32G,
                                  LinkSpeed::k64G};
      l.speed = speeds[r.uniform(4)];
      l.bb_credit = static_cast<uint16_t>(between(r, 4, 32));
      l.propagation_ns = between(r, 100, 2'000);
    }
    return l;
  }

  PortRef node_port(Rng& r) {
    const size_t s = r.uniform(out_.topology.switches.size());
    return PortRef{out_.topology.switches[s].name, next_node_port_[s]++};
  }

  void switches() {
    Rng r = stream("switches");
    const size_t n = 1 + r.uniform(3);
    for (size_t i = 0; i < n; ++i) {
      SwitchConfig s;
      s.name = fmt::format("sw{}", i);
      s.domain = static_cast<uint8_t>(i + 1);
      s.ports = kPortsPerSwitch;
      s.latency_ns = between(r, 300, 1500);
      out_.topology.switches.push_back(s);
    }
    next_node_port_.assign(n, 0);
    std::vector<uint32_t> next_isl_port(n, kPortsPerSwitch - 1);
    auto isl = [&](size_t a, size_t b) {
      IslConfig c;
      c.a = PortRef{out_.topology.switches[a].name, next_isl_port[a]--};
      c.b = PortRef{out_.topology.switches[b].name, next_isl_port[b]--};
      c.link = link(r);
      out_.topology.isls.push_back(c);
    };
    // A chain keeps every switch reachable; extra ISLs give equal-cost paths
    // and a ring, so that losing one ISL need not cut the fabric.
    for (size_t i = 0; i + 1 < n; ++i) {
      isl(i, i + 1);
      if (r.uniform(2) == 0) isl(i, i + 1);
    }
    if (n == 3 && r.uniform(2) == 0) isl(0, 2);
  }

  void disks() {
    Rng r = stream("disks");
    const size_t n = 2 + r.uniform(4);
    for (size_t i = 0; i < n; ++i) {
      DiskConfig d;
      d.name = fmt::format("disk{}", i);
      d.wwpn = wwpn_from_name(d.name);
      d.attach = AttachConfig{node_port(r), link(r)};
      auto lun = [](uint16_t number, uint64_t blocks, uint32_t block_size) {
        LunConfig l;
        l.lun = number;
        l.blocks = blocks;
        l.block_size = block_size;
        return l;
      };
      d.luns.push_back(lun(0, kLun0Blocks, 512));
      if (r.uniform(10) < 3) d.luns.push_back(lun(1, kLun1Blocks, 4096));
      d.latency_ns = between(r, 10, 300) * kNsPerUs;
      d.bandwidth_mb_s = between(r, 300, 4000);
      d.queue_depth = static_cast<uint32_t>(between(r, 8, 128));
      out_.topology.disks.push_back(d);
      // Each LUN's space is handed out from a random start, front to back.
      for (const LunConfig& l : d.luns)
        next_free_[{i, l.lun}] = r.uniform(1024);
    }
  }

  // A disk and LUN with `block_size` blocks, and `blocks` fresh blocks on it.
  VsegPlace allocate(Rng& r, uint32_t block_size, uint64_t blocks) {
    std::vector<std::pair<size_t, uint16_t>> fits;
    for (size_t i = 0; i < out_.topology.disks.size(); ++i) {
      for (const LunConfig& l : out_.topology.disks[i].luns) {
        if (l.block_size == block_size && next_free_[{i, l.lun}] + blocks <= l.blocks)
          fits.emplace_back(i, l.lun);
      }
    }
    const auto [disk, lun] = fits[r.uniform(fits.size())];
    uint64_t& next = next_free_[{disk, lun}];
    VsegPlace p;
    p.disk = out_.topology.disks[disk].name;
    p.lun = lun;
    p.lba = next;
    next += blocks + r.uniform(64);  // sometimes a gap, sometimes adjacent
    return p;
  }

  void volumes() {
    Rng r = stream("volumes");
    // Stripes draw from their own stream, after the VSEG's other draws: a
    // scenario without stripes is the one it was before stripes existed.
    Rng stripes = stream("stripes");
    const bool striping = stripes.uniform(5) < 2;
    // Mirrors likewise, after the stripes' draws.
    Rng mirrors = stream("mirrors");
    const bool mirroring = mirrors.uniform(5) < 2;
    // Journals likewise, after the mirrors' draws.
    Rng journals = stream("journals");
    const bool journaling = journals.uniform(5) < 2;
    bool any_4k = false;
    for (const DiskConfig& d : out_.topology.disks)
      any_4k = any_4k || d.luns.size() > 1;
    const bool pressure = on(FaultKind::kTablePressure);
    for (size_t s = 0; s < out_.topology.switches.size(); ++s) {
      const size_t count = s == 0 ? 1 + r.uniform(2) : r.uniform(3);
      if (count == 0) continue;
      // One or two virtual targets present this switch's volumes.
      const size_t first_target = out_.topology.virtual_targets.size();
      const size_t targets = 1 + r.uniform(2);
      for (size_t t = 0; t < targets; ++t) {
        VirtualTargetConfig vt;
        vt.name = fmt::format("vt{}_{}", s, t);
        vt.switch_name = out_.topology.switches[s].name;
        vt.wwpn = wwpn_from_name(vt.name);
        out_.topology.virtual_targets.push_back(vt);
      }
      for (size_t v = 0; v < count; ++v) {
        VolumeConfig vol;
        vol.name = fmt::format("vol{}_{}", s, v);
        vol.switch_name = out_.topology.switches[s].name;
        vol.block_size = any_4k && r.uniform(4) == 0 ? 4096 : 512;
        const uint64_t unit_blocks = vol.block_size / 512;
        const size_t vsegs = 1 + r.uniform(3);
        uint64_t volume_lba = 0;
        for (size_t g = 0; g < vsegs; ++g) {
          VsegConfig seg;
          seg.blocks = between(r, 256, 8192) / unit_blocks;
          const VsegPlace home = allocate(r, vol.block_size, seg.blocks);
          seg.disk = home.disk;
          seg.lun = home.lun;
          seg.lba = home.lba;
          const uint64_t extents[] = {0, 8, 16, 64, 128, 512, 1024};
          const uint64_t small[] = {4, 8, 16, 32};
          seg.extent_blocks = pressure ? small[r.uniform(4)] : extents[r.uniform(7)];
          seg.extent_blocks = std::min(seg.extent_blocks, seg.blocks);
          seg.fault_on_read = r.uniform(10) == 0;
          seg.fault_on_write = r.uniform(10) == 0;
          TortureVseg tv;
          tv.volume = out_.topology.volumes.size();
          tv.volume_lba = volume_lba;
          tv.blocks = seg.blocks;
          tv.place[0] = home;
          tv.place[1] = allocate(r, vol.block_size, seg.blocks);
          if (striping && stripes.uniform(2) == 0) stripe(stripes, vol.block_size, &seg, &tv);
          if (mirroring && !tv.place[0].striped() && mirrors.uniform(2) == 0)
            mirror(mirrors, vol.block_size, &seg, &tv);
          // A stripe of up to 4 columns may become a stripe of mirrors.
          if (mirroring && tv.place[0].striped() && tv.place[0].columns.size() <= 4 &&
              mirrors.uniform(2) == 0)
            mirror_columns(mirrors, vol.block_size, &seg, &tv);
          if (journaling && !tv.place[0].striped() && !tv.place[0].mirrored() &&
              journals.uniform(2) == 0)
            journal(journals, vol.block_size, &seg, &tv);
          out_.vsegs.push_back(tv);
          vol.vsegs.push_back(seg);
          volume_lba += seg.blocks;
        }
        VirtualLunConfig lun;
        VirtualTargetConfig& vt = out_.topology.virtual_targets[first_target + r.uniform(targets)];
        lun.lun = static_cast<uint16_t>(vt.luns.size() + (vt.luns.empty() ? r.uniform(3) : 0));
        if (!vt.luns.empty()) lun.lun = static_cast<uint16_t>(vt.luns.back().lun + 1);
        lun.volume = vol.name;
        vt.luns.push_back(lun);
        out_.topology.volumes.push_back(vol);
      }
    }
    // A target left without LUNs is dropped (validation requires at least one).
    std::erase_if(out_.topology.virtual_targets,
                  [](const VirtualTargetConfig& t) { return t.luns.empty(); });
  }

  // Stripes the VSEG over 1-8 columns with a power-of-two unit of 1 block to
  // 2^14 blocks (mostly up to 256, the largest host I/O, so that I/Os both
  // fit units and cross them; up to 16 under table pressure). The columns go to different disks as
  // long as there are disks with LUNs of the volume's block size, then round again; their blocks
  // come from the upper half of each LUN, which allocate() never reaches. The VSEG's unstriped home
  // stays allocated, unused.
  void stripe(Rng& r, uint32_t block_size, VsegConfig* seg, TortureVseg* tv) {
    std::vector<std::pair<size_t, uint16_t>> luns = luns_of(block_size);
    for (size_t i = luns.size(); i > 1; --i)
      std::swap(luns[i - 1], luns[r.uniform(i)]);
    const size_t width = 1 + r.uniform(8);
    // Under table pressure extents are 4-32 blocks and an I/O crossing one
    // faults before its stripe units are looked at: units stay smaller there.
    const auto shift = static_cast<uint8_t>(on(FaultKind::kTablePressure) ? r.uniform(5)
                                            : r.uniform(8) == 0           ? 9 + r.uniform(6)
                                                                          : r.uniform(9));
    VsegPlace& home = tv->place[0];
    home.unit_shift = shift;
    home.columns.resize(width);
    for (size_t c = 0; c < width; ++c) {
      const auto [disk, lun] = luns[c % luns.size()];
      uint64_t& next = upper_free(r, disk, lun);
      home.columns[c] = PlaceElement{out_.topology.disks[disk].name, lun, next};
      next += home.element_blocks(c, seg->blocks) + r.uniform(64);
    }
    StripeConfig config;
    config.unit_bytes = uint64_t{block_size} << shift;
    for (const PlaceElement& e : home.columns)
      config.columns.push_back(StripeColumnConfig{e.disk, e.lun, e.lba});
    seg->stripe = std::move(config);
    seg->disk.clear();
    seg->lun = 0;
    seg->lba = 0;
  }

  // Mirrors the VSEG on 2-3 sides, on different disks as long as there are
  // disks with LUNs of the volume's block size, from the upper halves of the
  // LUNs like stripe columns; read costs mostly equal, sometimes one side
  // cheaper. The VSEG's unmirrored home stays allocated, unused.
  void mirror(Rng& r, uint32_t block_size, VsegConfig* seg, TortureVseg* tv) {
    std::vector<std::pair<size_t, uint16_t>> luns = luns_of(block_size);
    for (size_t i = luns.size(); i > 1; --i)
      std::swap(luns[i - 1], luns[r.uniform(i)]);
    const size_t sides = 2 + r.uniform(2);
    const bool costs = r.uniform(3) == 0;
    MirrorConfig config;
    for (size_t i = 0; i < sides; ++i) {
      const auto [disk, lun] = luns[i % luns.size()];
      uint64_t& next = upper_free(r, disk, lun);
      PlaceElement side{out_.topology.disks[disk].name, lun, next};
      next += seg->blocks + r.uniform(64);
      tv->place[0].sides.push_back(side);
      config.sides.push_back(MirrorSideConfig{side.disk, side.lun, side.lba,
                                              static_cast<uint8_t>(costs ? r.uniform(3) : 0)});
    }
    seg->mirror = std::move(config);
    seg->disk.clear();
    seg->lun = 0;
    seg->lba = 0;
  }

  // RAID 10: each column of the striped VSEG gets a second side (a third
  // with 2 columns or fewer, sometimes), on another disk when there is one,
  // from the upper halves of the LUNs.
  void mirror_columns(Rng& r, uint32_t block_size, VsegConfig* seg, TortureVseg* tv) {
    VsegPlace& home = tv->place[0];
    const size_t per = home.columns.size() <= 2 && r.uniform(3) == 0 ? 3 : 2;
    const std::vector<std::pair<size_t, uint16_t>> luns = luns_of(block_size);
    home.column_sides.resize(home.columns.size());
    for (size_t c = 0; c < home.columns.size(); ++c) {
      std::vector<PlaceElement>& sides = home.column_sides[c];
      sides.push_back(home.columns[c]);
      const uint64_t blocks = home.element_blocks(c, seg->blocks);
      for (size_t s = 1; s < per; ++s) {
        const auto [disk, lun] = luns[r.uniform(luns.size())];
        uint64_t& next = upper_free(r, disk, lun);
        sides.push_back(PlaceElement{out_.topology.disks[disk].name, lun, next});
        next += blocks + r.uniform(64);
      }
      StripeColumnConfig& column = seg->stripe->columns[c];
      MirrorConfig m;
      for (const PlaceElement& side : sides)
        m.sides.push_back(MirrorSideConfig{side.disk, side.lun, side.lba, 0});
      column.mirror = std::move(m);
      column.disk.clear();
      column.lun = 0;
      column.lba = 0;
    }
  }

  // Journals the VSEG's writes (figure 32): its home is the data device; the
  // journal area, from the upper half of a LUN of the same block size, holds
  // 8-32 journals of 64-1024 blocks, small enough that they fill up and are
  // swapped under load (the harness consumes and releases sealed ones).
  void journal(Rng& r, uint32_t block_size, VsegConfig* seg, TortureVseg* tv) {
    const std::vector<std::pair<size_t, uint16_t>> luns = luns_of(block_size);
    const auto [disk, lun] = luns[r.uniform(luns.size())];
    const uint64_t sizes[] = {64, 128, 256, 1024};
    JournalArea area;
    area.journal_blocks = sizes[r.uniform(4)];
    area.area_blocks = area.journal_blocks * between(r, 8, 32);
    uint64_t& next = upper_free(r, disk, lun);
    area.at = PlaceElement{out_.topology.disks[disk].name, lun, next};
    next += area.area_blocks + r.uniform(64);
    JournalConfig config;
    config.disk = seg->disk;
    config.lun = seg->lun;
    config.lba = seg->lba;
    config.journal_disk = area.at.disk;
    config.journal_lun = area.at.lun;
    config.journal_lba = area.at.lba;
    config.area_blocks = area.area_blocks;
    config.journal_blocks = area.journal_blocks;
    seg->journal = std::move(config);
    seg->disk.clear();
    seg->lun = 0;
    seg->lba = 0;
    tv->place[0].journal = area;
  }

  // The LUNs (disk index, LUN) with blocks of `block_size`.
  std::vector<std::pair<size_t, uint16_t>> luns_of(uint32_t block_size) const {
    std::vector<std::pair<size_t, uint16_t>> luns;
    for (size_t i = 0; i < out_.topology.disks.size(); ++i) {
      for (const LunConfig& l : out_.topology.disks[i].luns)
        if (l.block_size == block_size) luns.emplace_back(i, l.lun);
    }
    return luns;
  }

  // The next free block of the upper half of a LUN, which allocate() never
  // reaches (stripe columns and mirror sides come from there).
  uint64_t& upper_free(Rng& r, size_t disk, uint16_t lun) {
    auto next = stripe_free_.find({disk, lun});
    if (next == stripe_free_.end()) {
      uint64_t lun_blocks = 0;
      for (const LunConfig& l : out_.topology.disks[disk].luns)
        if (l.lun == lun) lun_blocks = l.blocks;
      next = stripe_free_.emplace(std::pair{disk, lun}, lun_blocks / 2 + r.uniform(1024)).first;
    }
    return next->second;
  }

  void hosts() {
    Rng r = stream("hosts");
    Topology& t = out_.topology;
    const size_t n = 1 + r.uniform(4);
    for (size_t i = 0; i < n; ++i) {
      HostConfig h;
      h.name = fmt::format("host{}", i);
      h.wwpn = wwpn_from_name(h.name);
      h.attach = AttachConfig{node_port(r), link(r)};
      h.start_ns = r.uniform(1000) * kNsPerUs;
      t.hosts.push_back(h);
      // Each host alone in a zone: it reaches no disk, only the virtual
      // targets (which no zone lists, so they are open to every host).
      t.zones.push_back(ZoneConfig{fmt::format("z_{}", h.name), {h.wwpn}});
    }
    // LUN masking: half the LUNs are open to every host, the others to a
    // random non-empty subset.
    for (VirtualTargetConfig& vt : t.virtual_targets) {
      for (VirtualLunConfig& l : vt.luns) {
        if (r.uniform(2) == 0) continue;
        for (const HostConfig& h : t.hosts)
          if (r.uniform(2) == 0) l.hosts.push_back(h.wwpn);
        if (l.hosts.empty()) l.hosts.push_back(t.hosts[r.uniform(n)].wwpn);
        l.read_only = r.uniform(20) == 0;
      }
    }
    for (HostConfig& h : t.hosts) {
      // What the host sees decides its block size and region.
      uint64_t min_blocks = ~uint64_t{0};
      uint32_t max_block = 0;
      bool sees = false;
      for (VirtualTargetConfig& vt : t.virtual_targets) {
        for (VirtualLunConfig& l : vt.luns) {
          const bool visible =
              l.hosts.empty() || std::find(l.hosts.begin(), l.hosts.end(), h.wwpn) != l.hosts.end();
          if (!visible) continue;
          sees = true;
          const VolumeConfig& vol = volume(l.volume);
          uint64_t blocks = 0;
          for (const VsegConfig& s : vol.vsegs)
            blocks += s.blocks;
          min_blocks = std::min(min_blocks, blocks);
          max_block = std::max(max_block, vol.block_size);
        }
      }
      if (!sees) {
        // Every host works: it gets the first masked LUN.
        for (VirtualTargetConfig& vt : t.virtual_targets) {
          for (VirtualLunConfig& l : vt.luns) {
            if (sees || l.hosts.empty()) continue;
            l.hosts.push_back(h.wwpn);
            sees = true;
            const VolumeConfig& vol = volume(l.volume);
            min_blocks = 0;
            for (const VsegConfig& s : vol.vsegs)
              min_blocks += s.blocks;
            max_block = vol.block_size;
          }
        }
      }
      WorkloadConfig& w = h.workload;
      w.read_percent = static_cast<uint32_t>(r.uniform(101));
      const uint32_t sizes_512[] = {512, 1024, 4096, 8192, 32768, 131072};
      const uint32_t sizes_4k[] = {4096, 8192, 16384, 65536};
      w.block_size = max_block == 4096 ? sizes_4k[r.uniform(4)] : sizes_512[r.uniform(6)];
      // The I/O must fit the region with room to spare.
      const uint64_t region_bytes = min_blocks * max_block;
      while (w.block_size > max_block && uint64_t{w.block_size} * 8 > region_bytes)
        w.block_size /= 2;
      w.queue_depth = static_cast<uint32_t>(between(r, 1, 16));
      w.pattern = r.uniform(5) == 0 ? AccessPattern::kSequential : AccessPattern::kRandom;
      w.lba_start = r.uniform(3) == 0 ? r.uniform(min_blocks / 4) : 0;
      w.lba_count = min_blocks - w.lba_start;
      w.rate_iops = r.uniform(4) == 0 ? static_cast<double>(between(r, 2'000, 20'000)) : 0;
      w.io_timeout_ns = between(r, 30, 300) * kNsPerMs;
      out_.max_io_timeout_ns = std::max(out_.max_io_timeout_ns, w.io_timeout_ns);
    }
  }

  // With mirrors or journals, in half the scenarios every host works a small
  // region at the start of its LUNs (at least 16 of its I/Os), so that writes
  // from several hosts race on the same mirror or journal blocks: what write serialization
  // (figures 16-17) is for. From its own stream, after the hosts' draws.
  void hot_spot() {
    if (std::none_of(out_.vsegs.begin(), out_.vsegs.end(),
                     [](const TortureVseg& v) { return v.place[0].write_authority(); }))
      return;
    Rng r = stream("mirrors/hot_spot");
    if (r.uniform(2) != 0) return;
    for (HostConfig& h : out_.topology.hosts) {
      WorkloadConfig& w = h.workload;
      const uint64_t blocks = std::max<uint64_t>(64, uint64_t{w.block_size} / 512 * 16);
      w.lba_count = std::min(w.lba_start + w.lba_count, blocks);
      w.lba_start = 0;
      w.read_percent = std::min<uint32_t>(w.read_percent, 50);
    }
  }

  // Multipath (figures 11-12), from its own stream after every other part of
  // the topology, so scenarios without it are the ones they were: in two
  // scenarios of five, each disk gets a second port with probability 1/2
  // (WWPN + 1, as the topology file numbers them), each volume a random
  // policy (per entry, global, or none: a path failure then fails I/Os) and
  // failback (immediate or manual), and
  // each host 0 or 5 retries of ABORTED COMMAND (as Linux's sd retries).
  void multipath() {
    Rng r = stream("multipath");
    if (r.uniform(5) >= 2) return;
    Topology& t = out_.topology;
    for (DiskConfig& d : t.disks) {
      if (r.uniform(2) != 0) continue;
      DiskPortConfig port;
      port.wwpn = d.wwpn + 1;
      port.attach = AttachConfig{node_port(r), d.attach.link};
      d.more_ports.push_back(port);
    }
    const MultipathPolicy policies[] = {MultipathPolicy::kPerEntry, MultipathPolicy::kGlobal,
                                        MultipathPolicy::kNone};
    for (VolumeConfig& v : t.volumes) {
      v.multipath = policies[r.uniform(3)];
      v.failback = r.uniform(2) == 0;
    }
    for (HostConfig& h : t.hosts)
      h.workload.retries = r.uniform(2) == 0 ? 5 : 0;
  }

  // An I/O timeout the fabric cannot meet even without faults makes every I/O
  // time out once the queues fill: each host aborts and reissues, and nothing
  // completes again (seed 3000353 at 50000 I/Os: 42 x 128 KiB in flight over
  // slow links moved about 113 MB/s, 49 ms per I/O against a 45 ms timeout).
  // So no timeout is shorter than twice the time all hosts' I/Os in flight
  // take through the slowest link (line rate, or BB credits per round trip).
  // No random draws: scenarios where the floor does not bind are unchanged.
  void feasible_timeouts() {
    const Topology& t = out_.topology;
    double slowest = 1e18;  // bytes per ns
    auto consider = [&](const LinkParams& l) {
      const double line = link_megabytes_per_second(l.speed) * 1e-3;
      const double credits = static_cast<double>(l.bb_credit) *
                             static_cast<double>(fc::kMaxFrameSize) /
                             (2.0 * static_cast<double>(l.propagation_ns));
      slowest = std::min(slowest, std::min(line, credits));
    };
    for (const HostConfig& h : t.hosts)
      consider(h.attach.link);
    for (const DiskConfig& d : t.disks)
      consider(d.attach.link);
    for (const IslConfig& i : t.isls)
      consider(i.link);
    double in_flight = 0;  // bytes, every host with every LUN it sees at full depth
    for (const HostConfig& h : t.hosts)
      in_flight += static_cast<double>(h.workload.block_size) * h.workload.queue_depth *
                   static_cast<double>(luns_seen(h));
    const auto floor = static_cast<SimTime>(std::ceil(2.0 * in_flight / slowest));
    for (HostConfig& h : out_.topology.hosts) {
      h.workload.io_timeout_ns = std::max(h.workload.io_timeout_ns, floor);
      out_.max_io_timeout_ns = std::max(out_.max_io_timeout_ns, h.workload.io_timeout_ns);
    }
  }

  size_t luns_seen(const HostConfig& h) const {
    size_t n = 0;
    for (const VirtualTargetConfig& vt : out_.topology.virtual_targets)
      for (const VirtualLunConfig& l : vt.luns)
        n += l.hosts.empty() || std::find(l.hosts.begin(), l.hosts.end(), h.wwpn) != l.hosts.end();
    return n;
  }

  const VolumeConfig& volume(const std::string& name) const {
    for (const VolumeConfig& v : out_.topology.volumes)
      if (v.name == name) return v;
    return out_.topology.volumes.front();
  }

  void settings() {
    Rng r = stream("settings");
    FpSettings& fp = out_.topology.fp;
    // The FP's fixed tables take about 493 KiB (fp_firmware/README.md); the
    // rest caches extents at about 104 bytes each: 512 KiB holds some 190.
    // Redirect entries grew from 64 to 152 bytes with storage descriptors
    // (88 KiB more for the default 1024): every size below adds that, so a
    // seed caches as many extents as it did before and replays its run.
    // The journal primitive added 28 KiB more (a header-buffer slot per
    // downstream entry, the journal pointer per redirect entry).
    constexpr uint64_t kDescriptorGrowth = (88 << 10) + (28 << 10);
    const uint64_t memories[] = {512 << 10, 1 << 20, 4 << 20};
    fp.table_memory_bytes =
        kDescriptorGrowth + (on(FaultKind::kTablePressure) ? 424 << 10 : memories[r.uniform(3)]);
    const uint32_t transfers[] = {16 << 10, 64 << 10, 256 << 10, 1 << 20};
    fp.max_transfer_bytes = transfers[r.uniform(4)];
    fp.frame_cost_ns = static_cast<uint32_t>(between(r, 50, 500));
    const char* policies[] = {"lru", "random", "sequential"};
    fp.rmap_policy = policies[r.uniform(3)];
    fp.working_set_window = r.uniform(2) == 0 ? 0 : static_cast<uint32_t>(between(r, 1, 64));
    fp.enabled = r.uniform(10) != 0;
    fp.hal = r.uniform(3) == 0 ? "ring" : "sim";
    CpSettings& cp = out_.topology.cp;
    cp.mailbox_latency_ns = between(r, 1, 10) * kNsPerUs;
    cp.message_cost_ns = between(r, 1, 5) * kNsPerUs;
    cp.fault_cost_ns = between(r, 5, 50) * kNsPerUs;
  }

  void schedule() {
    Rng r = stream("schedule");
    // Which port of a multi-ported disk loses its link: its own stream, so
    // that scenarios without multipath keep their schedules.
    Rng paths = stream("multipath/faults");
    const FaultKind dynamic[] = {FaultKind::kDiskFailure,  FaultKind::kMediumError,
                                 FaultKind::kHostLinkLoss, FaultKind::kDiskLinkLoss,
                                 FaultKind::kIslLoss,      FaultKind::kSlowDisk,
                                 FaultKind::kRangeMove,    FaultKind::kFlagChange};
    std::vector<FaultKind> kinds;
    for (FaultKind k : dynamic)
      if (on(k)) kinds.push_back(k);
    if (kinds.empty()) return;
    const Topology& t = out_.topology;
    const uint64_t n = std::min<uint64_t>(400, 3 + ops_ / 1000);
    for (uint64_t i = 0; i < n; ++i) {
      PlannedOp op;
      op.kind = kinds[r.uniform(kinds.size())];
      op.at_ios = r.uniform(std::max<uint64_t>(1, ops_ * 9 / 10));
      switch (op.kind) {
        case FaultKind::kDiskFailure:
        case FaultKind::kDiskLinkLoss: {
          const DiskConfig& d = t.disks[r.uniform(t.disks.size())];
          op.target = d.name;
          op.duration_ns = between(r, 1, 60) * kNsPerMs;
          if (op.kind == FaultKind::kDiskLinkLoss && !d.more_ports.empty())
            op.port = static_cast<uint32_t>(paths.uniform(d.more_ports.size() + 1));
          break;
        }
        case FaultKind::kSlowDisk:
          op.target = t.disks[r.uniform(t.disks.size())].name;
          op.delay_ns = between(r, 100, 5000) * kNsPerUs;
          op.duration_ns = between(r, 5, 100) * kNsPerMs;
          break;
        case FaultKind::kHostLinkLoss:
          op.target = t.hosts[r.uniform(t.hosts.size())].name;
          op.duration_ns = between(r, 1, 30) * kNsPerMs;
          break;
        case FaultKind::kIslLoss: {
          const IslConfig& isl = t.isls[r.uniform(t.isls.size())];
          op.target = fmt::format("{}:{}", isl.a.switch_name, isl.a.port);
          op.duration_ns = between(r, 1, 50) * kNsPerMs;
          break;
        }
        case FaultKind::kMediumError: {
          const TortureVseg& v = out_.vsegs[r.uniform(out_.vsegs.size())];
          const VsegPlace& p = v.place[r.uniform(2)];
          const PlaceElement at = p.locate(r.uniform(v.blocks));
          op.target = at.disk;
          op.lun = at.lun;
          op.lba = at.lba;
          op.count = between(r, 1, 64);
          op.duration_ns = between(r, 1, 50) * kNsPerMs;
          break;
        }
        case FaultKind::kRangeMove:
        case FaultKind::kFlagChange: {
          op.vseg = r.uniform(out_.vsegs.size());
          // Restrictive updates of a mirror's or a journal's ranges are not
          // combined with its write authority yet (cp/README.md): they get
          // none. The redraws happen only in scenarios with those.
          if (!std::any_of(out_.vsegs.begin(), out_.vsegs.end(),
                           [](const TortureVseg& v) { return !v.place[0].write_authority(); }))
            continue;
          while (out_.vsegs[op.vseg].place[0].write_authority())
            op.vseg = r.uniform(out_.vsegs.size());
          const TortureVseg& v = out_.vsegs[op.vseg];
          const VsegConfig& seg = vseg_config(v);
          uint64_t start = r.uniform(v.blocks);
          uint64_t count = between(r, 1, std::min<uint64_t>(v.blocks - start, 2048));
          if (seg.extent_blocks > 0 && r.uniform(2) == 0) {
            // Whole extents, as a service moving extents would.
            start -= start % seg.extent_blocks;
            count = std::min(v.blocks - start, (count + seg.extent_blocks - 1) / seg.extent_blocks *
                                                   seg.extent_blocks);
          }
          op.lba = v.volume_lba + start;
          op.count = count;
          op.lun = static_cast<uint16_t>(r.uniform(2));   // range move: the place to move to
          op.flags = static_cast<uint8_t>(r.uniform(4));  // flag change: FoR | FoW
          // A restrictive update maps a range to one disk range only (simple
          // storage): a striped VSEG's ranges move to its shadow area, never
          // back onto the stripe.
          if (v.place[0].striped()) op.lun = 1;
          break;
        }
        case FaultKind::kTablePressure:
        case FaultKind::kSlowLinks:
        case FaultKind::kMigration:
        case FaultKind::kSnapshot:
        case FaultKind::kIncremental:
        case FaultKind::kVsegSplit:
        case FaultKind::kMirrorSide:
        case FaultKind::kReplication:
        case FaultKind::kDveCluster:
        case FaultKind::kSharedMirror:
          break;
      }
      out_.ops.push_back(op);
    }
    std::stable_sort(out_.ops.begin(), out_.ops.end(),
                     [](const PlannedOp& a, const PlannedOp& b) { return a.at_ios < b.at_ios; });
  }

  // Online migrations (figures 23-24), planned from their own stream after
  // the schedule, so that the schedule of every other kind stays what it
  // was: 1 to 2 + ops/5000 of them, each moving a whole VSEG the CP can
  // migrate (simple storage: not striped, mirrored, journaled or multipath)
  // to its other place, whichever that is when it fires. Without such a
  // VSEG the kind is off.
  void migrations() {
    std::vector<size_t> candidates;
    for (size_t i = 0; i < out_.vsegs.size(); ++i) {
      TortureVseg& v = out_.vsegs[i];
      const VsegPlace& home = v.place[0];
      const VolumeConfig& vol = out_.topology.volumes[v.volume];
      bool multipath = false;
      for (const DiskConfig& d : out_.topology.disks)
        multipath = multipath || (d.name == home.disk && !d.more_ports.empty());
      multipath = multipath && vol.multipath != MultipathPolicy::kNone;
      v.migratable = !home.striped() && !home.write_authority() && !multipath;
      if (v.migratable) candidates.push_back(i);
    }
    if (candidates.empty()) out_.enabled[static_cast<size_t>(FaultKind::kMigration)] = false;
    if (!on(FaultKind::kMigration)) return;
    Rng r = stream("migrations");
    const uint64_t n = between(r, 1, 2 + ops_ / 5000);
    for (uint64_t i = 0; i < n; ++i) {
      PlannedOp op;
      op.kind = FaultKind::kMigration;
      op.at_ios = r.uniform(std::max<uint64_t>(1, ops_ * 9 / 10));
      op.vseg = candidates[r.uniform(candidates.size())];
      const TortureVseg& v = out_.vsegs[op.vseg];
      op.target = out_.topology.volumes[v.volume].name;
      op.lba = v.volume_lba;
      op.count = v.blocks;
      out_.ops.push_back(op);
    }
    // Stable: the other kinds' operations keep their order.
    std::stable_sort(out_.ops.begin(), out_.ops.end(),
                     [](const PlannedOp& a, const PlannedOp& b) { return a.at_ios < b.at_ios; });
  }

  // Snapshots (figures 20-21) and incrementals (figure 22), planned from
  // their own streams after everything else, so that scenarios without them
  // are the ones they were. A source (a base) is a volume whose every VSEG
  // the CP could migrate (one simple disk range, no multipath); with both
  // kinds on, the candidates alternate between them (a base may have no
  // snapshots). Each snapshot and each incremental gets a volume of its own
  // declared here: the source's VSEG layout, each VSEG one fresh simple disk
  // range, presented as a LUN next to the source's to the same hosts (their
  // jobs write it before it is taken, read it after; writes to a snapshot
  // then get DATA PROTECT, writes to an incremental diverge from its base).
  // 1 to 2 + ops/10000 of each kind, fired before 80% of the run so that the
  // sweep ends under load. Without a candidate a kind is off.
  void services() {
    std::vector<size_t> candidates;
    for (size_t vol = 0; vol < out_.topology.volumes.size(); ++vol) {
      bool all = true, any = false;
      for (const TortureVseg& v : out_.vsegs) {
        if (v.volume != vol) continue;
        any = true;
        all = all && v.migratable;
      }
      if (any && all) candidates.push_back(vol);
    }
    const bool both = on(FaultKind::kSnapshot) && on(FaultKind::kIncremental);
    std::vector<size_t> sources, bases;
    for (size_t i = 0; i < candidates.size(); ++i)
      (both && i % 2 == 1         ? bases
       : on(FaultKind::kSnapshot) ? sources
                                  : bases)
          .push_back(candidates[i]);
    if (sources.empty()) out_.enabled[static_cast<size_t>(FaultKind::kSnapshot)] = false;
    if (bases.empty()) out_.enabled[static_cast<size_t>(FaultKind::kIncremental)] = false;
    if (on(FaultKind::kSnapshot)) plan_images(FaultKind::kSnapshot, sources, "snapshots", "snap");
    if (on(FaultKind::kIncremental))
      plan_images(FaultKind::kIncremental, bases, "incrementals", "inc");
    if (out_.images.empty()) return;
    // The new LUNs add I/Os in flight: the timeouts' floor again (no draws).
    feasible_timeouts();
    std::stable_sort(out_.ops.begin(), out_.ops.end(),
                     [](const PlannedOp& a, const PlannedOp& b) { return a.at_ios < b.at_ios; });
  }

  // VSEG splits and merges (LV reconfiguration, cp/lv_reconfig.cc), planned
  // from their own stream after everything else, so that every other kind's
  // schedule and the topology stay what they were: 1 to 2 + ops/5000 of
  // them, fired before 80% of the run, each splitting a VSEG the CP could
  // migrate (simple storage, at least 2 blocks) at a block inside it (never
  // its first), the merge back asked 1 to 50 ms after the split is done.
  // Without such a VSEG the kind is off.
  void splits() {
    std::vector<size_t> candidates;
    for (size_t i = 0; i < out_.vsegs.size(); ++i)
      if (out_.vsegs[i].migratable && out_.vsegs[i].blocks >= 2) candidates.push_back(i);
    if (candidates.empty()) out_.enabled[static_cast<size_t>(FaultKind::kVsegSplit)] = false;
    if (!on(FaultKind::kVsegSplit)) return;
    Rng r = stream("reconfigs");
    const uint64_t n = between(r, 1, 2 + ops_ / 5000);
    for (uint64_t i = 0; i < n; ++i) {
      PlannedOp op;
      op.kind = FaultKind::kVsegSplit;
      op.at_ios = r.uniform(std::max<uint64_t>(1, ops_ * 8 / 10));
      op.vseg = candidates[r.uniform(candidates.size())];
      const TortureVseg& v = out_.vsegs[op.vseg];
      op.target = out_.topology.volumes[v.volume].name;
      op.lba = v.volume_lba + between(r, 1, v.blocks - 1);
      op.count = v.blocks;
      op.duration_ns = between(r, 1, 50) * kNsPerMs;
      out_.ops.push_back(op);
    }
    std::stable_sort(out_.ops.begin(), out_.ops.end(),
                     [](const PlannedOp& a, const PlannedOp& b) { return a.at_ios < b.at_ios; });
  }

  // Mirror side failures and returns (figures 30-31, cp/mirror_state.cc),
  // planned from their own stream after everything else, so that every
  // other kind's schedule and the topology stay what they were: 1 to
  // 2 + ops/5000 of them, fired before 80% of the run, each failing a random
  // side of a plain mirrored VSEG (not a stripe of mirrors) and returning it
  // 1 to 50 ms after the failure is done. Without a plain mirror the kind is
  // off.
  void mirror_sides() {
    std::vector<size_t> candidates;
    for (size_t i = 0; i < out_.vsegs.size(); ++i)
      if (out_.vsegs[i].place[0].mirrored()) candidates.push_back(i);
    if (candidates.empty()) out_.enabled[static_cast<size_t>(FaultKind::kMirrorSide)] = false;
    if (!on(FaultKind::kMirrorSide)) return;
    Rng r = stream("mirror_sides");
    const uint64_t n = between(r, 1, 2 + ops_ / 5000);
    for (uint64_t i = 0; i < n; ++i) {
      PlannedOp op;
      op.kind = FaultKind::kMirrorSide;
      op.at_ios = r.uniform(std::max<uint64_t>(1, ops_ * 8 / 10));
      op.vseg = candidates[r.uniform(candidates.size())];
      const TortureVseg& v = out_.vsegs[op.vseg];
      op.target = out_.topology.volumes[v.volume].name;
      op.lba = v.volume_lba;
      op.count = v.blocks;
      op.port = static_cast<uint32_t>(r.uniform(v.place[0].sides.size()));
      op.duration_ns = between(r, 1, 50) * kNsPerMs;
      out_.ops.push_back(op);
    }
    std::stable_sort(out_.ops.begin(), out_.ops.end(),
                     [](const PlannedOp& a, const PlannedOp& b) { return a.at_ios < b.at_ios; });
  }

  // Asynchronous ordered replication (figure 32, cp/replication.cc),
  // planned from its own stream after everything else, so that every other
  // kind's schedule and the topology stay what they were (the remote array
  // is a disk added last): a group of 1 or more volumes of one switch and
  // one block size whose every VSEG is journaled (no other kind touches
  // them: they take no range move, flag change, migration, split or image)
  // replicated every 1-5 ms from a random point before 60% of the run to a
  // remote array on another switch when there is one (reached over ISLs, so
  // ISL faults hit the replication link). The remote disk is in no zone:
  // no host sees it. Without such a volume the kind is off (and counted
  // skipped).
  void replication() {
    if (!on(FaultKind::kReplication)) return;
    std::map<std::pair<std::string, uint32_t>, std::vector<size_t>> groups;
    for (size_t vol = 0; vol < out_.topology.volumes.size(); ++vol) {
      bool all = true, any = false;
      for (const TortureVseg& v : out_.vsegs) {
        if (v.volume != vol) continue;
        any = true;
        all = all && v.place[0].journaled();
      }
      const VolumeConfig& c = out_.topology.volumes[vol];
      if (any && all) groups[{c.switch_name, c.block_size}].push_back(vol);
    }
    if (groups.empty()) {
      out_.enabled[static_cast<size_t>(FaultKind::kReplication)] = false;
      out_.replication_skipped = true;
      return;
    }
    Rng r = stream("replications");
    auto g = groups.begin();
    std::advance(g, static_cast<std::ptrdiff_t>(r.uniform(groups.size())));
    const auto& [key, candidates] = *g;
    TortureReplication rep;
    rep.name = "rep0";
    rep.switch_name = key.first;
    // A random non-empty subset, in volume order.
    for (size_t vol : candidates)
      if (r.uniform(2) == 0) rep.volumes.push_back(vol);
    if (rep.volumes.empty()) rep.volumes.push_back(candidates[r.uniform(candidates.size())]);
    rep.interval_ns = between(r, 1000, 5000) * kNsPerUs;
    // The staging area holds every journal of the group's areas (slots of
    // the largest journal), up to twice over: an epoch is applied only once
    // all its journals are staged, and slots are freed only when it is, so
    // a smaller area can hold part of an epoch for good (the CP accepts one
    // slot: seed 4 --all-faults shipped 3 journals of an epoch into 3 slots
    // and nothing more, every journal then held unshipped).
    uint64_t largest_journal = 0;
    uint64_t journals = 0;
    for (const TortureVseg& v : out_.vsegs) {
      if (std::find(rep.volumes.begin(), rep.volumes.end(), v.volume) == rep.volumes.end())
        continue;
      largest_journal = std::max(largest_journal, v.place[0].journal->journal_blocks);
      journals += v.place[0].journal->area_blocks / v.place[0].journal->journal_blocks;
    }
    rep.staging_lba = r.uniform(64);
    rep.staging_blocks = largest_journal * (journals + r.uniform(journals + 1));
    uint64_t next = rep.staging_lba + rep.staging_blocks + r.uniform(64);
    for (size_t vol : rep.volumes) {
      rep.image_lba.push_back(next);
      uint64_t blocks = 0;
      for (const VsegConfig& seg : out_.topology.volumes[vol].vsegs)
        blocks += seg.blocks;
      next += blocks + r.uniform(64);
    }
    // The remote array: on another switch than the volumes' when there is one.
    size_t sw = 0;
    std::vector<size_t> others;
    for (size_t i = 0; i < out_.topology.switches.size(); ++i) {
      if (out_.topology.switches[i].name == rep.switch_name)
        sw = i;
      else
        others.push_back(i);
    }
    if (!others.empty()) sw = others[r.uniform(others.size())];
    DiskConfig d;
    d.name = "remote0";
    d.wwpn = wwpn_from_name(d.name);
    d.attach =
        AttachConfig{PortRef{out_.topology.switches[sw].name, next_node_port_[sw]++}, link(r)};
    LunConfig l;
    l.lun = 0;
    l.block_size = key.second;
    l.blocks = key.second == 512 ? kLun0Blocks : kLun1Blocks;
    d.luns.push_back(l);
    d.latency_ns = between(r, 10, 300) * kNsPerUs;
    d.bandwidth_mb_s = between(r, 300, 4000);
    d.queue_depth = static_cast<uint32_t>(between(r, 8, 128));
    rep.disk = d.name;
    rep.lun = 0;
    out_.topology.disks.push_back(d);
    PlannedOp op;
    op.kind = FaultKind::kReplication;
    op.at_ios = r.uniform(std::max<uint64_t>(1, ops_ * 6 / 10));
    op.target = rep.name;
    out_.ops.push_back(op);
    out_.replication = std::move(rep);
    std::stable_sort(out_.ops.begin(), out_.ops.end(),
                     [](const PlannedOp& a, const PlannedOp& b) { return a.at_ios < b.at_ios; });
  }

  // The DVE cluster (cp/cluster/, fabric_sim/cluster/), planned from its own
  // stream after everything else and kept apart from the fabric (no topology
  // change, no PlannedOp), so every other kind's schedule stays what it was:
  // 3 to 5 DVEs, 2 to 8 oplocks (Rmap chunks of object 7, mirror write
  // chunks of object 9), updates of 1-3 consecutive chunks, shares and
  // unshares by random DVEs over the run, and faults: message loss windows,
  // partitions, crashes (the DVE boots again when the fault heals) and
  // jitter, several of them long enough for evictions and fences.
  // Mirrored volumes served by two DVEs (figure 28, cp/dve.cc and
  // cp/dve_mirror_state.cc), from their own stream after everything else:
  // each volume of plain mirrors only (no stripe of mirrors, no journal)
  // with probability 1/2 is shared with another switch, which presents it
  // through a virtual target of its own to the hosts that see it at home;
  // the hosts' jobs then write and read it through both DVEs at once, and
  // the faults that fail its sides (disk failures, medium errors, mirror
  // side failures) are seen by either. (No range move or flag change
  // touches a mirror, no other service a mirrored volume.) With one switch,
  // or no such volume, the kind is off.
  void shared_mirrors() {
    Topology& t = out_.topology;
    std::vector<size_t> candidates;
    for (size_t vol = 0; vol < t.volumes.size(); ++vol) {
      bool all = true, any = false;
      for (const TortureVseg& v : out_.vsegs) {
        if (v.volume != vol) continue;
        any = true;
        all = all && v.place[0].mirrored() && !v.place[0].striped();
      }
      if (any && all) candidates.push_back(vol);
    }
    if (candidates.empty() || t.switches.size() < 2)
      out_.enabled[static_cast<size_t>(FaultKind::kSharedMirror)] = false;
    if (!on(FaultKind::kSharedMirror)) return;
    Rng r = stream("shared_mirrors");
    for (size_t vol : candidates)
      if (r.uniform(2) == 0) out_.shared_volumes.push_back(vol);
    if (out_.shared_volumes.empty()) out_.shared_volumes.push_back(candidates[0]);
    for (size_t vol : out_.shared_volumes) {
      VolumeConfig& v = t.volumes[vol];
      size_t home = 0;
      while (t.switches[home].name != v.switch_name)
        ++home;
      const size_t peer = (home + 1 + r.uniform(t.switches.size() - 1)) % t.switches.size();
      v.shared_with.push_back(t.switches[peer].name);
      // The LUN as presented at home, now at the peer's target too.
      VirtualLunConfig alias;
      for (const VirtualTargetConfig& vt : t.virtual_targets)
        for (const VirtualLunConfig& l : vt.luns)
          if (l.volume == v.name) alias = l;
      VirtualTargetConfig vt;
      vt.name = fmt::format("vt_{}_{}", t.switches[peer].name, v.name);
      vt.switch_name = t.switches[peer].name;
      vt.wwpn = wwpn_from_name(vt.name);
      vt.luns.push_back(alias);
      t.virtual_targets.push_back(vt);
    }
    // The aliases add I/Os in flight: the timeouts' floor again (no draws).
    feasible_timeouts();
  }

  void dve_cluster() {
    if (!on(FaultKind::kDveCluster)) return;
    Rng r = stream("dve_cluster");
    TortureDveCluster c;
    c.dves = static_cast<uint32_t>(between(r, 3, 5));
    c.network_seed = r.next();
    const uint64_t oplocks = between(r, 2, 8);
    uint64_t next_index[2] = {0, 0};
    for (uint64_t i = 0; i < oplocks; ++i) {
      const bool mirror = r.uniform(2) == 0;
      const cp::cluster::Luid luid =
          mirror ? cp::cluster::Luid::kMirrorWrite : cp::cluster::Luid::kRmap;
      c.oplocks.push_back({mirror ? 9u : 7u, luid, next_index[mirror]++});
    }
    const uint64_t last = std::max<uint64_t>(1, ops_ * 9 / 10);
    const uint64_t requests = between(r, 20, 40 + ops_ / 50);
    for (uint64_t i = 0; i < requests; ++i) {
      DveClusterOp op;
      op.at_ios = r.uniform(last);
      op.dve = static_cast<uint32_t>(between(r, 1, c.dves));
      const uint64_t what = r.uniform(10);
      op.kind = what < 7   ? DveClusterOp::Kind::kUpdate
                : what < 9 ? DveClusterOp::Kind::kShare
                           : DveClusterOp::Kind::kUnshare;
      const cp::cluster::OplockId& first = c.oplocks[r.uniform(c.oplocks.size())];
      op.oplocks.push_back(first);
      if (op.kind == DveClusterOp::Kind::kUpdate) {
        // The chunks an extent from `first` touches: the next indices of its object.
        const uint64_t chunks = between(r, 1, 3);
        for (uint64_t k = 1; k < chunks; ++k) {
          const cp::cluster::OplockId next{first.guid, first.luid, first.index + k};
          if (std::find(c.oplocks.begin(), c.oplocks.end(), next) != c.oplocks.end())
            op.oplocks.push_back(next);
        }
        op.restrictive = r.uniform(4) != 0;
      }
      c.ops.push_back(op);
    }
    const uint64_t faults = between(r, 3, 6 + ops_ / 2000);
    for (uint64_t i = 0; i < faults; ++i) {
      DveClusterOp op;
      op.at_ios = r.uniform(std::max<uint64_t>(1, ops_ * 8 / 10));
      switch (r.uniform(4)) {
        case 0:
          op.kind = DveClusterOp::Kind::kLoss;
          op.loss_ppm = static_cast<uint32_t>(between(r, 10'000, 50'000));
          op.duration_ns = between(r, 2, 30) * kNsPerMs;
          break;
        case 1: {
          op.kind = DveClusterOp::Kind::kPartition;
          // A random split in two non-empty groups.
          const uint64_t mask = between(r, 1, (uint64_t{1} << (c.dves - 1)) - 1);
          op.groups.resize(2);
          for (uint32_t dve = 1; dve <= c.dves; ++dve)
            op.groups[dve < c.dves && ((mask >> (dve - 1)) & 1) != 0 ? 1 : 0].insert(dve);
          op.duration_ns = between(r, 3, 40) * kNsPerMs;
          break;
        }
        case 2:
          op.kind = DveClusterOp::Kind::kCrash;
          op.dve = static_cast<uint32_t>(between(r, 1, c.dves));
          op.duration_ns = between(r, 1, 30) * kNsPerMs;
          break;
        default:
          op.kind = DveClusterOp::Kind::kJitter;
          op.jitter_ns = between(r, 10, 500) * kNsPerUs;
          op.duration_ns = between(r, 2, 30) * kNsPerMs;
          break;
      }
      c.ops.push_back(op);
    }
    std::stable_sort(c.ops.begin(), c.ops.end(), [](const DveClusterOp& a, const DveClusterOp& b) {
      return a.at_ios < b.at_ios;
    });
    out_.dve_cluster = std::move(c);
  }

  void plan_images(FaultKind kind, const std::vector<size_t>& sources, const char* stream_name,
                   const char* prefix) {
    Rng r = stream(stream_name);
    const uint64_t n = between(r, 1, 2 + ops_ / 10000);
    for (uint64_t i = 0; i < n; ++i) {
      const size_t source = sources[r.uniform(sources.size())];
      const VolumeConfig src = out_.topology.volumes[source];
      VolumeConfig image;
      image.name = fmt::format("{}{}_{}", prefix, i, src.name);
      image.switch_name = src.switch_name;
      image.block_size = src.block_size;
      image.multipath = MultipathPolicy::kNone;
      for (const VsegConfig& seg : src.vsegs) {
        const VsegPlace at = allocate(r, src.block_size, seg.blocks);
        VsegConfig own;
        own.blocks = seg.blocks;
        own.disk = at.disk;
        own.lun = at.lun;
        own.lba = at.lba;
        own.extent_blocks = seg.extent_blocks;
        image.vsegs.push_back(own);
      }
      // The image's LUN: on the source's virtual target, to the same hosts.
      for (VirtualTargetConfig& vt : out_.topology.virtual_targets) {
        const auto l = std::find_if(vt.luns.begin(), vt.luns.end(), [&](const VirtualLunConfig& x) {
          return x.volume == src.name;
        });
        if (l == vt.luns.end()) continue;
        VirtualLunConfig lun;
        lun.volume = image.name;
        lun.hosts = l->hosts;
        lun.lun = static_cast<uint16_t>(vt.luns.back().lun + 1);
        vt.luns.push_back(lun);
        break;
      }
      out_.images.push_back(out_.topology.volumes.size());
      out_.topology.volumes.push_back(image);
      PlannedOp op;
      op.kind = kind;
      op.at_ios = r.uniform(std::max<uint64_t>(1, ops_ * 8 / 10));
      op.target = src.name;
      op.image = image.name;
      for (const VsegConfig& seg : src.vsegs)
        op.count += seg.blocks;
      out_.ops.push_back(op);
    }
  }

  const VsegConfig& vseg_config(const TortureVseg& v) const {
    const VolumeConfig& vol = out_.topology.volumes[v.volume];
    uint64_t lba = 0;
    for (const VsegConfig& s : vol.vsegs) {
      if (lba == v.volume_lba) return s;
      lba += s.blocks;
    }
    return vol.vsegs.front();
  }

  uint64_t seed_;
  uint64_t ops_;
  TortureScenario out_;
  std::vector<uint32_t> next_node_port_;
  std::map<std::pair<size_t, uint16_t>, uint64_t> next_free_;
  // Stripe columns and mirror sides: the upper halves of the LUNs.
  std::map<std::pair<size_t, uint16_t>, uint64_t> stripe_free_;
};

}  // namespace

TortureScenario generate_scenario(uint64_t seed, uint64_t ops, bool all_kinds,
                                  const std::vector<std::string>& without) {
  return Generator(seed, ops, all_kinds, without).run();
}

bool parse_fault_kind(const std::string& name, FaultKind* kind) {
  for (size_t k = 0; k < kFaultKinds; ++k) {
    if (name == fault_kind_name(static_cast<FaultKind>(k))) {
      *kind = static_cast<FaultKind>(k);
      return true;
    }
  }
  return false;
}

std::string describe_scenario(const TortureScenario& s) {
  const Topology& t = s.topology;
  std::string out = fmt::format(
      "scenario of seed {}: {} switches, {} ISLs, {} disks, {} hosts, "
      "{} volumes, {} virtual targets, {} planned operations\n",
      s.seed, t.switches.size(), t.isls.size(), t.disks.size(), t.hosts.size(), t.volumes.size(),
      t.virtual_targets.size(), s.ops.size());
  out += "  fault kinds:";
  for (size_t k = 0; k < kFaultKinds; ++k)
    if (s.enabled[k]) out += fmt::format(" {}", fault_kind_name(static_cast<FaultKind>(k)));
  out += fmt::format(
      "\n  fp: table_memory {} B, max_transfer {} B, policy {}, window {}, {}, hal {}\n",
      t.fp.table_memory_bytes, t.fp.max_transfer_bytes, t.fp.rmap_policy, t.fp.working_set_window,
      t.fp.enabled ? "enabled" : "disabled", t.fp.hal);
  for (const DiskConfig& d : t.disks) {
    if (d.more_ports.empty()) continue;
    out += fmt::format("  {}: ports {}:{}", d.name, d.attach.port.switch_name, d.attach.port.port);
    for (const DiskPortConfig& p : d.more_ports)
      out += fmt::format(", {}:{}", p.attach.port.switch_name, p.attach.port.port);
    out += "\n";
  }
  for (const VolumeConfig& v : t.volumes) {
    if (v.multipath == MultipathPolicy::kPerEntry && !v.failback) continue;
    out += fmt::format("  {}: multipath {}{}\n", v.name,
                       v.multipath == MultipathPolicy::kGlobal ? "global"
                       : v.multipath == MultipathPolicy::kNone ? "none"
                                                               : "per entry",
                       v.failback ? ", failback immediate" : "");
  }
  for (const TortureVseg& v : s.vsegs) {
    std::string home =
        fmt::format("{} LUN {} LBA {}", v.place[0].disk, v.place[0].lun, v.place[0].lba);
    if (v.place[0].striped()) {
      home = fmt::format("a stripe of {}-block units over", uint64_t{1} << v.place[0].unit_shift);
      for (const PlaceElement& c : v.place[0].columns)
        home += fmt::format(" {} LUN {} LBA {};", c.disk, c.lun, c.lba);
      home.pop_back();
    }
    if (v.place[0].raid10()) {
      home = fmt::format("a stripe of {}-block units over mirrors of",
                         uint64_t{1} << v.place[0].unit_shift);
      for (const std::vector<PlaceElement>& column : v.place[0].column_sides) {
        home += " (";
        for (const PlaceElement& side : column)
          home += fmt::format("{} LUN {} LBA {}, ", side.disk, side.lun, side.lba);
        home.resize(home.size() - 2);
        home += ")";
      }
    }
    if (v.place[0].mirrored()) {
      home = "a mirror of";
      for (const PlaceElement& side : v.place[0].sides)
        home += fmt::format(" {} LUN {} LBA {};", side.disk, side.lun, side.lba);
      home.pop_back();
    }
    if (const std::optional<JournalArea>& j = v.place[0].journal) {
      home += fmt::format(", journaled in {} LUN {} LBA {} +{} ({}-block journals)", j->at.disk,
                          j->at.lun, j->at.lba, j->area_blocks, j->journal_blocks);
    }
    out += fmt::format("  {} blocks [{}, {}) at {} (shadow {} LUN {} LBA {})\n",
                       t.volumes[v.volume].name, v.volume_lba, v.volume_lba + v.blocks, home,
                       v.place[1].disk, v.place[1].lun, v.place[1].lba);
  }
  for (const HostConfig& h : t.hosts) {
    const WorkloadConfig& w = h.workload;
    out += fmt::format(
        "  {} on {}:{}: {}% reads, {} B, qd {}, {}, region [{}, +{}), timeout {} ms{}{}\n", h.name,
        h.attach.port.switch_name, h.attach.port.port, w.read_percent, w.block_size, w.queue_depth,
        w.pattern == AccessPattern::kRandom ? "random" : "sequential", w.lba_start, w.lba_count,
        w.io_timeout_ns / kNsPerMs, w.rate_iops > 0 ? fmt::format(", {} IOPS", w.rate_iops) : "",
        w.retries > 0 ? fmt::format(", {} retries", w.retries) : "");
  }
  if (const std::optional<TortureReplication>& r = s.replication) {
    std::string volumes;
    for (size_t i = 0; i < r->volumes.size(); ++i)
      volumes += fmt::format("{}{} (image LBA {})", i > 0 ? ", " : "",
                             t.volumes[r->volumes[i]].name, r->image_lba[i]);
    std::string at = "?";
    for (const DiskConfig& d : t.disks)
      if (d.name == r->disk)
        at = fmt::format("{}:{}", d.attach.port.switch_name, d.attach.port.port);
    out += fmt::format(
        "  replication {} on {} every {} us: {} to {} on {} LUN {}, staging LBA {} +{}\n", r->name,
        r->switch_name, r->interval_ns / kNsPerUs, volumes, r->disk, at, r->lun, r->staging_lba,
        r->staging_blocks);
  }
  if (const std::optional<TortureDveCluster>& c = s.dve_cluster) {
    std::string oplocks;
    for (const cp::cluster::OplockId& id : c->oplocks)
      oplocks += " " + cp::cluster::to_string(id);
    size_t faults = 0;
    for (const DveClusterOp& op : c->ops)
      faults += op.kind != DveClusterOp::Kind::kUpdate && op.kind != DveClusterOp::Kind::kShare &&
                op.kind != DveClusterOp::Kind::kUnshare;
    out += fmt::format("  dve cluster: {} DVEs, oplocks{}, {} requests and {} faults\n", c->dves,
                       oplocks, c->ops.size() - faults, faults);
  }
  for (size_t vol : s.shared_volumes) {
    const VolumeConfig& v = t.volumes[vol];
    out += fmt::format("  {} served by the DVEs of {} and {}\n", v.name, v.switch_name,
                       fmt::join(v.shared_with, ", "));
  }
  return out;
}

}  // namespace splitpath::sim::torture
