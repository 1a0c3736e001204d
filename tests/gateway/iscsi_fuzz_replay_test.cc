// Drives the iSCSI target's fuzz target (iscsi_fuzz.cc) deterministically in every
// CI build (including ASan+UBSan): the seed corpus in tests/gateway/corpus/iscsi/
// as it is, then mutated variants.
//
// Environment: SPLITPATH_FUZZ_SEED (default 0x5EED5EED), SPLITPATH_FUZZ_ITERATIONS
// (default 50000).
#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "tests/fuzz/fuzz_corpus.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace splitpath::testing {
namespace {

TEST(IscsiFuzzReplay, SeedsAndTheirMutantsNeverCrashTheTarget) {
  const uint64_t seed = env_u64("SPLITPATH_FUZZ_SEED", 0x5EED5EED);
  const uint64_t iterations = env_u64("SPLITPATH_FUZZ_ITERATIONS", 50000);
  std::printf("iscsi fuzz replay: seed %llu, %llu iterations\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(iterations));
  std::vector<FuzzInput> inputs = load_corpus("iscsi");
  EXPECT_GE(inputs.size(), 3u);
  for (const FuzzInput& in : inputs) {
    FuzzInput copy = in;
    LLVMFuzzerTestOneInput(copy.data(), copy.size());
  }
  Xorshift r(seed);
  for (uint64_t i = 0; i < iterations; ++i) {
    FuzzInput in = mutate(inputs[r.below(inputs.size())], inputs[r.below(inputs.size())], r);
    LLVMFuzzerTestOneInput(in.data(), in.size());
  }
}

}  // namespace
}  // namespace splitpath::testing
