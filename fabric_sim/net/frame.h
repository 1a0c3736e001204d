// Frame buffers. A frame is one fixed-size buffer from a pool, passed by pointer
// from port to link to port; queues link frames intrusively, so moving a frame
// through the fabric never allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fabric_sim/kernel/kernel.h"
#include "splitpath/fc/frame_header.h"

namespace splitpath::sim {

class Link;

struct Frame {
  // Bytes on the wire: the 24-byte header then the payload (no SOF/CRC/EOF; the
  // link adds their length to the serialization time).
  alignas(8) uint8_t bytes[fc::kMaxFrameSize];
  uint16_t size = 0;

  // Simulator bookkeeping, not on the wire.
  SimTime ready_at = 0;         // earliest time the next link may start sending it
  Link* credit_link = nullptr;  // receive buffer this frame occupies, released
  uint8_t credit_side = 0;      //   (R_RDY) when it starts onto the next link
  Frame* next = nullptr;        // intrusive queue link

  std::span<uint8_t> data() { return {bytes, size}; }
  std::span<const uint8_t> data() const { return {bytes, size}; }
  std::span<uint8_t> payload() { return {bytes + fc::kFrameHeaderSize, payload_size()}; }
  std::span<const uint8_t> payload() const {
    return {bytes + fc::kFrameHeaderSize, payload_size()};
  }
  size_t payload_size() const {
    return size > fc::kFrameHeaderSize ? size - fc::kFrameHeaderSize : 0;
  }
  uint8_t* payload_ptr() { return bytes + fc::kFrameHeaderSize; }
  fc::FcId d_id() const { return fc::peek_d_id(bytes); }
  fc::FcId s_id() const { return fc::peek_s_id(bytes); }
};

// FIFO of frames linked through Frame::next.
class FrameQueue {
 public:
  bool empty() const { return head_ == nullptr; }
  size_t size() const { return size_; }
  Frame* front() const { return head_; }
  void push(Frame* f) {
    f->next = nullptr;
    if (tail_) {
      tail_->next = f;
    } else {
      head_ = f;
    }
    tail_ = f;
    ++size_;
  }
  Frame* pop() {
    Frame* f = head_;
    head_ = f->next;
    if (!head_) tail_ = nullptr;
    f->next = nullptr;
    --size_;
    return f;
  }

 private:
  Frame* head_ = nullptr;
  Frame* tail_ = nullptr;
  size_t size_ = 0;
};

// A pool of frame buffers. It grows in slabs when empty and never shrinks, so
// after warm-up a run allocates nothing per frame; `slab_allocations()` lets
// benchmarks and tests check that.
class FramePool {
 public:
  explicit FramePool(size_t frames_per_slab = 1024) : per_slab_(frames_per_slab) {}
  FramePool(const FramePool&) = delete;
  FramePool& operator=(const FramePool&) = delete;
  ~FramePool();

  Frame* alloc() {
    if (free_.empty()) grow();
    Frame* f = free_.pop();
    f->ready_at = 0;
    f->credit_link = nullptr;
    f->size = 0;
    ++in_use_;
    return f;
  }
  void free(Frame* f) {
    --in_use_;
    free_.push(f);
  }

  size_t in_use() const { return in_use_; }
  size_t slab_allocations() const { return slabs_.size(); }

 private:
  void grow();

  size_t per_slab_;
  FrameQueue free_;
  std::vector<Frame*> slabs_;
  size_t in_use_ = 0;
};

}  // namespace splitpath::sim
