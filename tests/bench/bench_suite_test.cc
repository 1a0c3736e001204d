#include "fabric_sim/bench/bench_suite.h"

#include <set>

#include "fabric_sim/bench/svg_plot.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace splitpath::sim {
namespace {

TEST(BenchSuite, QuickRunHasEveryBaselineFigureAndPassesTheRealBaseline) {
  BenchSuiteOptions o;
  o.quick = true;
  o.scratch_dir = testing::TempDir();
  auto r = run_bench_suite(o);
  ASSERT_TRUE(r.ok()) << r.status();
  auto json = nlohmann::json::parse(figures_json(r->figures));
  std::set<std::string> names;
  for (const auto& f : json["figures"]) {
    names.insert(f["name"].get<std::string>());
    EXPECT_TRUE(f["value"].is_number());
    EXPECT_GT(f["value"].get<double>(), 0) << f["name"];
  }
  auto baseline = read_baseline(SPLITPATH_BASELINE);
  ASSERT_TRUE(baseline.ok()) << baseline.status();
  for (const auto& b : *baseline) {
    // --quick leaves out the 64-port points.
    if (b.name.find("64_ports") == std::string::npos) {
      EXPECT_TRUE(names.count(b.name)) << b.name;
    }
  }
  // Simulated-time figures are deterministic: the real baseline passes.
  std::vector<Figure> sim_only;
  for (const auto& b : *baseline) {
    if (b.name.rfind("scaling.", 0) == 0 && b.name.find("64_ports") == std::string::npos) {
      sim_only.push_back(b);
    }
  }
  auto c = compare_figures(sim_only, r->figures);
  EXPECT_TRUE(c.regressions.empty());
  // A doctored baseline (every figure twice as good) is flagged.
  auto doctored = sim_only;
  for (auto& f : doctored)
    f.value = f.higher_is_better ? f.value * 2 : f.value / 2;
  EXPECT_FALSE(compare_figures(doctored, r->figures).regressions.empty());
  // FP and CP-only points per port count, in the scaling series.
  EXPECT_EQ(r->scaling.size(), 6u);
}

TEST(SvgPlot, DrawsOnePolylinePerSeries) {
  Plot p{"t <1>", "x", "y", {{"a", {{1, 2}, {2, 4}}}, {"b", {{1, 1}}}}};
  auto svg = render_svg_plot(p);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  size_t lines = 0;
  for (size_t at = 0; (at = svg.find("<polyline", at)) != std::string::npos; ++at)
    ++lines;
  EXPECT_EQ(lines, 2u);
  EXPECT_NE(svg.find("t &lt;1&gt;"), std::string::npos);
}

}  // namespace
}  // namespace splitpath::sim
