#include "fabric_sim/bench/bench_figures.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace splitpath::sim {
namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path) << text;
  return path.string();
}

TEST(BenchFigures, RoundTripsThroughTheBaselineFile) {
  std::vector<Figure> figures = {{"a", 10, "x", true, true}, {"b", 2.5, "ns", false, false}};
  auto path = write_temp("bench-figures-roundtrip.json", figures_json(figures));
  auto back = read_baseline(path);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[1].name, "b");
  EXPECT_DOUBLE_EQ((*back)[1].value, 2.5);
  EXPECT_FALSE((*back)[1].higher_is_better);
  EXPECT_TRUE((*back)[0].gated);
}

TEST(BenchFigures, FlagsOnlyGatedFiguresMoreThanTenPercentWorse) {
  std::vector<Figure> base = {{"up", 100, "", true, true},
                              {"down", 100, "", false, true},
                              {"ungated", 100, "", true, false},
                              {"ok", 100, "", true, true}};
  std::vector<Figure> now = {{"up", 89, "", true, true},
                             {"down", 111, "", false, true},
                             {"ungated", 1, "", true, false},
                             {"ok", 91, "", true, true}};
  auto c = compare_figures(base, now);
  ASSERT_EQ(c.regressions.size(), 2u);
  EXPECT_EQ(c.regressions[0].name, "up");
  EXPECT_NEAR(c.regressions[0].worse_by, 0.11, 1e-9);
  EXPECT_EQ(c.regressions[1].name, "down");
  EXPECT_TRUE(c.missing.empty());
}

TEST(BenchFigures, ReportsGatedFiguresTheRunLacks) {
  auto c = compare_figures({{"gone", 1, "", true, true}}, {});
  ASSERT_EQ(c.missing.size(), 1u);
  EXPECT_EQ(c.missing[0], "gone");
}

TEST(BenchFigures, BadBaselineNamesFileAndField) {
  auto path = write_temp("bench-figures-bad.json",
                         R"({"figures": [{"name": "a", "value": "fast", "higher_is_better": true,
                             "gated": true}]})");
  auto r = read_baseline(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(path), std::string::npos);
  EXPECT_NE(r.status().message().find("figures[0].value"), std::string::npos);
  auto not_json = read_baseline(write_temp("bench-figures-notjson.json", "{"));
  EXPECT_FALSE(not_json.ok());
  EXPECT_FALSE(read_baseline("/nonexistent/baseline.json").ok());
}

}  // namespace
}  // namespace splitpath::sim
