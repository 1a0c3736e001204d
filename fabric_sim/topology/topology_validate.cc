#include "fabric_sim/topology/topology_validate.h"

#include <fmt/format.h>
#include <algorithm>
#include <bit>
#include <cmath>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "fabric_sim/switch/virtual_addresses.h"
#include "fabric_sim/topology/units.h"
#include "fabric_sim/topology/wwn.h"
#include "splitpath/map/storage_descriptor.h"

#define TOPO_TRY(expr)                 \
  do {                                 \
    absl::Status status_ = (expr);     \
    if (!status_.ok()) return status_; \
  } while (0)

namespace splitpath::sim {

static_assert(kMaxVirtualTargetsPerSwitch == kMaxVirtualTargets,
              "the topology's limit must follow the switch's address plan");

namespace {

bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

std::string range_message(uint64_t min, uint64_t max, uint64_t got) {
  return fmt::format("must be an integer in {}..{} (got {})", min, max, got);
}

std::string fault_kind_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::kMediumError:
      return "medium_error";
    case FaultKind::kClearMediumErrors:
      return "clear_medium_errors";
    case FaultKind::kDiskOffline:
      return "disk_offline";
    case FaultKind::kDiskOnline:
      return "disk_online";
    case FaultKind::kDiskDelay:
      return "disk_delay";
    case FaultKind::kLinkDown:
      return "link_down";
    case FaultKind::kLinkUp:
      return "link_up";
    case FaultKind::kLinkDelay:
      return "link_delay";
    case FaultKind::kDveCrash:
      return "dve_crash";
    case FaultKind::kDveIsolate:
      return "dve_isolate";
    case FaultKind::kDveRejoin:
      return "dve_rejoin";
  }
  return "?";
}

class Validator {
 public:
  Validator(const Topology& t, const FieldLines* lines)
      : t_(t), lines_(lines), source_(t.source.empty() ? "<topology>" : t.source) {}

  absl::Status run() {
    if (t_.duration_ns == 0) return error("duration", "must be greater than 0");
    TOPO_TRY(check_switches());
    TOPO_TRY(check_isls());
    for (size_t i = 0; i < t_.disks.size(); ++i)
      TOPO_TRY(check_disk(i));
    for (size_t i = 0; i < t_.hosts.size(); ++i)
      TOPO_TRY(check_host(i));
    TOPO_TRY(check_fp());
    for (size_t i = 0; i < t_.volumes.size(); ++i)
      TOPO_TRY(check_volume(i));
    for (size_t i = 0; i < t_.virtual_targets.size(); ++i)
      TOPO_TRY(check_virtual_target(i));
    // Disk LUN masking needs every WWPN and every VSEG known.
    for (size_t i = 0; i < t_.disks.size(); ++i)
      TOPO_TRY(check_disk_lun_masking(i));
    TOPO_TRY(check_wwnns());
    TOPO_TRY(check_zones());
    for (size_t i = 0; i < t_.hosts.size(); ++i) {
      TOPO_TRY(check_lba_region(i));
      TOPO_TRY(check_virtual_lba_region(i));
      TOPO_TRY(check_no_direct_access(i));
    }
    for (size_t i = 0; i < t_.faults.size(); ++i)
      TOPO_TRY(check_fault(i));
    return absl::OkStatus();
  }

 private:
  absl::Status error(const std::string& path, const std::string& message) const {
    return field_error(source_, lines_ ? lines_->find(path) : 0, path, message);
  }

  // "switches[0]", or "switches[0] (line 3)" when the line is known.
  std::string where(const std::string& path) const {
    int line = lines_ ? lines_->find(path) : 0;
    return line > 0 ? fmt::format("{} (line {})", path, line) : path;
  }

  absl::Status claim_name(const std::string& name, const std::string& entity) {
    const std::string path = entity + ".name";
    if (!is_valid_name(name)) return error(path, name_rule_message(name));
    auto [it, inserted] = names_.emplace(name, entity);
    if (!inserted) {
      return error(path, fmt::format("name '{}' is already used by {}", name, where(it->second)));
    }
    return absl::OkStatus();
  }

  absl::Status check_switches() {
    if (t_.switches.empty()) return error("switches", "must list at least one switch");
    std::map<uint32_t, std::string> domains;
    for (size_t i = 0; i < t_.switches.size(); ++i) {
      const SwitchConfig& s = t_.switches[i];
      const std::string path = fmt::format("switches[{}]", i);
      TOPO_TRY(claim_name(s.name, path));
      switches_[s.name] = &s;
      if (s.domain < kMinDomain || s.domain > kMaxDomain) {
        return error(path + ".domain", range_message(kMinDomain, kMaxDomain, s.domain));
      }
      auto [it, inserted] = domains.emplace(s.domain, path);
      if (!inserted) {
        return error(path + ".domain",
                     fmt::format("domain {} is already used by {}", s.domain, where(it->second)));
      }
      if (s.ports < 1 || s.ports > kMaxSwitchPorts) {
        return error(path + ".ports", range_message(1, kMaxSwitchPorts, s.ports));
      }
    }
    return absl::OkStatus();
  }

  // The switch port `ref` exists and nothing else uses it; `user` now does.
  absl::Status claim_port(const PortRef& ref, const std::string& path, const std::string& user) {
    auto it = switches_.find(ref.switch_name);
    if (it == switches_.end()) {
      return error(path, fmt::format("no switch named '{}'", ref.switch_name));
    }
    if (ref.port >= it->second->ports) {
      return error(path, fmt::format("port {} is out of range: {} has ports 0..{}", ref.port,
                                     ref.switch_name, it->second->ports - 1));
    }
    auto [used, inserted] = ports_.emplace(std::pair(ref.switch_name, ref.port), user);
    if (!inserted) {
      return error(
          path, fmt::format("port {} is already used by {}", format_port_ref(ref), used->second));
    }
    return absl::OkStatus();
  }

  absl::Status check_link(const LinkParams& link, const std::string& path) {
    if (link.bb_credit < 1) {
      return error(path + ".bb_credit", range_message(1, kMaxBbCredit, link.bb_credit));
    }
    return absl::OkStatus();
  }

  absl::Status check_isls() {
    for (size_t i = 0; i < t_.isls.size(); ++i) {
      const IslConfig& isl = t_.isls[i];
      const std::string path = fmt::format("isls[{}]", i);
      TOPO_TRY(claim_port(isl.a, path + ".a", "end a of " + where(path)));
      TOPO_TRY(claim_port(isl.b, path + ".b", "end b of " + where(path)));
      if (isl.a.switch_name == isl.b.switch_name) {
        return error(path + ".b", fmt::format("an ISL must join two different switches (both "
                                              "ends are on {})",
                                              isl.a.switch_name));
      }
      TOPO_TRY(check_link(isl.link, path));
    }
    return absl::OkStatus();
  }

  absl::Status check_node(const std::string& name, uint64_t wwpn, const AttachConfig& attach,
                          const std::string& path) {
    TOPO_TRY(claim_name(name, path));
    if (wwpn == 0) return error(path + ".wwpn", "the all-zero WWN is not valid");
    auto [it, inserted] = wwpns_.emplace(wwpn, name);
    if (!inserted) {
      return error(path + ".wwpn",
                   fmt::format("WWPN {} is already used by {}", format_wwn(wwpn), it->second));
    }
    if (attach.port.switch_name.empty()) {
      return error(path + ".port", "must attach the node to a switch port");
    }
    TOPO_TRY(claim_port(attach.port, path + ".port", name));
    return check_link(attach.link, path);
  }

  absl::Status check_queue_depth(uint32_t qd, const std::string& path) {
    if (qd < 1 || qd > kMaxQueueDepth) return error(path, range_message(1, kMaxQueueDepth, qd));
    return absl::OkStatus();
  }

  absl::Status check_disk(size_t i) {
    const DiskConfig& d = t_.disks[i];
    const std::string path = fmt::format("disks[{}]", i);
    TOPO_TRY(check_node(d.name, d.wwpn, d.attach, path));
    for (size_t k = 0; k < d.more_ports.size(); ++k) {
      const DiskPortConfig& p = d.more_ports[k];
      const std::string ppath = fmt::format("{}.ports[{}]", path, k + 1);
      const std::string user = fmt::format("{} (port {})", d.name, k + 1);
      auto [it, inserted] = wwpns_.emplace(p.wwpn, user);
      if (!inserted) {
        return error(ppath, fmt::format("its WWPN {} (the disk's WWPN + {}) is already used by {}",
                                        format_wwn(p.wwpn), k + 1, it->second));
      }
      TOPO_TRY(claim_port(p.attach.port, ppath, user));
    }
    disks_[d.name] = &d;
    if (d.luns.empty()) return error(path + ".luns", "must list at least one LUN");
    std::map<uint16_t, std::string> luns;
    for (size_t j = 0; j < d.luns.size(); ++j) {
      const LunConfig& lun = d.luns[j];
      const std::string lpath = fmt::format("{}.luns[{}]", path, j);
      if (lun.lun > kMaxLun) return error(lpath + ".lun", range_message(0, kMaxLun, lun.lun));
      auto [it, inserted] = luns.emplace(lun.lun, lpath);
      if (!inserted) {
        return error(lpath + ".lun",
                     fmt::format("LUN {} is already defined at {}", lun.lun, where(it->second)));
      }
      if (lun.block_size != 512 && lun.block_size != 4096) {
        return error(lpath + ".block_size",
                     fmt::format("must be 512 or 4096 (got {})", lun.block_size));
      }
      if (lun.blocks == 0) return error(lpath + ".size", "must be at least one block");
      if (lun.blocks > ~uint64_t{0} / lun.block_size) {
        return error(lpath + ".size",
                     fmt::format("{} blocks of {} bytes is too large", lun.blocks, lun.block_size));
      }
    }
    if (d.bandwidth_mb_s < 1 || d.bandwidth_mb_s > kMaxBandwidthMbS) {
      return error(path + ".bandwidth", fmt::format("must be a bandwidth in 1..{} MB/s (got {})",
                                                    kMaxBandwidthMbS, d.bandwidth_mb_s));
    }
    return check_queue_depth(d.queue_depth, path + ".queue_depth");
  }

  absl::Status check_host(size_t i) {
    const HostConfig& h = t_.hosts[i];
    const std::string path = fmt::format("hosts[{}]", i);
    TOPO_TRY(check_node(h.name, h.wwpn, h.attach, path));
    hosts_[h.name] = &h;
    if (h.start_ns > t_.duration_ns) {
      return error(path + ".start",
                   fmt::format("is after the end of the run at {} (got {})",
                               format_time(t_.duration_ns), format_time(h.start_ns)));
    }
    const WorkloadConfig& w = h.workload;
    const std::string wpath = path + ".workload";
    if (w.read_percent > 100) {
      return error(wpath + ".read_percent", range_message(0, 100, w.read_percent));
    }
    if (w.block_size == 0 || w.block_size % kIoSizeUnit != 0) {
      return error(wpath + ".block_size", fmt::format("must be a positive multiple of {} (got {})",
                                                      kIoSizeUnit, w.block_size));
    }
    if (w.block_size > kMaxIoBytes) {
      return error(wpath + ".block_size",
                   fmt::format("must be at most {} bytes (got {})", kMaxIoBytes, w.block_size));
    }
    TOPO_TRY(check_queue_depth(w.queue_depth, wpath + ".queue_depth"));
    if (w.pattern != AccessPattern::kRandom && w.pattern != AccessPattern::kSequential) {
      return error(wpath + ".pattern", "must be random or sequential");
    }
    if (w.lba_count > ~uint64_t{0} - w.lba_start) {
      return error(wpath + ".lba_count", "lba_start + lba_count is too large");
    }
    if (!std::isfinite(w.rate_iops) || w.rate_iops < 0 || w.rate_iops > kMaxRateIops) {
      return error(wpath + ".rate_iops",
                   fmt::format("must be a number in 0..{} (got {})", kMaxRateIops, w.rate_iops));
    }
    if (w.io_timeout_ns == 0) return error(wpath + ".io_timeout", "must be greater than 0");
    return absl::OkStatus();
  }

  absl::Status check_wwnns() {
    std::map<uint64_t, std::string> wwnns;
    auto check = [&](const std::string& name, uint64_t wwnn, const std::string& path) {
      if (wwnn == 0) return absl::OkStatus();
      if (auto it = wwpns_.find(wwnn); it != wwpns_.end()) {
        return error(
            path, fmt::format("WWNN {} is already the WWPN of {}", format_wwn(wwnn), it->second));
      }
      auto [it, inserted] = wwnns.emplace(wwnn, name);
      if (!inserted) {
        return error(path,
                     fmt::format("WWNN {} is already used by {}", format_wwn(wwnn), it->second));
      }
      return absl::OkStatus();
    };
    for (size_t i = 0; i < t_.disks.size(); ++i) {
      TOPO_TRY(check(t_.disks[i].name, t_.disks[i].wwnn, fmt::format("disks[{}].wwnn", i)));
    }
    for (size_t i = 0; i < t_.hosts.size(); ++i) {
      TOPO_TRY(check(t_.hosts[i].name, t_.hosts[i].wwnn, fmt::format("hosts[{}].wwnn", i)));
    }
    for (size_t i = 0; i < t_.virtual_targets.size(); ++i) {
      const VirtualTargetConfig& vt = t_.virtual_targets[i];
      TOPO_TRY(check(vt.name, vt.wwnn, fmt::format("virtual_targets[{}].wwnn", i)));
    }
    return absl::OkStatus();
  }

  absl::Status check_zones() {
    std::map<std::string, std::string> zone_names;
    for (size_t i = 0; i < t_.zones.size(); ++i) {
      const ZoneConfig& z = t_.zones[i];
      const std::string path = fmt::format("zones[{}]", i);
      if (!is_valid_name(z.name)) return error(path + ".name", name_rule_message(z.name));
      auto [it, inserted] = zone_names.emplace(z.name, path);
      if (!inserted) {
        return error(path + ".name", fmt::format("zone name '{}' is already used by {}", z.name,
                                                 where(it->second)));
      }
      if (z.members.empty()) return error(path + ".members", "must list at least one member");
      std::set<uint64_t> seen;
      for (size_t j = 0; j < z.members.size(); ++j) {
        const uint64_t wwpn = z.members[j];
        const std::string mpath = fmt::format("{}.members[{}]", path, j);
        auto owner = wwpns_.find(wwpn);
        if (owner == wwpns_.end()) {
          return error(mpath, fmt::format("WWPN {} is not the WWPN of any host, disk or virtual "
                                          "target",
                                          format_wwn(wwpn)));
        }
        if (!seen.insert(wwpn).second) {
          return error(mpath,
                       fmt::format("{} is listed twice in zone '{}'", owner->second, z.name));
        }
      }
    }
    return absl::OkStatus();
  }

  absl::Status check_fp() {
    const FpSettings& fp = t_.fp;
    bool known = false;
    std::string policies;
    for (const char* p : kRmapPolicies) {
      known |= fp.rmap_policy == p;
      policies += fmt::format("{}{}", policies.empty() ? "" : ", ", p);
    }
    if (!known) {
      return error("fp.rmap_policy", fmt::format("must be one of {} (got '{}')", policies,
                                                 quote_got(fp.rmap_policy)));
    }
    if (fp.hal != "sim" && fp.hal != "ring") {
      return error("fp.hal", fmt::format("must be sim or ring (got '{}')", quote_got(fp.hal)));
    }
    if (fp.table_memory_bytes < kMinFpTableMemory || fp.table_memory_bytes > kMaxFpTableMemory) {
      return error("fp.table_memory", fmt::format("must be 64KiB to 1GiB per port (got {} bytes)",
                                                  fp.table_memory_bytes));
    }
    if (fp.max_transfer_bytes == 0 || fp.max_transfer_bytes % kMaxTransferUnit != 0) {
      return error("fp.max_transfer", fmt::format("must be a positive multiple of {} (got {})",
                                                  kMaxTransferUnit, fp.max_transfer_bytes));
    }
    return absl::OkStatus();
  }

  // A name used where a disk, volume or host is expected: what it is instead.
  std::string what_is(const std::string& name) const {
    if (switches_.count(name)) return "is a switch";
    if (disks_.count(name)) return "is a disk";
    if (hosts_.count(name)) return "is a host";
    for (const VolumeConfig& v : t_.volumes) {
      if (v.name == name) return "is a volume";
    }
    for (const VirtualTargetConfig& vt : t_.virtual_targets) {
      if (vt.name == name) return "is a virtual target";
    }
    return "does not exist";
  }

  absl::Status check_switch_ref(const std::string& name, const std::string& path) {
    if (switches_.count(name)) return absl::OkStatus();
    return error(path, fmt::format("no switch named '{}'", quote_got(name)));
  }

  absl::Status check_volume(size_t i) {
    const VolumeConfig& v = t_.volumes[i];
    const std::string path = fmt::format("volumes[{}]", i);
    TOPO_TRY(claim_name(v.name, path));
    volumes_[v.name] = &v;
    TOPO_TRY(check_switch_ref(v.switch_name, path + ".switch"));
    for (size_t k = 0; k < v.shared_with.size(); ++k) {
      const std::string spath = fmt::format("{}.shared_with[{}]", path, k);
      const std::string& name = v.shared_with[k];
      TOPO_TRY(check_switch_ref(name, spath));
      if (name == v.switch_name)
        return error(spath, fmt::format("'{}' is the volume's own switch", name));
      for (size_t j = 0; j < k; ++j) {
        if (v.shared_with[j] == name)
          return error(spath, fmt::format("'{}' is listed twice", name));
      }
      dve_switches_.insert(name);
    }
    if (!v.shared_with.empty()) dve_switches_.insert(v.switch_name);
    if (v.block_size != 512 && v.block_size != 4096) {
      return error(path + ".block_size", fmt::format("must be 512 or 4096 (got {})", v.block_size));
    }
    if (v.vsegs.empty()) return error(path + ".vsegs", "must list at least one VSEG");
    uint64_t total = 0;
    for (size_t j = 0; j < v.vsegs.size(); ++j) {
      const VsegConfig& g = v.vsegs[j];
      const std::string gpath = fmt::format("{}.vsegs[{}]", path, j);
      if (g.blocks == 0) return error(gpath + ".blocks", "must be at least 1");
      // The disk ranges the VSEG lies on: its own, or one per stripe column.
      struct Range {
        std::string disk;
        uint16_t lun = 0;
        uint64_t lba = 0;
        uint64_t blocks = 0;
        std::string path;       // field prefix: "volumes[i].vsegs[j]" or "...stripe.columns[c]"
        std::string size_path;  // the field that sets its size
      };
      std::vector<Range> ranges;
      if (g.stripe) {
        const std::string spath = gpath + ".stripe";
        const uint64_t unit = g.stripe->unit_bytes / v.block_size;
        if (g.stripe->unit_bytes % v.block_size != 0 || !std::has_single_bit(unit) ||
            unit > (uint64_t{1} << map::kMaxStripeUnitShift)) {
          return error(spath + ".unit",
                       fmt::format("must be a power-of-two number of the volume's {}-byte blocks, "
                                   "at most {} blocks (got {} bytes)",
                                   v.block_size, uint64_t{1} << map::kMaxStripeUnitShift,
                                   g.stripe->unit_bytes));
        }
        if (g.stripe->columns.size() > map::kMaxStripeColumns) {
          return error(spath + ".columns",
                       fmt::format("must list at most {} columns (got {})", map::kMaxStripeColumns,
                                   g.stripe->columns.size()));
        }
        map::StripeStorage st;
        st.width = static_cast<uint8_t>(g.stripe->columns.size());
        st.unit_shift = static_cast<uint8_t>(std::countr_zero(unit));
        for (size_t c = 0; c < g.stripe->columns.size(); ++c) {
          const StripeColumnConfig& col = g.stripe->columns[c];
          const uint64_t n = st.column_blocks(g.blocks, static_cast<uint32_t>(c));
          if (!col.mirror) {
            ranges.push_back(Range{col.disk, col.lun, col.lba, n,
                                   fmt::format("{}.columns[{}]", spath, c), gpath + ".blocks"});
            continue;
          }
          // A stripe of mirrors: every side of the column holds its blocks.
          for (size_t s = 0; s < col.mirror->sides.size(); ++s) {
            const MirrorSideConfig& side = col.mirror->sides[s];
            ranges.push_back(Range{side.disk, side.lun, side.lba, n,
                                   fmt::format("{}.columns[{}].mirror.sides[{}]", spath, c, s),
                                   gpath + ".blocks"});
          }
        }
      } else if (g.journal) {
        // The data device holds the VSEG; the journal area is its own size.
        const std::string jpath = gpath + ".journal";
        ranges.push_back(Range{g.journal->disk, g.journal->lun, g.journal->lba, g.blocks,
                               jpath + ".data", gpath + ".blocks"});
        ranges.push_back(Range{g.journal->journal_disk, g.journal->journal_lun,
                               g.journal->journal_lba, g.journal->area_blocks, jpath + ".journal",
                               jpath + ".journal.blocks"});
      } else if (g.mirror) {
        // Every side holds the whole VSEG: the sides are the same size.
        for (size_t s = 0; s < g.mirror->sides.size(); ++s) {
          const MirrorSideConfig& side = g.mirror->sides[s];
          ranges.push_back(Range{side.disk, side.lun, side.lba, g.blocks,
                                 fmt::format("{}.mirror.sides[{}]", gpath, s), gpath + ".blocks"});
        }
      } else {
        ranges.push_back(Range{g.disk, g.lun, g.lba, g.blocks, gpath, gpath + ".blocks"});
      }
      for (const Range& r : ranges) {
        auto disk = disks_.find(r.disk);
        if (disk == disks_.end()) {
          return error(r.path + ".disk", fmt::format("a VSEG lies on a disk; '{}' {}",
                                                     quote_got(r.disk), what_is(r.disk)));
        }
        const LunConfig* lun = nullptr;
        std::string all;
        for (const LunConfig& l : disk->second->luns) {
          if (l.lun == r.lun) lun = &l;
          all += fmt::format("{}{}", all.empty() ? "" : ", ", l.lun);
        }
        if (lun == nullptr) {
          return error(r.path + ".lun",
                       fmt::format("{} has no LUN {} (its LUNs: {})", r.disk, r.lun, all));
        }
        if (lun->block_size != v.block_size) {
          return error(r.path + ".lun",
                       fmt::format("{} LUN {} has {}-byte blocks but volume '{}' has {}-byte "
                                   "blocks (its block_size)",
                                   r.disk, r.lun, lun->block_size, v.name, v.block_size));
        }
        if (r.lba >= lun->blocks) {
          return error(r.path + ".lba", fmt::format("LBA {} is beyond the end of {} LUN {} ({} "
                                                    "blocks)",
                                                    r.lba, r.disk, r.lun, lun->blocks));
        }
        if (r.blocks > lun->blocks - r.lba) {
          return error(r.size_path,
                       fmt::format("blocks [{}, {}) run past the end of {} LUN {} ({} blocks)",
                                   r.lba, r.lba + r.blocks, r.disk, r.lun, lun->blocks));
        }
        // Two VSEGs on the same blocks would let writes to one volume change another.
        auto& mapped = backing_[{r.disk, r.lun}];
        for (const Backing& b : mapped) {
          if (r.lba < b.end && b.lba < r.lba + r.blocks) {
            return error(
                r.path + ".lba",
                fmt::format("{} LUN {} blocks [{}, {}) overlap blocks [{}, {}) of {}", r.disk,
                            r.lun, r.lba, r.lba + r.blocks, b.lba, b.end, where(b.path)));
          }
        }
        if (r.blocks > 0) mapped.push_back(Backing{r.lba, r.lba + r.blocks, r.path});
      }
      if (g.extent_blocks > g.blocks) {
        return error(gpath + ".extent_blocks",
                     fmt::format("must be at most the VSEG's {} blocks (got {}; 0 makes the VSEG "
                                 "one extent)",
                                 g.blocks, g.extent_blocks));
      }
      if (g.blocks > ~uint64_t{0} - total) {
        return error(gpath + ".blocks", fmt::format("volume '{}' is too large", v.name));
      }
      total += g.blocks;
    }
    volume_blocks_[v.name] = total;
    return absl::OkStatus();
  }

  absl::Status check_virtual_target(size_t i) {
    const VirtualTargetConfig& vt = t_.virtual_targets[i];
    const std::string path = fmt::format("virtual_targets[{}]", i);
    TOPO_TRY(claim_name(vt.name, path));
    TOPO_TRY(check_switch_ref(vt.switch_name, path + ".switch"));
    if (++virtual_target_count_[vt.switch_name] > kMaxVirtualTargetsPerSwitch) {
      return error(path + ".switch",
                   fmt::format("switch {} already has {} virtual targets, all its address plan "
                               "holds (N_Port IDs D.FF.80 - D.FF.FE)",
                               vt.switch_name, kMaxVirtualTargetsPerSwitch));
    }
    if (vt.wwpn == 0) return error(path + ".wwpn", "the all-zero WWN is not valid");
    auto [it, inserted] = wwpns_.emplace(vt.wwpn, vt.name);
    if (!inserted) {
      return error(path + ".wwpn",
                   fmt::format("WWPN {} is already used by {}", format_wwn(vt.wwpn), it->second));
    }
    if (vt.luns.empty()) return error(path + ".luns", "must list at least one LUN");
    std::map<uint16_t, std::string> luns;
    for (size_t j = 0; j < vt.luns.size(); ++j) {
      const VirtualLunConfig& lun = vt.luns[j];
      const std::string lpath = fmt::format("{}.luns[{}]", path, j);
      if (lun.lun > kMaxLun) return error(lpath + ".lun", range_message(0, kMaxLun, lun.lun));
      auto [l, fresh] = luns.emplace(lun.lun, lpath);
      if (!fresh) {
        return error(lpath + ".lun",
                     fmt::format("LUN {} is already defined at {}", lun.lun, where(l->second)));
      }
      auto volume = volumes_.find(lun.volume);
      if (volume == volumes_.end()) {
        return error(lpath + ".volume", fmt::format("a virtual LUN presents a volume; '{}' {}",
                                                    quote_got(lun.volume), what_is(lun.volume)));
      }
      const auto& others = volume->second->shared_with;
      if (volume->second->switch_name != vt.switch_name &&
          std::find(others.begin(), others.end(), vt.switch_name) == others.end()) {
        return error(lpath + ".volume",
                     fmt::format("volume '{}' is served by switch {}, but {} is on switch {}",
                                 lun.volume, volume->second->switch_name, vt.name, vt.switch_name));
      }
      TOPO_TRY(check_lun_hosts(lun.hosts, lpath));
    }
    return absl::OkStatus();
  }

  // A LUN's `hosts` at `lpath` (disk or virtual LUN): each a host's WWPN, once.
  absl::Status check_lun_hosts(const std::vector<uint64_t>& wwpns, const std::string& lpath) const {
    std::set<uint64_t> seen;
    for (size_t k = 0; k < wwpns.size(); ++k) {
      const uint64_t wwpn = wwpns[k];
      const std::string hpath = fmt::format("{}.hosts[{}]", lpath, k);
      auto owner = wwpns_.find(wwpn);
      if (owner == wwpns_.end()) {
        return error(hpath, fmt::format("WWPN {} is not the WWPN of any host", format_wwn(wwpn)));
      }
      if (!hosts_.count(owner->second)) {
        return error(hpath,
                     fmt::format("WWPN {} is {}'s, not a host's", format_wwn(wwpn), owner->second));
      }
      if (!seen.insert(wwpn).second) {
        return error(hpath, fmt::format("{} is listed twice", owner->second));
      }
    }
    return absl::OkStatus();
  }

  // Disk LUN masking (LunConfig::initiators). A LUN behind a VSEG is the
  // switch's to use: its virtual initiators are no hosts, so masking would hide
  // the volume's blocks from the FPs and the CP.
  absl::Status check_disk_lun_masking(size_t i) {
    const DiskConfig& d = t_.disks[i];
    for (size_t j = 0; j < d.luns.size(); ++j) {
      const LunConfig& lun = d.luns[j];
      if (lun.initiators.empty()) continue;
      const std::string lpath = fmt::format("disks[{}].luns[{}]", i, j);
      TOPO_TRY(check_lun_hosts(lun.initiators, lpath));
      auto mapped = backing_.find({d.name, lun.lun});
      if (mapped != backing_.end()) {
        return error(lpath + ".hosts",
                     fmt::format("{} LUN {} backs {}: the switch's virtual initiators must see it, "
                                 "so it cannot be masked to hosts (leave 'hosts' out)",
                                 d.name, lun.lun, where(mapped->second.front().path)));
      }
    }
    return absl::OkStatus();
  }

  // Whether disk LUN masking lets the initiator `wwpn` see `lun`.
  static bool unmasked(const LunConfig& lun, uint64_t wwpn) {
    return lun.initiators.empty() ||
           std::find(lun.initiators.begin(), lun.initiators.end(), wwpn) != lun.initiators.end();
  }

  bool zoned_together(uint64_t a, uint64_t b) const {
    if (t_.zones.empty()) return true;
    for (const ZoneConfig& z : t_.zones) {
      bool has_a = false, has_b = false;
      for (uint64_t m : z.members) {
        has_a |= m == a;
        has_b |= m == b;
      }
      if (has_a && has_b) return true;
    }
    return false;
  }

  // The host's LBA region lies inside every LUN it can see (zoning and LUN masking).
  absl::Status check_lba_region(size_t i) {
    const HostConfig& h = t_.hosts[i];
    const WorkloadConfig& w = h.workload;
    const std::string wpath = fmt::format("hosts[{}].workload", i);
    for (const DiskConfig& d : t_.disks) {
      if (!zoned_together(h.wwpn, d.wwpn)) continue;
      for (const LunConfig& lun : d.luns) {
        if (!unmasked(lun, h.wwpn)) continue;
        if (w.lba_start >= lun.blocks) {
          return error(wpath + ".lba_start",
                       fmt::format("lba_start {} is beyond the end of {} LUN {} ({} blocks)",
                                   w.lba_start, d.name, lun.lun, lun.blocks));
        }
        if (w.lba_count > lun.blocks - w.lba_start) {
          return error(
              wpath + ".lba_count",
              fmt::format("region [{}, {}) runs past the end of {} LUN {} ({} blocks)", w.lba_start,
                          w.lba_start + w.lba_count, d.name, lun.lun, lun.blocks));
        }
      }
    }
    return absl::OkStatus();
  }

  bool in_some_zone(uint64_t wwpn) const {
    for (const ZoneConfig& z : t_.zones) {
      for (uint64_t m : z.members) {
        if (m == wwpn) return true;
      }
    }
    return false;
  }

  // A host sees a virtual LUN when LUN masking lets it, and zoning does: a
  // virtual target no zone lists is subject to LUN masking alone.
  bool sees(const HostConfig& h, const VirtualTargetConfig& vt, const VirtualLunConfig& lun) const {
    if (in_some_zone(vt.wwpn) && !zoned_together(h.wwpn, vt.wwpn)) return false;
    if (lun.hosts.empty()) return true;
    for (uint64_t w : lun.hosts) {
      if (w == h.wwpn) return true;
    }
    return false;
  }

  // The host's LBA region lies inside every virtual LUN it can see.
  absl::Status check_virtual_lba_region(size_t i) {
    const HostConfig& h = t_.hosts[i];
    const WorkloadConfig& w = h.workload;
    const std::string wpath = fmt::format("hosts[{}].workload", i);
    for (const VirtualTargetConfig& vt : t_.virtual_targets) {
      for (const VirtualLunConfig& lun : vt.luns) {
        if (!sees(h, vt, lun)) continue;
        const uint64_t blocks = volume_blocks_.at(lun.volume);
        if (w.lba_start >= blocks) {
          return error(wpath + ".lba_start",
                       fmt::format("lba_start {} is beyond the end of {} LUN {} (volume {}, {} "
                                   "blocks)",
                                   w.lba_start, vt.name, lun.lun, lun.volume, blocks));
        }
        if (w.lba_count > blocks - w.lba_start) {
          return error(wpath + ".lba_count",
                       fmt::format("region [{}, {}) runs past the end of {} LUN {} (volume {}, {} "
                                   "blocks)",
                                   w.lba_start, w.lba_start + w.lba_count, vt.name, lun.lun,
                                   lun.volume, blocks));
        }
      }
    }
    return absl::OkStatus();
  }

  // A host that reaches a disk runs its job on the disk's LUNs: its region must
  // stay clear of blocks behind a volume, or it would change a volume under
  // the feet of the switch (and fail every other host's read verification).
  absl::Status check_no_direct_access(size_t i) {
    const HostConfig& h = t_.hosts[i];
    const WorkloadConfig& w = h.workload;
    for (const DiskConfig& d : t_.disks) {
      if (!zoned_together(h.wwpn, d.wwpn)) continue;
      for (const LunConfig& lun : d.luns) {
        auto mapped = backing_.find({d.name, lun.lun});
        if (mapped == backing_.end()) continue;
        const uint64_t start = w.lba_start;
        const uint64_t end = w.lba_count == 0 ? lun.blocks : w.lba_start + w.lba_count;
        for (const Backing& b : mapped->second) {
          if (start < b.end && b.lba < end) {
            return error(
                fmt::format("hosts[{}].workload", i),
                fmt::format("{} can reach {} ({}) and its job would touch blocks [{}, {}) of its "
                            "LUN {}, which back {}: zone the host away from the disk or keep its "
                            "LBA region clear of the volume",
                            h.name, d.name, t_.zones.empty() ? "no zones are set" : "zoning", start,
                            end, lun.lun, where(b.path)));
          }
        }
      }
    }
    return absl::OkStatus();
  }

  absl::Status check_fault(size_t i) {
    const FaultConfig& f = t_.faults[i];
    const std::string path = fmt::format("faults[{}]", i);
    if (f.at_ns > t_.duration_ns) {
      return error(path + ".at", fmt::format("is after the end of the run at {} (got {})",
                                             format_time(t_.duration_ns), format_time(f.at_ns)));
    }
    const std::string kind = fault_kind_name(f.kind);
    if (f.kind == FaultKind::kLinkDown || f.kind == FaultKind::kLinkUp ||
        f.kind == FaultKind::kLinkDelay) {
      return check_link_target(f, path + ".target");
    }
    if (kind == "?") return error(path + ".kind", "is not a valid fault kind");
    if (f.kind == FaultKind::kDveCrash || f.kind == FaultKind::kDveIsolate ||
        f.kind == FaultKind::kDveRejoin) {
      if (!dve_switches_.count(f.target)) {
        return error(path + ".target",
                     fmt::format("kind '{}' needs a switch serving a shared volume; '{}' {}", kind,
                                 quote_got(f.target),
                                 switches_.count(f.target) ? "serves none" : "is no switch"));
      }
      return absl::OkStatus();
    }
    auto disk = disks_.find(f.target);
    if (disk == disks_.end()) {
      std::string what = hosts_.count(f.target)      ? "is a host"
                         : switches_.count(f.target) ? "is a switch"
                                                     : "does not exist";
      return error(path + ".target",
                   fmt::format("kind '{}' needs a disk; '{}' {}", kind, quote_got(f.target), what));
    }
    if (f.kind != FaultKind::kMediumError && f.kind != FaultKind::kClearMediumErrors) {
      return absl::OkStatus();
    }
    const LunConfig* lun = nullptr;
    std::string all;
    for (const LunConfig& l : disk->second->luns) {
      if (l.lun == f.lun) lun = &l;
      all += fmt::format("{}{}", all.empty() ? "" : ", ", l.lun);
    }
    if (lun == nullptr) {
      return error(path + ".lun",
                   fmt::format("{} has no LUN {} (its LUNs: {})", f.target, f.lun, all));
    }
    if (f.kind == FaultKind::kClearMediumErrors) return absl::OkStatus();
    if (f.count == 0) return error(path + ".count", "must be at least 1");
    if (f.lba >= lun->blocks) {
      return error(path + ".lba", fmt::format("LBA {} is beyond the end of {} LUN {} ({} blocks)",
                                              f.lba, f.target, f.lun, lun->blocks));
    }
    if (f.count > lun->blocks - f.lba) {
      return error(path + ".count",
                   fmt::format("LBAs [{}, {}) run past the end of {} LUN {} ({} blocks)", f.lba,
                               f.lba + f.count, f.target, f.lun, lun->blocks));
    }
    return absl::OkStatus();
  }

  // A link fault names a host or disk (its attach link) or an ISL end "switch:port".
  absl::Status check_link_target(const FaultConfig& f, const std::string& path) {
    if (hosts_.count(f.target) || disks_.count(f.target)) return absl::OkStatus();
    if (switches_.count(f.target)) {
      return error(path, fmt::format("'{}' is a switch: name a host, a disk or an ISL port "
                                     "as SWITCH:PORT",
                                     f.target));
    }
    auto ref = parse_port_ref(f.target);
    if (!ref.ok()) {
      return error(path, fmt::format("must name a host, a disk or an ISL port as SWITCH:PORT "
                                     "(got '{}')",
                                     quote_got(f.target)));
    }
    auto sw = switches_.find(ref->switch_name);
    if (sw == switches_.end()) {
      return error(path, fmt::format("no switch named '{}'", ref->switch_name));
    }
    if (ref->port >= sw->second->ports) {
      return error(path, fmt::format("port {} is out of range: {} has ports 0..{}", ref->port,
                                     ref->switch_name, sw->second->ports - 1));
    }
    auto used = ports_.find(std::pair(ref->switch_name, ref->port));
    if (used == ports_.end()) {
      return error(path, fmt::format("nothing is attached to {}", f.target));
    }
    if (names_.count(used->second)) {
      return error(
          path, fmt::format("{} is the port of {}: name the node instead", f.target, used->second));
    }
    return absl::OkStatus();
  }

  const Topology& t_;
  const FieldLines* lines_;
  const std::string source_;
  std::map<std::string, std::string> names_;  // any name -> its entry's path
  std::map<std::string, const SwitchConfig*> switches_;
  std::set<std::string> dve_switches_;  // the switches serving a shared volume
  std::map<std::string, const DiskConfig*> disks_;
  std::map<std::string, const HostConfig*> hosts_;
  std::map<std::string, const VolumeConfig*> volumes_;
  std::map<std::string, uint64_t> volume_blocks_;
  std::map<std::string, uint64_t> virtual_target_count_;  // per switch
  struct Backing {
    uint64_t lba = 0;
    uint64_t end = 0;
    std::string path;  // "volumes[i].vsegs[j]"
  };
  std::map<std::pair<std::string, uint16_t>, std::vector<Backing>> backing_;  // (disk, LUN)
  std::map<uint64_t, std::string> wwpns_;  // -> host, disk or virtual target name
  std::map<std::pair<std::string, uint32_t>, std::string> ports_;  // -> who uses it
};

}  // namespace

bool is_valid_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameLength || !is_letter(name[0])) return false;
  for (char c : name) {
    if (!is_letter(c) && !is_digit(c) && c != '_' && c != '-' && c != '.') return false;
  }
  return true;
}

std::string name_rule_message(const std::string& got) {
  return fmt::format(
      "must be a name of letters, digits, '_', '-' and '.' that starts with a letter, at most "
      "{} characters (got '{}')",
      kMaxNameLength, quote_got(got));
}

absl::StatusOr<PortRef> parse_port_ref(const std::string& text) {
  const size_t colon = text.rfind(':');
  PortRef ref;
  if (colon != std::string::npos) {
    ref.switch_name = text.substr(0, colon);
    auto port = parse_unsigned(text.substr(colon + 1), 0, kMaxSwitchPorts - 1);
    if (is_valid_name(ref.switch_name) && port.ok()) {
      ref.port = static_cast<uint32_t>(*port);
      return ref;
    }
  }
  return absl::InvalidArgumentError(
      fmt::format("must be SWITCH:PORT such as sw0:4, with a port in 0..{} (got '{}')",
                  kMaxSwitchPorts - 1, quote_got(text)));
}

std::string format_port_ref(const PortRef& ref) {
  return fmt::format("{}:{}", ref.switch_name, ref.port);
}

absl::Status validate_topology(const Topology& topology, const FieldLines* lines) {
  return Validator(topology, lines).run();
}

}  // namespace splitpath::sim
