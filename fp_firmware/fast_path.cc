// FastPath: carving the tables from table memory, the poll loop, and the HAL
// plumbing every other file uses (transmit with held frames, the outbox).
#include "fp_firmware/fast_path.h"

#include <cstring>
#include <new>

#include "fp_firmware/fast_path_impl.h"

namespace splitpath::fp {

namespace {

constexpr size_t kAlign = SP_HAL_TABLE_MEM_ALIGN;

constexpr size_t align_up(size_t n) {
  return (n + kAlign - 1) / kAlign * kAlign;
}

uint32_t pow2_at_least(uint32_t n) {
  uint32_t p = 1;
  while (p < n)
    p <<= 1;
  return p;
}

// The byte offsets of every fixed table in table memory, in carving order.
struct Layout {
  size_t impl = 0, up = 0, down = 0, exposures = 0, initiators = 0, targets = 0, vsegs = 0,
         redirects = 0, redirect_hash = 0, outbox = 0, journal_headers = 0, held = 0, end = 0;
  uint32_t redirect_hash_size = 0;
};

Layout layout_for(const FastPathConfig& c) {
  Layout l;
  size_t at = 0;
  auto take = [&at](size_t bytes) {
    const size_t start = at;
    at = align_up(at + bytes);
    return start;
  };
  l.impl = take(sizeof(FastPath::Impl));
  l.up = take(sizeof(Upstream) * c.upstream_capacity);
  l.down = take(sizeof(Downstream) * c.downstream_capacity);
  l.exposures = take(sizeof(Exposure) * c.exposure_capacity);
  l.initiators = take(sizeof(uint32_t) * c.exposure_capacity * c.initiators_per_exposure);
  l.targets = take(sizeof(uint32_t) * c.exposure_capacity);
  l.vsegs = take(sizeof(Vseg) * c.rmap.max_vsegs);
  l.redirects = take(sizeof(Redirect) * c.redirect_capacity);
  l.redirect_hash_size = pow2_at_least(c.redirect_capacity * 2);
  l.redirect_hash = take(sizeof(uint32_t) * l.redirect_hash_size);
  l.outbox = take(sizeof(OutMsg) * c.outbox_capacity);
  l.journal_headers = take(sizeof(sp_hal_buf*) * c.downstream_capacity);
  l.held = take(sizeof(sp_hal_buf*) * c.held_frame_capacity);
  l.end = at;
  return l;
}

bool config_ok(const FastPathConfig& c) {
  // Indexes are 16-bit exchange ids, 0xFFFF being "unassigned".
  return c.upstream_capacity > 0 && c.upstream_capacity < 0xFFFF && c.downstream_capacity > 0 &&
         c.downstream_capacity < 0xFFFF && c.max_legs_per_io > 0 && c.max_legs_per_io < 0xFFFF &&
         c.exposure_capacity > 0 && c.exposure_capacity <= (1u << 16) && c.redirect_capacity > 0 &&
         c.redirect_capacity <= (1u << 24) && c.outbox_capacity > 0 && c.held_frame_capacity > 0 &&
         c.initiators_per_exposure > 0 && c.initiators_per_exposure <= 4096 && c.rx_burst > 0 &&
         c.rx_burst <= 256 && c.rmap.max_vsegs > 0 && c.rmap.max_vsegs <= RmapCache::kMaxVsegs;
}

}  // namespace

const char* init_status_name(InitStatus s) {
  switch (s) {
    case InitStatus::kOk:
      return "ok";
    case InitStatus::kIncompatibleHal:
      return "incompatible_hal";
    case InitStatus::kBadConfig:
      return "bad_config";
    case InitStatus::kNoMemory:
      return "no_memory";
  }
  return "unknown";
}

size_t FastPath::fixed_table_bytes(const FastPathConfig& config) {
  return config_ok(config) ? layout_for(config).end : 0;
}

InitStatus FastPath::init(const sp_hal* c_hal, const FastPathConfig& config) {
  impl_ = nullptr;
  const hal::Hal h(c_hal);
  if (!h.compatible()) return InitStatus::kIncompatibleHal;
  sp_hal_port_info info{};
  if (h.port_info(&info) != hal::Status::kOk || info.abi_version != SP_HAL_ABI_VERSION) {
    return InitStatus::kIncompatibleHal;
  }
  if (!config_ok(config) || config.held_frame_capacity < info.buf_count) {
    return InitStatus::kBadConfig;
  }
  void* base = nullptr;
  uint64_t size = 0;
  if (h.table_memory(&base, &size) != hal::Status::kOk || base == nullptr) {
    return InitStatus::kIncompatibleHal;
  }
  const Layout l = layout_for(config);
  if (size < l.end) return InitStatus::kNoMemory;
  auto* mem = static_cast<std::byte*>(base);

  // Placement into table memory: no heap. Impl and the entry types have
  // trivial destructors, so nothing needs tearing down on re-init.
  Impl* p = new (mem + l.impl) Impl();
  p->hal = h;
  p->config = config;
  p->info = info;
  p->table_mem_bytes = size;
  p->up = reinterpret_cast<Upstream*>(mem + l.up);
  p->down = reinterpret_cast<Downstream*>(mem + l.down);
  p->exposures = reinterpret_cast<Exposure*>(mem + l.exposures);
  p->initiators = reinterpret_cast<uint32_t*>(mem + l.initiators);
  p->targets = reinterpret_cast<uint32_t*>(mem + l.targets);
  p->vsegs = reinterpret_cast<Vseg*>(mem + l.vsegs);
  p->redirects = reinterpret_cast<Redirect*>(mem + l.redirects);
  p->redirect_hash = reinterpret_cast<uint32_t*>(mem + l.redirect_hash);
  p->redirect_hash_size = l.redirect_hash_size;
  p->outbox = reinterpret_cast<OutMsg*>(mem + l.outbox);
  p->journal_headers = reinterpret_cast<sp_hal_buf**>(mem + l.journal_headers);
  for (uint32_t i = 0; i < config.downstream_capacity; ++i)
    p->journal_headers[i] = nullptr;
  p->held = reinterpret_cast<sp_hal_buf**>(mem + l.held);

  for (uint32_t i = 0; i < config.upstream_capacity; ++i) {
    Upstream* u = new (&p->up[i]) Upstream();
    u->first_leg = i + 1 < config.upstream_capacity ? i + 1 : kNone;
  }
  p->up_free = 0;
  p->up_free_tail = config.upstream_capacity - 1;
  for (uint32_t i = 0; i < config.downstream_capacity; ++i) {
    Downstream* d = new (&p->down[i]) Downstream();
    d->next_leg = i + 1 < config.downstream_capacity ? i + 1 : kNone;
  }
  p->down_free = 0;
  p->down_free_tail = config.downstream_capacity - 1;
  for (uint32_t i = 0; i < config.redirect_capacity; ++i)
    new (&p->redirects[i]) Redirect();
  for (uint32_t i = 0; i < l.redirect_hash_size; ++i)
    p->redirect_hash[i] = kNone;

  const std::span<std::byte> rest(mem + l.end, static_cast<size_t>(size - l.end));
  if (p->rmap.init(rest, config.rmap) != map::RmapStatus::kOk) return InitStatus::kNoMemory;
  impl_ = p;
  return InitStatus::kOk;
}

bool FastPath::poll() {
  if (impl_ == nullptr) return false;
  Impl& s = *impl_;
  (void)s.hal.poll();
  s.flush_tx();
  s.flush_outbox();
  bool did_work = false;
  s.handle_mailbox(&did_work);

  sp_hal_buf* bufs[256];
  uint32_t n = 0;
  if (s.outbox_has_room()) {
    const hal::BurstResult r = s.hal.rx_burst(bufs, s.config.rx_burst);
    n = r.status == hal::Status::kOk ? r.count : 0;
  }
  for (uint32_t i = 0; i < n; ++i)
    s.on_frame(bufs[i]);
  s.flush_tx();
  s.flush_outbox();
  return did_work || n == s.config.rx_burst;
}

fpapi::FpStatistics FastPath::statistics() const {
  if (impl_ == nullptr) return {};
  fpapi::FpStatistics st = impl_->stats;
  st.upstream_pending = impl_->up_count;
  st.downstream_pending = impl_->down_count;
  return st;
}

RmapStats FastPath::rmap_stats() const {
  return impl_ == nullptr ? RmapStats{} : impl_->rmap.stats();
}

uint32_t FastPath::virtual_initiator() const {
  return impl_ == nullptr ? 0 : impl_->vi;
}

// ---- HAL plumbing ----------------------------------------------------------

void FastPath::Impl::transmit(sp_hal_buf* buf) {
  const uint32_t cap = config.held_frame_capacity;
  if (held_count == cap) {
    // Unreachable while held_frame_capacity >= buf_count (checked at init).
    ++stats.dropped_frames;
    free_buf(buf);
    return;
  }
  held[(held_head + held_count) % cap] = buf;
  ++held_count;
}

void FastPath::Impl::flush_tx() {
  const uint32_t cap = config.held_frame_capacity;
  while (held_count > 0) {
    const uint32_t run = held_head + held_count <= cap ? held_count : cap - held_head;
    const hal::BurstResult r = hal.tx_burst(held + held_head, run);
    held_head = (held_head + r.count) % cap;
    held_count -= r.count;
    if (r.status != hal::Status::kOk || r.count < run) return;  // ring full: retry next poll
  }
}

void FastPath::Impl::free_buf(sp_hal_buf* buf) {
  (void)hal.free_bufs(&buf, 1);
}

sp_hal_buf* FastPath::Impl::alloc_buf() {
  sp_hal_buf* b = nullptr;
  return hal.alloc_bufs(&b, 1) == hal::Status::kOk ? b : nullptr;
}

void FastPath::Impl::post_raw(uint32_t type, const uint8_t* bytes, uint32_t length) {
  if (out_count == 0 && hal.mbox_send(type, bytes, length) == hal::Status::kOk) return;
  if (out_count == config.outbox_capacity) {
    ++outbox_lost;
    return;
  }
  OutMsg& m = outbox[(out_head + out_count) % config.outbox_capacity];
  m.type = type;
  m.length = length;
  std::memcpy(m.bytes, bytes, length);
  ++out_count;
}

void FastPath::Impl::flush_outbox() {
  while (out_count > 0) {
    const OutMsg& m = outbox[out_head];
    if (hal.mbox_send(m.type, m.bytes, m.length) != hal::Status::kOk) return;
    out_head = (out_head + 1) % config.outbox_capacity;
    --out_count;
  }
}

bool FastPath::Impl::outbox_has_room() const {
  constexpr uint32_t kReserve = 16;  // e.g. the FPGetData replies of one full data frame
  const uint32_t cap = config.outbox_capacity;
  return cap <= kReserve ? out_count == 0 : out_count + kReserve <= cap;
}

void FastPath::Impl::reply(uint32_t req_id, fpapi::MsgType request, fpapi::ApiStatus status,
                           uint32_t value) {
  if (req_id == fpapi::kNoTag) return;
  fpapi::FpReply r;
  r.req_id = req_id;
  r.request = request;
  r.status = status;
  r.value = value;
  r.now_ns = now();
  post(r);
}

}  // namespace splitpath::fp
