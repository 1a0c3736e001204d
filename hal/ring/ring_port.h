/* hal/ring: a second implementation of hal.h, written in C, deliberately
 * unlike hal/sim. It models a port ASIC built the way NIC-style silicon is:
 *
 * - One memory region. sp_ring_create() makes a single allocation (the
 *   "SRAM") and carves everything from it: the port state, buffer
 *   descriptors, the rings, the mailboxes, the frame buffers and table
 *   memory. Nothing is allocated afterwards; sp_ring_destroy() frees it.
 * - Receive completions delivered in batches. The wire side writes each frame
 *   into a buffer from the free queue and appends a completion to the receive
 *   ring, but rx_burst() does not see completions one by one: it serves the
 *   batch it last read and, only when that batch is used up, reads the ring's
 *   hardware tail again (a "head read", counted), taking every completion
 *   written since as the next batch.
 * - Transmit descriptors reclaimed lazily. A frame the wire has sent leaves its
 *   descriptor and buffer "done" in the transmit ring; they return to the pool
 *   only when the firmware reclaims them: in poll() (non-null here, unlike
 *   hal/sim), or on demand when tx_burst finds the ring full or alloc_bufs
 *   finds the pool short. The wire side never reclaims.
 * - A FIFO buffer pool: freed buffers go to the back of the free queue, so
 *   buffers are reused oldest first (hal/sim reuses the last freed).
 * - Tight buffers: each buffer's capacity is max_frame_size rounded up to
 *   SP_HAL_BUF_ALIGN (hal/sim pads to a cache line).
 * - Smaller defaults: 256 KiB of table memory, 256-byte mailbox messages (the
 *   floor), 32 transmit descriptors.
 *
 * Time comes from a C callback (sp_ring_time), and the cost model is the one
 * hal.h asks of a simulated platform: an engine busy until
 * sp_ring_busy_until_ns(), occupied frame_cost_ns per frame received or
 * originated and cycles / core_mhz us per charged cycle; a transmitted frame
 * is ready no earlier than the engine's busy-until time.
 *
 * Threading: one thread. The wire and CP functions below must not be called
 * from inside a hook or a firmware call; hooks may only record or schedule
 * work. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "splitpath/hal.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sp_ring_port sp_ring_port;

/* The port's clock: now_ns(ctx), monotonic or not (the port clamps it). */
typedef struct sp_ring_time {
  void* ctx;
  uint64_t (*now_ns)(void* ctx);
} sp_ring_time;

typedef struct sp_ring_config {
  uint32_t port_index;
  uint64_t wwpn; /* non-zero */
  uint32_t rx_ring_size;
  uint32_t tx_ring_size;
  uint32_t buffer_count; /* >= rx_ring_size + tx_ring_size */
  uint32_t max_frame_payload;
  uint32_t max_transfer_bytes;
  uint64_t table_memory_bytes;
  uint32_t mbox_max_msg_size;
  uint32_t mbox_to_cp_depth;
  uint32_t mbox_from_cp_depth;
  uint32_t frame_cost_ns;
  uint32_t core_mhz; /* 0: cycles are counted only */
} sp_ring_config;

/* Callbacks to whatever hosts the port; each may be null. */
typedef struct sp_ring_hooks {
  void* ctx;
  /* tx_burst posted descriptors; ready_ns is the first one's ready time. */
  void (*tx_doorbell)(void* ctx, uint64_t ready_ns);
  /* sp_ring_wire_rx was refused since the last call and would now succeed. */
  void (*rx_space)(void* ctx);
  /* The firmware posted a message to the CP. */
  void (*to_cp_posted)(void* ctx);
} sp_ring_hooks;

/* What the ring adds to sp_hal_stats. */
typedef struct sp_ring_counters {
  uint64_t head_reads;     /* times rx_burst read the receive ring's tail */
  uint64_t reclaim_passes; /* reclaim passes that found done descriptors */
  uint64_t reclaimed;      /* transmit descriptors reclaimed */
  uint32_t tx_done;        /* sent descriptors waiting to be reclaimed now */
  uint32_t rx_pending;     /* completions written but not yet read by a head read */
} sp_ring_counters;

/* The defaults described above. */
void sp_ring_default_config(sp_ring_config* config);
/* Why `config` is unusable, or NULL if it is fine. */
const char* sp_ring_check_config(const sp_ring_config* config);
/* Bytes of the one region a port of `config` takes (0 if invalid). */
uint64_t sp_ring_region_bytes(const sp_ring_config* config);

/* Creates a port; NULL (reason in *error when error is non-null) if the
 * configuration is invalid or the region cannot be allocated. */
sp_ring_port* sp_ring_create(const sp_ring_config* config, sp_ring_time time, const char** error);
/* Frees the port and its region. Every buffer and sp_hal pointer dies with it. */
void sp_ring_destroy(sp_ring_port* port);

/* What the firmware gets; valid for the life of the port. */
const sp_hal* sp_ring_hal(sp_ring_port* port);
void sp_ring_set_hooks(sp_ring_port* port, const sp_ring_hooks* hooks);
uint64_t sp_ring_busy_until_ns(const sp_ring_port* port);
void sp_ring_get_counters(const sp_ring_port* port, sp_ring_counters* out);

/* ---- Wire side ----
 * A frame from the link, copied into a free buffer and stamped with now.
 * SP_HAL_OK: queued. SP_HAL_RETRY (receive ring full) or SP_HAL_NO_BUFFERS
 * (free queue empty; done transmit buffers count only once reclaimed):
 * nothing queued, try again after the rx_space hook. SP_HAL_INVALID_ARGUMENT
 * (null bytes, length < 24) or SP_HAL_TOO_LARGE (length > max_frame_size):
 * malformed, drop it. */
sp_hal_status sp_ring_wire_rx(sp_ring_port* port, const uint8_t* bytes, uint32_t length);
/* The oldest posted, not yet sent transmit descriptor: 1 and its frame, or 0
 * when none. *data stays valid until sp_ring_wire_tx_done(). */
int sp_ring_wire_tx_peek(const sp_ring_port* port, const uint8_t** data, uint32_t* length,
                         uint64_t* ready_ns);
/* The wire sent the frame sp_ring_wire_tx_peek() returned: its descriptor is
 * written back done (reclaimed later by the firmware). */
void sp_ring_wire_tx_done(sp_ring_port* port);

/* ---- CP side of the mailbox: the results of mbox_send / mbox_recv ---- */
sp_hal_status sp_ring_cp_send(sp_ring_port* port, uint32_t type, const void* data, uint32_t length);
sp_hal_status sp_ring_cp_recv(sp_ring_port* port, uint32_t* type, void* buf, uint32_t capacity,
                              uint32_t* length);

#ifdef __cplusplus
}  // extern "C"
#endif
