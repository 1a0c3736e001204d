#include "fabric_sim/bench/instruction_figures.h"

#include <unistd.h>

#include <filesystem>

#include "absl/strings/numbers.h"
#include "fabric_sim/bench/callgrind.h"
#include "fabric_sim/bench/decode_bench.h"
#include "fabric_sim/bench/fp_path_bench.h"
#include "fabric_sim/bench/micro_bench.h"
#include "fabric_sim/bench/scaling_scenario.h"
#include "fmt/format.h"

namespace splitpath::sim {
namespace {

constexpr const char* kUnitsPrefix = "units: ";

// A probe's two sizes: the longer run does three times the shorter's work.
struct Probe {
  const char* figure;
  const char* kind;
  uint64_t units;      // the shorter run's
  const char* toggle;  // callgrind --toggle-collect, or "" for the whole program
  const char* unit;    // of the figure
  bool gated = true;
};

constexpr Probe kProbes[] = {
    {"instructions.fp.per_io", "fp", 3200, "*FastPath::poll*", "instructions/I/O (FP poll)"},
    {"instructions.fp.remap.write.per_io", "fp-remap-write", 3200, "*FastPath::poll*",
     "instructions/I/O (FP poll)"},
    {"instructions.fp.stripe.read.per_io", "fp-stripe-read", 3200, "*FastPath::poll*",
     "instructions/I/O (FP poll)"},
    {"instructions.fp.stripe.write.per_io", "fp-stripe-write", 3200, "*FastPath::poll*",
     "instructions/I/O (FP poll)"},
    {"instructions.fp.mirror.read.per_io", "fp-mirror-read", 3200, "*FastPath::poll*",
     "instructions/I/O (FP poll)"},
    {"instructions.fp.mirror.write.per_io", "fp-mirror-write", 3200, "*FastPath::poll*",
     "instructions/I/O (FP poll)"},
    {"instructions.fp.raid10.read.per_io", "fp-raid10-read", 3200, "*FastPath::poll*",
     "instructions/I/O (FP poll)"},
    {"instructions.fp.raid10.write.per_io", "fp-raid10-write", 3200, "*FastPath::poll*",
     "instructions/I/O (FP poll)"},
    {"instructions.fp.journal.read.per_io", "fp-journal-read", 3200, "*FastPath::poll*",
     "instructions/I/O (FP poll)"},
    {"instructions.fp.journal.write.per_io", "fp-journal-write", 3200, "*FastPath::poll*",
     "instructions/I/O (FP poll)"},
    {"instructions.e2e.null.1_port.fp.per_io", "e2e", 2000, "", "instructions/I/O"},
    {"instructions.e2e.null.1_port.cp_only.per_io", "e2e-cp", 10000, "", "instructions/I/O"},
    {"instructions.des.per_event", "des", 200000, "", "instructions/event"},
    {"instructions.switch.per_frame", "switch", 200, "", "instructions/frame"},
};

absl::StatusOr<uint64_t> units_in(const std::string& output) {
  const size_t at = output.rfind(kUnitsPrefix);
  uint64_t n = 0;
  if (at == std::string::npos ||
      !absl::SimpleAtoi(output.substr(at + 7, output.find('\n', at) - at - 7), &n)) {
    return absl::InternalError(fmt::format("the probe printed no '{}N' line", kUnitsPrefix));
  }
  return n;
}

struct Measured {
  uint64_t instructions = 0;
  uint64_t units = 0;
};

absl::StatusOr<double> per_unit(const Measured& a, const Measured& b, const std::string& what) {
  if (b.units <= a.units || b.instructions <= a.instructions) {
    return absl::InternalError(fmt::format(
        "{}: the longer run did no more work ({} units, {} instructions) than the shorter ({}, {})",
        what, b.units, b.instructions, a.units, a.instructions));
  }
  return static_cast<double>(b.instructions - a.instructions) /
         static_cast<double>(b.units - a.units);
}

absl::StatusOr<Measured> run_probe_under_callgrind(const InstructionFigureOptions& o,
                                                   const Probe& p, uint64_t units) {
  auto run =
      run_under_callgrind({o.splitpath, "bench", "probe", p.kind, "--units", std::to_string(units)},
                          p.toggle, o.scratch_dir);
  if (!run.ok()) return run.status();
  auto n = units_in(run->output);
  if (!n.ok()) return n.status();
  return Measured{run->instructions, *n};
}

// The decoder per frame: two small-frame captures, written here (not under
// valgrind), decoded by `splitpath decode --no-frames` under callgrind.
absl::StatusOr<double> decode_per_frame(const InstructionFigureOptions& o) {
  Measured m[2];
  for (int i = 0; i < 2; ++i) {
    DecodeBenchOptions d;
    d.blocks = 1;
    d.frames = i == 0 ? 50'000 : 150'000;
    d.path = (std::filesystem::path(o.scratch_dir) /
              fmt::format("splitpath-instructions-{}-{}.pcap", ::getpid(), i))
                 .string();
    if (auto s = write_decode_bench_capture(d); !s.ok()) return s;
    auto run =
        run_under_callgrind({o.splitpath, "decode", d.path, "--no-frames"}, "", o.scratch_dir);
    std::filesystem::remove(d.path);
    if (!run.ok()) return run.status();
    m[i] = {run->instructions, d.frames};
  }
  return per_unit(m[0], m[1], "decode");
}

// "fp" (remap READs) or "fp-PRIMITIVE-read|write".
bool parse_fp_probe(const std::string& kind, FpPathBenchOptions* o) {
  if (kind == "fp") return true;
  for (FpPrimitive p : {FpPrimitive::kRemap, FpPrimitive::kStripe, FpPrimitive::kMirror,
                        FpPrimitive::kRaid10, FpPrimitive::kJournal}) {
    for (bool write : {false, true}) {
      if (kind == fmt::format("fp-{}-{}", fp_primitive_name(p), write ? "write" : "read")) {
        o->primitive = p;
        o->write = write;
        return true;
      }
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<uint64_t> run_probe(const std::string& kind, uint64_t units) {
  if (FpPathBenchOptions o; parse_fp_probe(kind, &o)) {
    o.ios = units;
    auto r = run_fp_path_bench(o);
    if (!r.ok()) return r.status();
    return r->ios;
  }
  if (kind == "e2e" || kind == "e2e-cp") {
    ScalingOptions o;
    o.loaded_ports = 1;
    o.fp_enabled = kind == "e2e";
    o.null_disks = true;
    o.block_size = 4096;
    o.warmup_ns = 5 * kNsPerMs;
    o.duration_ns = units * kNsPerUs;
    auto p = run_scaling_point(o);
    if (!p.ok()) return p.status();
    if (p->io_errors > 0) return absl::InternalError(fmt::format("{} I/O errors", p->io_errors));
    return p->ios;
  }
  if (kind == "des") return measure_des_events(1024, units).units;
  if (kind == "switch") return measure_frames_switched(8, units * kNsPerUs).units;
  return absl::InvalidArgumentError(fmt::format(
      "unknown probe '{}' (fp, fp-remap|stripe|mirror|raid10|journal-read|write, e2e, e2e-cp, des, "
      "switch)",
      kind));
}

std::string probe_units_line(uint64_t units) {
  return fmt::format("{}{}\n", kUnitsPrefix, units);
}

absl::StatusOr<std::vector<Figure>> measure_instruction_figures(const InstructionFigureOptions& o) {
  std::vector<Figure> figures;
  double fp_per_io = 0, cp_per_io = 0;
  for (const Probe& p : kProbes) {
    auto a = run_probe_under_callgrind(o, p, p.units);
    if (!a.ok()) return a.status();
    auto b = run_probe_under_callgrind(o, p, 3 * p.units);
    if (!b.ok()) return b.status();
    auto v = per_unit(*a, *b, p.kind);
    if (!v.ok()) return v.status();
    figures.push_back({p.figure, *v, p.unit, false, p.gated});
    if (std::string_view(p.kind) == "e2e") fp_per_io = *v;
    if (std::string_view(p.kind) == "e2e-cp") cp_per_io = *v;
  }
  if (fp_per_io > 0) {
    figures.push_back({"instructions.e2e.null.1_port.cp_over_fp", cp_per_io / fp_per_io,
                       "x (the same I/O through the CP)", true, false});
  }
  auto d = decode_per_frame(o);
  if (!d.ok()) return d.status();
  figures.push_back({"instructions.decode.small.per_frame", *d, "instructions/frame", false, true});
  return figures;
}

}  // namespace splitpath::sim
