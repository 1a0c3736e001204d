// The contents of one logical unit, stored sparsely: only chunks that were
// written take memory, so a 1 TiB disk costs what was written to it. Unwritten
// bytes read as zero.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "absl/container/flat_hash_map.h"

namespace splitpath::sim {

class SparseStore {
 public:
  // Small chunks keep a scattered 4 KiB write from costing (and zeroing) more.
  static constexpr uint64_t kChunkSize = 4 * 1024;

  explicit SparseStore(uint64_t size_bytes) : size_(size_bytes) {}

  uint64_t size() const { return size_; }
  // Callers keep [offset, offset + size) inside the store.
  void read(uint64_t offset, std::span<uint8_t> out) const;
  void write(uint64_t offset, std::span<const uint8_t> data);
  // Deallocates [offset, offset + length): whole chunks give their memory
  // back, the bytes of partly covered ones become zero. Reads return zeros.
  void discard(uint64_t offset, uint64_t length);
  uint64_t allocated_bytes() const { return chunks_.size() * kChunkSize; }

 private:
  uint64_t size_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<uint8_t[]>> chunks_;
};

}  // namespace splitpath::sim
