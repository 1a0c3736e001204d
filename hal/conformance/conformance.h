// The HAL conformance suite: GoogleTest tests written against hal.h alone,
// which every HAL implementation must pass.
//
// An implementation takes part by providing a Harness (the few things the suite
// cannot do through hal.h: put frames on the wire, take them off, be the CP,
// move time) and a factory that builds a fresh port plus harness per test, then
// instantiating the suite in its test binary:
//
//   std::unique_ptr<splitpath::hal::conformance::Harness> make_my_harness();
//   SPLITPATH_HAL_CONFORMANCE_SUITE(my_hal, &make_my_harness);
//
// and linking splitpath_hal_conformance. Test names are then
// `my_hal/HalConformance.<Test>/my_hal`.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "splitpath/hal.h"

namespace splitpath::hal {
// Prints a Status by name in test failures.
void PrintTo(Status status, std::ostream* os);
}  // namespace splitpath::hal

namespace splitpath::hal::conformance {

// A frame taken off the transmit side.
struct TxFrame {
  std::vector<uint8_t> bytes;
  // The earliest time the frame may leave, on the port's now_ns() clock. Only
  // checked on platforms reporting SP_HAL_CAP_SIMULATED.
  uint64_t ready_ns = 0;
};

// The suite's access to the platform outside hal.h. One harness drives one
// port; the suite calls it from the same thread as the port's operations.
class Harness {
 public:
  virtual ~Harness() = default;

  // The port under test, valid for the harness's lifetime.
  virtual const sp_hal* hal() = 0;

  // Delivers a frame from the wire (24 <= length <= max_frame_size) to the
  // port's receive side. kOk: queued. kRetry or kNoBuffers: the receive ring or
  // the pool is full, nothing queued (the link would hold its credit).
  virtual Status inject_rx(const uint8_t* bytes, uint32_t length) = 0;

  // Takes the oldest frame the port has transmitted onto the wire whether or
  // not its ready time has come, freeing its place in the transmit ring. False
  // when nothing is waiting.
  virtual bool collect_tx(TxFrame* out) = 0;

  // Moves the port's clock forward.
  virtual void advance_ns(uint64_t ns) = 0;

  // The CP's end of the mailbox, with the results of mbox_send / mbox_recv.
  virtual Status cp_send(uint32_t type, const void* data, uint32_t length) = 0;
  virtual Status cp_recv(uint32_t* type, void* buf, uint32_t capacity, uint32_t* length) = 0;
};

using HarnessFactory = std::unique_ptr<Harness> (*)();

// One implementation under test: the parameter of the suite.
struct HalUnderTest {
  const char* name;
  HarnessFactory make;
};
void PrintTo(const HalUnderTest& hal, std::ostream* os);
std::string hal_under_test_name(const ::testing::TestParamInfo<HalUnderTest>& info);

// Makes the linker keep every test of the suite (they register themselves from
// static constructors, which a static library would otherwise drop).
int link_suite();

// The fixture: a fresh harness and port per test, plus helpers that act as the
// firmware's loop would.
class HalConformance : public ::testing::TestWithParam<HalUnderTest> {
 protected:
  void SetUp() override;

  // A frame of `length` bytes whose content follows from `seed`.
  static std::vector<uint8_t> make_frame(uint32_t length, uint32_t seed);
  // The seed make_frame wrote into a frame.
  static uint32_t frame_seed(const uint8_t* frame);

  // Injects and expects kOk.
  void inject(const std::vector<uint8_t>& frame);
  // Receives up to `n` frames, calling rx_burst until it has them or one call
  // returns nothing.
  std::vector<sp_hal_buf*> receive(uint32_t n, uint32_t burst = 32);
  // Allocates one buffer holding `frame`.
  sp_hal_buf* alloc_frame(const std::vector<uint8_t>& frame);
  // Sends `bufs`, expecting all accepted.
  void send_all(const std::vector<sp_hal_buf*>& bufs);
  // Collects every transmitted frame waiting.
  std::vector<TxFrame> collect_all();
  // Buffers the firmware could allocate now (allocates them all, then frees).
  uint32_t free_buffer_count();
  sp_hal_stats stats();
  // Whether `buf` holds exactly `frame`.
  static ::testing::AssertionResult holds(const sp_hal_buf* buf, const std::vector<uint8_t>& frame);

  std::unique_ptr<Harness> harness_;
  Hal hal_;
  sp_hal_port_info info_{};
};

}  // namespace splitpath::hal::conformance

// Instantiates the suite for one implementation, at namespace scope.
#define SPLITPATH_HAL_CONFORMANCE_SUITE(name, factory)                                            \
  namespace splitpath::hal::conformance {                                                         \
  INSTANTIATE_TEST_SUITE_P(name, HalConformance, ::testing::Values(HalUnderTest{#name, factory}), \
                           hal_under_test_name);                                                  \
  }                                                                                               \
  [[maybe_unused]] static const int splitpath_hal_conformance_linked_##name =                     \
      ::splitpath::hal::conformance::link_suite()
