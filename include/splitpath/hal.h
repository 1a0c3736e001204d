/* The hardware abstraction layer: what a platform gives the port firmware (the
 * fast path). A platform is a port ASIC on a real switch, the simulator's
 * software ASIC (hal/sim) or a test double; the firmware sees only this header.
 *
 * The contract is C: plain structs and tables of function pointers, so a silicon
 * vendor can implement it in C and the firmware can be built for any target.
 * The header compiles as C11 and as C++20 (with -fno-exceptions -fno-rtti); the
 * C++ part at the end (namespace splitpath::hal) only wraps the C tables.
 *
 * Shape:
 *   sp_hal            one per port: ABI version, opaque port context, two tables
 *   sp_hal_fast_ops   what the firmware calls for every frame: rx_burst,
 *                     tx_burst, alloc_bufs, free_bufs, now_ns, charge_cycles, poll
 *   sp_hal_ctrl_ops   the rest: port_info, table_memory, mbox_send, mbox_recv,
 *                     get_stats
 *   sp_hal_buf        descriptor of one frame buffer of the HAL's fixed pool
 *   sp_hal_status     result of every operation (SP_HAL_STATUS_TABLE)
 *
 * Rules for every operation, unless its comment says otherwise:
 * - Calling context: the firmware's one execution context for the port (its
 *   fast loop). Operations never block, sleep or allocate, and never call back
 *   into the firmware. Operations on one port are not thread-safe with respect
 *   to each other; different ports are independent.
 * - Arguments are checked: a null `port` or pointer argument, a zero count, or a
 *   buffer the firmware does not own returns SP_HAL_INVALID_ARGUMENT; a length
 *   beyond a platform limit returns SP_HAL_TOO_LARGE. Checked failures change no
 *   state. Count out-parameters are written whenever they are non-null.
 * - Running out of a resource (a full ring or mailbox, an empty pool) is not a
 *   failure: SP_HAL_RETRY or SP_HAL_NO_BUFFERS, nothing is lost, and the same
 *   call succeeds once the resource frees up (sp_hal_status_is_retry()).
 * - REQUIRED members are never null. OPTIONAL members may be null; the firmware
 *   tests them before calling (the C++ wrapper does so).
 * - Integers in these structs are in host byte order. Frame bytes are exactly as
 *   on the wire (big-endian fields). Mailbox payloads are opaque bytes: the HAL
 *   never interprets or swaps them, so the FP API encodes its fields explicitly.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Version of this contract; sp_hal.abi_version holds the version a platform
 * implements and the firmware refuses to run on another. */
#define SP_HAL_ABI_VERSION 1u

/* Frame geometry (FC-FS: a 24-byte header and up to 2112 payload bytes; SOF, CRC
 * and EOF are the hardware's business and never appear in a buffer). */
#define SP_HAL_FRAME_HEADER_SIZE 24u
#define SP_HAL_MAX_FRAME_PAYLOAD 2112u
#define SP_HAL_MAX_FRAME_SIZE (SP_HAL_FRAME_HEADER_SIZE + SP_HAL_MAX_FRAME_PAYLOAD)
/* The smallest maximum payload a platform may report (the common negotiated
 * data field size). */
#define SP_HAL_MIN_FRAME_PAYLOAD_LIMIT 2048u

/* Alignment of sp_hal_buf.data and of table memory. */
#define SP_HAL_BUF_ALIGN 8u
#define SP_HAL_TABLE_MEM_ALIGN 64u
/* Floors every platform meets, so the firmware and the FP API can be written
 * against them: table memory bytes, mailbox message bytes, mailbox depth. */
#define SP_HAL_MIN_TABLE_MEM_BYTES 65536u
#define SP_HAL_MBOX_MIN_MSG_SIZE 256u
#define SP_HAL_MBOX_MIN_DEPTH 8u

/* ---- Status ---------------------------------------------------------------
 * The one table of status codes: C constant, C++ enumerator, value, name,
 * description. */
#define SP_HAL_STATUS_TABLE(X)                                                                  \
  X(SP_HAL_OK, kOk, 0, "ok", "the operation completed")                                         \
  X(SP_HAL_RETRY, kRetry, 1, "retry",                                                           \
    "a ring or mailbox is full; nothing was lost, try again later")                             \
  X(SP_HAL_NO_BUFFERS, kNoBuffers, 2, "no_buffers",                                             \
    "the frame buffer pool is empty; try again once buffers are freed or sent")                 \
  X(SP_HAL_EMPTY, kEmpty, 3, "empty", "there is nothing to receive")                            \
  X(SP_HAL_INVALID_ARGUMENT, kInvalidArgument, 4, "invalid_argument",                           \
    "a null pointer, a zero count, a buffer the caller does not own or a frame shorter than a " \
    "header")                                                                                   \
  X(SP_HAL_TOO_LARGE, kTooLarge, 5, "too_large",                                                \
    "a frame or message exceeds the platform's limit, or a receive buffer is smaller than the " \
    "message waiting")                                                                          \
  X(SP_HAL_UNSUPPORTED, kUnsupported, 6, "unsupported",                                         \
    "the platform does not provide this (no operation of ABI version 1 returns it; kept for "   \
    "optional operations of later versions)")

/* A fixed-width integer rather than a C enum: enum sizes vary between compilers
 * and options (-fshort-enums), and this type crosses the HAL boundary. */
typedef int32_t sp_hal_status;

#define SP_HAL_STATUS_ENUMERATOR_(c_name, cpp_name, value, name, description) c_name = (value),
enum sp_hal_status_code { SP_HAL_STATUS_TABLE(SP_HAL_STATUS_ENUMERATOR_) };
#undef SP_HAL_STATUS_ENUMERATOR_

/* "ok", "retry", ...; "unknown" for a value outside the table. */
static inline const char* sp_hal_status_name(sp_hal_status s) {
#define SP_HAL_STATUS_NAME_CASE_(c_name, cpp_name, value, name, description) \
  case (value):                                                              \
    return (name);
  switch (s) { SP_HAL_STATUS_TABLE(SP_HAL_STATUS_NAME_CASE_) }
#undef SP_HAL_STATUS_NAME_CASE_
  return "unknown";
}

/* One sentence describing the status. */
static inline const char* sp_hal_status_description(sp_hal_status s) {
#define SP_HAL_STATUS_DESCRIPTION_CASE_(c_name, cpp_name, value, name, description) \
  case (value):                                                                     \
    return (description);
  switch (s) { SP_HAL_STATUS_TABLE(SP_HAL_STATUS_DESCRIPTION_CASE_) }
#undef SP_HAL_STATUS_DESCRIPTION_CASE_
  return "unknown status";
}

/* Whether `s` means "a resource is exhausted for now; the same call will
 * succeed later" (SP_HAL_RETRY, SP_HAL_NO_BUFFERS). */
static inline int sp_hal_status_is_retry(sp_hal_status s) {
  return s == SP_HAL_RETRY || s == SP_HAL_NO_BUFFERS;
}

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Types ---------------------------------------------------------------- */

/* The platform's per-port state. Never defined: each implementation casts it to
 * its own type, so several HALs can live in one program. */
typedef struct sp_hal_port sp_hal_port;

/* Descriptor of one frame buffer. Descriptors and buffers belong to the HAL's
 * fixed pool; the firmware holds a buffer between receiving it (rx_burst) or
 * allocating it (alloc_bufs) and giving it back (tx_burst or free_bufs), and
 * must not touch it afterwards. */
typedef struct sp_hal_buf {
  union {
    /* First byte of the frame (the FC header). Read-only for the firmware; at
     * least SP_HAL_BUF_ALIGN-aligned. */
    uint8_t* data;
    /* Never used: keeps the layout the same on 32- and 64-bit targets. */
    uint64_t data_layout_;
  };
  /* Bytes of frame in `data`: set by the HAL on receive (at least
   * SP_HAL_FRAME_HEADER_SIZE, at most max_frame_size), 0 after alloc_bufs; the
   * firmware sets it before tx_burst. */
  uint32_t length;
  /* Bytes writable at `data`, at least the port's max_frame_size. Read-only. */
  uint32_t capacity;
  /* The buffer's index in the pool, in [0, buf_count). Read-only. */
  uint32_t id;
  /* The HAL's own; the firmware neither reads nor writes it. */
  uint32_t hal_private;
  /* now_ns() when the frame arrived from the wire; 0 for allocated buffers. */
  uint64_t rx_time_ns;
  /* The firmware's own (e.g. to link held frames into its queues); the HAL sets
   * it to 0 when it hands the buffer over and never reads it. */
  uint64_t fw_scratch;
} sp_hal_buf;

/* Capability bits of sp_hal_port_info.capabilities. */
/* Time is simulated: now_ns() is the simulator's clock, and the processing cost
 * accounted by the platform and by charge_cycles() delays the port's output. */
#define SP_HAL_CAP_SIMULATED (1u << 0)

/* What the platform is, reported once and constant for the life of the port. */
typedef struct sp_hal_port_info {
  uint32_t abi_version;       /* SP_HAL_ABI_VERSION */
  uint32_t port_index;        /* this port's index on its switch */
  uint64_t wwpn;              /* this port's World Wide Port Name (non-zero) */
  uint64_t table_mem_bytes;   /* size of table memory, >= SP_HAL_MIN_TABLE_MEM_BYTES */
  uint32_t capabilities;      /* SP_HAL_CAP_* */
  uint32_t max_frame_payload; /* in [SP_HAL_MIN_FRAME_PAYLOAD_LIMIT, SP_HAL_MAX_FRAME_PAYLOAD] */
  uint32_t max_frame_size;    /* SP_HAL_FRAME_HEADER_SIZE + max_frame_payload */
  /* The largest I/O (bytes of data) the fast path may dispatch itself; larger
   * ones fault to the CP (figure 7, "FP capacity exceeded"). */
  uint32_t max_transfer_bytes;
  uint32_t rx_ring_size;       /* frames the receive ring holds while the firmware holds none */
  uint32_t tx_ring_size;       /* frames tx_burst accepts into an empty transmit ring */
  uint32_t buf_count;          /* buffers in the pool, >= rx_ring_size + tx_ring_size */
  uint32_t buf_capacity;       /* sp_hal_buf.capacity of every buffer */
  uint32_t mbox_max_msg_size;  /* largest mailbox payload, >= SP_HAL_MBOX_MIN_MSG_SIZE */
  uint32_t mbox_to_cp_depth;   /* messages to the CP that fit, >= SP_HAL_MBOX_MIN_DEPTH */
  uint32_t mbox_from_cp_depth; /* messages from the CP that fit, >= SP_HAL_MBOX_MIN_DEPTH */
  /* Processing time the platform accounts for each frame the firmware handles
   * (see charge_cycles); 0 where time is real. */
  uint32_t frame_cost_ns;
  /* Clock of the FP core in MHz, converting charged cycles to time; 0: cycles
   * are counted only. */
  uint32_t core_mhz;
  uint32_t reserved; /* 0 */
} sp_hal_port_info;

/* Counters since the port was created; monotonic, never reset. */
typedef struct sp_hal_stats {
  uint64_t rx_frames;      /* frames delivered by rx_burst */
  uint64_t rx_bytes;       /* their lengths */
  uint64_t rx_refused;     /* frames the wire side could not queue (ring or pool full) */
  uint64_t tx_frames;      /* frames accepted by tx_burst */
  uint64_t tx_bytes;       /* their lengths */
  uint64_t tx_retries;     /* tx_burst calls that returned SP_HAL_RETRY */
  uint64_t alloc_failures; /* alloc_bufs calls that returned SP_HAL_NO_BUFFERS */
  uint64_t mbox_sent;      /* messages accepted by mbox_send */
  uint64_t mbox_received;  /* messages returned by mbox_recv */
  uint64_t mbox_retries;   /* mbox_send calls that returned SP_HAL_RETRY */
  uint64_t frames_charged; /* frames charged frame_cost_ns */
  uint64_t cycles_charged; /* sum of charge_cycles arguments */
  uint64_t busy_ns;        /* processing time accounted in total (0 where time is real) */
  uint64_t invalid_calls;  /* calls that returned SP_HAL_INVALID_ARGUMENT or SP_HAL_TOO_LARGE */
} sp_hal_stats;

/* ---- Per-frame operations --------------------------------------------------
 * Everything the fast loop calls for each frame, in one small table. */
typedef struct sp_hal_fast_ops {
  /* REQUIRED. Takes up to `max` received frames, oldest first, and stores
   * pointers to their descriptors in bufs[0 .. *received). The firmware owns
   * them from now on. Each frame is charged frame_cost_ns.
   * Returns SP_HAL_OK with *received in [0, max] (0: nothing waiting), or
   * SP_HAL_INVALID_ARGUMENT (null bufs or received, max == 0). */
  sp_hal_status (*rx_burst)(sp_hal_port* port, sp_hal_buf** bufs, uint32_t max, uint32_t* received);

  /* REQUIRED. Queues bufs[0 .. count) for transmission in that order. Each
   * buffer holds one frame of `length` bytes; it may be a received buffer
   * (forwarded, possibly rewritten) or an allocated one (originated, charged
   * frame_cost_ns here). Accepted buffers belong to the HAL, which frees them
   * once sent; the firmware never sees them again.
   * Every descriptor is checked first; if one is invalid nothing is accepted:
   * SP_HAL_INVALID_ARGUMENT (null pointer, count == 0, a buffer the firmware
   * does not own or that appears twice, length < SP_HAL_FRAME_HEADER_SIZE) or
   * SP_HAL_TOO_LARGE (length > max_frame_size).
   * Otherwise accepts the longest prefix that fits: SP_HAL_OK with *accepted ==
   * count, or SP_HAL_RETRY with *accepted < count (possibly 0) when the ring is
   * full; bufs[*accepted ..] stay with the firmware, to send later or free. */
  sp_hal_status (*tx_burst)(sp_hal_port* port, sp_hal_buf* const* bufs, uint32_t count,
                            uint32_t* accepted);

  /* REQUIRED. Allocates `count` buffers, all or none, for frames the firmware
   * originates; each has length 0 and capacity >= max_frame_size.
   * Returns SP_HAL_OK, SP_HAL_NO_BUFFERS (fewer than `count` free; none
   * allocated) or SP_HAL_INVALID_ARGUMENT (null bufs, count == 0). */
  sp_hal_status (*alloc_bufs)(sp_hal_port* port, sp_hal_buf** bufs, uint32_t count);

  /* REQUIRED. Returns bufs[0 .. count) to the pool, all or none.
   * Returns SP_HAL_OK, or SP_HAL_INVALID_ARGUMENT (null pointer, count == 0, a
   * buffer the firmware does not own or that appears twice; none freed). */
  sp_hal_status (*free_bufs)(sp_hal_port* port, sp_hal_buf* const* bufs, uint32_t count);

  /* REQUIRED. Monotonic time in nanoseconds: never decreases, unrelated to wall
   * time, the same clock as sp_hal_buf.rx_time_ns. Returns 0 for a null port. */
  uint64_t (*now_ns)(sp_hal_port* port);

  /* REQUIRED. Accounts `cycles` FP-core cycles of work beyond the per-frame cost
   * (a table walk, a write split, building a frame). A simulated platform delays
   * the port's later output by cycles / core_mhz microseconds; real hardware
   * only counts them. Returns SP_HAL_OK, or SP_HAL_INVALID_ARGUMENT (null
   * port). */
  sp_hal_status (*charge_cycles)(sp_hal_port* port, uint32_t cycles);

  /* OPTIONAL. Completion poll: reclaims sent buffers and replenishes receive
   * descriptors for platforms that defer that work. The firmware calls it once
   * per iteration of its loop when non-null. Returns SP_HAL_OK. */
  sp_hal_status (*poll)(sp_hal_port* port);
} sp_hal_fast_ops;

/* ---- Control operations ----------------------------------------------------
 * Configuration and the link to the CP. Same calling context as the per-frame
 * operations; the mailbox may be used from the fast loop. */
typedef struct sp_hal_ctrl_ops {
  /* REQUIRED. Fills *info. Returns SP_HAL_OK, or SP_HAL_INVALID_ARGUMENT (null
   * pointer). */
  sp_hal_status (*port_info)(sp_hal_port* port, sp_hal_port_info* info);

  /* REQUIRED. Table memory: the only memory the firmware has for its tables
   * (it carves them from this region; it never calls malloc). *base is
   * SP_HAL_TABLE_MEM_ALIGN-aligned and the same on every call, *size is
   * info.table_mem_bytes, and the region is zero-filled when the port is
   * created. The firmware owns the contents; the HAL never touches them.
   * Returns SP_HAL_OK, or SP_HAL_INVALID_ARGUMENT (null pointer). */
  sp_hal_status (*table_memory)(sp_hal_port* port, void** base, uint64_t* size);

  /* REQUIRED. Posts a message to the CP: a `type` the HAL does not interpret and
   * `length` bytes copied from `data` (data may be null when length is 0).
   * Messages reach the CP in order. Returns SP_HAL_OK, SP_HAL_RETRY (mailbox
   * full; nothing posted), SP_HAL_TOO_LARGE (length > mbox_max_msg_size) or
   * SP_HAL_INVALID_ARGUMENT (null port, null data with length > 0). */
  sp_hal_status (*mbox_send)(sp_hal_port* port, uint32_t type, const void* data, uint32_t length);

  /* REQUIRED. Takes the oldest message from the CP: its type into *type, its
   * bytes into buf (capacity bytes), its length into *length. Returns SP_HAL_OK,
   * SP_HAL_EMPTY (no message; *length = 0), SP_HAL_TOO_LARGE (the message is
   * longer than capacity; it stays queued and *length is its length) or
   * SP_HAL_INVALID_ARGUMENT (null type or length, null buf with capacity > 0).
   * A buffer of mbox_max_msg_size bytes always suffices. */
  sp_hal_status (*mbox_recv)(sp_hal_port* port, uint32_t* type, void* buf, uint32_t capacity,
                             uint32_t* length);

  /* REQUIRED. Fills *stats. Returns SP_HAL_OK, or SP_HAL_INVALID_ARGUMENT (null
   * pointer). */
  sp_hal_status (*get_stats)(sp_hal_port* port, sp_hal_stats* stats);
} sp_hal_ctrl_ops;

/* One port as the firmware sees it. The platform creates it, keeps it (and the
 * two tables, which are const) valid for the life of the port, and hands the
 * firmware a const pointer. */
typedef struct sp_hal {
  uint32_t abi_version; /* SP_HAL_ABI_VERSION */
  uint32_t reserved;    /* 0 */
  sp_hal_port* port;    /* passed to every operation */
  const sp_hal_fast_ops* fast;
  const sp_hal_ctrl_ops* ctrl;
} sp_hal;

#ifdef __cplusplus
}  // extern "C"
#endif

/* Layout checks: these structs are shared with platform code that may be built
 * by another compiler. */
#ifdef __cplusplus
#define SP_HAL_STATIC_ASSERT_(cond, msg) static_assert(cond, msg)
#else
#define SP_HAL_STATIC_ASSERT_(cond, msg) _Static_assert(cond, msg)
#endif
SP_HAL_STATIC_ASSERT_(sizeof(sp_hal_status) == 4, "sp_hal_status is 32 bits");
SP_HAL_STATIC_ASSERT_(sizeof(sp_hal_port_info) == 80, "sp_hal_port_info layout");
SP_HAL_STATIC_ASSERT_(offsetof(sp_hal_port_info, table_mem_bytes) == 16, "port_info alignment");
SP_HAL_STATIC_ASSERT_(sizeof(sp_hal_stats) == 14 * 8, "sp_hal_stats layout");
SP_HAL_STATIC_ASSERT_(offsetof(sp_hal_buf, length) == 8, "sp_hal_buf layout");
SP_HAL_STATIC_ASSERT_(offsetof(sp_hal_buf, rx_time_ns) == 24, "sp_hal_buf layout");
SP_HAL_STATIC_ASSERT_(sizeof(sp_hal_buf) == 40, "sp_hal_buf layout, on 32- and 64-bit targets");
#undef SP_HAL_STATIC_ASSERT_

#ifdef __cplusplus
// ---- C++ convenience ---------------------------------------------------------
// The same contract with an enum class status and a value handle over sp_hal.
// Nothing here adds behaviour; it is inline and allocation-free.

#include "splitpath/fc/frame_header.h"

static_assert(SP_HAL_MAX_FRAME_SIZE == splitpath::fc::kMaxFrameSize);
static_assert(SP_HAL_FRAME_HEADER_SIZE == splitpath::fc::kFrameHeaderSize);

namespace splitpath::hal {

#define SP_HAL_STATUS_CPP_ENUMERATOR_(c_name, cpp_name, value, name, description) \
  cpp_name = (value),
enum class Status : int32_t { SP_HAL_STATUS_TABLE(SP_HAL_STATUS_CPP_ENUMERATOR_) };
#undef SP_HAL_STATUS_CPP_ENUMERATOR_

constexpr Status to_status(sp_hal_status s) {
  return static_cast<Status>(s);
}
constexpr sp_hal_status to_c(Status s) {
  return static_cast<sp_hal_status>(s);
}
inline const char* status_name(Status s) {
  return sp_hal_status_name(to_c(s));
}
inline const char* status_description(Status s) {
  return sp_hal_status_description(to_c(s));
}
inline bool is_retry(Status s) {
  return sp_hal_status_is_retry(to_c(s)) != 0;
}

// A status and a count, for the burst operations.
struct BurstResult {
  Status status;
  uint32_t count;
};

// Non-owning handle over one port's sp_hal. Copyable; valid as long as the
// platform keeps the sp_hal alive.
class Hal {
 public:
  Hal() = default;
  explicit Hal(const sp_hal* hal) : hal_(hal) {}

  const sp_hal* c_hal() const { return hal_; }
  sp_hal_port* port() const { return hal_->port; }
  // Whether the platform implements the ABI this firmware was built for.
  bool compatible() const {
    return hal_ != nullptr && hal_->abi_version == SP_HAL_ABI_VERSION && hal_->fast != nullptr &&
           hal_->ctrl != nullptr;
  }

  BurstResult rx_burst(sp_hal_buf** bufs, uint32_t max) const {
    uint32_t n = 0;
    const Status s = to_status(hal_->fast->rx_burst(hal_->port, bufs, max, &n));
    return {s, n};
  }
  BurstResult tx_burst(sp_hal_buf* const* bufs, uint32_t count) const {
    uint32_t n = 0;
    const Status s = to_status(hal_->fast->tx_burst(hal_->port, bufs, count, &n));
    return {s, n};
  }
  Status alloc_bufs(sp_hal_buf** bufs, uint32_t count) const {
    return to_status(hal_->fast->alloc_bufs(hal_->port, bufs, count));
  }
  Status free_bufs(sp_hal_buf* const* bufs, uint32_t count) const {
    return to_status(hal_->fast->free_bufs(hal_->port, bufs, count));
  }
  uint64_t now_ns() const { return hal_->fast->now_ns(hal_->port); }
  Status charge_cycles(uint32_t cycles) const {
    return to_status(hal_->fast->charge_cycles(hal_->port, cycles));
  }
  // kOk when the platform has no completion poll.
  Status poll() const {
    return hal_->fast->poll ? to_status(hal_->fast->poll(hal_->port)) : Status::kOk;
  }

  Status port_info(sp_hal_port_info* info) const {
    return to_status(hal_->ctrl->port_info(hal_->port, info));
  }
  Status table_memory(void** base, uint64_t* size) const {
    return to_status(hal_->ctrl->table_memory(hal_->port, base, size));
  }
  Status mbox_send(uint32_t type, const void* data, uint32_t length) const {
    return to_status(hal_->ctrl->mbox_send(hal_->port, type, data, length));
  }
  Status mbox_recv(uint32_t* type, void* buf, uint32_t capacity, uint32_t* length) const {
    return to_status(hal_->ctrl->mbox_recv(hal_->port, type, buf, capacity, length));
  }
  Status get_stats(sp_hal_stats* stats) const {
    return to_status(hal_->ctrl->get_stats(hal_->port, stats));
  }

 private:
  const sp_hal* hal_ = nullptr;
};

}  // namespace splitpath::hal
#endif  // __cplusplus
