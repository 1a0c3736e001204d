#include "fabric_sim/run/virtualization_setup.h"

#include <algorithm>

#include "splitpath/map/rmap_types.h"

namespace splitpath::sim {

cp::VsegDef vseg_def_of(const Topology& topology, const VolumeConfig& v, const VsegConfig& seg) {
  std::map<std::string, uint64_t> disk_wwpns;
  std::map<std::string, std::vector<uint64_t>> more_port_wwpns;  // multi-ported disks
  for (const DiskConfig& d : topology.disks) {
    disk_wwpns[d.name] = d.wwpn;
    for (const DiskPortConfig& p : d.more_ports)
      more_port_wwpns[d.name].push_back(p.wwpn);
  }
  auto mirror_def = [&](const MirrorConfig& m) {
    cp::MirrorDef def;
    for (const MirrorSideConfig& s : m.sides)
      def.sides.push_back(cp::MirrorSideDef{disk_wwpns[s.disk], s.lun, s.lba, s.read_cost});
    return def;
  };
  cp::VsegDef d;
  d.blocks = seg.blocks;
  d.disk_wwpn = disk_wwpns[seg.disk];
  d.lun = seg.lun;
  d.lba = seg.lba;
  d.extent_blocks = seg.extent_blocks;
  if (seg.stripe) {
    cp::StripeDef stripe;
    stripe.unit_blocks = seg.stripe->unit_bytes / v.block_size;
    for (const StripeColumnConfig& c : seg.stripe->columns) {
      cp::StripeColumnDef col{disk_wwpns[c.disk], c.lun, c.lba};
      if (c.mirror) col.mirror = mirror_def(*c.mirror);
      stripe.columns.push_back(std::move(col));
    }
    d.stripe = std::move(stripe);
  } else if (v.multipath != MultipathPolicy::kNone && !seg.journal) {
    // A VSEG on a multi-ported disk may reach it through every port.
    d.alternate_paths = more_port_wwpns[seg.disk];
  }
  if (seg.journal) {
    const JournalConfig& j = *seg.journal;
    d.journal = cp::JournalDef{
        disk_wwpns[j.disk], j.lun,         j.lba,         disk_wwpns[j.journal_disk],
        j.journal_lun,      j.journal_lba, j.area_blocks, static_cast<uint32_t>(j.journal_blocks)};
  }
  if (seg.mirror) d.mirror = mirror_def(*seg.mirror);
  d.flags = static_cast<uint8_t>((seg.fault_on_read ? map::redirect_flags::kFaultOnRead : 0) |
                                 (seg.fault_on_write ? map::redirect_flags::kFaultOnWrite : 0));
  return d;
}

std::map<std::string, VirtualizationSetup> virtualization_setups(const Topology& topology) {
  std::map<std::string, VirtualizationSetup> setups;
  auto setup_of = [&](const std::string& switch_name) -> VirtualizationSetup& {
    VirtualizationSetup& s = setups[switch_name];
    s.fp = topology.fp;
    s.cp = topology.cp;
    s.seed = topology.seed;
    s.cp_config.message_cost_ns = topology.cp.message_cost_ns;
    s.cp_config.fault_cost_ns = topology.cp.fault_cost_ns;
    s.cp_config.age_extent_bytes = topology.cp.age_extent_bytes;
    s.cp_config.mirror_write_chunk_blocks =
        std::max<uint64_t>(1, topology.cp.mirror_write_chunk_bytes / 512);
    s.cp_config.fault_every_io = !topology.fp.enabled;
    return s;
  };
  for (const VolumeConfig& v : topology.volumes) {
    cp::VolumeDef def;
    def.name = v.name;
    def.block_size = v.block_size;
    def.multipath = v.multipath == MultipathPolicy::kGlobal ? cp::MultipathPolicy::kGlobal
                                                            : cp::MultipathPolicy::kPerEntry;
    def.failback = v.failback;
    for (const VsegConfig& seg : v.vsegs) {
      def.vsegs.push_back(vseg_def_of(topology, v, seg));
    }
    def.shared = !v.shared_with.empty();
    setup_of(v.switch_name).volumes.push_back(def);
    for (const std::string& other : v.shared_with)
      setup_of(other).volumes.push_back(def);
  }
  for (const VirtualTargetConfig& t : topology.virtual_targets) {
    cp::VirtualTargetDef def;
    def.name = t.name;
    def.wwpn = t.wwpn;
    def.wwnn = t.wwnn;
    for (const VirtualLunConfig& l : t.luns) {
      cp::LunDef lun;
      lun.lun = l.lun;
      lun.volume = l.volume;
      lun.initiators = l.hosts;
      lun.read_only = l.read_only;
      def.luns.push_back(lun);
    }
    setup_of(t.switch_name).targets.push_back(def);
  }
  return setups;
}

}  // namespace splitpath::sim
