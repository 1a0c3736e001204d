#include "fabric_sim/replay/replay_report.h"

#include <map>
#include <tuple>

#include "fabric_sim/run/latency_json.h"
#include "fabric_sim/run/virtualization_report.h"
#include "fabric_sim/topology/wwn.h"
#include "fmt/format.h"

namespace splitpath::sim::replay {

namespace {

using Json = nlohmann::ordered_json;

Json wwpn_json(uint64_t wwpn) {
  return wwpn ? Json(format_wwn(wwpn)) : Json(nullptr);
}

Json ports_json(const TraceCommandStream& stream, const ReplayPlan& plan) {
  Json ports = Json::array();
  for (fc::FcId id : stream.initiators()) {
    auto h = plan.hosts.find(id.value);
    ports.push_back({{"role", "initiator"},
                     {"id", format_port_id(id)},
                     {"wwpn", wwpn_json(stream.wwpn_of(id))},
                     {"node", h == plan.hosts.end() ? Json(nullptr) : Json(h->second)}});
  }
  for (fc::FcId id : stream.targets()) {
    auto t = plan.targets.find(id.value);
    ports.push_back({{"role", "target"},
                     {"id", format_port_id(id)},
                     {"wwpn", wwpn_json(stream.wwpn_of(id))},
                     {"node", t == plan.targets.end() ? Json(nullptr) : Json(t->second.name)}});
  }
  return ports;
}

Json mismatch_json(const TraceCommand& c, const CommandOutcome& o) {
  Json m;
  m["frame"] = c.frame;
  m["initiator"] = format_port_id(c.initiator);
  m["target"] = format_port_id(c.target);
  m["lun"] = c.lun;
  m["opcode"] = fmt::format("{:#04x}", c.opcode);
  m["lba"] = c.lba ? Json(*c.lba) : Json(nullptr);
  m["blocks"] = c.blocks ? Json(*c.blocks) : Json(nullptr);
  m["what"] = o.mismatch;
  return m;
}

Json skipped_json(const TraceCommandStream& stream, const ReplayResult& result) {
  std::map<std::string, uint64_t> reasons;
  for (const CommandOutcome& o : result.outcomes) {
    if (!o.skipped.empty()) ++reasons[o.skipped];
  }
  Json s;
  s["commands"] = result.skipped;
  s["reasons"] = Json::object();
  for (const auto& [reason, n] : reasons)
    s["reasons"][reason] = n;
  s["task_management"] = stream.skipped.task_management;
  s["undecoded_command"] = stream.skipped.undecoded_command;
  s["multi_level_lun"] = stream.skipped.multi_level_lun;
  s["missing_command"] = stream.missing_command;
  s["undecoded_headers"] = stream.undecoded_headers;
  s["short_frames"] = stream.reader_skipped.short_frames;
  s["bad_encapsulation"] = stream.reader_skipped.bad_encapsulation;
  s["truncated_file"] = stream.reader_skipped.truncated_file;
  s["fip"] = stream.reader_skipped.fip;
  s["other_ethertype"] = stream.reader_skipped.other_ethertype;
  return s;
}

Json itls_json(const TraceCommandStream& stream, const ReplayResult& result) {
  struct Counts {
    uint64_t commands = 0, replayed = 0, mismatches = 0;
  };
  std::map<std::tuple<uint32_t, uint32_t, uint16_t>, Counts> itls;
  for (size_t i = 0; i < stream.commands.size(); ++i) {
    const TraceCommand& c = stream.commands[i];
    Counts& n = itls[{c.initiator.value, c.target.value, c.lun}];
    ++n.commands;
    n.replayed += result.outcomes[i].replayed;
    n.mismatches += !result.outcomes[i].mismatch.empty();
  }
  Json out = Json::array();
  for (const auto& [itl, n] : itls) {
    out.push_back({{"initiator", format_port_id(fc::FcId{std::get<0>(itl)})},
                   {"target", format_port_id(fc::FcId{std::get<1>(itl)})},
                   {"lun", std::get<2>(itl)},
                   {"commands", n.commands},
                   {"replayed", n.replayed},
                   {"mismatches", n.mismatches}});
  }
  return out;
}

}  // namespace

Json replay_json(const TraceCommandStream& stream, const ReplayPlan& plan,
                 const ReplayResult& result) {
  Json j;
  j["file"] = stream.file;
  j["link_type"] = stream.link_type;
  j["mode"] = replay_mode_name(result.mode);
  j["topology"] = plan.topology.source;
  j["built_from_trace"] = plan.built_from_trace;
  j["trace"] = {{"records", stream.records},
                {"frames", stream.frames},
                {"commands", stream.commands.size()},
                {"span_ns", result.trace_span_ns}};
  j["ports"] = ports_json(stream, plan);
  j["commands_replayed"] = result.replayed;
  j["commands_compared"] = result.compared;
  j["unanswered_in_trace"] = result.unanswered;
  j["sim_timeouts"] = result.sim_timeouts;
  Json first = Json::array();
  for (size_t i = 0; i < result.outcomes.size() && first.size() < kDescribedMismatches; ++i) {
    if (!result.outcomes[i].mismatch.empty())
      first.push_back(mismatch_json(stream.commands[i], result.outcomes[i]));
  }
  j["mismatches"] = {{"count", result.mismatches}, {"first", first}};
  j["skipped"] = skipped_json(stream, result);
  Json problems = Json::array();
  for (size_t i = 0; i < stream.problems.size() && i < kDescribedProblems; ++i)
    problems.push_back(
        {{"frame", stream.problems[i].frame}, {"reason", stream.problems[i].reason}});
  j["problems"] = {{"count", stream.problems.size()}, {"first", problems}};
  j["notes"] = plan.notes;
  j["latency_us"] = {{"trace", latency_json(result.trace_latency)},
                     {"simulation", latency_json(result.sim_latency)}};
  j["sim_duration_ns"] = result.duration_ns;
  j["sim_start_ns"] = result.start_ns;
  j["itls"] = itls_json(stream, result);
  Json switches = Json::array();
  for (const SwitchReplayStats& s : result.switches)
    switches.push_back(
        {{"name", s.name}, {"virtualization", virtualization_json(s.virtualization)}});
  j["switches"] = switches;
  j["captured_frames"] = result.captured_frames;
  j["read_error"] =
      stream.read_error.ok() ? Json(nullptr) : Json(std::string(stream.read_error.message()));
  return j;
}

std::string format_replay_summary(const Json& r) {
  std::string out;
  out += fmt::format("replay of {} (link type {}), mode {}, on {}\n", r["file"].get<std::string>(),
                     r["link_type"].get<int>(), r["mode"].get<std::string>(),
                     r["topology"].get<std::string>());
  const Json& t = r["trace"];
  out += fmt::format("trace: {} records, {} FC frames, {} FCP commands over {:.6f} s\n",
                     t["records"].get<uint64_t>(), t["frames"].get<uint64_t>(),
                     t["commands"].get<uint64_t>(), t["span_ns"].get<uint64_t>() / 1e9);
  for (const Json& p : r["ports"]) {
    out += fmt::format("  {:9} {} {:23} -> {}\n", p["role"].get<std::string>(),
                       p["id"].get<std::string>(),
                       p["wwpn"].is_null() ? "(no WWPN)" : p["wwpn"].get<std::string>(),
                       p["node"].is_null() ? "(not replayed)" : p["node"].get<std::string>());
  }
  out += fmt::format(
      "commands: {} replayed, {} compared, {} mismatches, {} not replayed, {} unanswered in the "
      "trace, {} timed out in the simulation\n",
      r["commands_replayed"].get<uint64_t>(), r["commands_compared"].get<uint64_t>(),
      r["mismatches"]["count"].get<uint64_t>(), r["skipped"]["commands"].get<uint64_t>(),
      r["unanswered_in_trace"].get<uint64_t>(), r["sim_timeouts"].get<uint64_t>());
  for (const Json& m : r["mismatches"]["first"]) {
    out += fmt::format("  mismatch: frame {}: {} -> {} LUN {} opcode {}{}: {}\n",
                       m["frame"].get<uint64_t>(), m["initiator"].get<std::string>(),
                       m["target"].get<std::string>(), m["lun"].get<int>(),
                       m["opcode"].get<std::string>(),
                       m["lba"].is_null() ? "" : fmt::format(" LBA {}", m["lba"].get<uint64_t>()),
                       m["what"].get<std::string>());
  }
  for (const auto& [reason, n] : r["skipped"]["reasons"].items())
    out += fmt::format("  not replayed: {} ({})\n", reason, n.get<uint64_t>());
  const Json& s = r["skipped"];
  out += fmt::format(
      "skipped in the trace: {} task management, {} undecodable FCP_CMND, {} multi-level LUN, "
      "{} frames missing their command, {} undecodable headers, {} too short, {} cut file\n",
      s["task_management"].get<uint64_t>(), s["undecoded_command"].get<uint64_t>(),
      s["multi_level_lun"].get<uint64_t>(), s["missing_command"].get<uint64_t>(),
      s["undecoded_headers"].get<uint64_t>(), s["short_frames"].get<uint64_t>(),
      s["truncated_file"].get<uint64_t>());
  out += fmt::format("problems: {}\n", r["problems"]["count"].get<uint64_t>());
  for (const Json& p : r["problems"]["first"])
    out +=
        fmt::format("  frame {}: {}\n", p["frame"].get<uint64_t>(), p["reason"].get<std::string>());
  for (const Json& n : r["notes"])
    out += fmt::format("note: {}\n", n.get<std::string>());
  auto lat = [](const Json& l) {
    return fmt::format("p50 {:.1f} us, p99 {:.1f} us, p999 {:.1f} us, max {:.1f} us",
                       l["p50"].get<double>(), l["p99"].get<double>(), l["p999"].get<double>(),
                       l["max"].get<double>());
  };
  out += fmt::format("latency in the trace:      {}\n", lat(r["latency_us"]["trace"]));
  out += fmt::format("latency in the simulation: {}\n", lat(r["latency_us"]["simulation"]));
  out +=
      fmt::format("simulated replay time: {:.6f} s (trace span {:.6f} s)\n",
                  r["sim_duration_ns"].get<uint64_t>() / 1e9, t["span_ns"].get<uint64_t>() / 1e9);
  for (const Json& sw : r["switches"])
    out += format_virtualization_line(sw["name"].get<std::string>(), sw["virtualization"]);
  if (!r["read_error"].is_null())
    out += fmt::format("warning: {}\n", r["read_error"].get<std::string>());
  return out;
}

}  // namespace splitpath::sim::replay
