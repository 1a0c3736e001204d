#include "fabric_sim/run/mirrors_report.h"

#include "fabric_sim/switch/switch.h"
#include "fabric_sim/switch/switch_virtualization.h"
#include "fmt/format.h"

namespace splitpath::sim {

namespace {

const char* side_state_name(map::SideState s) {
  switch (s) {
    case map::SideState::kAlive:
      return "ALIVE";
    case map::SideState::kDead:
      return "DEAD";
    case map::SideState::kResync:
      return "RESYNC";
  }
  return "?";
}

const char* resync_state_name(cp::ResyncProgress::State s) {
  switch (s) {
    case cp::ResyncProgress::State::kRunning:
      return "running";
    case cp::ResyncProgress::State::kDone:
      return "done";
    case cp::ResyncProgress::State::kFailed:
      return "failed";
  }
  return "?";
}

}  // namespace

nlohmann::ordered_json mirrors_json(const Fabric& fabric) {
  auto out = nlohmann::ordered_json::array();
  for (const auto& sw : fabric.switches()) {
    if (!sw->virtualization()) continue;
    for (const cp::MirrorReport& m : sw->virtualization()->control_path().mirrors()) {
      nlohmann::ordered_json j;
      j["switch"] = sw->name();
      j["volume"] = m.volume;
      j["vseg"] = m.vseg_id;
      j["lba"] = m.lba;
      j["bytes"] = m.blocks * m.block_size;
      j["generation"] = m.generation;
      j["age_extent_bytes"] = m.age_extent_blocks * m.block_size;
      j["deaths"] = m.deaths;
      auto sides = nlohmann::ordered_json::array();
      for (const cp::MirrorSideReport& s : m.sides) {
        nlohmann::ordered_json js;
        js["disk_wwpn"] = fmt::format("{:016x}", s.disk_wwpn);
        js["lun"] = s.lun;
        js["lba"] = s.lba;
        js["state"] = side_state_name(s.state);
        if (!s.why.empty()) js["died_because"] = s.why;
        sides.push_back(js);
      }
      j["sides"] = sides;
      auto resyncs = nlohmann::ordered_json::array();
      for (const cp::ResyncProgress& p : m.resyncs) {
        nlohmann::ordered_json jr;
        jr["side"] = p.side;
        jr["state"] = resync_state_name(p.state);
        jr["extents"] = p.extents;
        jr["stale_extents"] = p.stale_extents;
        jr["copied_extents"] = p.copied_extents;
        jr["copied_bytes"] = p.copied_blocks * m.block_size;
        jr["started_ns"] = p.started_ns;
        if (p.state != cp::ResyncProgress::State::kRunning) jr["finished_ns"] = p.finished_ns;
        if (!p.error.empty()) jr["error"] = p.error;
        resyncs.push_back(jr);
      }
      j["resyncs"] = resyncs;
      out.push_back(j);
    }
  }
  return out;
}

std::string format_mirrors_lines(const nlohmann::ordered_json& mirrors) {
  std::string out;
  for (const auto& m : mirrors) {
    if (m["generation"].get<uint32_t>() == 0) continue;  // no side ever changed state
    std::string states;
    for (const auto& s : m["sides"])
      states += fmt::format("{}{}", states.empty() ? "" : ", ", s["state"].get<std::string>());
    out +=
        fmt::format("mirror '{}' VSEG {}: generation {}, sides {}", m["volume"].get<std::string>(),
                    m["vseg"].get<uint32_t>(), m["generation"].get<uint32_t>(), states);
    for (const auto& r : m["resyncs"]) {
      out += fmt::format("; resync of side {} {}: {} of {} extents copied ({:.2f} of {:.2f} MiB)",
                         r["side"].get<uint32_t>(), r["state"].get<std::string>(),
                         r["copied_extents"].get<uint64_t>(), r["extents"].get<uint64_t>(),
                         r["copied_bytes"].get<uint64_t>() / 1048576.0,
                         m["bytes"].get<uint64_t>() / 1048576.0);
      if (r.contains("finished_ns")) {
        out +=
            fmt::format(" in {:.3f} ms",
                        (r["finished_ns"].get<uint64_t>() - r["started_ns"].get<uint64_t>()) / 1e6);
      }
    }
    out += "\n";
  }
  return out;
}

}  // namespace splitpath::sim
