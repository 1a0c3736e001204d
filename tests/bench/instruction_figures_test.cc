#include "fabric_sim/bench/instruction_figures.h"

#include <map>

#include "fabric_sim/bench/callgrind.h"
#include "gtest/gtest.h"

namespace splitpath::sim {
namespace {

TEST(CallgrindTotals, TakesTheFirstEventOfTheTotalsLine) {
  auto n = parse_callgrind_totals("events: Ir Dr\nsummary: 900 5\nfn=main\ntotals: 1234 56\n");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1234u);
}

TEST(CallgrindTotals, FallsBackToTheSummaryLine) {
  auto n = parse_callgrind_totals("events: Ir\nsummary: 6125602\n");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 6125602u);
}

TEST(CallgrindTotals, RefusesOutputWithoutACount) {
  EXPECT_FALSE(parse_callgrind_totals("events: Ir\nfn=main\n").ok());
  EXPECT_FALSE(parse_callgrind_totals("totals: many\n").ok());
}

TEST(InstructionProbe, RefusesAnUnknownKindAndCountsItsWork) {
  EXPECT_EQ(run_probe("nonsense", 1).status().code(), absl::StatusCode::kInvalidArgument);
  auto events = run_probe("des", 5000);
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_GE(*events, 5000u);
  for (const char* kind : {"fp", "fp-remap-write", "fp-stripe-read", "fp-mirror-write"}) {
    auto ios = run_probe(kind, 64);
    ASSERT_TRUE(ios.ok()) << kind << ": " << ios.status();
    EXPECT_EQ(*ios, 64u) << kind;
  }
  EXPECT_FALSE(run_probe("fp-raid5-read", 64).ok());
}

// Instruction counts are deterministic for one build: the baseline's, taken
// from the same RelWithDebInfo build, holds within --compare's 10%.
TEST(InstructionFigures, MeasuredOnTheSplitpathBinaryMatchTheBaseline) {
  if (SPLITPATH_SANITIZED) GTEST_SKIP() << "valgrind cannot run sanitized binaries";
  if (!callgrind_available()) GTEST_SKIP() << "valgrind is not installed";
  InstructionFigureOptions o;
  o.splitpath = SPLITPATH_EXECUTABLE;
  o.scratch_dir = testing::TempDir();
  auto figures = measure_instruction_figures(o);
  ASSERT_TRUE(figures.ok()) << figures.status();
  std::map<std::string, double> value;
  for (const auto& f : *figures)
    value[f.name] = f.value;
  // The FP's own work is a small part of an end-to-end I/O, which the CP
  // makes dearer still.
  EXPECT_GT(value["instructions.fp.per_io"], 100);
  EXPECT_LT(value["instructions.fp.per_io"], value["instructions.e2e.null.1_port.fp.per_io"]);
  EXPECT_GT(value["instructions.e2e.null.1_port.cp_over_fp"], 1);
  EXPECT_GT(value["instructions.des.per_event"], 10);
  EXPECT_GT(value["instructions.switch.per_frame"], 10);
  EXPECT_GT(value["instructions.decode.small.per_frame"], 10);
  // Write splitting does a remap's work per side and copies every data frame.
  EXPECT_GT(value["instructions.fp.mirror.write.per_io"],
            1.5 * value["instructions.fp.remap.write.per_io"]);
  // So do a stripe of mirrors (after its column's shift and mask) and a
  // journal (whose second leg also gets a header block).
  EXPECT_GT(value["instructions.fp.raid10.write.per_io"],
            value["instructions.fp.mirror.write.per_io"]);
  EXPECT_GT(value["instructions.fp.journal.write.per_io"],
            1.5 * value["instructions.fp.remap.write.per_io"]);

  auto baseline = read_baseline(SPLITPATH_BASELINE);
  ASSERT_TRUE(baseline.ok()) << baseline.status();
  std::vector<Figure> instructions;
  for (const auto& b : *baseline) {
    if (b.name.rfind("instructions.", 0) == 0) instructions.push_back(b);
  }
  EXPECT_GE(instructions.size(), 6u);
  const Comparison c = compare_figures(instructions, *figures);
  EXPECT_TRUE(c.missing.empty());
  for (const auto& r : c.regressions) {
    ADD_FAILURE() << r.name << ": " << r.current << " instructions against the baseline's "
                  << r.baseline << " (" << r.worse_by * 100 << "% worse)";
  }
}

}  // namespace
}  // namespace splitpath::sim
