// Frames switched per second of wall time: N source ports stream frames through
// one switch to N sink ports, with buffer-to-buffer credits, switch latency and
// link serialization modelled as in any run. Also counts heap allocations per
// switched frame (there must be none once the frame pool is warm).
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "bench/alloc_counter.h"
#include "fabric_sim/net/link.h"
#include "fabric_sim/switch/switch.h"

namespace splitpath::sim {
namespace {

// Keeps `window` frames outstanding toward one destination: every arrival at the
// sink sends the next.
class Source : public FramePort {
 public:
  Source(FramePool& pool, Link& link, fc::FcId self, fc::FcId dest)
      : pool_(pool), link_(link), self_(self), dest_(dest) {}
  void send_one() {
    Frame* f = pool_.alloc();
    fc::FrameHeader h;
    h.r_ctl = fc::rctl::kDeviceDataSolicitedData;
    h.d_id = dest_;
    h.s_id = self_;
    h.type = fc::fc_type::kFcp;
    h.ox_id = static_cast<uint16_t>(sent_++);
    (void)fc::encode_frame_header(h, {f->bytes, fc::kFrameHeaderSize});
    f->size = fc::kFrameHeaderSize + 64;
    link_.transmit(0, f);
  }
  void on_frame(Link& link, int side, Frame* frame) override {
    link.release_credit(side);
    pool_.free(frame);
  }

 private:
  FramePool& pool_;
  Link& link_;
  fc::FcId self_;
  fc::FcId dest_;
  uint64_t sent_ = 0;
};

class Sink : public FramePort {
 public:
  Sink(FramePool& pool) : pool_(pool) {}
  Source* feeder = nullptr;
  uint64_t received = 0;
  void on_frame(Link& link, int side, Frame* frame) override {
    link.release_credit(side);
    pool_.free(frame);
    ++received;
    feeder->send_one();
  }

 private:
  FramePool& pool_;
};

void BM_FramesSwitched(benchmark::State& state) {
  const auto pairs = static_cast<uint32_t>(state.range(0));
  Kernel kernel;
  FramePool pool;
  ZoneSet zones;  // no zones: everyone may talk
  SwitchConfig config;
  config.name = "sw";
  config.domain = 1;
  config.ports = 2 * pairs;
  Switch sw(kernel, pool, config, zones);
  std::vector<std::unique_ptr<Link>> links;
  std::vector<std::unique_ptr<Source>> sources;
  std::vector<std::unique_ptr<Sink>> sinks;
  for (uint32_t i = 0; i < pairs; ++i) {
    const uint32_t in = i, out = pairs + i;
    const fc::FcId src = fc::FcId::from_parts(1, static_cast<uint8_t>(in), 0);
    const fc::FcId dst = fc::FcId::from_parts(1, static_cast<uint8_t>(out), 0);
    sw.logins()[src.value] = LocalLogin{in, 0x1000 + in, 0x2000 + in};
    sw.logins()[dst.value] = LocalLogin{out, 0x1000 + out, 0x2000 + out};
    auto l_in = std::make_unique<Link>(kernel, pool, "in", LinkParams{});
    auto l_out = std::make_unique<Link>(kernel, pool, "out", LinkParams{});
    sources.push_back(std::make_unique<Source>(pool, *l_in, src, dst));
    sinks.push_back(std::make_unique<Sink>(pool));
    sinks.back()->feeder = sources.back().get();
    l_in->attach(0, sources.back().get());
    sw.connect(in, *l_in, 1, PortRole::kFPort);
    l_out->attach(1, sinks.back().get());
    sw.connect(out, *l_out, 0, PortRole::kFPort);
    links.push_back(std::move(l_in));
    links.push_back(std::move(l_out));
  }
  for (auto& s : sources) {
    for (int k = 0; k < 48; ++k)
      s->send_one();
  }
  kernel.run_until(100 * kNsPerUs);  // warm up the pool and the event heap
  auto switched = [&] {
    uint64_t n = 0;
    for (uint32_t p = 0; p < sw.port_count(); ++p)
      n += sw.port_stats(p).rx_frames;
    return n;
  };
  const uint64_t frames_before = switched();
  const uint64_t events_before = kernel.events_processed();
  const uint64_t allocs_before = bench::allocation_count();
  SimTime horizon = kernel.now();
  for (auto _ : state) {
    horizon += 10 * kNsPerUs;
    kernel.run_until(horizon);
  }
  const auto frames = static_cast<double>(switched() - frames_before);
  state.counters["frames/s"] = benchmark::Counter(frames, benchmark::Counter::kIsRate);
  state.counters["events/frame"] =
      static_cast<double>(kernel.events_processed() - events_before) / std::max(1.0, frames);
  state.counters["allocs/frame"] =
      static_cast<double>(bench::allocation_count() - allocs_before) / std::max(1.0, frames);
}
BENCHMARK(BM_FramesSwitched)->Arg(1)->Arg(8)->Arg(32);

}  // namespace
}  // namespace splitpath::sim
