#include "fabric_sim/node/sparse_store.h"

#include <algorithm>
#include <cstring>

namespace splitpath::sim {

void SparseStore::read(uint64_t offset, std::span<uint8_t> out) const {
  size_t done = 0;
  while (done < out.size()) {
    const uint64_t pos = offset + done;
    const uint64_t in_chunk = pos % kChunkSize;
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(kChunkSize - in_chunk, out.size() - done));
    auto it = chunks_.find(pos / kChunkSize);
    if (it == chunks_.end()) {
      std::memset(out.data() + done, 0, n);
    } else {
      std::memcpy(out.data() + done, it->second.get() + in_chunk, n);
    }
    done += n;
  }
}

void SparseStore::write(uint64_t offset, std::span<const uint8_t> data) {
  size_t done = 0;
  while (done < data.size()) {
    const uint64_t pos = offset + done;
    const uint64_t in_chunk = pos % kChunkSize;
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(kChunkSize - in_chunk, data.size() - done));
    auto& chunk = chunks_[pos / kChunkSize];
    if (!chunk) chunk = std::make_unique<uint8_t[]>(kChunkSize);  // value-initialised: zeros
    std::memcpy(chunk.get() + in_chunk, data.data() + done, n);
    done += n;
  }
}

void SparseStore::discard(uint64_t offset, uint64_t length) {
  uint64_t pos = offset;
  const uint64_t end = offset + length;
  while (pos < end) {
    const uint64_t in_chunk = pos % kChunkSize;
    const uint64_t n = std::min<uint64_t>(kChunkSize - in_chunk, end - pos);
    auto it = chunks_.find(pos / kChunkSize);
    if (it != chunks_.end()) {
      if (n == kChunkSize) {
        chunks_.erase(it);
      } else {
        std::memset(it->second.get() + in_chunk, 0, n);
      }
    }
    pos += n;
  }
}

}  // namespace splitpath::sim
