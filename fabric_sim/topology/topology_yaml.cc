#include "fabric_sim/topology/topology_yaml.h"

#include <fmt/format.h>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string_view>
#include <vector>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "fabric_sim/topology/field_lines.h"
#include "fabric_sim/topology/topology_validate.h"
#include "fabric_sim/topology/units.h"
#include "fabric_sim/topology/wwn.h"
#include "fabric_sim/topology/yaml_fields.h"
#include "splitpath/map/storage_descriptor.h"

#define TOPO_TRY(expr)                 \
  do {                                 \
    absl::Status status_ = (expr);     \
    if (!status_.ok()) return status_; \
  } while (0)

namespace splitpath::sim {
namespace {

// Larger files are surely a mistake (or /dev/zero).
constexpr size_t kMaxFileBytes = 16 << 20;

struct FaultKindSpec {
  std::string_view name;
  FaultKind kind;
  std::initializer_list<std::string_view> keys;
};

const FaultKindSpec kFaultKinds[] = {
    {"medium_error", FaultKind::kMediumError, {"at", "kind", "target", "lun", "lba", "count"}},
    {"clear_medium_errors", FaultKind::kClearMediumErrors, {"at", "kind", "target", "lun"}},
    {"disk_offline", FaultKind::kDiskOffline, {"at", "kind", "target"}},
    {"disk_online", FaultKind::kDiskOnline, {"at", "kind", "target"}},
    {"disk_delay", FaultKind::kDiskDelay, {"at", "kind", "target", "delay"}},
    {"link_down", FaultKind::kLinkDown, {"at", "kind", "target"}},
    {"link_up", FaultKind::kLinkUp, {"at", "kind", "target"}},
    {"link_delay", FaultKind::kLinkDelay, {"at", "kind", "target", "delay"}},
    {"dve_crash", FaultKind::kDveCrash, {"at", "kind", "target"}},
    {"dve_isolate", FaultKind::kDveIsolate, {"at", "kind", "target"}},
    {"dve_rejoin", FaultKind::kDveRejoin, {"at", "kind", "target"}},
};

class TopologyReader {
 public:
  TopologyReader(const std::string& source, FieldLines* lines) : r_(source, lines) {}

  absl::Status read(const YAML::Node& root, Topology* t) {
    YamlMap top;
    TOPO_TRY(r_.open_map(
        r_.document(root),
        {"seed", "duration", "switches", "isls", "disks", "hosts", "zones", "faults", "volumes",
         "virtual_targets", "services", "replications", "fp", "cp", "replay"},
        &top));
    if (const YamlField* f = top.get("seed")) TOPO_TRY(r_.unsigned_int(*f, 0, ~0ull, &t->seed));
    if (const YamlField* f = top.get("duration")) TOPO_TRY(r_.time(*f, true, &t->duration_ns));
    const YamlField* list = nullptr;
    TOPO_TRY(r_.require(top, "switches", &list));
    TOPO_TRY(read_list(list, &t->switches, &TopologyReader::read_switch));
    TOPO_TRY(read_list(top.get("isls"), &t->isls, &TopologyReader::read_isl));
    TOPO_TRY(read_list(top.get("disks"), &t->disks, &TopologyReader::read_disk));
    TOPO_TRY(read_list(top.get("hosts"), &t->hosts, &TopologyReader::read_host));
    TOPO_TRY(read_list(top.get("zones"), &t->zones, &TopologyReader::read_zone));
    TOPO_TRY(read_list(top.get("faults"), &t->faults, &TopologyReader::read_fault));
    TOPO_TRY(read_list(top.get("volumes"), &t->volumes, &TopologyReader::read_volume));
    TOPO_TRY(read_list(top.get("virtual_targets"), &t->virtual_targets,
                       &TopologyReader::read_virtual_target));
    if (const YamlField* f = top.get("services")) {
      std::vector<YamlField> items;
      TOPO_TRY(r_.open_list(*f, &items));
      for (const YamlField& item : items)
        TOPO_TRY(read_service(item, *t, &t->services.emplace_back()));
    }
    if (const YamlField* f = top.get("replications")) {
      std::vector<YamlField> items;
      TOPO_TRY(r_.open_list(*f, &items));
      for (const YamlField& item : items)
        TOPO_TRY(read_replication(item, *t, &t->replications.emplace_back()));
    }
    if (const YamlField* f = top.get("fp")) TOPO_TRY(read_fp(*f, &t->fp));
    if (const YamlField* f = top.get("cp")) TOPO_TRY(read_cp(*f, &t->cp));
    TOPO_TRY(resolve_zone_members(t));
    TOPO_TRY(resolve_lun_hosts(t));
    TOPO_TRY(resolve_fault_targets(t));
    if (const YamlField* f = top.get("replay")) TOPO_TRY(read_replay(*f, t));
    return absl::OkStatus();
  }

  // {name, switch, volumes, interval, at, staging: {disk, lun, lba, blocks},
  // images: [{volume, disk, lun, lba}]}: the volumes, journaled, and the
  // disks must exist in `t` (read before).
  absl::Status read_replication(const YamlField& item, const Topology& t, ReplicationConfig* r) {
    YamlMap m;
    TOPO_TRY(r_.open_map(item, {"name", "switch", "volumes", "interval", "at", "staging", "images"},
                         &m));
    const YamlField* f = nullptr;
    TOPO_TRY(r_.require(m, "name", &f));
    TOPO_TRY(r_.name(*f, &r->name));
    for (const ReplicationConfig& other : t.replications) {
      if (&other != r && other.name == r->name)
        return r_.error(*f, fmt::format("'{}' is named twice", r->name));
    }
    TOPO_TRY(r_.require(m, "switch", &f));
    TOPO_TRY(r_.string(*f, &r->switch_name));
    if (std::none_of(t.switches.begin(), t.switches.end(),
                     [&](const SwitchConfig& s) { return s.name == r->switch_name; })) {
      return r_.error(*f, fmt::format("no switch '{}'", quote_got(r->switch_name)));
    }
    if ((f = m.get("interval"))) {
      TOPO_TRY(r_.time(*f, false, &r->interval_ns));
      if (r->interval_ns == 0) return r_.error(*f, "must be more than 0");
    }
    if ((f = m.get("at"))) TOPO_TRY(r_.time(*f, false, &r->at_ns));
    auto disk_named = [&](const YamlField& v, std::string* name) -> absl::Status {
      TOPO_TRY(r_.string(v, name));
      for (const DiskConfig& d : t.disks)
        if (d.name == *name) return absl::OkStatus();
      return r_.error(v, fmt::format("no disk '{}'", quote_got(*name)));
    };
    TOPO_TRY(r_.require(m, "volumes", &f));
    std::vector<YamlField> vols;
    TOPO_TRY(r_.open_list(*f, &vols));
    if (vols.empty()) return r_.error(*f, "must list at least one volume");
    for (const YamlField& v : vols) {
      std::string name;
      TOPO_TRY(r_.string(v, &name));
      const VolumeConfig* vol = nullptr;
      for (const VolumeConfig& x : t.volumes)
        if (x.name == name) vol = &x;
      if (!vol) return r_.error(v, fmt::format("no volume '{}'", quote_got(name)));
      if (vol->switch_name != r->switch_name)
        return r_.error(
            v, fmt::format("volume '{}' is served by switch '{}'", name, vol->switch_name));
      for (const VsegConfig& seg : vol->vsegs) {
        if (!seg.journal)
          return r_.error(v, fmt::format("volume '{}' has a VSEG that is not journaled", name));
      }
      r->volumes.push_back(name);
    }
    TOPO_TRY(r_.require(m, "staging", &f));
    YamlMap sm;
    TOPO_TRY(r_.open_map(*f, {"disk", "lun", "lba", "blocks"}, &sm));
    const YamlField* v = nullptr;
    TOPO_TRY(r_.require(sm, "disk", &v));
    TOPO_TRY(disk_named(*v, &r->staging_disk));
    if ((v = sm.get("lun"))) TOPO_TRY(r_.unsigned_int(*v, 0, 0xFFFF, &r->staging_lun));
    if ((v = sm.get("lba"))) TOPO_TRY(r_.unsigned_int(*v, 0, ~0ull, &r->staging_lba));
    TOPO_TRY(r_.require(sm, "blocks", &v));
    TOPO_TRY(r_.unsigned_int(*v, 1, ~0ull, &r->staging_blocks));
    TOPO_TRY(r_.require(m, "images", &f));
    std::vector<YamlField> images;
    TOPO_TRY(r_.open_list(*f, &images));
    for (const YamlField& item : images) {
      YamlMap im;
      TOPO_TRY(r_.open_map(item, {"volume", "disk", "lun", "lba"}, &im));
      ReplicationImageConfig& image = r->images.emplace_back();
      TOPO_TRY(r_.require(im, "volume", &v));
      TOPO_TRY(r_.string(*v, &image.volume));
      if (std::find(r->volumes.begin(), r->volumes.end(), image.volume) == r->volumes.end())
        return r_.error(
            *v, fmt::format("'{}' is not one of the replicated volumes", quote_got(image.volume)));
      TOPO_TRY(r_.require(im, "disk", &v));
      TOPO_TRY(disk_named(*v, &image.disk));
      if ((v = im.get("lun"))) TOPO_TRY(r_.unsigned_int(*v, 0, 0xFFFF, &image.lun));
      if ((v = im.get("lba"))) TOPO_TRY(r_.unsigned_int(*v, 0, ~0ull, &image.lba));
    }
    for (const std::string& vol : r->volumes) {
      if (std::none_of(r->images.begin(), r->images.end(),
                       [&](const ReplicationImageConfig& i) { return i.volume == vol; })) {
        return r_.error(*f, fmt::format("no image for volume '{}'", vol));
      }
    }
    return absl::OkStatus();
  }

  absl::Status read_replication_document(const YAML::Node& root, Topology* t) {
    ReplicationConfig r;
    TOPO_TRY(read_replication(r_.document(root), *t, &r));
    t->replications.push_back(std::move(r));
    return absl::OkStatus();
  }

  absl::Status read_service_document(const YAML::Node& root, const Topology& t,
                                     ServiceConfig* service) {
    return read_service(r_.document(root), t, service);
  }

  // replay: {initiators: [{trace, host}], targets: [{trace, target, luns: [{trace, lun}]}]}.
  // Read after the nodes, so that names are checked here, at their line.
  absl::Status read_replay(const YamlField& f, Topology* t) {
    YamlMap m;
    TOPO_TRY(r_.open_map(f, {"initiators", "targets"}, &m));
    std::vector<YamlField> items;
    if (const YamlField* list = m.get("initiators")) {
      TOPO_TRY(r_.open_list(*list, &items));
      for (const YamlField& item : items) {
        YamlMap im;
        TOPO_TRY(r_.open_map(item, {"trace", "host"}, &im));
        ReplayInitiatorMap map;
        const YamlField* v = nullptr;
        TOPO_TRY(r_.require(im, "trace", &v));
        TOPO_TRY(trace_address(*v, &map.trace));
        TOPO_TRY(r_.require(im, "host", &v));
        TOPO_TRY(r_.name(*v, &map.host));
        if (std::none_of(t->hosts.begin(), t->hosts.end(),
                         [&](const HostConfig& h) { return h.name == map.host; })) {
          return r_.error(*v, fmt::format("no host named '{}'", map.host));
        }
        t->replay.initiators.push_back(map);
      }
    }
    if (const YamlField* list = m.get("targets")) {
      TOPO_TRY(r_.open_list(*list, &items));
      for (const YamlField& item : items) {
        YamlMap tm;
        TOPO_TRY(r_.open_map(item, {"trace", "target", "luns"}, &tm));
        ReplayTargetMap map;
        const YamlField* v = nullptr;
        TOPO_TRY(r_.require(tm, "trace", &v));
        TOPO_TRY(trace_address(*v, &map.trace));
        TOPO_TRY(r_.require(tm, "target", &v));
        TOPO_TRY(r_.name(*v, &map.target));
        const bool known =
            std::any_of(t->disks.begin(), t->disks.end(),
                        [&](const DiskConfig& d) { return d.name == map.target; }) ||
            std::any_of(t->virtual_targets.begin(), t->virtual_targets.end(),
                        [&](const VirtualTargetConfig& vt) { return vt.name == map.target; });
        if (!known)
          return r_.error(*v, fmt::format("no disk or virtual target named '{}'", map.target));
        if (const YamlField* luns = tm.get("luns")) {
          std::vector<YamlField> lun_items;
          TOPO_TRY(r_.open_list(*luns, &lun_items));
          for (const YamlField& lun_item : lun_items) {
            YamlMap lm;
            TOPO_TRY(r_.open_map(lun_item, {"trace", "lun"}, &lm));
            ReplayLunMap lun;
            TOPO_TRY(r_.require(lm, "trace", &v));
            TOPO_TRY(r_.unsigned_int(*v, 0, kMaxLun, &lun.trace_lun));
            TOPO_TRY(r_.require(lm, "lun", &v));
            TOPO_TRY(r_.unsigned_int(*v, 0, kMaxLun, &lun.lun));
            map.luns.push_back(lun);
          }
        }
        t->replay.targets.push_back(map);
      }
    }
    return absl::OkStatus();
  }

  // An N_Port ID ("01.0e.01", or "0x" and exactly six hex digits: "0x010e01") or
  // a WWPN ("50:06:01:60:3b:20:19:50", "0x500601603b201950").
  absl::Status trace_address(const YamlField& f, TraceAddress* out) {
    std::string text;
    TOPO_TRY(r_.string(f, &text));
    const bool hex = text.size() == 8 && (text.rfind("0x", 0) == 0 || text.rfind("0X", 0) == 0);
    const bool dotted = text.size() == 8 && text[2] == '.' && text[5] == '.';
    if (hex || dotted) {
      uint32_t id = 0;
      for (size_t i = hex ? 2 : 0; i < text.size(); ++i) {
        if (dotted && (i == 2 || i == 5)) continue;
        const auto c = static_cast<unsigned char>(text[i]);
        if (!std::isxdigit(c)) return bad_address(f, text);
        const int lower = std::tolower(c);
        id = id * 16 + static_cast<uint32_t>(lower <= '9' ? lower - '0' : lower - 'a' + 10);
      }
      *out = TraceAddress{false, id};
      return absl::OkStatus();
    }
    auto wwpn = parse_wwn(text);
    if (!wwpn.ok()) return bad_address(f, text);
    *out = TraceAddress{true, *wwpn};
    return absl::OkStatus();
  }
  absl::Status bad_address(const YamlField& f, const std::string& text) {
    return r_.error(f, fmt::format("must be a WWPN like 50:00:00:00:00:00:01:00 or an N_Port ID "
                                   "like 01.02.00 or 0x010200 (got '{}')",
                                   quote_got(text)));
  }

 private:
  // A name or WWN given in the file and resolved once every node is known.
  struct Pending {
    YamlField field;
    std::string text;
    size_t owner;    // index of the zone, fault, disk or virtual target
    size_t sub = 0;  // index of the disk's or virtual target's LUN
  };

  template <typename T>
  absl::Status read_list(const YamlField* f, std::vector<T>* out,
                         absl::Status (TopologyReader::*read_item)(const YamlField&, T*)) {
    if (f == nullptr) return absl::OkStatus();
    std::vector<YamlField> items;
    TOPO_TRY(r_.open_list(*f, &items));
    out->resize(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      item_index_ = i;
      TOPO_TRY((this->*read_item)(items[i], &(*out)[i]));
    }
    return absl::OkStatus();
  }

  absl::Status read_switch(const YamlField& item, SwitchConfig* s) {
    YamlMap m;
    TOPO_TRY(r_.open_map(item, {"name", "domain", "ports", "latency"}, &m));
    const YamlField* f = nullptr;
    TOPO_TRY(r_.require(m, "name", &f));
    TOPO_TRY(r_.name(*f, &s->name));
    TOPO_TRY(r_.require(m, "domain", &f));
    TOPO_TRY(r_.unsigned_int(*f, kMinDomain, kMaxDomain, &s->domain));
    TOPO_TRY(r_.require(m, "ports", &f));
    TOPO_TRY(r_.unsigned_int(*f, 1, kMaxSwitchPorts, &s->ports));
    if ((f = m.get("latency"))) TOPO_TRY(r_.time(*f, false, &s->latency_ns));
    return absl::OkStatus();
  }

  absl::Status read_link(const YamlMap& m, LinkParams* link) {
    const YamlField* f = nullptr;
    if ((f = m.get("speed"))) TOPO_TRY(r_.link_speed(*f, &link->speed));
    if ((f = m.get("delay"))) TOPO_TRY(r_.time(*f, false, &link->propagation_ns));
    if ((f = m.get("bb_credit"))) TOPO_TRY(r_.unsigned_int(*f, 1, kMaxBbCredit, &link->bb_credit));
    return absl::OkStatus();
  }

  absl::Status read_isl(const YamlField& item, IslConfig* isl) {
    YamlMap m;
    TOPO_TRY(r_.open_map(item, {"a", "b", "speed", "delay", "bb_credit"}, &m));
    const YamlField* f = nullptr;
    TOPO_TRY(r_.require(m, "a", &f));
    TOPO_TRY(r_.port_ref(*f, &isl->a));
    TOPO_TRY(r_.require(m, "b", &f));
    TOPO_TRY(r_.port_ref(*f, &isl->b));
    return read_link(m, &isl->link);
  }

  // The keys hosts and disks share: identity and attachment.
  // `more_ports` (disks only): a `ports` list may replace `port`.
  absl::Status read_node(const YamlMap& m, std::string* name, uint64_t* wwpn, uint64_t* wwnn,
                         AttachConfig* attach, std::vector<DiskPortConfig>* more_ports = nullptr) {
    const YamlField* f = nullptr;
    TOPO_TRY(r_.require(m, "name", &f));
    TOPO_TRY(r_.name(*f, name));
    *wwpn = wwpn_from_name(*name);
    if ((f = m.get("wwpn"))) TOPO_TRY(r_.wwn(*f, wwpn));
    if ((f = m.get("wwnn"))) TOPO_TRY(r_.wwn(*f, wwnn));
    const YamlField* ports = more_ports ? m.get("ports") : nullptr;
    if (ports) {
      if ((f = m.get("port"))) return r_.error(*f, "give port or ports, not both");
      TOPO_TRY(read_disk_ports(*ports, *wwpn, attach, more_ports));
    } else {
      TOPO_TRY(r_.require(m, "port", &f));
      TOPO_TRY(r_.port_ref(*f, &attach->port));
    }
    TOPO_TRY(read_link(m, &attach->link));
    if (more_ports) {
      for (DiskPortConfig& p : *more_ports)
        p.attach.link = attach->link;
    }
    return absl::OkStatus();
  }

  // A multi-ported disk's `ports`: 2 to kMaxDiskPorts switch ports; port i
  // has WWPN wwpn + i (consecutive, as a dual-controller array numbers them).
  absl::Status read_disk_ports(const YamlField& field, uint64_t wwpn, AttachConfig* attach,
                               std::vector<DiskPortConfig>* more_ports) {
    std::vector<YamlField> items;
    TOPO_TRY(r_.open_list(field, &items));
    if (items.size() < 2 || items.size() > kMaxDiskPorts) {
      return r_.error(field, fmt::format("must list 2 to {} ports (got {}); one port: use port",
                                         kMaxDiskPorts, items.size()));
    }
    TOPO_TRY(r_.port_ref(items[0], &attach->port));
    for (size_t i = 1; i < items.size(); ++i) {
      DiskPortConfig p;
      p.wwpn = wwpn + i;
      TOPO_TRY(r_.port_ref(items[i], &p.attach.port));
      more_ports->push_back(p);
    }
    return absl::OkStatus();
  }

  absl::Status read_disk(const YamlField& item, DiskConfig* d) {
    YamlMap m;
    TOPO_TRY(r_.open_map(item,
                         {"name", "wwpn", "wwnn", "port", "ports", "speed", "delay", "bb_credit",
                          "luns", "latency", "bandwidth", "queue_depth"},
                         &m));
    TOPO_TRY(read_node(m, &d->name, &d->wwpn, &d->wwnn, &d->attach, &d->more_ports));
    const YamlField* f = nullptr;
    TOPO_TRY(r_.require(m, "luns", &f));
    std::vector<YamlField> luns;
    TOPO_TRY(r_.open_list(*f, &luns));
    if (luns.empty()) return r_.error(*f, "must list at least one LUN");
    d->luns.resize(luns.size());
    for (size_t i = 0; i < luns.size(); ++i)
      TOPO_TRY(read_lun(luns[i], i, &d->luns[i]));
    if ((f = m.get("latency"))) TOPO_TRY(r_.time(*f, false, &d->latency_ns));
    if ((f = m.get("bandwidth"))) TOPO_TRY(r_.bandwidth(*f, &d->bandwidth_mb_s));
    if ((f = m.get("queue_depth")))
      TOPO_TRY(r_.unsigned_int(*f, 1, kMaxQueueDepth, &d->queue_depth));
    return absl::OkStatus();
  }

  // LUN `index` of the disk being read (item_index_).
  absl::Status read_lun(const YamlField& item, size_t index, LunConfig* lun) {
    YamlMap m;
    TOPO_TRY(r_.open_map(item, {"lun", "size", "block_size", "hosts"}, &m));
    const YamlField* f = nullptr;
    TOPO_TRY(r_.require(m, "lun", &f));
    TOPO_TRY(r_.unsigned_int(*f, 0, kMaxLun, &lun->lun));
    if ((f = m.get("block_size"))) {
      uint64_t bs = 0;
      TOPO_TRY(r_.bytes(*f, 4096, &bs));
      if (bs != 512 && bs != 4096) {
        return r_.error(*f, fmt::format("must be 512 or 4096 (got {})", bs));
      }
      lun->block_size = static_cast<uint32_t>(bs);
    }
    TOPO_TRY(r_.require(m, "size", &f));
    std::string text;
    TOPO_TRY(r_.string(*f, &text));
    auto size = parse_size(text);
    if (!size.ok()) return r_.error(*f, std::string(size.status().message()));
    if (!size->unit_given) {
      lun->blocks = size->value;
    } else if (size->value % lun->block_size != 0) {
      return r_.error(*f, fmt::format("must be a whole number of {}-byte blocks (got {})",
                                      lun->block_size, quote_got(text)));
    } else {
      lun->blocks = size->value / lun->block_size;
    }
    if (lun->blocks == 0) {
      return r_.error(*f, fmt::format("must be at least one block (got {})", quote_got(text)));
    }
    if ((f = m.get("hosts"))) TOPO_TRY(read_lun_hosts(*f, index, &disk_lun_hosts_));
    return absl::OkStatus();
  }

  // A LUN's `hosts` (LUN masking, on disk and virtual LUNs alike): a non-empty
  // list of host names or WWPNs, kept in `out` to be resolved once every host
  // is known; `index` is the LUN's within its disk or virtual target.
  absl::Status read_lun_hosts(const YamlField& f, size_t index, std::vector<Pending>* out) {
    std::vector<YamlField> hosts;
    TOPO_TRY(r_.open_list(f, &hosts));
    if (hosts.empty()) {
      return r_.error(f,
                      "must list at least one host (leave 'hosts' out to let every host "
                      "see the LUN)");
    }
    for (const YamlField& host : hosts) {
      Pending p{host, "", item_index_, index};
      TOPO_TRY(r_.string(host, &p.text));
      out->push_back(std::move(p));
    }
    return absl::OkStatus();
  }

  absl::Status read_host(const YamlField& item, HostConfig* h) {
    YamlMap m;
    TOPO_TRY(r_.open_map(
        item, {"name", "wwpn", "wwnn", "port", "speed", "delay", "bb_credit", "start", "workload"},
        &m));
    TOPO_TRY(read_node(m, &h->name, &h->wwpn, &h->wwnn, &h->attach));
    const YamlField* f = nullptr;
    if ((f = m.get("start"))) TOPO_TRY(r_.time(*f, false, &h->start_ns));
    if ((f = m.get("workload"))) TOPO_TRY(read_workload(*f, &h->workload));
    return absl::OkStatus();
  }

  absl::Status read_workload(const YamlField& item, WorkloadConfig* w) {
    YamlMap m;
    TOPO_TRY(r_.open_map(item,
                         {"read_percent", "block_size", "queue_depth", "pattern", "lba_start",
                          "lba_count", "rate_iops", "io_timeout", "retries"},
                         &m));
    const YamlField* f = nullptr;
    if ((f = m.get("read_percent"))) TOPO_TRY(r_.unsigned_int(*f, 0, 100, &w->read_percent));
    if ((f = m.get("block_size"))) {
      uint64_t bs = 0;
      TOPO_TRY(r_.bytes(*f, kMaxIoBytes, &bs));
      w->block_size = static_cast<uint32_t>(bs);
    }
    if ((f = m.get("queue_depth")))
      TOPO_TRY(r_.unsigned_int(*f, 1, kMaxQueueDepth, &w->queue_depth));
    if ((f = m.get("pattern"))) {
      std::string text;
      TOPO_TRY(r_.string(*f, &text));
      if (text == "random") {
        w->pattern = AccessPattern::kRandom;
      } else if (text == "sequential") {
        w->pattern = AccessPattern::kSequential;
      } else {
        return r_.error(*f,
                        fmt::format("must be random or sequential (got '{}')", quote_got(text)));
      }
    }
    if ((f = m.get("lba_start"))) TOPO_TRY(r_.unsigned_int(*f, 0, ~0ull, &w->lba_start));
    if ((f = m.get("lba_count"))) TOPO_TRY(r_.unsigned_int(*f, 0, ~0ull, &w->lba_count));
    if ((f = m.get("rate_iops"))) TOPO_TRY(r_.rate(*f, kMaxRateIops, &w->rate_iops));
    if ((f = m.get("io_timeout"))) TOPO_TRY(r_.time(*f, false, &w->io_timeout_ns));
    if ((f = m.get("retries"))) TOPO_TRY(r_.unsigned_int(*f, 0, kMaxRetries, &w->retries));
    return absl::OkStatus();
  }

  absl::Status read_zone(const YamlField& item, ZoneConfig* z) {
    YamlMap m;
    TOPO_TRY(r_.open_map(item, {"name", "members"}, &m));
    const YamlField* f = nullptr;
    TOPO_TRY(r_.require(m, "name", &f));
    TOPO_TRY(r_.name(*f, &z->name));
    TOPO_TRY(r_.require(m, "members", &f));
    std::vector<YamlField> members;
    TOPO_TRY(r_.open_list(*f, &members));
    if (members.empty()) return r_.error(*f, "must list at least one member");
    for (const YamlField& member : members) {
      Pending p{member, "", item_index_};
      TOPO_TRY(r_.string(member, &p.text));
      zone_members_.push_back(std::move(p));
    }
    return absl::OkStatus();
  }

  absl::Status read_fault(const YamlField& item, FaultConfig* fault) {
    YamlMap m;
    TOPO_TRY(r_.open_map(item, {"at", "kind", "target", "lun", "lba", "count", "delay"}, &m));
    const YamlField* f = nullptr;
    TOPO_TRY(r_.require(m, "kind", &f));
    std::string kind;
    TOPO_TRY(r_.string(*f, &kind));
    const FaultKindSpec* spec = nullptr;
    std::string kinds;
    for (const FaultKindSpec& k : kFaultKinds) {
      if (k.name == kind) spec = &k;
      kinds += fmt::format("{}{}", kinds.empty() ? "" : ", ", k.name);
    }
    if (spec == nullptr) {
      return r_.error(*f, fmt::format("must be one of {} (got '{}')", kinds, quote_got(kind)));
    }
    fault->kind = spec->kind;
    for (const auto& [key, field] : m.entries()) {
      bool applies = false;
      std::string keys;
      for (std::string_view k : spec->keys) {
        applies |= k == key;
        keys += fmt::format("{}{}", keys.empty() ? "" : ", ", k);
      }
      if (!applies) {
        return r_.error(
            field, fmt::format("does not apply to kind '{}' (its keys: {})", spec->name, keys));
      }
    }
    TOPO_TRY(r_.require(m, "at", &f));
    TOPO_TRY(r_.time(*f, false, &fault->at_ns));
    TOPO_TRY(r_.require(m, "target", &f));
    Pending p{*f, "", item_index_};
    TOPO_TRY(r_.string(*f, &p.text));
    fault->target = p.text;
    fault_targets_.push_back(std::move(p));
    if ((f = m.get("lun"))) TOPO_TRY(r_.unsigned_int(*f, 0, kMaxLun, &fault->lun));
    if (fault->kind == FaultKind::kMediumError) {
      TOPO_TRY(r_.require(m, "lba", &f));
      TOPO_TRY(r_.unsigned_int(*f, 0, ~0ull, &fault->lba));
      if ((f = m.get("count"))) TOPO_TRY(r_.unsigned_int(*f, 1, ~0ull, &fault->count));
    }
    if (fault->kind == FaultKind::kDiskDelay || fault->kind == FaultKind::kLinkDelay) {
      TOPO_TRY(r_.require(m, "delay", &f));
      TOPO_TRY(r_.time(*f, false, &fault->delay_ns));
    }
    return absl::OkStatus();
  }

  absl::Status read_fp(const YamlField& item, FpSettings* fp) {
    YamlMap m;
    TOPO_TRY(r_.open_map(item,
                         {"table_memory", "max_transfer", "frame_cost", "rmap_policy",
                          "working_set_window", "enabled", "hal"},
                         &m));
    const YamlField* f = nullptr;
    if ((f = m.get("table_memory"))) TOPO_TRY(r_.bytes(*f, ~0ull, &fp->table_memory_bytes));
    if ((f = m.get("max_transfer"))) {
      uint64_t bytes = 0;
      TOPO_TRY(r_.bytes(*f, UINT32_MAX, &bytes));
      fp->max_transfer_bytes = static_cast<uint32_t>(bytes);
    }
    if ((f = m.get("frame_cost"))) {
      SimTime ns = 0;
      TOPO_TRY(r_.time(*f, false, &ns));
      if (ns > UINT32_MAX) {
        return r_.error(*f, fmt::format("must be at most {} (got {})", format_time(UINT32_MAX),
                                        format_time(ns)));
      }
      fp->frame_cost_ns = static_cast<uint32_t>(ns);
    }
    if ((f = m.get("rmap_policy"))) TOPO_TRY(r_.string(*f, &fp->rmap_policy));
    if ((f = m.get("working_set_window")))
      TOPO_TRY(r_.unsigned_int(*f, 0, UINT32_MAX, &fp->working_set_window));
    if ((f = m.get("enabled"))) TOPO_TRY(r_.boolean(*f, &fp->enabled));
    if ((f = m.get("hal"))) TOPO_TRY(r_.string(*f, &fp->hal));
    return absl::OkStatus();
  }

  absl::Status read_cp(const YamlField& item, CpSettings* cp) {
    YamlMap m;
    TOPO_TRY(r_.open_map(item,
                         {"mailbox_latency", "message_cost", "fault_cost", "age_extent",
                          "dve_latency", "dve_timeout", "dve_lease", "mirror_write_chunk"},
                         &m));
    const YamlField* f = nullptr;
    if ((f = m.get("dve_latency"))) TOPO_TRY(r_.time(*f, false, &cp->dve_latency_ns));
    if ((f = m.get("dve_timeout"))) {
      TOPO_TRY(r_.time(*f, false, &cp->dve_timeout_ns));
      if (cp->dve_timeout_ns == 0) return r_.error(*f, "must be greater than 0");
    }
    if ((f = m.get("dve_lease"))) {
      TOPO_TRY(r_.time(*f, false, &cp->dve_lease_ns));
      if (cp->dve_lease_ns < 3) return r_.error(*f, "must be at least 3ns (renewed every third)");
    }
    if ((f = m.get("mirror_write_chunk"))) {
      TOPO_TRY(r_.bytes(*f, 1ull << 40, &cp->mirror_write_chunk_bytes));
      if (cp->mirror_write_chunk_bytes < 4096) return r_.error(*f, "must be at least 4096 bytes");
    }
    if ((f = m.get("age_extent"))) {
      TOPO_TRY(r_.bytes(*f, 1ull << 40, &cp->age_extent_bytes));
      if (cp->age_extent_bytes < 512) return r_.error(*f, "must be at least 512 bytes");
    }
    if ((f = m.get("mailbox_latency"))) TOPO_TRY(r_.time(*f, false, &cp->mailbox_latency_ns));
    if ((f = m.get("message_cost"))) TOPO_TRY(r_.time(*f, false, &cp->message_cost_ns));
    if ((f = m.get("fault_cost"))) TOPO_TRY(r_.time(*f, false, &cp->fault_cost_ns));
    return absl::OkStatus();
  }

  absl::Status read_volume(const YamlField& item, VolumeConfig* v) {
    YamlMap m;
    TOPO_TRY(r_.open_map(
        item, {"name", "switch", "shared_with", "block_size", "multipath", "failback", "vsegs"},
        &m));
    const YamlField* f = nullptr;
    TOPO_TRY(r_.require(m, "name", &f));
    TOPO_TRY(r_.name(*f, &v->name));
    TOPO_TRY(r_.require(m, "switch", &f));
    TOPO_TRY(r_.string(*f, &v->switch_name));
    if ((f = m.get("shared_with"))) {
      std::vector<YamlField> names;
      TOPO_TRY(r_.open_list(*f, &names));
      if (names.empty()) return r_.error(*f, "must list at least one switch");
      for (const YamlField& n : names) {
        std::string name;
        TOPO_TRY(r_.string(n, &name));
        v->shared_with.push_back(name);
      }
    }
    if ((f = m.get("block_size"))) {
      uint64_t bs = 0;
      TOPO_TRY(r_.bytes(*f, 4096, &bs));
      if (bs != 512 && bs != 4096) {
        return r_.error(*f, fmt::format("must be 512 or 4096 (got {})", bs));
      }
      v->block_size = static_cast<uint32_t>(bs);
    }
    if ((f = m.get("multipath"))) {
      std::string text;
      TOPO_TRY(r_.string(*f, &text));
      if (text == "per_entry") {
        v->multipath = MultipathPolicy::kPerEntry;
      } else if (text == "global") {
        v->multipath = MultipathPolicy::kGlobal;
      } else if (text == "none") {
        v->multipath = MultipathPolicy::kNone;
      } else {
        return r_.error(
            *f, fmt::format("must be per_entry, global or none (got '{}')", quote_got(text)));
      }
    }
    if ((f = m.get("failback"))) {
      std::string text;
      TOPO_TRY(r_.string(*f, &text));
      if (text != "immediate" && text != "manual") {
        return r_.error(*f, fmt::format("must be immediate or manual (got '{}')", quote_got(text)));
      }
      v->failback = text == "immediate";
    }
    TOPO_TRY(r_.require(m, "vsegs", &f));
    std::vector<YamlField> vsegs;
    TOPO_TRY(r_.open_list(*f, &vsegs));
    if (vsegs.empty()) return r_.error(*f, "must list at least one VSEG");
    v->vsegs.resize(vsegs.size());
    for (size_t i = 0; i < vsegs.size(); ++i)
      TOPO_TRY(read_vseg(vsegs[i], &v->vsegs[i]));
    return absl::OkStatus();
  }

  absl::Status read_vseg(const YamlField& item, VsegConfig* vseg) {
    YamlMap m;
    TOPO_TRY(r_.open_map(item,
                         {"disk", "lun", "lba", "stripe", "mirror", "journal", "blocks",
                          "extent_blocks", "fault_on_read", "fault_on_write"},
                         &m));
    const YamlField* f = nullptr;
    if (m.get("stripe") && (f = m.get("mirror"))) {
      return r_.error(*f, "a VSEG is striped or mirrored, not both");
    }
    if ((m.get("stripe") || m.get("mirror")) && (f = m.get("journal"))) {
      return r_.error(*f, "a journaled VSEG is not striped or mirrored too");
    }
    if ((f = m.get("journal"))) {
      for (const char* own : {"disk", "lun", "lba"}) {
        if (const YamlField* o = m.get(own)) {
          return r_.error(*o,
                          "a journaled VSEG names its disks in journal.data and journal.journal");
        }
      }
      vseg->journal.emplace();
      TOPO_TRY(read_journal(*f, &*vseg->journal));
    } else if ((f = m.get("mirror"))) {
      for (const char* own : {"disk", "lun", "lba"}) {
        if (const YamlField* o = m.get(own)) {
          return r_.error(*o, "a mirrored VSEG names its disks in mirror.sides");
        }
      }
      vseg->mirror.emplace();
      TOPO_TRY(read_mirror(*f, &*vseg->mirror));
    } else if ((f = m.get("stripe"))) {
      // The columns name the disks: a striped VSEG has no disk of its own.
      for (const char* own : {"disk", "lun", "lba"}) {
        if (const YamlField* o = m.get(own)) {
          return r_.error(*o, "a striped VSEG names its disks in stripe.columns");
        }
      }
      vseg->stripe.emplace();
      TOPO_TRY(read_stripe(*f, &*vseg->stripe));
    } else {
      TOPO_TRY(r_.require(m, "disk", &f));
      TOPO_TRY(r_.string(*f, &vseg->disk));
      if ((f = m.get("lun"))) TOPO_TRY(r_.unsigned_int(*f, 0, kMaxLun, &vseg->lun));
      if ((f = m.get("lba"))) TOPO_TRY(r_.unsigned_int(*f, 0, ~0ull, &vseg->lba));
    }
    TOPO_TRY(r_.require(m, "blocks", &f));
    TOPO_TRY(r_.unsigned_int(*f, 0, ~0ull, &vseg->blocks));
    if ((f = m.get("extent_blocks"))) TOPO_TRY(r_.unsigned_int(*f, 0, ~0ull, &vseg->extent_blocks));
    if ((f = m.get("fault_on_read"))) TOPO_TRY(r_.boolean(*f, &vseg->fault_on_read));
    if ((f = m.get("fault_on_write"))) TOPO_TRY(r_.boolean(*f, &vseg->fault_on_write));
    return absl::OkStatus();
  }

  absl::Status read_stripe(const YamlField& item, StripeConfig* stripe) {
    YamlMap m;
    TOPO_TRY(r_.open_map(item, {"unit", "columns"}, &m));
    const YamlField* f = nullptr;
    TOPO_TRY(r_.require(m, "unit", &f));
    TOPO_TRY(r_.bytes(*f, ~0ull, &stripe->unit_bytes));
    TOPO_TRY(r_.require(m, "columns", &f));
    std::vector<YamlField> columns;
    TOPO_TRY(r_.open_list(*f, &columns));
    if (columns.empty()) return r_.error(*f, "must list at least one column");
    stripe->columns.resize(columns.size());
    for (size_t i = 0; i < columns.size(); ++i) {
      YamlMap c;
      TOPO_TRY(r_.open_map(columns[i], {"disk", "lun", "lba", "mirror"}, &c));
      StripeColumnConfig& col = stripe->columns[i];
      const YamlField* g = nullptr;
      if ((g = c.get("mirror"))) {
        // A stripe of mirrors (RAID 10): the column's sides name its disks.
        for (const char* own : {"disk", "lun", "lba"}) {
          if (const YamlField* o = c.get(own)) {
            return r_.error(*o, "a mirrored column names its disks in mirror.sides");
          }
        }
        if (i > 0 && !stripe->columns[0].mirror) {
          return r_.error(*g, "column 0 is a plain column: all columns are mirrors or none");
        }
        col.mirror.emplace();
        TOPO_TRY(read_mirror(*g, &*col.mirror));
        const size_t sides = col.mirror->sides.size();
        if (i > 0 && sides != stripe->columns[0].mirror->sides.size()) {
          return r_.error(
              *g, fmt::format("has {} sides but column 0 has {} (every column the same)", sides,
                              stripe->columns[0].mirror->sides.size()));
        }
        if (columns.size() * sides > map::kMaxStorageElements) {
          return r_.error(
              *f, fmt::format("{} columns of {} sides make {} disks (at most {})", columns.size(),
                              sides, columns.size() * sides, map::kMaxStorageElements));
        }
        continue;
      }
      if (i > 0 && stripe->columns[0].mirror) {
        return r_.error(columns[i], "column 0 is a mirror: all columns are mirrors or none");
      }
      TOPO_TRY(r_.require(c, "disk", &g));
      TOPO_TRY(r_.string(*g, &col.disk));
      if ((g = c.get("lun"))) TOPO_TRY(r_.unsigned_int(*g, 0, kMaxLun, &col.lun));
      if ((g = c.get("lba"))) TOPO_TRY(r_.unsigned_int(*g, 0, ~0ull, &col.lba));
    }
    return absl::OkStatus();
  }

  absl::Status read_journal(const YamlField& item, JournalConfig* j) {
    YamlMap m;
    TOPO_TRY(r_.open_map(item, {"data", "journal", "journal_blocks"}, &m));
    const YamlField* f = nullptr;
    TOPO_TRY(r_.require(m, "data", &f));
    YamlMap d;
    TOPO_TRY(r_.open_map(*f, {"disk", "lun", "lba"}, &d));
    const YamlField* g = nullptr;
    TOPO_TRY(r_.require(d, "disk", &g));
    TOPO_TRY(r_.string(*g, &j->disk));
    if ((g = d.get("lun"))) TOPO_TRY(r_.unsigned_int(*g, 0, kMaxLun, &j->lun));
    if ((g = d.get("lba"))) TOPO_TRY(r_.unsigned_int(*g, 0, ~0ull, &j->lba));
    TOPO_TRY(r_.require(m, "journal", &f));
    YamlMap a;
    TOPO_TRY(r_.open_map(*f, {"disk", "lun", "lba", "blocks"}, &a));
    TOPO_TRY(r_.require(a, "disk", &g));
    TOPO_TRY(r_.string(*g, &j->journal_disk));
    if ((g = a.get("lun"))) TOPO_TRY(r_.unsigned_int(*g, 0, kMaxLun, &j->journal_lun));
    if ((g = a.get("lba"))) TOPO_TRY(r_.unsigned_int(*g, 0, ~0ull, &j->journal_lba));
    TOPO_TRY(r_.require(a, "blocks", &g));
    TOPO_TRY(r_.unsigned_int(*g, 0, ~0ull, &j->area_blocks));
    TOPO_TRY(r_.require(m, "journal_blocks", &f));
    TOPO_TRY(r_.unsigned_int(*f, map::kMinJournalBlocks, 0xFFFFFFFFull, &j->journal_blocks));
    if (j->area_blocks / j->journal_blocks < 2) {
      return r_.error(*g, fmt::format("must hold at least 2 journals of journal_blocks {} (got {} "
                                      "blocks)",
                                      j->journal_blocks, j->area_blocks));
    }
    return absl::OkStatus();
  }

  absl::Status read_mirror(const YamlField& item, MirrorConfig* mirror) {
    YamlMap m;
    TOPO_TRY(r_.open_map(item, {"sides"}, &m));
    const YamlField* f = nullptr;
    TOPO_TRY(r_.require(m, "sides", &f));
    std::vector<YamlField> sides;
    TOPO_TRY(r_.open_list(*f, &sides));
    if (sides.size() < map::kMinMirrorSides || sides.size() > map::kMaxMirrorSides) {
      return r_.error(*f, fmt::format("must list {} to {} sides (got {})", map::kMinMirrorSides,
                                      map::kMaxMirrorSides, sides.size()));
    }
    mirror->sides.resize(sides.size());
    for (size_t i = 0; i < sides.size(); ++i) {
      YamlMap s;
      TOPO_TRY(r_.open_map(sides[i], {"disk", "lun", "lba", "read_cost"}, &s));
      MirrorSideConfig& side = mirror->sides[i];
      const YamlField* g = nullptr;
      TOPO_TRY(r_.require(s, "disk", &g));
      TOPO_TRY(r_.string(*g, &side.disk));
      if ((g = s.get("lun"))) TOPO_TRY(r_.unsigned_int(*g, 0, kMaxLun, &side.lun));
      if ((g = s.get("lba"))) TOPO_TRY(r_.unsigned_int(*g, 0, ~0ull, &side.lba));
      uint64_t cost = 0;
      if ((g = s.get("read_cost"))) TOPO_TRY(r_.unsigned_int(*g, 0, 255, &cost));
      side.read_cost = static_cast<uint8_t>(cost);
    }
    return absl::OkStatus();
  }

  absl::Status read_virtual_target(const YamlField& item, VirtualTargetConfig* vt) {
    YamlMap m;
    TOPO_TRY(r_.open_map(item, {"name", "switch", "wwpn", "wwnn", "luns"}, &m));
    const YamlField* f = nullptr;
    TOPO_TRY(r_.require(m, "name", &f));
    TOPO_TRY(r_.name(*f, &vt->name));
    TOPO_TRY(r_.require(m, "switch", &f));
    TOPO_TRY(r_.string(*f, &vt->switch_name));
    vt->wwpn = wwpn_from_name(vt->name);
    if ((f = m.get("wwpn"))) TOPO_TRY(r_.wwn(*f, &vt->wwpn));
    if ((f = m.get("wwnn"))) TOPO_TRY(r_.wwn(*f, &vt->wwnn));
    TOPO_TRY(r_.require(m, "luns", &f));
    std::vector<YamlField> luns;
    TOPO_TRY(r_.open_list(*f, &luns));
    if (luns.empty()) return r_.error(*f, "must list at least one LUN");
    vt->luns.resize(luns.size());
    for (size_t i = 0; i < luns.size(); ++i)
      TOPO_TRY(read_virtual_lun(luns[i], i, &vt->luns[i]));
    return absl::OkStatus();
  }

  // {at: TIME, migrate: {volume, lba, disk, lun, to_lba}}; the volume and
  // the disk must exist in `t` (read before the services).
  absl::Status read_service(const YamlField& item, const Topology& t, ServiceConfig* service) {
    YamlMap m;
    TOPO_TRY(r_.open_map(item,
                         {"at", "migrate", "snapshot", "incremental", "grow", "split", "merge",
                          "mirror_fail", "mirror_return"},
                         &m));
    const YamlField* f = nullptr;
    TOPO_TRY(r_.require(m, "at", &f));
    TOPO_TRY(r_.time(*f, false, &service->at_ns));
    auto volume_named = [&](const YamlField& v, std::string* name) -> absl::Status {
      TOPO_TRY(r_.string(v, name));
      for (const VolumeConfig& x : t.volumes)
        if (x.name == *name) return absl::OkStatus();
      return r_.error(v, fmt::format("no volume '{}'", quote_got(*name)));
    };
    int named = 0;
    for (const char* key : {"migrate", "snapshot", "incremental", "grow", "split", "merge",
                            "mirror_fail", "mirror_return"})
      named += int(m.get(key) != nullptr);
    if (named > 1) {
      return r_.error(item,
                      "names two services (one of migrate, snapshot, incremental, grow, split, "
                      "merge, mirror_fail, mirror_return per entry)");
    }
    auto volume_of = [&](const YamlField& v, std::string* name,
                         const VolumeConfig** vol) -> absl::Status {
      TOPO_TRY(volume_named(v, name));
      for (const VolumeConfig& x : t.volumes)
        if (x.name == *name) *vol = &x;
      return absl::OkStatus();
    };
    if ((f = m.get("grow"))) {
      // {volume, disk, lun, lba, blocks, extent_blocks, ...}: the new VSEG,
      // with the keys of a volume's VSEG.
      YamlMap gm;
      TOPO_TRY(r_.open_map(*f,
                           {"volume", "disk", "lun", "lba", "stripe", "mirror", "blocks",
                            "extent_blocks", "fault_on_read", "fault_on_write"},
                           &gm));
      GrowConfig& g = service->grow.emplace();
      const YamlField* v = nullptr;
      const VolumeConfig* vol = nullptr;
      TOPO_TRY(r_.require(gm, "volume", &v));
      TOPO_TRY(volume_of(*v, &g.volume, &vol));
      // The VSEG keys alone, read as a volume's VSEG is.
      YAML::Node vseg_node(YAML::NodeType::Map);
      for (auto it = f->node.begin(); it != f->node.end(); ++it) {
        if (it->first.as<std::string>() != "volume") vseg_node[it->first] = it->second;
      }
      TOPO_TRY(read_vseg(YamlField{vseg_node, f->path, f->line}, &g.vseg));
      if (g.vseg.blocks == 0) return r_.error(*gm.get("blocks"), "must be at least 1");
      auto disk_known = [&](const std::string& name) {
        for (const DiskConfig& d : t.disks)
          if (d.name == name) return true;
        return false;
      };
      if (!g.vseg.stripe && !g.vseg.mirror && !disk_known(g.vseg.disk)) {
        return r_.error(*gm.get("disk"), fmt::format("no disk '{}'", quote_got(g.vseg.disk)));
      }
      return absl::OkStatus();
    }
    for (const char* key : {"mirror_fail", "mirror_return"}) {
      if (!(f = m.get(key))) continue;
      // {volume, side, lba}: the side of the mirrored VSEG holding `lba` (0).
      YamlMap em;
      TOPO_TRY(r_.open_map(*f, {"volume", "side", "lba"}, &em));
      MirrorSideServiceConfig& e = std::string(key) == "mirror_fail"
                                       ? service->mirror_fail.emplace()
                                       : service->mirror_return.emplace();
      const YamlField* v = nullptr;
      const VolumeConfig* vol = nullptr;
      TOPO_TRY(r_.require(em, "volume", &v));
      TOPO_TRY(volume_of(*v, &e.volume, &vol));
      uint64_t blocks = 0;
      const VsegConfig* seg = nullptr;
      if ((v = em.get("lba"))) {
        for (const VsegConfig& x : vol->vsegs)
          blocks += x.blocks;
        TOPO_TRY(r_.unsigned_int(*v, 0, blocks ? blocks - 1 : 0, &e.lba));
      }
      uint64_t at = 0;
      for (const VsegConfig& x : vol->vsegs) {
        if (e.lba >= at && e.lba < at + x.blocks) seg = &x;
        at += x.blocks;
      }
      if (!seg || !seg->mirror) {
        return r_.error(
            em.get("lba") ? *em.get("lba") : *em.get("volume"),
            fmt::format("volume '{}' block {} is not on a mirrored VSEG", e.volume, e.lba));
      }
      TOPO_TRY(r_.require(em, "side", &v));
      uint64_t side = 0;
      TOPO_TRY(r_.unsigned_int(*v, 0, seg->mirror->sides.size() - 1, &side));
      e.side = static_cast<uint32_t>(side);
      return absl::OkStatus();
    }
    for (const char* key : {"split", "merge"}) {
      if (!(f = m.get(key))) continue;
      YamlMap em;
      TOPO_TRY(r_.open_map(*f, {"volume", "lba"}, &em));
      VsegEditConfig& e =
          std::string(key) == "split" ? service->split.emplace() : service->merge.emplace();
      const YamlField* v = nullptr;
      const VolumeConfig* vol = nullptr;
      TOPO_TRY(r_.require(em, "volume", &v));
      TOPO_TRY(volume_of(*v, &e.volume, &vol));
      TOPO_TRY(r_.require(em, "lba", &v));
      // Blocks a grow earlier in the list adds count too.
      uint64_t blocks = 0;
      for (const VsegConfig& seg : vol->vsegs)
        blocks += seg.blocks;
      for (const ServiceConfig& other : t.services) {
        if (other.grow && other.grow->volume == e.volume) blocks += other.grow->vseg.blocks;
      }
      TOPO_TRY(r_.unsigned_int(*v, 1, blocks ? blocks - 1 : 1, &e.lba));
      return absl::OkStatus();
    }
    if ((f = m.get("incremental"))) {
      YamlMap im;
      TOPO_TRY(r_.open_map(*f, {"base", "name"}, &im));
      IncrementalConfig& ic = service->incremental.emplace();
      const YamlField* v = nullptr;
      TOPO_TRY(r_.require(im, "base", &v));
      TOPO_TRY(volume_named(*v, &ic.base));
      TOPO_TRY(r_.require(im, "name", &v));
      TOPO_TRY(volume_named(*v, &ic.name));
      return absl::OkStatus();
    }
    if ((f = m.get("snapshot"))) {
      auto read_snapshot = [&](const YamlField& item, SnapshotConfig* sc) -> absl::Status {
        YamlMap sm;
        TOPO_TRY(r_.open_map(item, {"source", "name"}, &sm));
        const YamlField* v = nullptr;
        TOPO_TRY(r_.require(sm, "source", &v));
        TOPO_TRY(volume_named(*v, &sc->source));
        TOPO_TRY(r_.require(sm, "name", &v));
        TOPO_TRY(volume_named(*v, &sc->name));
        return absl::OkStatus();
      };
      // A list is one group-atomic snapshot of several volumes.
      if (!f->node.IsSequence()) return read_snapshot(*f, &service->snapshots.emplace_back());
      std::vector<YamlField> group;
      TOPO_TRY(r_.open_list(*f, &group));
      if (group.empty()) return r_.error(*f, "must list at least one {source, name}");
      service->snapshots.resize(group.size());
      for (size_t i = 0; i < group.size(); ++i)
        TOPO_TRY(read_snapshot(group[i], &service->snapshots[i]));
      return absl::OkStatus();
    }
    if (!(f = m.get("migrate")))
      return r_.error(item,
                      "must name a service (migrate, snapshot, incremental, grow, split, merge, "
                      "mirror_fail, mirror_return)");
    YamlMap mm;
    TOPO_TRY(r_.open_map(*f, {"volume", "lba", "disk", "lun", "to_lba"}, &mm));
    MigrateConfig& mc = service->migrate.emplace();
    const YamlField* v = nullptr;
    TOPO_TRY(r_.require(mm, "volume", &v));
    TOPO_TRY(r_.string(*v, &mc.volume));
    const VolumeConfig* vol = nullptr;
    for (const VolumeConfig& x : t.volumes)
      if (x.name == mc.volume) vol = &x;
    if (vol == nullptr) return r_.error(*v, fmt::format("no volume '{}'", quote_got(mc.volume)));
    uint64_t blocks = 0;
    for (const VsegConfig& seg : vol->vsegs)
      blocks += seg.blocks;
    if ((v = mm.get("lba"))) TOPO_TRY(r_.unsigned_int(*v, 0, blocks ? blocks - 1 : 0, &mc.lba));
    TOPO_TRY(r_.require(mm, "disk", &v));
    TOPO_TRY(r_.string(*v, &mc.disk));
    bool disk_found = false;
    for (const DiskConfig& d : t.disks)
      disk_found = disk_found || d.name == mc.disk;
    if (!disk_found) return r_.error(*v, fmt::format("no disk '{}'", quote_got(mc.disk)));
    if ((v = mm.get("lun"))) TOPO_TRY(r_.unsigned_int(*v, 0, kMaxLun, &mc.lun));
    if ((v = mm.get("to_lba"))) TOPO_TRY(r_.unsigned_int(*v, 0, ~0ull, &mc.to_lba));
    return absl::OkStatus();
  }

  absl::Status read_virtual_lun(const YamlField& item, size_t index, VirtualLunConfig* lun) {
    YamlMap m;
    TOPO_TRY(r_.open_map(item, {"lun", "volume", "hosts", "read_only"}, &m));
    const YamlField* f = nullptr;
    TOPO_TRY(r_.require(m, "lun", &f));
    TOPO_TRY(r_.unsigned_int(*f, 0, kMaxLun, &lun->lun));
    TOPO_TRY(r_.require(m, "volume", &f));
    TOPO_TRY(r_.string(*f, &lun->volume));
    if ((f = m.get("hosts"))) TOPO_TRY(read_lun_hosts(*f, index, &lun_hosts_));
    if ((f = m.get("read_only"))) TOPO_TRY(r_.boolean(*f, &lun->read_only));
    return absl::OkStatus();
  }

  // What a name other than a host's or disk's is, for error messages; "" when
  // the name is unused.
  static std::string other_kind(const Topology& t, const std::string& name) {
    for (const SwitchConfig& s : t.switches) {
      if (s.name == name) return "a switch";
    }
    for (const VolumeConfig& v : t.volumes) {
      if (v.name == name) return "a volume";
    }
    return "";
  }

  // Zone members name hosts, disks or virtual targets, or give a WWPN literally.
  absl::Status resolve_zone_members(Topology* t) {
    for (const Pending& p : zone_members_) {
      uint64_t wwpn = 0;
      if (is_valid_name(p.text)) {
        for (const HostConfig& h : t->hosts) {
          if (h.name == p.text) wwpn = h.wwpn;
        }
        for (const DiskConfig& d : t->disks) {
          if (d.name == p.text) wwpn = d.wwpn;
        }
        for (const VirtualTargetConfig& vt : t->virtual_targets) {
          if (vt.name == p.text) wwpn = vt.wwpn;
        }
        if (wwpn == 0) {
          const std::string kind = other_kind(*t, p.text);
          if (!kind.empty()) {
            return r_.error(p.field, fmt::format("'{}' is {}: zone members are hosts, disks and "
                                                 "virtual targets",
                                                 p.text, kind));
          }
          return r_.error(p.field,
                          fmt::format("no host, disk or virtual target named '{}'", p.text));
        }
      } else {
        auto parsed = parse_wwn(p.text);
        if (!parsed.ok()) {
          return r_.error(p.field, fmt::format("must name a host, disk or virtual target, or be "
                                               "a WWPN like 50:00:00:00:00:00:01:00 (got '{}')",
                                               quote_got(p.text)));
        }
        wwpn = *parsed;
      }
      t->zones[p.owner].members.push_back(wwpn);
    }
    return absl::OkStatus();
  }

  // LUN masking lists hosts by name or WWPN. Whether a WWPN given literally is a
  // host's is validate_topology()'s business.
  absl::Status resolve_lun_hosts(Topology* t) {
    uint64_t wwpn = 0;
    for (const Pending& p : lun_hosts_) {
      TOPO_TRY(resolve_lun_host(*t, p, &wwpn));
      t->virtual_targets[p.owner].luns[p.sub].hosts.push_back(wwpn);
    }
    for (const Pending& p : disk_lun_hosts_) {
      TOPO_TRY(resolve_lun_host(*t, p, &wwpn));
      t->disks[p.owner].luns[p.sub].initiators.push_back(wwpn);
    }
    return absl::OkStatus();
  }

  // One entry of a LUN's `hosts`: a host's name, or a WWPN written out.
  absl::Status resolve_lun_host(const Topology& t, const Pending& p, uint64_t* wwpn) {
    *wwpn = 0;
    if (!is_valid_name(p.text)) {
      auto parsed = parse_wwn(p.text);
      if (!parsed.ok()) {
        return r_.error(p.field, fmt::format("must name a host or be a WWPN like "
                                             "10:00:00:00:00:00:00:01 (got '{}')",
                                             quote_got(p.text)));
      }
      *wwpn = *parsed;
      return absl::OkStatus();
    }
    for (const HostConfig& h : t.hosts) {
      if (h.name == p.text) *wwpn = h.wwpn;
    }
    if (*wwpn != 0) return absl::OkStatus();
    std::string kind = other_kind(t, p.text);
    for (const DiskConfig& d : t.disks) {
      if (d.name == p.text) kind = "a disk";
    }
    for (const VirtualTargetConfig& vt : t.virtual_targets) {
      if (vt.name == p.text) kind = "a virtual target";
    }
    if (!kind.empty()) {
      return r_.error(p.field, fmt::format("'{}' is {}: LUN masking lists hosts", p.text, kind));
    }
    return r_.error(p.field, fmt::format("no host named '{}'", p.text));
  }

  // "switch:port" is kept for ISL ends (in canonical form) and replaced by the
  // node's name for a node's attach port, so the runner needs only two cases.
  absl::Status resolve_fault_targets(Topology* t) {
    for (const Pending& p : fault_targets_) {
      FaultConfig& fault = t->faults[p.owner];
      if (fault.kind != FaultKind::kLinkDown && fault.kind != FaultKind::kLinkUp &&
          fault.kind != FaultKind::kLinkDelay) {
        continue;
      }
      if (p.text.find(':') == std::string::npos) continue;
      auto ref = parse_port_ref(p.text);
      if (!ref.ok()) return r_.error(p.field, std::string(ref.status().message()));
      fault.target = format_port_ref(*ref);
      auto same = [&](const AttachConfig& a) {
        return a.port.switch_name == ref->switch_name && a.port.port == ref->port;
      };
      for (const HostConfig& h : t->hosts) {
        if (same(h.attach)) fault.target = h.name;
      }
      for (const DiskConfig& d : t->disks) {
        if (same(d.attach)) fault.target = d.name;
      }
    }
    return absl::OkStatus();
  }

  YamlReader r_;
  size_t item_index_ = 0;
  std::vector<Pending> zone_members_;
  std::vector<Pending> fault_targets_;
  std::vector<Pending> lun_hosts_;       // virtual LUNs' hosts
  std::vector<Pending> disk_lun_hosts_;  // disk LUNs' hosts (owner: disk, sub: LUN)
};

// Records where a document starts and whether its root is empty.
class DocumentScan : public YAML::EventHandler {
 public:
  YAML::Mark start;
  bool root_seen = false;
  bool root_null = false;

  void OnDocumentStart(const YAML::Mark& mark) override { start = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override { root(true); }
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override { root(false); }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {
    root(false);
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    root(false);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    root(false);
  }
  void OnMapEnd() override {}

 private:
  void root(bool null) {
    if (!root_seen) root_null = null;
    root_seen = true;
  }
};

// The stream must hold exactly one document. The documents are counted here, two
// at most, rather than with YAML::LoadAll: on a token its parser cannot place,
// such as a stray ',', yaml-cpp reports an empty document at that token again
// and again, and LoadAll loops forever allocating (yaml-cpp issue #1040).
absl::Status check_single_document(const std::string& text, const std::string& source) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentScan first;
  if (!parser.HandleNextDocument(first)) {
    return absl::InvalidArgumentError(fmt::format(
        "{}:1: the file holds no YAML document (it must be a map with at least 'switches')",
        source));
  }
  DocumentScan second;
  if (!parser.HandleNextDocument(second)) return absl::OkStatus();
  const size_t pos = static_cast<size_t>(std::max(second.start.pos, 0));
  if (text.compare(pos, 3, "---") == 0 || !second.root_null) {
    return absl::InvalidArgumentError(
        fmt::format("{}:{}: only one YAML document is allowed (a second one starts here)", source,
                    second.start.line + 1));
  }
  return absl::InvalidArgumentError(fmt::format(
      "{}:{}:{}: YAML syntax error: unexpected '{}'", source, second.start.line + 1,
      second.start.column + 1, pos < text.size() ? quote_got(text.substr(pos, 1)) : ""));
}

absl::StatusOr<Topology> parse_document(const std::string& text, const std::string& source) {
  TOPO_TRY(check_single_document(text, source));
  const YAML::Node root = YAML::Load(text);
  Topology t;
  t.source = source;
  FieldLines lines;
  TopologyReader reader(source, &lines);
  absl::Status s = reader.read(root, &t);
  if (s.ok()) s = validate_topology(t, &lines);
  if (!s.ok()) return s;
  return t;
}

std::string mark_prefix(const std::string& source, const YAML::Mark& mark) {
  if (mark.is_null()) return source;
  return fmt::format("{}:{}:{}", source, mark.line + 1, mark.column + 1);
}

}  // namespace

absl::StatusOr<Topology> parse_topology_yaml(const std::string& text,
                                             const std::string& source_name) {
  try {
    return parse_document(text, source_name);
  } catch (const YAML::DeepRecursion& e) {
    return absl::InvalidArgumentError(
        fmt::format("{}: YAML syntax error: nested too deeply ({} levels)",
                    mark_prefix(source_name, e.mark), e.depth()));
  } catch (const YAML::ParserException& e) {
    return absl::InvalidArgumentError(
        fmt::format("{}: YAML syntax error: {}", mark_prefix(source_name, e.mark), e.msg));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        fmt::format("{}: YAML error: {}", mark_prefix(source_name, e.mark), e.msg));
  } catch (const std::exception& e) {
    return absl::InternalError(
        fmt::format("{}: cannot read the topology: {}", source_name, e.what()));
  }
}

absl::Status add_service_yaml(const std::string& text, const std::string& source_name,
                              Topology* t) {
  try {
    const YAML::Node root = YAML::Load(text);
    FieldLines lines;
    TopologyReader reader(source_name, &lines);
    ServiceConfig service;
    TOPO_TRY(reader.read_service_document(root, *t, &service));
    t->services.push_back(std::move(service));
    return absl::OkStatus();
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        fmt::format("{}: YAML error: {}", mark_prefix(source_name, e.mark), e.msg));
  }
}

absl::Status add_replication_yaml(const std::string& text, const std::string& source_name,
                                  Topology* t) {
  try {
    const YAML::Node root = YAML::Load(text);
    FieldLines lines;
    TopologyReader reader(source_name, &lines);
    TOPO_TRY(reader.read_replication_document(root, t));
    return absl::OkStatus();
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        fmt::format("{}: YAML error: {}", mark_prefix(source_name, e.mark), e.msg));
  }
}

absl::StatusOr<Topology> load_topology_file(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (file == nullptr) {
    const int err = errno;
    return absl::ErrnoToStatus(err, fmt::format("{}: cannot open the topology file", path));
  }
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, file.get())) > 0) {
    text.append(buf, n);
    if (text.size() > kMaxFileBytes) {
      return absl::InvalidArgumentError(
          fmt::format("{}: the topology file is larger than {} bytes", path, kMaxFileBytes));
    }
  }
  if (std::ferror(file.get())) {
    const int err = errno;
    return absl::ErrnoToStatus(err, fmt::format("{}: cannot read the topology file", path));
  }
  return parse_topology_yaml(text, path);
}

}  // namespace splitpath::sim
