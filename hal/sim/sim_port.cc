#include "hal/sim/sim_port.h"

#include <algorithm>
#include <cstring>

namespace splitpath::hal::sim {

namespace {

constexpr uint32_t kCacheLine = 64;
// Bounds that keep every size computation below far from overflow.
constexpr uint32_t kMaxBuffers = 1u << 20;
constexpr uint32_t kMaxMailboxDepth = 1u << 16;
constexpr uint32_t kMaxMailboxMessage = 1u << 20;

constexpr uint64_t round_up(uint64_t n, uint64_t to) {
  return (n + to - 1) / to * to;
}

}  // namespace

const sp_hal_fast_ops SimPort::kFastOps = {
    &SimPort::op_rx_burst,
    &SimPort::op_tx_burst,
    &SimPort::op_alloc_bufs,
    &SimPort::op_free_bufs,
    &SimPort::op_now_ns,
    &SimPort::op_charge_cycles,
    nullptr,  // poll: nothing is deferred
};

const sp_hal_ctrl_ops SimPort::kCtrlOps = {
    &SimPort::op_port_info, &SimPort::op_table_memory, &SimPort::op_mbox_send,
    &SimPort::op_mbox_recv, &SimPort::op_get_stats,
};

// ---- Construction ----------------------------------------------------------

const char* SimPort::check_config(const SimPortConfig& c) {
  if (c.wwpn == 0) return "wwpn must be non-zero";
  if (c.rx_ring_size == 0) return "rx_ring_size must be at least 1";
  if (c.tx_ring_size == 0) return "tx_ring_size must be at least 1";
  if (c.buffer_count > kMaxBuffers) return "buffer_count must be at most 1048576";
  if (uint64_t{c.rx_ring_size} + c.tx_ring_size > c.buffer_count) {
    return "buffer_count must be at least rx_ring_size + tx_ring_size";
  }
  if (c.max_frame_payload < SP_HAL_MIN_FRAME_PAYLOAD_LIMIT ||
      c.max_frame_payload > SP_HAL_MAX_FRAME_PAYLOAD) {
    return "max_frame_payload must be between 2048 and 2112";
  }
  if (c.max_transfer_bytes == 0) return "max_transfer_bytes must be non-zero";
  if (c.table_memory_bytes < SP_HAL_MIN_TABLE_MEM_BYTES) {
    return "table_memory_bytes must be at least 65536";
  }
  if (c.mbox_max_msg_size < SP_HAL_MBOX_MIN_MSG_SIZE || c.mbox_max_msg_size > kMaxMailboxMessage) {
    return "mbox_max_msg_size must be between 256 and 1048576";
  }
  if (c.mbox_to_cp_depth < SP_HAL_MBOX_MIN_DEPTH || c.mbox_to_cp_depth > kMaxMailboxDepth ||
      c.mbox_from_cp_depth < SP_HAL_MBOX_MIN_DEPTH || c.mbox_from_cp_depth > kMaxMailboxDepth) {
    return "mailbox depths must be between 8 and 65536";
  }
  return nullptr;
}

std::unique_ptr<SimPort> SimPort::create(const SimPortConfig& config, const Clock& clock,
                                         const char** error) {
  const char* why = check_config(config);
  std::unique_ptr<SimPort> port;
  if (why == nullptr) {
    port.reset(new SimPort(config, clock));
    if (!port->allocate(&why)) port.reset();
  }
  if (error != nullptr) *error = why;
  return port;
}

SimPort::SimPort(const SimPortConfig& config, const Clock& clock) : config_(config), clock_(clock) {
  max_frame_size_ = SP_HAL_FRAME_HEADER_SIZE + config.max_frame_payload;
  buf_stride_ = static_cast<uint32_t>(round_up(max_frame_size_, kCacheLine));
  hal_.abi_version = SP_HAL_ABI_VERSION;
  hal_.port = reinterpret_cast<sp_hal_port*>(this);
  hal_.fast = &kFastOps;
  hal_.ctrl = &kCtrlOps;
  last_now_ns_ = clock.now_ns();
}

bool SimPort::allocate(const char** error) {
  const uint32_t n = config_.buffer_count;
  const uint64_t buf_bytes = uint64_t{buf_stride_} * n;
  const uint64_t table_bytes = round_up(config_.table_memory_bytes, kCacheLine);
  if (table_bytes > SIZE_MAX) {
    *error = "table_memory_bytes does not fit this host's address space";
    return false;
  }
  buf_memory_.reset(static_cast<uint8_t*>(std::aligned_alloc(kCacheLine, buf_bytes)));
  table_memory_.reset(
      static_cast<uint8_t*>(std::aligned_alloc(kCacheLine, static_cast<size_t>(table_bytes))));
  if (!buf_memory_ || !table_memory_) {
    *error = "cannot allocate the buffer pool or table memory";
    return false;
  }
  std::memset(buf_memory_.get(), 0, buf_bytes);
  std::memset(table_memory_.get(), 0, static_cast<size_t>(table_bytes));

  descs_.assign(n, sp_hal_buf{});
  state_.assign(n, BufState::kFree);
  originated_.assign(n, 0);
  free_ids_.resize(n);
  for (uint32_t id = 0; id < n; ++id) {
    sp_hal_buf& b = descs_[id];
    b.data = buf_memory_.get() + uint64_t{buf_stride_} * id;
    b.capacity = buf_stride_;
    b.id = id;
    // Lowest ids on top of the stack, so a fresh port hands out 0, 1, 2, ...
    free_ids_[n - 1 - id] = id;
  }
  free_count_ = n;
  rx_ring_.init(config_.rx_ring_size);
  tx_ring_.init(config_.tx_ring_size);
  to_cp_.init(config_.mbox_to_cp_depth, config_.mbox_max_msg_size);
  from_cp_.init(config_.mbox_from_cp_depth, config_.mbox_max_msg_size);
  return true;
}

uint64_t SimPort::now_ns() const {
  last_now_ns_ = std::max(last_now_ns_, clock_.now_ns());
  return last_now_ns_;
}

// ---- Buffers and the engine --------------------------------------------------

sp_hal_status SimPort::claim_batch(sp_hal_buf* const* bufs, uint32_t count, bool for_tx) {
  sp_hal_status status = SP_HAL_OK;
  uint32_t i = 0;
  for (; i < count; ++i) {
    const sp_hal_buf* b = bufs[i];
    if (b == nullptr || b->id >= descs_.size() || &descs_[b->id] != b ||
        b->data != buf_memory_.get() + uint64_t{buf_stride_} * b->id ||
        b->capacity != buf_stride_ || state_[b->id] != BufState::kFirmware) {
      status = SP_HAL_INVALID_ARGUMENT;
      break;
    }
    if (for_tx && b->length < SP_HAL_FRAME_HEADER_SIZE) {
      status = SP_HAL_INVALID_ARGUMENT;
      break;
    }
    if (for_tx && b->length > max_frame_size_) {
      status = SP_HAL_TOO_LARGE;
      break;
    }
    state_[b->id] = BufState::kInBatch;
  }
  if (status != SP_HAL_OK) {
    for (uint32_t j = 0; j < i; ++j)
      state_[bufs[j]->id] = BufState::kFirmware;
  }
  return status;
}

void SimPort::release_to_pool(uint32_t id) {
  state_[id] = BufState::kFree;
  descs_[id].length = 0;
  free_ids_[free_count_++] = id;
}

void SimPort::occupy_engine(uint64_t ns) {
  busy_until_ns_ = std::max(busy_until_ns_, now_ns()) + ns;
  stats_.busy_ns += ns;
}

void SimPort::charge_cycles(uint32_t cycles) {
  stats_.cycles_charged += cycles;
  if (config_.core_mhz == 0) return;
  // ns = cycles * 1000 / MHz; the remainder carries over so that many small
  // charges add up to the same time as one large one.
  const uint64_t scaled = cycle_remainder_ + uint64_t{cycles} * 1000;
  cycle_remainder_ = scaled % config_.core_mhz;
  occupy_engine(scaled / config_.core_mhz);
}

void SimPort::notify_rx_space() {
  if (rx_refused_ && can_accept_rx()) {
    rx_refused_ = false;
    if (hooks_.rx_space) hooks_.rx_space(hooks_.ctx);
  }
}

sp_hal_status SimPort::rx_burst(sp_hal_buf** bufs, uint32_t max, uint32_t* received) {
  const uint32_t n = std::min(max, rx_ring_.count);
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t id = rx_ring_.ids[rx_ring_.head];
    rx_ring_.pop();
    state_[id] = BufState::kFirmware;
    sp_hal_buf& b = descs_[id];
    b.fw_scratch = 0;
    bufs[i] = &b;
    stats_.rx_bytes += b.length;
  }
  *received = n;
  if (n == 0) return SP_HAL_OK;
  stats_.rx_frames += n;
  stats_.frames_charged += n;
  occupy_engine(uint64_t{n} * config_.frame_cost_ns);
  notify_rx_space();
  return SP_HAL_OK;
}

sp_hal_status SimPort::tx_burst(sp_hal_buf* const* bufs, uint32_t count, uint32_t* accepted) {
  const sp_hal_status claimed = claim_batch(bufs, count, /*for_tx=*/true);
  if (claimed != SP_HAL_OK) return invalid(claimed);
  const uint32_t n = std::min(count, tx_ring_.capacity - tx_ring_.count);
  uint64_t first_ready = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t id = bufs[i]->id;
    if (originated_[id]) {
      ++stats_.frames_charged;
      occupy_engine(config_.frame_cost_ns);
    }
    const uint64_t ready = std::max(now_ns(), busy_until_ns_);
    if (i == 0) first_ready = ready;
    tx_ring_.push(id, ready);
    state_[id] = BufState::kTxQueued;
    ++stats_.tx_frames;
    stats_.tx_bytes += descs_[id].length;
  }
  for (uint32_t i = n; i < count; ++i)
    state_[bufs[i]->id] = BufState::kFirmware;
  *accepted = n;
  if (n > 0 && hooks_.tx_queued) hooks_.tx_queued(hooks_.ctx, first_ready);
  if (n < count) {
    ++stats_.tx_retries;
    return SP_HAL_RETRY;
  }
  return SP_HAL_OK;
}

sp_hal_status SimPort::alloc_bufs(sp_hal_buf** bufs, uint32_t count) {
  if (count > free_count_) {
    ++stats_.alloc_failures;
    return SP_HAL_NO_BUFFERS;
  }
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t id = free_ids_[--free_count_];
    state_[id] = BufState::kFirmware;
    originated_[id] = 1;
    sp_hal_buf& b = descs_[id];
    b.length = 0;
    b.rx_time_ns = 0;
    b.fw_scratch = 0;
    bufs[i] = &b;
  }
  return SP_HAL_OK;
}

sp_hal_status SimPort::free_bufs(sp_hal_buf* const* bufs, uint32_t count) {
  const sp_hal_status claimed = claim_batch(bufs, count, /*for_tx=*/false);
  if (claimed != SP_HAL_OK) return invalid(claimed);
  for (uint32_t i = 0; i < count; ++i)
    release_to_pool(bufs[i]->id);
  notify_rx_space();
  return SP_HAL_OK;
}

void SimPort::fill_info(sp_hal_port_info* info) const {
  *info = sp_hal_port_info{};
  info->abi_version = SP_HAL_ABI_VERSION;
  info->port_index = config_.port_index;
  info->wwpn = config_.wwpn;
  info->table_mem_bytes = config_.table_memory_bytes;
  info->capabilities = SP_HAL_CAP_SIMULATED;
  info->max_frame_payload = config_.max_frame_payload;
  info->max_frame_size = max_frame_size_;
  info->max_transfer_bytes = config_.max_transfer_bytes;
  info->rx_ring_size = config_.rx_ring_size;
  info->tx_ring_size = config_.tx_ring_size;
  info->buf_count = config_.buffer_count;
  info->buf_capacity = buf_stride_;
  info->mbox_max_msg_size = config_.mbox_max_msg_size;
  info->mbox_to_cp_depth = config_.mbox_to_cp_depth;
  info->mbox_from_cp_depth = config_.mbox_from_cp_depth;
  info->frame_cost_ns = config_.frame_cost_ns;
  info->core_mhz = config_.core_mhz;
}

// ---- Wire side ---------------------------------------------------------------

Status SimPort::push_rx(const uint8_t* bytes, uint32_t length) {
  if (bytes == nullptr || length < SP_HAL_FRAME_HEADER_SIZE) return Status::kInvalidArgument;
  if (length > max_frame_size_) return Status::kTooLarge;
  if (rx_ring_.count == rx_ring_.capacity || free_count_ == 0) {
    ++stats_.rx_refused;
    rx_refused_ = true;
    return free_count_ == 0 ? Status::kNoBuffers : Status::kRetry;
  }
  const uint32_t id = free_ids_[--free_count_];
  state_[id] = BufState::kRxQueued;
  originated_[id] = 0;
  sp_hal_buf& b = descs_[id];
  std::memcpy(b.data, bytes, length);
  b.length = length;
  b.rx_time_ns = now_ns();
  rx_ring_.push(id, 0);
  return Status::kOk;
}

bool SimPort::tx_front(TxFrameView* out) const {
  if (tx_ring_.count == 0) return false;
  const sp_hal_buf& b = descs_[tx_ring_.ids[tx_ring_.head]];
  out->data = b.data;
  out->length = b.length;
  out->ready_ns = tx_ring_.ready_ns[tx_ring_.head];
  return true;
}

void SimPort::pop_tx() {
  const uint32_t id = tx_ring_.ids[tx_ring_.head];
  tx_ring_.pop();
  release_to_pool(id);
  notify_rx_space();
}

uint32_t SimPort::drain_tx(uint64_t now, TxSink sink, void* ctx) {
  uint32_t popped = 0;
  TxFrameView frame;
  while (tx_front(&frame) && frame.ready_ns <= now && sink(ctx, frame)) {
    pop_tx();
    ++popped;
  }
  return popped;
}

// ---- Mailbox -----------------------------------------------------------------

void SimPort::Mailbox::init(uint32_t n, uint32_t size) {
  bytes.assign(size_t{n} * size, 0);
  types.assign(n, 0);
  lengths.assign(n, 0);
  depth = n;
  max_size = size;
}

Status SimPort::Mailbox::push(uint32_t type, const void* data, uint32_t length) {
  if (data == nullptr && length > 0) return Status::kInvalidArgument;
  if (length > max_size) return Status::kTooLarge;
  if (count == depth) return Status::kRetry;
  const uint32_t slot = (head + count) % depth;
  types[slot] = type;
  lengths[slot] = length;
  if (length > 0) std::memcpy(bytes.data() + size_t{slot} * max_size, data, length);
  ++count;
  return Status::kOk;
}

Status SimPort::Mailbox::pop(uint32_t* type, void* buf, uint32_t capacity, uint32_t* length) {
  if (type == nullptr || length == nullptr || (buf == nullptr && capacity > 0)) {
    if (length != nullptr) *length = 0;
    return Status::kInvalidArgument;
  }
  if (count == 0) {
    *length = 0;
    return Status::kEmpty;
  }
  *length = lengths[head];
  if (lengths[head] > capacity) return Status::kTooLarge;
  *type = types[head];
  if (lengths[head] > 0) std::memcpy(buf, bytes.data() + size_t{head} * max_size, lengths[head]);
  head = (head + 1) % depth;
  --count;
  return Status::kOk;
}

Status SimPort::cp_send(uint32_t type, const void* data, uint32_t length) {
  return from_cp_.push(type, data, length);
}

Status SimPort::cp_recv(uint32_t* type, void* buf, uint32_t capacity, uint32_t* length) {
  return to_cp_.pop(type, buf, capacity, length);
}

// ---- The operations tables -----------------------------------------------------
// Each checks its arguments, then calls the member that does the work.

sp_hal_status SimPort::op_rx_burst(sp_hal_port* port, sp_hal_buf** bufs, uint32_t max,
                                   uint32_t* received) {
  if (received != nullptr) *received = 0;
  if (port == nullptr) return SP_HAL_INVALID_ARGUMENT;
  SimPort* p = self(port);
  if (bufs == nullptr || received == nullptr || max == 0) {
    return p->invalid(SP_HAL_INVALID_ARGUMENT);
  }
  return p->rx_burst(bufs, max, received);
}

sp_hal_status SimPort::op_tx_burst(sp_hal_port* port, sp_hal_buf* const* bufs, uint32_t count,
                                   uint32_t* accepted) {
  if (accepted != nullptr) *accepted = 0;
  if (port == nullptr) return SP_HAL_INVALID_ARGUMENT;
  SimPort* p = self(port);
  if (bufs == nullptr || accepted == nullptr || count == 0) {
    return p->invalid(SP_HAL_INVALID_ARGUMENT);
  }
  return p->tx_burst(bufs, count, accepted);
}

sp_hal_status SimPort::op_alloc_bufs(sp_hal_port* port, sp_hal_buf** bufs, uint32_t count) {
  if (port == nullptr) return SP_HAL_INVALID_ARGUMENT;
  SimPort* p = self(port);
  if (bufs == nullptr || count == 0) return p->invalid(SP_HAL_INVALID_ARGUMENT);
  return p->alloc_bufs(bufs, count);
}

sp_hal_status SimPort::op_free_bufs(sp_hal_port* port, sp_hal_buf* const* bufs, uint32_t count) {
  if (port == nullptr) return SP_HAL_INVALID_ARGUMENT;
  SimPort* p = self(port);
  if (bufs == nullptr || count == 0) return p->invalid(SP_HAL_INVALID_ARGUMENT);
  return p->free_bufs(bufs, count);
}

uint64_t SimPort::op_now_ns(sp_hal_port* port) {
  return port == nullptr ? 0 : self(port)->now_ns();
}

sp_hal_status SimPort::op_charge_cycles(sp_hal_port* port, uint32_t cycles) {
  if (port == nullptr) return SP_HAL_INVALID_ARGUMENT;
  self(port)->charge_cycles(cycles);
  return SP_HAL_OK;
}

sp_hal_status SimPort::op_port_info(sp_hal_port* port, sp_hal_port_info* info) {
  if (port == nullptr) return SP_HAL_INVALID_ARGUMENT;
  SimPort* p = self(port);
  if (info == nullptr) return p->invalid(SP_HAL_INVALID_ARGUMENT);
  p->fill_info(info);
  return SP_HAL_OK;
}

sp_hal_status SimPort::op_table_memory(sp_hal_port* port, void** base, uint64_t* size) {
  if (port == nullptr) return SP_HAL_INVALID_ARGUMENT;
  SimPort* p = self(port);
  if (base == nullptr || size == nullptr) return p->invalid(SP_HAL_INVALID_ARGUMENT);
  *base = p->table_memory_.get();
  *size = p->config_.table_memory_bytes;
  return SP_HAL_OK;
}

sp_hal_status SimPort::op_mbox_send(sp_hal_port* port, uint32_t type, const void* data,
                                    uint32_t length) {
  if (port == nullptr) return SP_HAL_INVALID_ARGUMENT;
  SimPort* p = self(port);
  const Status s = p->to_cp_.push(type, data, length);
  switch (s) {
    case Status::kOk:
      ++p->stats_.mbox_sent;
      if (p->hooks_.to_cp_posted) p->hooks_.to_cp_posted(p->hooks_.ctx);
      break;
    case Status::kRetry:
      ++p->stats_.mbox_retries;
      break;
    default:
      return p->invalid(to_c(s));
  }
  return to_c(s);
}

sp_hal_status SimPort::op_mbox_recv(sp_hal_port* port, uint32_t* type, void* buf, uint32_t capacity,
                                    uint32_t* length) {
  if (port == nullptr) {
    if (length != nullptr) *length = 0;
    return SP_HAL_INVALID_ARGUMENT;
  }
  SimPort* p = self(port);
  const Status s = p->from_cp_.pop(type, buf, capacity, length);
  switch (s) {
    case Status::kOk:
      ++p->stats_.mbox_received;
      break;
    case Status::kEmpty:
      break;
    default:
      return p->invalid(to_c(s));
  }
  return to_c(s);
}

sp_hal_status SimPort::op_get_stats(sp_hal_port* port, sp_hal_stats* stats) {
  if (port == nullptr) return SP_HAL_INVALID_ARGUMENT;
  SimPort* p = self(port);
  if (stats == nullptr) return p->invalid(SP_HAL_INVALID_ARGUMENT);
  *stats = p->stats_;
  return SP_HAL_OK;
}

}  // namespace splitpath::hal::sim
