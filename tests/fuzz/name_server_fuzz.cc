// Fuzz target for a switch's fabric services (fabric_sim/switch/
// fabric_services.cc): the login server, the name server and its database,
// the fabric controller, and name-server replication between switches. Each
// input builds a fresh two-switch fabric (domains 1 and 2, one ISL) with three
// probe N_Ports, logs the probes in (FLOGI, PLOGI to the name server), then
// delivers the input's frames and runs the kernel until the fabric is idle.
//
// Input: records of [probe: 1 byte][length: 2 bytes, big-endian][frame bytes];
// probe % 3 picks the port the frame enters (sw1 port 0 or 1, sw2 port 0).
// Frames are delivered as written, so they may spoof any S_ID, including a
// domain controller's (replication). Invariants besides memory safety: every
// frame the switches send to a probe has a full header, and every
// name-server entry is filed under its own port ID.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "fabric_sim/kernel/kernel.h"
#include "fabric_sim/net/frame.h"
#include "fabric_sim/net/link.h"
#include "fabric_sim/switch/switch.h"
#include "fabric_sim/switch/zoning.h"
#include "splitpath/fc/ct.h"
#include "splitpath/fc/els.h"
#include "splitpath/fc/frame_header.h"

namespace splitpath::sim {
namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "name_server_fuzz: %s\n", what);
  std::abort();
}

// A probe N_Port: takes whatever the switch sends it.
class Probe : public FramePort {
 public:
  explicit Probe(FramePool& pool) : pool_(pool) {}
  void on_frame(Link& link, int side, Frame* frame) override {
    if (frame->size < fc::kFrameHeaderSize) fail("a switch sent a frame shorter than a header");
    link.release_credit(side);
    pool_.free(frame);
  }

 private:
  FramePool& pool_;
};

struct Fabric2 {
  Kernel kernel;
  FramePool pool;
  ZoneSet zones;
  std::unique_ptr<Switch> sw[2];
  std::unique_ptr<Link> isl;
  std::unique_ptr<Link> links[3];
  std::unique_ptr<Probe> probes[3];

  Fabric2() {
    for (uint8_t i = 0; i < 2; ++i) {
      SwitchConfig c;
      c.name = i == 0 ? "sw1" : "sw2";
      c.domain = static_cast<uint8_t>(i + 1);
      c.ports = 4;
      sw[i] = std::make_unique<Switch>(kernel, pool, c, zones);
    }
    isl = std::make_unique<Link>(kernel, pool, "isl", LinkParams{});
    sw[0]->connect(3, *isl, 0, PortRole::kEPort);
    sw[1]->connect(3, *isl, 1, PortRole::kEPort);
    sw[0]->set_route(2, {3});
    sw[1]->set_route(1, {3});
    for (int p = 0; p < 3; ++p) {
      links[p] = std::make_unique<Link>(kernel, pool, "probe", LinkParams{});
      probes[p] = std::make_unique<Probe>(pool);
      links[p]->attach(0, probes[p].get());
      sw[p < 2 ? 0 : 1]->connect(p < 2 ? static_cast<uint32_t>(p) : 0, *links[p], 1,
                                 PortRole::kFPort);
    }
  }

  void send(int probe, const uint8_t* bytes, size_t size) {
    Frame* f = pool.alloc();
    f->size = static_cast<uint16_t>(size);
    for (size_t i = 0; i < size; ++i)
      f->bytes[i] = bytes[i];
    links[probe]->transmit(0, f);
  }

  // An ELS or CT request from `s_id` to `d_id`.
  void request(int probe, uint8_t r_ctl, uint8_t type, uint32_t s_id, fc::FcId d_id,
               const std::vector<uint8_t>& payload, uint16_t ox_id) {
    fc::FrameHeader h;
    h.r_ctl = r_ctl;
    h.type = type;
    h.s_id = fc::FcId{s_id};
    h.d_id = d_id;
    h.f_ctl = fc::fctl::kFirstSequence | fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative;
    h.ox_id = ox_id;
    std::vector<uint8_t> frame(fc::kFrameHeaderSize);
    (void)fc::encode_frame_header(h, fc::MutableBytes(frame));
    frame.insert(frame.end(), payload.begin(), payload.end());
    send(probe, frame.data(), frame.size());
  }
};

uint32_t probe_id(int probe) {
  return probe < 2 ? (0x010000u | (static_cast<uint32_t>(probe) << 8)) : 0x020000u;
}

// FLOGI and PLOGI to the name server for every probe, so the input starts
// from a fabric with logged-in ports.
void log_in(Fabric2& f) {
  for (int p = 0; p < 3; ++p) {
    fc::ServiceParameters sp;
    sp.command = fc::els_cmd::kFlogi;
    sp.port_name = fc::Wwn{0x1000000000000001ull + static_cast<uint64_t>(p)};
    sp.node_name = fc::Wwn{0x2000000000000001ull + static_cast<uint64_t>(p)};
    std::vector<uint8_t> payload(fc::kServiceParametersSize);
    (void)fc::encode_service_parameters(sp, fc::MutableBytes(payload));
    f.request(p, fc::rctl::kElsRequest, fc::fc_type::kEls, 0, fc::kFabricLoginServer, payload,
              static_cast<uint16_t>(p));
    f.kernel.run_until(f.kernel.now() + 100 * kNsPerUs);
    sp.command = fc::els_cmd::kPlogi;
    (void)fc::encode_service_parameters(sp, fc::MutableBytes(payload));
    f.request(p, fc::rctl::kElsRequest, fc::fc_type::kEls, probe_id(p), fc::kDirectoryServer,
              payload, static_cast<uint16_t>(10 + p));
    f.kernel.run_until(f.kernel.now() + 100 * kNsPerUs);
  }
}

}  // namespace
}  // namespace splitpath::sim

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace splitpath::sim;
  Fabric2 f;
  log_in(f);
  // Without logged-in probes the input would test nothing but rejections.
  for (const auto& sw : f.sw)
    if (sw->name_server().entries().size() != 3) fail("the probes did not log in");
  size_t pos = 0;
  while (pos + 3 <= size) {
    const int probe = data[pos] % 3;
    size_t length = (size_t{data[pos + 1]} << 8) | data[pos + 2];
    pos += 3;
    if (length > size - pos) length = size - pos;
    if (length > splitpath::fc::kMaxFrameSize) length = splitpath::fc::kMaxFrameSize;
    f.send(probe, data + pos, length);
    pos += length;
    f.kernel.run_until(f.kernel.now() + 50 * kNsPerUs);
  }
  f.kernel.run_until(f.kernel.now() + 100 * kNsPerMs);
  for (const auto& sw : f.sw) {
    for (const auto& [id, entry] : sw->name_server().entries()) {
      if (entry.port_id.value != id) fail("a name-server entry disagrees with its key");
    }
  }
  return 0;
}
