// The fixed torture seeds CI runs (seeds.txt): none may report a violation,
// so CI never fails by chance. Each failing seed found by a campaign joins the
// list once its bug is fixed. Also: a seed's run is deterministic.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fabric_sim/torture/torture_report.h"
#include "fabric_sim/torture/torture_run.h"
#include "spdlog/spdlog.h"

namespace splitpath::sim::torture {
namespace {

// The hosts' own verification assumes one writer per block and warns about
// every other host's stamp; the torture checkers judge shared volumes
// themselves, so the hosts' warnings are noise here.
class QuietLogs : public ::testing::Environment {
 public:
  void SetUp() override { spdlog::set_level(spdlog::level::err); }
};
[[maybe_unused]] ::testing::Environment* const kQuietLogs =
    ::testing::AddGlobalTestEnvironment(new QuietLogs);

struct SeedLine {
  int line = 0;  // in seeds.txt
  uint64_t seed = 0;
  uint64_t ops = 0;
  std::vector<std::string> without;
  bool all_faults = false;  // every fault kind, as `splitpath torture --all-faults`
};

// How ctest names a test's parameter: the line as written in seeds.txt.
void PrintTo(const SeedLine& s, std::ostream* out) {
  *out << s.seed << ' ' << s.ops << (s.all_faults ? " all-faults" : "");
  for (size_t i = 0; i < s.without.size(); ++i)
    *out << (i == 0 ? " without=" : ",") << s.without[i];
}

struct SeedFile {
  std::vector<SeedLine> lines;
  std::vector<std::string> errors;  // "seeds.txt:LINE: ..."
};

// "SEED OPS [all-faults] [without=KIND,KIND]  # comment"; blank lines and
// comments skipped. Read once, before the tests are registered, so errors are
// kept for a test to report rather than raised.
const SeedFile& seed_file() {
  static const SeedFile file = [] {
    SeedFile f;
    std::ifstream in(SPLITPATH_TORTURE_SEEDS);
    if (!in) f.errors.push_back(std::string("cannot read ") + SPLITPATH_TORTURE_SEEDS);
    std::string text;
    for (int number = 1; std::getline(in, text); ++number) {
      text = text.substr(0, text.find('#'));
      std::istringstream words(text);
      SeedLine s;
      s.line = number;
      if (!(words >> s.seed >> s.ops)) continue;
      std::string extra;
      while (words >> extra) {
        if (extra == "all-faults") {
          s.all_faults = true;
        } else if (extra.rfind("without=", 0) == 0) {
          std::istringstream kinds(extra.substr(8));
          std::string kind;
          while (std::getline(kinds, kind, ','))
            s.without.push_back(kind);
        } else {
          f.errors.push_back("seeds.txt:" + std::to_string(number) + ": unknown field '" + extra +
                             "'");
        }
      }
      f.lines.push_back(s);
    }
    return f;
  }();
  return file;
}

TEST(TortureSeeds, TheSeedFileParses) {
  EXPECT_GE(seed_file().lines.size(), 10u);
  for (const std::string& e : seed_file().errors)
    ADD_FAILURE() << e;
}

// One test per line of seeds.txt, so that ctest spreads them over its jobs
// (under the sanitizers the whole list takes over 20 minutes on one core).
class TortureSeed : public ::testing::TestWithParam<SeedLine> {};

TEST_P(TortureSeed, RunsWithoutAViolation) {
  const SeedLine& s = GetParam();
  TortureOptions o;
  o.seed = s.seed;
  o.ops = s.ops;
  o.without_kinds = s.without;
  o.all_fault_kinds = s.all_faults;
  auto r = run_torture(o);
  ASSERT_TRUE(r.ok()) << "seed " << s.seed << ": " << r.status();
  EXPECT_TRUE(r->violations.empty()) << violation_text(*r);
  EXPECT_GE(r->ios_completed, s.ops) << "seed " << s.seed << " stopped short";
  // The checkers did look at something.
  EXPECT_GT(r->units_checked, 0u);
  CampaignTotals totals;
  totals.add(*r);
  std::printf("%s", totals_line(totals).c_str());
}

// "seed23_ops3000_all_faults_without_vseg_split"; a line repeated in
// seeds.txt makes two tests of one name, which gtest refuses.
std::string seed_test_name(const ::testing::TestParamInfo<SeedLine>& info) {
  const SeedLine& s = info.param;
  std::string name = "seed" + std::to_string(s.seed) + "_ops" + std::to_string(s.ops);
  if (s.all_faults) name += "_all_faults";
  for (const std::string& kind : s.without)
    name += "_without_" + kind;
  return name;
}

INSTANTIATE_TEST_SUITE_P(Fixed, TortureSeed, ::testing::ValuesIn(seed_file().lines),
                         seed_test_name);

TEST(TortureSeeds, ASeedGivesTheSameReportEveryTime) {
  TortureOptions o;
  o.seed = 12;
  o.ops = 3000;
  auto a = run_torture(o);
  auto b = run_torture(o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(run_json(*a).dump(), run_json(*b).dump()) << "seed " << o.seed;
  EXPECT_EQ(a->scenario, b->scenario);
  o.seed = 13;
  auto c = run_torture(o);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(run_json(*a).dump(), run_json(*c).dump()) << "seeds 12 and 13 ran the same";
}

}  // namespace
}  // namespace splitpath::sim::torture
