// fp_footprint: the table memory the firmware asks of a platform, computed by
// the firmware's own sizing functions on the target it runs on (sizes of the
// entries that hold pointers differ between 32- and 64-bit targets).
// Run by the `footprint` build target after `size` on the firmware libraries.
#include <cstdint>
#include <cstdio>

#include "fp_firmware/fast_path.h"
#include "fp_firmware/rmap/rmap_cache.h"

namespace {

using splitpath::fp::FastPath;
using splitpath::fp::FastPathConfig;
using splitpath::fp::RmapCache;

// The most extents the Rmap cache sizes into `bytes`.
uint32_t extents_in(uint64_t bytes, const splitpath::fp::RmapConfig& config) {
  uint32_t lo = 0;
  uint32_t hi = 1u << 26;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo + 1) / 2;
    const size_t need = RmapCache::bytes_for(mid, config);
    if (need != 0 && need <= bytes) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

}  // namespace

int main() {
  const FastPathConfig config;  // the defaults the switch uses
  const size_t fixed = FastPath::fixed_table_bytes(config);
  const size_t rmap_1k = RmapCache::bytes_for(1024, config.rmap);
  const size_t rmap_65k = RmapCache::bytes_for(1024 + 65536, config.rmap);
  std::printf("target: %u-bit pointers, %s-endian\n", static_cast<unsigned>(sizeof(void*) * 8),
              __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? "big" : "little");
  std::printf("fixed tables (default FastPathConfig): %zu bytes\n", fixed);
  std::printf("Rmap cache per cached extent: %.1f bytes (leaf %zu + trie arrays + root slots)\n",
              static_cast<double>(rmap_65k - rmap_1k) / 65536.0, RmapCache::kLeafBytes);
  // The default tables, and a smaller set for a platform with little memory
  // (hal/PORTING.md, section 3).
  FastPathConfig small;
  small.upstream_capacity = 256;
  small.downstream_capacity = 512;
  small.redirect_capacity = 256;
  small.exposure_capacity = 64;
  small.outbox_capacity = 64;
  small.held_frame_capacity = 256;
  const size_t small_fixed = FastPath::fixed_table_bytes(small);
  std::printf("fixed tables (small: 256 up, 512 down, 256 redirects, 64 exposures): %zu bytes\n",
              small_fixed);
  for (const uint64_t mem :
       {uint64_t{128} << 10, uint64_t{256} << 10, uint64_t{1} << 20, uint64_t{4} << 20}) {
    const uint32_t n = mem > fixed ? extents_in(mem - fixed, config.rmap) : 0;
    const uint32_t n_small = mem > small_fixed ? extents_in(mem - small_fixed, small.rmap) : 0;
    std::printf("table memory %5llu KiB: %u cached extents (small tables: %u)\n",
                static_cast<unsigned long long>(mem >> 10), n, n_small);
  }
  return 0;
}
