// One switch with N source ports streaming frames to N sink ports, with credits,
// switch latency and serialization modelled as in any run: the workload of the
// frames-switched figure of `splitpath bench` (micro_bench.h), of bench/'s
// switching benchmark and of the test that proves switching allocates nothing.
#pragma once

#include <memory>
#include <vector>

#include "fabric_sim/net/link.h"
#include "fabric_sim/switch/switch.h"

namespace splitpath::sim {

class SwitchTestbed {
 public:
  explicit SwitchTestbed(uint32_t pairs, uint32_t window = 48) {
    SwitchConfig config;
    config.name = "sw";
    config.domain = 1;
    config.ports = 2 * pairs;
    switch_ = std::make_unique<Switch>(kernel_, pool_, config, zones_);
    for (uint32_t i = 0; i < pairs; ++i) {
      const uint32_t in = i, out = pairs + i;
      const fc::FcId src = fc::FcId::from_parts(1, static_cast<uint8_t>(in), 0);
      const fc::FcId dst = fc::FcId::from_parts(1, static_cast<uint8_t>(out), 0);
      switch_->logins()[src.value] = LocalLogin{in, 0x1000 + in, 0x2000 + in};
      switch_->logins()[dst.value] = LocalLogin{out, 0x1000 + out, 0x2000 + out};
      auto l_in = std::make_unique<Link>(kernel_, pool_, "in", LinkParams{});
      auto l_out = std::make_unique<Link>(kernel_, pool_, "out", LinkParams{});
      sources_.push_back(std::make_unique<Source>(pool_, *l_in, src, dst));
      sinks_.push_back(std::make_unique<Sink>(pool_, *sources_.back()));
      l_in->attach(0, sources_.back().get());
      switch_->connect(in, *l_in, 1, PortRole::kFPort);
      l_out->attach(1, sinks_.back().get());
      switch_->connect(out, *l_out, 0, PortRole::kFPort);
      links_.push_back(std::move(l_in));
      links_.push_back(std::move(l_out));
    }
    for (auto& s : sources_) {
      for (uint32_t k = 0; k < window; ++k)
        s->send_one();
    }
  }

  Kernel& kernel() { return kernel_; }
  FramePool& pool() { return pool_; }
  uint64_t frames_switched() const {
    uint64_t n = 0;
    for (uint32_t p = 0; p < switch_->port_count(); ++p)
      n += switch_->port_stats(p).rx_frames;
    return n;
  }
  uint64_t frames_delivered() const {
    uint64_t n = 0;
    for (const auto& s : sinks_)
      n += s->received;
    return n;
  }

 private:
  // Streams frames to one destination; each arrival at the sink sends the next.
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
    Sink(FramePool& pool, Source& feeder) : pool_(pool), feeder_(feeder) {}
    void on_frame(Link& link, int side, Frame* frame) override {
      link.release_credit(side);
      pool_.free(frame);
      ++received;
      feeder_.send_one();
    }
    uint64_t received = 0;

   private:
    FramePool& pool_;
    Source& feeder_;
  };

  Kernel kernel_;
  FramePool pool_;
  ZoneSet zones_;  // no zones: every port may talk to every port
  std::unique_ptr<Switch> switch_;
  std::vector<std::unique_ptr<Link>> links_;
  std::vector<std::unique_ptr<Source>> sources_;
  std::vector<std::unique_ptr<Sink>> sinks_;
};

}  // namespace splitpath::sim
