/* The ring port (ring_port.h): hal.h in C over one memory region. */
#include "hal/ring/ring_port.h"

#include <stdlib.h>
#include <string.h>

enum {
  kRegionAlign = 64,
  /* Bounds that keep every size computation far from overflow. */
  kMaxBuffers = 1 << 20,
  kMaxRing = 1 << 20,
  kMaxMailboxDepth = 1 << 16,
  kMaxMailboxMessage = 1 << 20,
};

/* Where a buffer is. */
enum buf_state {
  BUF_FREE,     /* in the free queue */
  BUF_RX,       /* written by the wire, its completion in the receive ring */
  BUF_FW,       /* held by the firmware */
  BUF_IN_BATCH, /* held by the firmware and named earlier in the call being checked */
  BUF_TX,       /* posted in the transmit ring, not sent yet */
  BUF_TX_DONE,  /* sent, its descriptor waiting to be reclaimed */
};

/* A FIFO of buffer ids over `size` slots: the free queue, the receive ring. */
typedef struct id_queue {
  uint32_t* ids;
  uint32_t size;
  uint32_t head;
  uint32_t count;
} id_queue;

/* One direction of the mailbox: `depth` slots of max_size bytes. */
typedef struct mailbox {
  uint8_t* bytes;
  uint32_t* types;
  uint32_t* lengths;
  uint32_t depth;
  uint32_t max_size;
  uint32_t head;
  uint32_t count;
} mailbox;

struct sp_ring_port {
  sp_hal hal;
  sp_ring_config config;
  sp_ring_time time;
  sp_ring_hooks hooks;
  uint64_t last_now_ns;
  uint32_t max_frame_size;
  uint32_t buf_stride;

  uint8_t* buffers;
  uint8_t* table_memory;
  sp_hal_buf* descs;
  uint8_t* state;      /* enum buf_state per buffer */
  uint8_t* originated; /* 1: allocated by the firmware (charged when sent) */

  id_queue free_q;
  /* Receive completions: rx.count written, of which the first rx_visible
   * were taken by the last head read. */
  id_queue rx;
  uint32_t rx_visible;
  int rx_refused;

  /* Transmit descriptors from tx_clean: tx_used posted and not reclaimed, of
   * which the first tx_done were sent. */
  uint32_t* tx_ids;
  uint64_t* tx_ready_ns;
  uint32_t tx_clean;
  uint32_t tx_used;
  uint32_t tx_done;

  mailbox to_cp;
  mailbox from_cp;

  uint64_t busy_until_ns;
  uint64_t cycle_remainder;
  sp_hal_stats stats;
  sp_ring_counters counters;
};

/* The operations tables, defined with the operations below. */
static const sp_hal_fast_ops ring_fast_ops;
static const sp_hal_ctrl_ops ring_ctrl_ops;

static uint64_t round_up(uint64_t n, uint64_t to) {
  return (n + to - 1) / to * to;
}

static sp_ring_port* self(sp_hal_port* port) {
  return (sp_ring_port*)(void*)port;
}

/* ---- Configuration and the region ------------------------------------------- */

void sp_ring_default_config(sp_ring_config* c) {
  memset(c, 0, sizeof *c);
  c->rx_ring_size = 128;
  c->tx_ring_size = 32;
  c->buffer_count = 192;
  c->max_frame_payload = SP_HAL_MAX_FRAME_PAYLOAD;
  c->max_transfer_bytes = 1u << 20;
  c->table_memory_bytes = 256u << 10;
  c->mbox_max_msg_size = SP_HAL_MBOX_MIN_MSG_SIZE;
  c->mbox_to_cp_depth = 32;
  c->mbox_from_cp_depth = 32;
  c->frame_cost_ns = 200;
  c->core_mhz = 1000;
}

const char* sp_ring_check_config(const sp_ring_config* c) {
  if (c == NULL) return "no configuration";
  if (c->wwpn == 0) return "wwpn must be non-zero";
  if (c->rx_ring_size == 0 || c->rx_ring_size > kMaxRing) return "rx_ring_size must be 1 to 2^20";
  if (c->tx_ring_size == 0 || c->tx_ring_size > kMaxRing) return "tx_ring_size must be 1 to 2^20";
  if (c->buffer_count > kMaxBuffers) return "buffer_count must be at most 1048576";
  if ((uint64_t)c->rx_ring_size + c->tx_ring_size > c->buffer_count) {
    return "buffer_count must be at least rx_ring_size + tx_ring_size";
  }
  if (c->max_frame_payload < SP_HAL_MIN_FRAME_PAYLOAD_LIMIT ||
      c->max_frame_payload > SP_HAL_MAX_FRAME_PAYLOAD) {
    return "max_frame_payload must be between 2048 and 2112";
  }
  if (c->max_transfer_bytes == 0) return "max_transfer_bytes must be non-zero";
  if (c->table_memory_bytes < SP_HAL_MIN_TABLE_MEM_BYTES ||
      c->table_memory_bytes > ((uint64_t)1 << 32)) {
    return "table_memory_bytes must be 64 KiB to 4 GiB";
  }
  if (c->mbox_max_msg_size < SP_HAL_MBOX_MIN_MSG_SIZE ||
      c->mbox_max_msg_size > kMaxMailboxMessage) {
    return "mbox_max_msg_size must be between 256 and 1048576";
  }
  if (c->mbox_to_cp_depth < SP_HAL_MBOX_MIN_DEPTH || c->mbox_to_cp_depth > kMaxMailboxDepth ||
      c->mbox_from_cp_depth < SP_HAL_MBOX_MIN_DEPTH || c->mbox_from_cp_depth > kMaxMailboxDepth) {
    return "mailbox depths must be between 8 and 65536";
  }
  return NULL;
}

/* Offsets of everything in the region, in carving order; each piece starts
 * kRegionAlign-aligned. */
typedef struct layout {
  uint64_t port, descs, state, originated, free_ids, rx_ids, tx_ids, tx_ready;
  uint64_t to_cp_bytes, to_cp_types, to_cp_lengths, from_cp_bytes, from_cp_types, from_cp_lengths;
  uint64_t buffers, table, end;
  uint32_t stride;
} layout;

static uint64_t take(uint64_t* at, uint64_t bytes) {
  const uint64_t start = *at;
  *at = round_up(*at + bytes, kRegionAlign);
  return start;
}

static layout layout_for(const sp_ring_config* c) {
  layout l;
  uint64_t at = 0;
  const uint64_t n = c->buffer_count;
  l.stride = (uint32_t)round_up(SP_HAL_FRAME_HEADER_SIZE + c->max_frame_payload, SP_HAL_BUF_ALIGN);
  l.port = take(&at, sizeof(sp_ring_port));
  l.descs = take(&at, sizeof(sp_hal_buf) * n);
  l.state = take(&at, n);
  l.originated = take(&at, n);
  l.free_ids = take(&at, sizeof(uint32_t) * n);
  l.rx_ids = take(&at, sizeof(uint32_t) * c->rx_ring_size);
  l.tx_ids = take(&at, sizeof(uint32_t) * c->tx_ring_size);
  l.tx_ready = take(&at, sizeof(uint64_t) * c->tx_ring_size);
  l.to_cp_bytes = take(&at, (uint64_t)c->mbox_to_cp_depth * c->mbox_max_msg_size);
  l.to_cp_types = take(&at, sizeof(uint32_t) * c->mbox_to_cp_depth);
  l.to_cp_lengths = take(&at, sizeof(uint32_t) * c->mbox_to_cp_depth);
  l.from_cp_bytes = take(&at, (uint64_t)c->mbox_from_cp_depth * c->mbox_max_msg_size);
  l.from_cp_types = take(&at, sizeof(uint32_t) * c->mbox_from_cp_depth);
  l.from_cp_lengths = take(&at, sizeof(uint32_t) * c->mbox_from_cp_depth);
  l.buffers = take(&at, (uint64_t)l.stride * n);
  l.table = take(&at, c->table_memory_bytes);
  l.end = at;
  return l;
}

uint64_t sp_ring_region_bytes(const sp_ring_config* config) {
  return sp_ring_check_config(config) == NULL ? layout_for(config).end : 0;
}

static void mailbox_init(mailbox* m, uint8_t* base, const layout* l, int to_cp,
                         const sp_ring_config* c) {
  m->bytes = base + (to_cp ? l->to_cp_bytes : l->from_cp_bytes);
  m->types = (uint32_t*)(void*)(base + (to_cp ? l->to_cp_types : l->from_cp_types));
  m->lengths = (uint32_t*)(void*)(base + (to_cp ? l->to_cp_lengths : l->from_cp_lengths));
  m->depth = to_cp ? c->mbox_to_cp_depth : c->mbox_from_cp_depth;
  m->max_size = c->mbox_max_msg_size;
  m->head = 0;
  m->count = 0;
}

sp_ring_port* sp_ring_create(const sp_ring_config* config, sp_ring_time time, const char** error) {
  const char* why = sp_ring_check_config(config);
  if (why == NULL && time.now_ns == NULL) why = "no time source";
  if (why != NULL) {
    if (error != NULL) *error = why;
    return NULL;
  }
  const layout l = layout_for(config);
  if (l.end > SIZE_MAX) {
    if (error != NULL) *error = "the region does not fit this host's address space";
    return NULL;
  }
  /* The one allocation of the port's life; zero-filled, so table memory starts
   * zeroed as hal.h requires. */
  uint8_t* base = (uint8_t*)aligned_alloc(kRegionAlign, (size_t)l.end);
  if (base == NULL) {
    if (error != NULL) *error = "cannot allocate the port's region";
    return NULL;
  }
  memset(base, 0, (size_t)l.end);

  sp_ring_port* p = (sp_ring_port*)(void*)(base + l.port);
  p->config = *config;
  p->time = time;
  p->max_frame_size = SP_HAL_FRAME_HEADER_SIZE + config->max_frame_payload;
  p->buf_stride = l.stride;
  p->buffers = base + l.buffers;
  p->table_memory = base + l.table;
  p->descs = (sp_hal_buf*)(void*)(base + l.descs);
  p->state = base + l.state;
  p->originated = base + l.originated;
  p->free_q.ids = (uint32_t*)(void*)(base + l.free_ids);
  p->free_q.size = config->buffer_count;
  p->rx.ids = (uint32_t*)(void*)(base + l.rx_ids);
  p->rx.size = config->rx_ring_size;
  p->tx_ids = (uint32_t*)(void*)(base + l.tx_ids);
  p->tx_ready_ns = (uint64_t*)(void*)(base + l.tx_ready);
  mailbox_init(&p->to_cp, base, &l, 1, config);
  mailbox_init(&p->from_cp, base, &l, 0, config);
  for (uint32_t id = 0; id < config->buffer_count; ++id) {
    sp_hal_buf* b = &p->descs[id];
    b->data = p->buffers + (uint64_t)l.stride * id;
    b->capacity = l.stride;
    b->id = id;
    p->free_q.ids[id] = id;
  }
  p->free_q.count = config->buffer_count;

  p->hal.abi_version = SP_HAL_ABI_VERSION;
  p->hal.port = (sp_hal_port*)(void*)p;
  p->hal.fast = &ring_fast_ops;
  p->hal.ctrl = &ring_ctrl_ops;
  p->last_now_ns = time.now_ns(time.ctx);
  if (error != NULL) *error = NULL;
  return p;
}

/* The port lives at the start of its region (layout_for: offset 0). */
void sp_ring_destroy(sp_ring_port* port) {
  free(port);
}

const sp_hal* sp_ring_hal(sp_ring_port* port) {
  return &port->hal;
}

void sp_ring_set_hooks(sp_ring_port* port, const sp_ring_hooks* hooks) {
  port->hooks = *hooks;
}

uint64_t sp_ring_busy_until_ns(const sp_ring_port* port) {
  return port->busy_until_ns;
}

void sp_ring_get_counters(const sp_ring_port* port, sp_ring_counters* out) {
  *out = port->counters;
  out->tx_done = port->tx_done;
  out->rx_pending = port->rx.count - port->rx_visible;
}

/* ---- Time, the engine, the pool ---------------------------------------------- */

static uint64_t now_ns(sp_ring_port* p) {
  const uint64_t t = p->time.now_ns(p->time.ctx);
  if (t > p->last_now_ns) p->last_now_ns = t;
  return p->last_now_ns;
}

static void occupy_engine(sp_ring_port* p, uint64_t ns) {
  const uint64_t now = now_ns(p);
  p->busy_until_ns = (p->busy_until_ns > now ? p->busy_until_ns : now) + ns;
  p->stats.busy_ns += ns;
}

static void free_push(sp_ring_port* p, uint32_t id) {
  p->state[id] = BUF_FREE;
  p->descs[id].length = 0;
  p->free_q.ids[(p->free_q.head + p->free_q.count) % p->free_q.size] = id;
  ++p->free_q.count;
}

static uint32_t free_pop(sp_ring_port* p) {
  const uint32_t id = p->free_q.ids[p->free_q.head];
  p->free_q.head = (p->free_q.head + 1) % p->free_q.size;
  --p->free_q.count;
  return id;
}

static int can_accept_rx(const sp_ring_port* p) {
  return p->rx.count < p->rx.size && p->free_q.count > 0;
}

static void notify_rx_space(sp_ring_port* p) {
  if (p->rx_refused && can_accept_rx(p)) {
    p->rx_refused = 0;
    if (p->hooks.rx_space != NULL) p->hooks.rx_space(p->hooks.ctx);
  }
}

/* Returns every sent transmit descriptor's buffer to the free queue. */
static void reclaim_tx(sp_ring_port* p) {
  if (p->tx_done == 0) return;
  ++p->counters.reclaim_passes;
  p->counters.reclaimed += p->tx_done;
  while (p->tx_done > 0) {
    free_push(p, p->tx_ids[p->tx_clean]);
    p->tx_clean = (p->tx_clean + 1) % p->config.tx_ring_size;
    --p->tx_used;
    --p->tx_done;
  }
  notify_rx_space(p);
}

static sp_hal_status invalid(sp_ring_port* p, sp_hal_status s) {
  ++p->stats.invalid_calls;
  return s;
}

/* Checks that bufs[0 .. count) are distinct buffers the firmware holds (with
 * lengths fit to send when for_tx) and marks them BUF_IN_BATCH; on failure
 * restores them, so the call changes nothing. */
static sp_hal_status claim_batch(sp_ring_port* p, sp_hal_buf* const* bufs, uint32_t count,
                                 int for_tx) {
  sp_hal_status status = SP_HAL_OK;
  uint32_t i = 0;
  for (; i < count; ++i) {
    const sp_hal_buf* b = bufs[i];
    if (b == NULL || b->id >= p->config.buffer_count || &p->descs[b->id] != b ||
        b->data != p->buffers + (uint64_t)p->buf_stride * b->id || b->capacity != p->buf_stride ||
        p->state[b->id] != BUF_FW) {
      status = SP_HAL_INVALID_ARGUMENT;
      break;
    }
    if (for_tx && b->length < SP_HAL_FRAME_HEADER_SIZE) {
      status = SP_HAL_INVALID_ARGUMENT;
      break;
    }
    if (for_tx && b->length > p->max_frame_size) {
      status = SP_HAL_TOO_LARGE;
      break;
    }
    p->state[b->id] = BUF_IN_BATCH;
  }
  if (status != SP_HAL_OK) {
    for (uint32_t j = 0; j < i; ++j)
      p->state[bufs[j]->id] = BUF_FW;
  }
  return status;
}

/* ---- Per-frame operations ------------------------------------------------------ */

static sp_hal_status op_rx_burst(sp_hal_port* port, sp_hal_buf** bufs, uint32_t max,
                                 uint32_t* received) {
  if (received != NULL) *received = 0;
  if (port == NULL) return SP_HAL_INVALID_ARGUMENT;
  sp_ring_port* p = self(port);
  if (bufs == NULL || received == NULL || max == 0) return invalid(p, SP_HAL_INVALID_ARGUMENT);
  /* The batch from the last head read is used up: read the tail again. */
  if (p->rx_visible == 0 && p->rx.count > 0) {
    p->rx_visible = p->rx.count;
    ++p->counters.head_reads;
  }
  const uint32_t n = max < p->rx_visible ? max : p->rx_visible;
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t id = p->rx.ids[p->rx.head];
    p->rx.head = (p->rx.head + 1) % p->rx.size;
    --p->rx.count;
    --p->rx_visible;
    p->state[id] = BUF_FW;
    p->descs[id].fw_scratch = 0;
    bufs[i] = &p->descs[id];
    p->stats.rx_bytes += p->descs[id].length;
  }
  *received = n;
  if (n == 0) return SP_HAL_OK;
  p->stats.rx_frames += n;
  p->stats.frames_charged += n;
  occupy_engine(p, (uint64_t)n * p->config.frame_cost_ns);
  notify_rx_space(p);
  return SP_HAL_OK;
}

static sp_hal_status op_tx_burst(sp_hal_port* port, sp_hal_buf* const* bufs, uint32_t count,
                                 uint32_t* accepted) {
  if (accepted != NULL) *accepted = 0;
  if (port == NULL) return SP_HAL_INVALID_ARGUMENT;
  sp_ring_port* p = self(port);
  if (bufs == NULL || accepted == NULL || count == 0) return invalid(p, SP_HAL_INVALID_ARGUMENT);
  const sp_hal_status claimed = claim_batch(p, bufs, count, 1);
  if (claimed != SP_HAL_OK) return invalid(p, claimed);
  const uint32_t size = p->config.tx_ring_size;
  if (size - p->tx_used < count) reclaim_tx(p);
  const uint32_t room = size - p->tx_used;
  const uint32_t n = count < room ? count : room;
  uint64_t first_ready = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t id = bufs[i]->id;
    if (p->originated[id]) {
      ++p->stats.frames_charged;
      occupy_engine(p, p->config.frame_cost_ns);
    }
    const uint64_t now = now_ns(p);
    const uint64_t ready = p->busy_until_ns > now ? p->busy_until_ns : now;
    if (i == 0) first_ready = ready;
    const uint32_t slot = (p->tx_clean + p->tx_used) % size;
    p->tx_ids[slot] = id;
    p->tx_ready_ns[slot] = ready;
    ++p->tx_used;
    p->state[id] = BUF_TX;
    ++p->stats.tx_frames;
    p->stats.tx_bytes += p->descs[id].length;
  }
  for (uint32_t i = n; i < count; ++i)
    p->state[bufs[i]->id] = BUF_FW;
  *accepted = n;
  if (n > 0 && p->hooks.tx_doorbell != NULL) p->hooks.tx_doorbell(p->hooks.ctx, first_ready);
  if (n < count) {
    ++p->stats.tx_retries;
    return SP_HAL_RETRY;
  }
  return SP_HAL_OK;
}

static sp_hal_status op_alloc_bufs(sp_hal_port* port, sp_hal_buf** bufs, uint32_t count) {
  if (port == NULL) return SP_HAL_INVALID_ARGUMENT;
  sp_ring_port* p = self(port);
  if (bufs == NULL || count == 0) return invalid(p, SP_HAL_INVALID_ARGUMENT);
  if (count > p->free_q.count) reclaim_tx(p);
  if (count > p->free_q.count) {
    ++p->stats.alloc_failures;
    return SP_HAL_NO_BUFFERS;
  }
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t id = free_pop(p);
    p->state[id] = BUF_FW;
    p->originated[id] = 1;
    sp_hal_buf* b = &p->descs[id];
    b->length = 0;
    b->rx_time_ns = 0;
    b->fw_scratch = 0;
    bufs[i] = b;
  }
  return SP_HAL_OK;
}

static sp_hal_status op_free_bufs(sp_hal_port* port, sp_hal_buf* const* bufs, uint32_t count) {
  if (port == NULL) return SP_HAL_INVALID_ARGUMENT;
  sp_ring_port* p = self(port);
  if (bufs == NULL || count == 0) return invalid(p, SP_HAL_INVALID_ARGUMENT);
  const sp_hal_status claimed = claim_batch(p, bufs, count, 0);
  if (claimed != SP_HAL_OK) return invalid(p, claimed);
  for (uint32_t i = 0; i < count; ++i)
    free_push(p, bufs[i]->id);
  notify_rx_space(p);
  return SP_HAL_OK;
}

static uint64_t op_now_ns(sp_hal_port* port) {
  return port == NULL ? 0 : now_ns(self(port));
}

static sp_hal_status op_charge_cycles(sp_hal_port* port, uint32_t cycles) {
  if (port == NULL) return SP_HAL_INVALID_ARGUMENT;
  sp_ring_port* p = self(port);
  p->stats.cycles_charged += cycles;
  if (p->config.core_mhz == 0) return SP_HAL_OK;
  /* ns = cycles * 1000 / MHz, the remainder carried so small charges add up. */
  const uint64_t scaled = p->cycle_remainder + (uint64_t)cycles * 1000;
  p->cycle_remainder = scaled % p->config.core_mhz;
  occupy_engine(p, scaled / p->config.core_mhz);
  return SP_HAL_OK;
}

/* The completion poll: reclaims sent transmit descriptors. */
static sp_hal_status op_poll(sp_hal_port* port) {
  if (port == NULL) return SP_HAL_INVALID_ARGUMENT;
  reclaim_tx(self(port));
  return SP_HAL_OK;
}

/* ---- Control operations ----------------------------------------------------------- */

static sp_hal_status op_port_info(sp_hal_port* port, sp_hal_port_info* info) {
  if (port == NULL) return SP_HAL_INVALID_ARGUMENT;
  sp_ring_port* p = self(port);
  if (info == NULL) return invalid(p, SP_HAL_INVALID_ARGUMENT);
  const sp_ring_config* c = &p->config;
  memset(info, 0, sizeof *info);
  info->abi_version = SP_HAL_ABI_VERSION;
  info->port_index = c->port_index;
  info->wwpn = c->wwpn;
  info->table_mem_bytes = c->table_memory_bytes;
  info->capabilities = SP_HAL_CAP_SIMULATED;
  info->max_frame_payload = c->max_frame_payload;
  info->max_frame_size = p->max_frame_size;
  info->max_transfer_bytes = c->max_transfer_bytes;
  info->rx_ring_size = c->rx_ring_size;
  info->tx_ring_size = c->tx_ring_size;
  info->buf_count = c->buffer_count;
  info->buf_capacity = p->buf_stride;
  info->mbox_max_msg_size = c->mbox_max_msg_size;
  info->mbox_to_cp_depth = c->mbox_to_cp_depth;
  info->mbox_from_cp_depth = c->mbox_from_cp_depth;
  info->frame_cost_ns = c->frame_cost_ns;
  info->core_mhz = c->core_mhz;
  return SP_HAL_OK;
}

static sp_hal_status op_table_memory(sp_hal_port* port, void** base, uint64_t* size) {
  if (port == NULL) return SP_HAL_INVALID_ARGUMENT;
  sp_ring_port* p = self(port);
  if (base == NULL || size == NULL) return invalid(p, SP_HAL_INVALID_ARGUMENT);
  *base = p->table_memory;
  *size = p->config.table_memory_bytes;
  return SP_HAL_OK;
}

static sp_hal_status mailbox_push(mailbox* m, uint32_t type, const void* data, uint32_t length) {
  if (data == NULL && length > 0) return SP_HAL_INVALID_ARGUMENT;
  if (length > m->max_size) return SP_HAL_TOO_LARGE;
  if (m->count == m->depth) return SP_HAL_RETRY;
  const uint32_t slot = (m->head + m->count) % m->depth;
  m->types[slot] = type;
  m->lengths[slot] = length;
  if (length > 0) memcpy(m->bytes + (size_t)slot * m->max_size, data, length);
  ++m->count;
  return SP_HAL_OK;
}

static sp_hal_status mailbox_pop(mailbox* m, uint32_t* type, void* buf, uint32_t capacity,
                                 uint32_t* length) {
  if (type == NULL || length == NULL || (buf == NULL && capacity > 0)) {
    if (length != NULL) *length = 0;
    return SP_HAL_INVALID_ARGUMENT;
  }
  if (m->count == 0) {
    *length = 0;
    return SP_HAL_EMPTY;
  }
  *length = m->lengths[m->head];
  if (m->lengths[m->head] > capacity) return SP_HAL_TOO_LARGE;
  *type = m->types[m->head];
  if (*length > 0) memcpy(buf, m->bytes + (size_t)m->head * m->max_size, *length);
  m->head = (m->head + 1) % m->depth;
  --m->count;
  return SP_HAL_OK;
}

static sp_hal_status op_mbox_send(sp_hal_port* port, uint32_t type, const void* data,
                                  uint32_t length) {
  if (port == NULL) return SP_HAL_INVALID_ARGUMENT;
  sp_ring_port* p = self(port);
  const sp_hal_status s = mailbox_push(&p->to_cp, type, data, length);
  if (s == SP_HAL_OK) {
    ++p->stats.mbox_sent;
    if (p->hooks.to_cp_posted != NULL) p->hooks.to_cp_posted(p->hooks.ctx);
  } else if (s == SP_HAL_RETRY) {
    ++p->stats.mbox_retries;
  } else {
    return invalid(p, s);
  }
  return s;
}

static sp_hal_status op_mbox_recv(sp_hal_port* port, uint32_t* type, void* buf, uint32_t capacity,
                                  uint32_t* length) {
  if (port == NULL) {
    if (length != NULL) *length = 0;
    return SP_HAL_INVALID_ARGUMENT;
  }
  sp_ring_port* p = self(port);
  const sp_hal_status s = mailbox_pop(&p->from_cp, type, buf, capacity, length);
  if (s == SP_HAL_OK) {
    ++p->stats.mbox_received;
  } else if (s != SP_HAL_EMPTY) {
    return invalid(p, s);
  }
  return s;
}

static sp_hal_status op_get_stats(sp_hal_port* port, sp_hal_stats* stats) {
  if (port == NULL) return SP_HAL_INVALID_ARGUMENT;
  sp_ring_port* p = self(port);
  if (stats == NULL) return invalid(p, SP_HAL_INVALID_ARGUMENT);
  *stats = p->stats;
  return SP_HAL_OK;
}

static const sp_hal_fast_ops ring_fast_ops = {
    op_rx_burst, op_tx_burst, op_alloc_bufs, op_free_bufs, op_now_ns, op_charge_cycles, op_poll,
};

static const sp_hal_ctrl_ops ring_ctrl_ops = {
    op_port_info, op_table_memory, op_mbox_send, op_mbox_recv, op_get_stats,
};

/* ---- Wire and CP sides --------------------------------------------------------------- */

sp_hal_status sp_ring_wire_rx(sp_ring_port* p, const uint8_t* bytes, uint32_t length) {
  if (bytes == NULL || length < SP_HAL_FRAME_HEADER_SIZE) return SP_HAL_INVALID_ARGUMENT;
  if (length > p->max_frame_size) return SP_HAL_TOO_LARGE;
  if (!can_accept_rx(p)) {
    ++p->stats.rx_refused;
    p->rx_refused = 1;
    return p->free_q.count == 0 ? SP_HAL_NO_BUFFERS : SP_HAL_RETRY;
  }
  const uint32_t id = free_pop(p);
  p->state[id] = BUF_RX;
  p->originated[id] = 0;
  sp_hal_buf* b = &p->descs[id];
  memcpy(b->data, bytes, length);
  b->length = length;
  b->rx_time_ns = now_ns(p);
  p->rx.ids[(p->rx.head + p->rx.count) % p->rx.size] = id;
  ++p->rx.count;
  return SP_HAL_OK;
}

int sp_ring_wire_tx_peek(const sp_ring_port* p, const uint8_t** data, uint32_t* length,
                         uint64_t* ready_ns) {
  if (p->tx_used == p->tx_done) return 0;
  const uint32_t slot = (p->tx_clean + p->tx_done) % p->config.tx_ring_size;
  const sp_hal_buf* b = &p->descs[p->tx_ids[slot]];
  *data = b->data;
  *length = b->length;
  *ready_ns = p->tx_ready_ns[slot];
  return 1;
}

void sp_ring_wire_tx_done(sp_ring_port* p) {
  if (p->tx_used == p->tx_done) return;
  const uint32_t slot = (p->tx_clean + p->tx_done) % p->config.tx_ring_size;
  p->state[p->tx_ids[slot]] = BUF_TX_DONE;
  ++p->tx_done;
}

sp_hal_status sp_ring_cp_send(sp_ring_port* p, uint32_t type, const void* data, uint32_t length) {
  return mailbox_push(&p->from_cp, type, data, length);
}

sp_hal_status sp_ring_cp_recv(sp_ring_port* p, uint32_t* type, void* buf, uint32_t capacity,
                              uint32_t* length) {
  return mailbox_pop(&p->to_cp, type, buf, capacity, length);
}
