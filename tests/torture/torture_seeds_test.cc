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
  uint64_t seed = 0;
  uint64_t ops = 0;
  std::vector<std::string> without;
  bool all_faults = false;  // every fault kind, as `splitpath torture --all-faults`
};

// "SEED OPS [all-faults] [without=KIND,KIND]  # comment"; blank lines and
// comments skipped.
std::vector<SeedLine> load_seeds() {
  std::ifstream in(SPLITPATH_TORTURE_SEEDS);
  EXPECT_TRUE(in) << "cannot read " << SPLITPATH_TORTURE_SEEDS;
  std::vector<SeedLine> out;
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    SeedLine s;
    if (!(words >> s.seed >> s.ops)) continue;
    std::string extra;
    while (words >> extra) {
      if (extra == "all-faults") {
        s.all_faults = true;
        continue;
      }
      if (extra.rfind("without=", 0) != 0) {
        ADD_FAILURE() << "seeds.txt: unknown field '" << extra << "'";
        continue;
      }
      std::istringstream kinds(extra.substr(8));
      std::string kind;
      while (std::getline(kinds, kind, ','))
        s.without.push_back(kind);
    }
    out.push_back(s);
  }
  return out;
}

TEST(TortureSeeds, EveryFixedSeedRunsWithoutAViolation) {
  const std::vector<SeedLine> seeds = load_seeds();
  ASSERT_GE(seeds.size(), 10u);
  CampaignTotals totals;
  uint64_t units = 0;
  uint64_t downstream = 0;
  uint64_t faults = 0;
  for (const SeedLine& s : seeds) {
    TortureOptions o;
    o.seed = s.seed;
    o.ops = s.ops;
    o.without_kinds = s.without;
    o.all_fault_kinds = s.all_faults;
    auto r = run_torture(o);
    ASSERT_TRUE(r.ok()) << "seed " << s.seed << ": " << r.status();
    totals.add(*r);
    units += r->units_checked;
    downstream += r->downstream_checked;
    faults += r->faults_injected;
    EXPECT_TRUE(r->violations.empty()) << violation_text(*r);
    EXPECT_GE(r->ios_completed, s.ops) << "seed " << s.seed << " stopped short";
  }
  // The checkers did look at something.
  EXPECT_GT(units, 0u);
  EXPECT_GT(downstream, 0u);
  EXPECT_GT(faults, 0u);
  std::printf("%s", totals_line(totals).c_str());
}

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
