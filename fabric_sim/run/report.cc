#include "fabric_sim/run/report.h"

#include "fabric_sim/run/dves_report.h"
#include "fabric_sim/run/latency_json.h"
#include "fabric_sim/run/mirrors_report.h"
#include "fabric_sim/run/replication_report.h"
#include "fabric_sim/run/services_report.h"
#include "fabric_sim/run/virtualization_report.h"
#include "fabric_sim/topology/wwn.h"
#include "fmt/format.h"

namespace splitpath::sim {

nlohmann::ordered_json make_report(const Fabric& fabric) {
  const Topology& t = fabric.topology();
  const double seconds = static_cast<double>(fabric.workload_ns()) / 1e9;
  nlohmann::ordered_json r;
  r["seed"] = t.seed;
  r["topology"] = t.source;
  r["sim_seconds"] = seconds;
  uint64_t frames = 0;
  for (const auto& sw : fabric.switches()) {
    for (uint32_t p = 0; p < sw->port_count(); ++p)
      frames += sw->port_stats(p).rx_frames;
  }
  r["frames"] = frames;
  r["events"] = const_cast<Fabric&>(fabric).kernel().events_processed();
  uint64_t ios = 0, verify = 0, errors = 0;
  auto hosts = nlohmann::ordered_json::array();
  for (const auto& h : fabric.hosts()) {
    const HostStats& s = h->stats();
    ios += s.ios_completed;
    verify += s.verify_errors;
    errors += s.check_conditions + s.other_status + s.timeouts + s.protocol_errors;
    nlohmann::ordered_json j;
    j["name"] = h->name();
    j["wwpn"] = format_wwn(h->wwpn());
    j["port_id"] = fmt::format("{:06x}", h->port_id().value);
    j["luns"] = h->luns().size();
    j["ios_completed"] = s.ios_completed;
    j["reads"] = s.reads;
    j["writes"] = s.writes;
    j["iops"] = seconds > 0 ? static_cast<double>(s.ios_completed) / seconds : 0.0;
    j["mb_per_s"] =
        seconds > 0 ? static_cast<double>(s.bytes_read + s.bytes_written) / 1e6 / seconds : 0.0;
    j["latency_us"] = latency_json(s.latency);
    j["read_latency_us"] = latency_json(s.read_latency);
    j["write_latency_us"] = latency_json(s.write_latency);
    j["check_conditions"] = s.check_conditions;
    j["other_status"] = s.other_status;
    j["timeouts"] = s.timeouts;
    j["retries"] = s.retries;
    j["unit_attentions"] = s.unit_attentions;
    j["capacity_changes"] = s.capacity_changes;
    j["protocol_errors"] = s.protocol_errors;
    j["verify_errors"] = s.verify_errors;
    hosts.push_back(j);
  }
  r["ios_completed"] = ios;
  r["verify_errors"] = verify;
  r["io_errors"] = errors;
  r["hosts"] = hosts;
  auto disks = nlohmann::ordered_json::array();
  for (const auto& d : fabric.disks()) {
    const DiskStats& s = d->stats();
    nlohmann::ordered_json j;
    j["name"] = d->name();
    j["wwpn"] = format_wwn(d->wwpn());
    j["port_id"] = fmt::format("{:06x}", d->port_id().value);
    j["commands"] = s.commands;
    j["reads"] = s.reads;
    j["writes"] = s.writes;
    j["bytes_read"] = s.bytes_read;
    j["bytes_written"] = s.bytes_written;
    j["check_conditions"] = s.check_conditions;
    j["task_set_full"] = s.task_set_full;
    j["aborted"] = s.aborted;
    disks.push_back(j);
  }
  r["disks"] = disks;
  auto switches = nlohmann::ordered_json::array();
  for (const auto& sw : fabric.switches()) {
    nlohmann::ordered_json js;
    js["name"] = sw->name();
    js["domain"] = sw->domain();
    auto ports = nlohmann::ordered_json::array();
    for (uint32_t p = 0; p < sw->port_count(); ++p) {
      const Link* link = sw->port_link(p);
      if (!link) continue;
      const SwitchPortStats& s = sw->port_stats(p);
      const LinkDirectionStats& tx = link->stats(sw->port_link_side(p));
      nlohmann::ordered_json jp;
      jp["port"] = p;
      jp["role"] = sw->port_role(p) == PortRole::kEPort ? "E" : "F";
      jp["rx_frames"] = s.rx_frames;
      jp["tx_frames"] = tx.frames;
      jp["rx_bytes"] = s.rx_bytes;
      jp["tx_bytes"] = tx.bytes;
      jp["drops"] = s.drops() + tx.dropped;
      jp["drop_zoning"] = s.drop_zoning;
      jp["drop_no_route"] = s.drop_no_route;
      jp["drop_not_logged_in"] = s.drop_not_logged_in;
      jp["drop_malformed"] = s.drop_malformed;
      jp["drop_link_down"] = tx.dropped;
      ports.push_back(jp);
    }
    js["ports"] = ports;
    if (const SwitchVirtualizationStats v = sw->virtualization_stats(); v.enabled) {
      js["virtualization"] = virtualization_json(v);
    }
    switches.push_back(js);
  }
  r["switches"] = switches;
  r["services"] = services_json(fabric);
  r["mirrors"] = mirrors_json(fabric);
  r["replications"] = replications_json(fabric);
  if (auto dves = dves_json(fabric); !dves.is_null()) r["dves"] = dves;
  r["captured_frames"] = fabric.captured_frames();
  return r;
}

std::string format_summary(const nlohmann::ordered_json& r) {
  std::string out = fmt::format(
      "splitpath run: {}, seed {}, {:.3f} simulated s, {} events, {} frames switched\n",
      r["topology"].get<std::string>(), r["seed"].get<uint64_t>(), r["sim_seconds"].get<double>(),
      r["events"].get<uint64_t>(), r["frames"].get<uint64_t>());
  out += fmt::format("{:<10} {:>5} {:>10} {:>10} {:>9} {:>9} {:>9} {:>7} {:>7}\n", "host", "luns",
                     "ios", "iops", "MB/s", "p50 us", "p99 us", "errors", "verify");
  for (const auto& h : r["hosts"]) {
    const uint64_t errors = h["check_conditions"].get<uint64_t>() +
                            h["other_status"].get<uint64_t>() + h["timeouts"].get<uint64_t>() +
                            h["protocol_errors"].get<uint64_t>();
    out += fmt::format(
        "{:<10} {:>5} {:>10} {:>10.0f} {:>9.1f} {:>9.1f} {:>9.1f} {:>7} {:>7}\n",
        h["name"].get<std::string>(), h["luns"].get<uint64_t>(), h["ios_completed"].get<uint64_t>(),
        h["iops"].get<double>(), h["mb_per_s"].get<double>(), h["latency_us"]["p50"].get<double>(),
        h["latency_us"]["p99"].get<double>(), errors, h["verify_errors"].get<uint64_t>());
  }
  for (const auto& sw : r["switches"]) {
    uint64_t rx = 0, drops = 0;
    for (const auto& p : sw["ports"]) {
      rx += p["rx_frames"].get<uint64_t>();
      drops += p["drops"].get<uint64_t>();
    }
    out += fmt::format("switch {} (domain {}): {} frames in, {} dropped\n",
                       sw["name"].get<std::string>(), sw["domain"].get<int>(), rx, drops);
    if (sw.contains("virtualization")) {
      out += format_virtualization_line(sw["name"].get<std::string>(), sw["virtualization"]);
    }
  }
  if (r.contains("services")) out += format_services_lines(r["services"]);
  if (r.contains("mirrors")) out += format_mirrors_lines(r["mirrors"]);
  if (r.contains("replications")) out += format_replication_lines(r["replications"]);
  if (r.contains("dves")) out += format_dves_lines(r["dves"]);
  out += fmt::format("total: {} I/Os completed, {} I/O errors, {} verify errors\n",
                     r["ios_completed"].get<uint64_t>(), r["io_errors"].get<uint64_t>(),
                     r["verify_errors"].get<uint64_t>());
  return out;
}

}  // namespace splitpath::sim
