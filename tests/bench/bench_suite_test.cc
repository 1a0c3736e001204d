#include "fabric_sim/bench/bench_suite.h"

#include <map>
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
  std::map<std::string, double> value;
  for (const auto& f : r->figures)
    value[f.name] = f.value;
  std::set<std::string> names;
  for (const auto& f : json["figures"]) {
    names.insert(f["name"].get<std::string>());
    EXPECT_TRUE(f["value"].is_number());
    // A count that may be 0: at one write in flight, one write in several
    // hundred meets a migration's copy barrier (2 of 773 in --quick).
    // The CP's grow needs no restrictive update: done at once when no other
    // reconfiguration runs; the READs answered before the UA may be none.
    if (f["name"] == "migration.write.barrier_writes" || f["name"] == "reconfig.grow.duration_us" ||
        f["name"] == "reconfig.grow.reads_before_ua") {
      EXPECT_GE(f["value"].get<double>(), 0);
      continue;
    }
    // WRITE SAME of zeros and UNMAP leave the disk holding nothing of the volume.
    if (f["name"] == "block.write_same.allocated_after_bytes" ||
        f["name"] == "block.unmap.allocated_after_bytes") {
      EXPECT_EQ(f["value"].get<double>(), 0) << f["name"];
      continue;
    }
    EXPECT_GT(f["value"].get<double>(), 0) << f["name"];
  }
  auto baseline = read_baseline(SPLITPATH_BASELINE);
  ASSERT_TRUE(baseline.ok()) << baseline.status();
  // --quick leaves out the 64-port points and the 16M-extent maps; without an
  // executable to probe the suite measures no instruction counts
  // (instruction_figures_test checks those).
  auto full_only = [](const std::string& name) {
    return name.find("64_ports") != std::string::npos ||
           name.find("1_to_64") != std::string::npos || name.rfind("rmap.16M.", 0) == 0 ||
           name.rfind("instructions.", 0) == 0;
  };
  for (const auto& b : *baseline) {
    if (!full_only(b.name)) {
      EXPECT_TRUE(names.count(b.name)) << b.name;
    }
  }
  // Simulated-time figures are deterministic: the real baseline passes (the
  // migration's, the snapshots', the LV reconfigurations' and the mirrors'
  // gated figures,
  // taken on a 64 MiB VSEG, hold on the --quick 16 MiB one: rates, ratios
  // and durations, not counts).
  std::vector<Figure> sim_only;
  for (const auto& b : *baseline) {
    const bool data_service = b.name.rfind("migration.", 0) == 0 ||
                              b.name.rfind("snapshot.", 0) == 0 ||
                              b.name.rfind("reconfig.", 0) == 0 || b.name.rfind("mirror.", 0) == 0;
    if ((b.name.rfind("scaling.", 0) == 0 || (b.gated && data_service)) && !full_only(b.name)) {
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

  // The figures measured side by side, and the ratios computed from them.
  for (const char* size : {"10k", "1M"}) {
    const std::string p = std::string("rmap.") + size + ".";
    for (const char* s : {"fp_trie", "absl_btree", "std_map"}) {
      ASSERT_TRUE(value.count(p + s + ".ns_per_lookup")) << p << s;
      ASSERT_TRUE(value.count(p + s + ".bytes_per_extent")) << p << s;
    }
    EXPECT_DOUBLE_EQ(value[p + "trie_speedup_over_btree"],
                     value[p + "absl_btree.ns_per_lookup"] / value[p + "fp_trie.ns_per_lookup"]);
    EXPECT_DOUBLE_EQ(value[p + "trie_speedup_over_std_map"],
                     value[p + "std_map.ns_per_lookup"] / value[p + "fp_trie.ns_per_lookup"]);
    // Every structure holds each extent in some bytes, and less than a kilobyte.
    EXPECT_LT(value[p + "fp_trie.bytes_per_extent"], 1024);
  }
  ASSERT_EQ(r->rmap.size(), 2u);
  EXPECT_EQ(r->rmap[1].extents, 1'000'000u);
  EXPECT_NEAR(value["fp.io.ns_per_io"],
              value["fp.decision_dispatch.ns_per_io"] + value["fp.relay_complete.ns_per_io"],
              1e-6 * value["fp.io.ns_per_io"]);
  EXPECT_NEAR(value["fp.decision_dispatch.ios_per_s"],
              1e9 / value["fp.decision_dispatch.ns_per_io"],
              1e-6 * value["fp.decision_dispatch.ios_per_s"]);
  for (const char* n :
       {"des.events_per_s", "switch.frames_per_s", "e2e.null.1_port.fp.ios_per_wall_s",
        "e2e.null.1_port.cp_only.ios_per_wall_s", "e2e.null.32_ports.fp.ios_per_wall_s",
        "e2e.null.1_port.fp.sim_iops"}) {
    EXPECT_TRUE(value.count(n)) << n;
  }
  EXPECT_DOUBLE_EQ(
      value["e2e.null.1_port.cp_over_fp_wall_per_io"],
      value["e2e.null.1_port.fp.ios_per_wall_s"] / value["e2e.null.1_port.cp_only.ios_per_wall_s"]);
  // Migration (migration_bench_test checks the run itself): the figures are
  // the run's, the copy moved the whole --quick VSEG, and writes during the
  // migration were slower than the same writes without one.
  const MigrationBenchResult& m = r->migration;
  EXPECT_EQ(m.copied_bytes, migration_bench_options(true).vseg_bytes);
  EXPECT_DOUBLE_EQ(value["migration.copy.mb_per_wall_s"], m.mb_per_wall_s);
  EXPECT_DOUBLE_EQ(value["migration.copy.mb_per_sim_s"], m.mb_per_sim_s);
  EXPECT_DOUBLE_EQ(value["migration.write.quiet.mean_us"], m.quiet.mean() / 1e3);
  EXPECT_DOUBLE_EQ(value["migration.write.migrating.mean_us"], m.migrating.mean() / 1e3);
  EXPECT_DOUBLE_EQ(value["migration.write_penalty"], value["migration.write.migrating.mean_us"] /
                                                         value["migration.write.quiet.mean_us"]);
  EXPECT_GT(value["migration.write_penalty"], 1.0);
  EXPECT_DOUBLE_EQ(value["migration.write_penalty.p99"], m.p99_penalty);
  ASSERT_TRUE(value.count("migration.write.barrier_writes"));
  EXPECT_DOUBLE_EQ(value["migration.write.barrier_writes"], static_cast<double>(m.barrier_writes));
  // Snapshots (snapshot_bench_test checks the run itself): the figures are
  // the run's, a chunk's first write after the snapshot was slower than a
  // later one, and the sweep pushed the whole --quick VSEG.
  const SnapshotBenchResult& sn = r->snapshot;
  EXPECT_EQ(sn.swept_bytes, snapshot_bench_options(true).vseg_bytes);
  EXPECT_EQ(sn.cow_pushes, sn.chunks_written);
  EXPECT_DOUBLE_EQ(value["snapshot.write.first_mean_us"], sn.first.mean() / 1e3);
  EXPECT_DOUBLE_EQ(value["snapshot.write.later_mean_us"], sn.later.mean() / 1e3);
  EXPECT_DOUBLE_EQ(value["snapshot.write.cow_penalty"],
                   value["snapshot.write.first_mean_us"] / value["snapshot.write.later_mean_us"]);
  EXPECT_GT(value["snapshot.write.cow_penalty"], 1.0);
  EXPECT_DOUBLE_EQ(value["snapshot.push.mb_per_wall_s"], sn.mb_per_wall_s);
  EXPECT_DOUBLE_EQ(value["snapshot.push.mb_per_sim_s"], sn.mb_per_sim_s);
  // LV reconfiguration (reconfig_bench_test checks the run itself): the
  // figures are the run's, writes overlapped every split and merge, and the
  // grow's UA came once.
  const ReconfigBenchResult& rc = r->reconfig;
  const ReconfigBenchOptions rco = reconfig_bench_options(true);
  EXPECT_GE(rc.split_writes, uint64_t{rco.rounds} * rco.depth);
  EXPECT_GE(rc.merge_writes, uint64_t{rco.rounds} * rco.depth);
  EXPECT_EQ(rc.unit_attentions, 1u);
  EXPECT_DOUBLE_EQ(value["reconfig.split.writes"], static_cast<double>(rc.split_writes));
  EXPECT_DOUBLE_EQ(value["reconfig.merge.writes"], static_cast<double>(rc.merge_writes));
  EXPECT_DOUBLE_EQ(value["reconfig.split.write.overlap.mean_us"], rc.split_overlap.mean() / 1e3);
  EXPECT_DOUBLE_EQ(value["reconfig.split.write.quiet.mean_us"], rc.split_quiet.mean() / 1e3);
  EXPECT_DOUBLE_EQ(
      value["reconfig.split.write_penalty"],
      value["reconfig.split.write.overlap.mean_us"] / value["reconfig.split.write.quiet.mean_us"]);
  EXPECT_DOUBLE_EQ(
      value["reconfig.merge.write_penalty"],
      value["reconfig.merge.write.overlap.mean_us"] / value["reconfig.merge.write.quiet.mean_us"]);
  EXPECT_DOUBLE_EQ(value["reconfig.split.duration_mean_us"], rc.split_duration.mean() / 1e3);
  EXPECT_DOUBLE_EQ(value["reconfig.merge.duration_mean_us"], rc.merge_duration.mean() / 1e3);
  EXPECT_DOUBLE_EQ(value["reconfig.grow.duration_us"], rc.grow_ns / 1e3);
  EXPECT_DOUBLE_EQ(value["reconfig.grow.unit_attention_us"], rc.ua_ns / 1e3);
  EXPECT_GT(value["reconfig.grow.unit_attention_us"], value["reconfig.grow.duration_us"]);
  // Mirrors (mirror_bench_test checks the run itself): the figures are the
  // run's, and the resync copied no more than the age extents written while
  // the side was DEAD.
  const MirrorBenchResult& mi = r->mirror;
  EXPECT_DOUBLE_EQ(value["mirror.write.alive.mean_us"], mi.alive.mean() / 1e3);
  EXPECT_DOUBLE_EQ(value["mirror.write.dead.mean_us"], mi.dead.mean() / 1e3);
  EXPECT_DOUBLE_EQ(value["mirror.write.dead_penalty"],
                   value["mirror.write.dead.mean_us"] / value["mirror.write.alive.mean_us"]);
  EXPECT_DOUBLE_EQ(value["mirror.write.age_faults"], static_cast<double>(mi.age_faults));
  EXPECT_DOUBLE_EQ(value["mirror.resync.mib_per_sim_s"], mi.mib_per_sim_s);
  EXPECT_DOUBLE_EQ(value["mirror.resync.mib_per_wall_s"], mi.mib_per_wall_s);
  EXPECT_DOUBLE_EQ(value["mirror.resync.copied_kib"], static_cast<double>(mi.copied_bytes) / 1024);
  EXPECT_DOUBLE_EQ(value["mirror.resync.dead_written_kib"],
                   static_cast<double>(mi.dirty_bytes) / 1024);
  EXPECT_DOUBLE_EQ(value["mirror.resync.copied_over_dead_written"],
                   value["mirror.resync.copied_kib"] / value["mirror.resync.dead_written_kib"]);
  EXPECT_LE(value["mirror.resync.copied_over_dead_written"], 1.0);
  // Zero-latency disks: the one-port FP point runs faster in simulated time
  // than over the default 100 us disks.
  EXPECT_GT(value["e2e.null.1_port.fp.sim_iops"], value["scaling.fp.1_ports.iops"]);
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
