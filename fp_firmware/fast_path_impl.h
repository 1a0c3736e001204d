// The FastPath's private state and the contracts between its files. Nothing
// here is public: fast_path.h is the interface.
//
// Everything below lives in HAL table memory (FastPath::init carves it): the
// Impl object itself, then one array per table. No member owns heap memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "fp_firmware/fast_path.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/frame_header.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fpapi.h"
#include "splitpath/hal.h"
#include "splitpath/map/rmap_types.h"

namespace splitpath::fp {

inline constexpr uint32_t kNone = 0xFFFFFFFF;  // "no index" in every table link

// F_CTL of the FCP IUs the FP originates or relays (FCP-4 table 5): what the
// simulated hosts and disks send themselves.
inline constexpr uint32_t kFctlCmnd =
    fc::fctl::kFirstSequence | fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative;
inline constexpr uint32_t kFctlXferRdy =
    fc::fctl::kExchangeContext | fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative;
inline constexpr uint32_t kFctlRsp = fc::fctl::kExchangeContext | fc::fctl::kLastSequence |
                                     fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative;
inline constexpr uint32_t kFctlAbts = fc::fctl::kSequenceInitiative | fc::fctl::kEndSequence;

// The READ/WRITE fields of a CDB; ok is false for any other command.
using RwCommand = fc::ReadWriteCdb;
RwCommand decode_rw(const fpapi::UpstreamIo& io);  // classify.cc

// One upstream I/O: a host exchange to a virtual target. Its index is the
// RX_ID the FP gives the host; its utag is (generation << 16) | index, so a
// stale utag from the CP never names a reused entry.
struct Upstream {
  enum class State : uint8_t {
    kFree = 0,
    kFp,        // remapped: the FP owns it (kOwnerFp)
    kMissHeld,  // waiting for CpMappingMissReply (kOwnerCp)
    kCp,        // queued to the CP (kOwnerCp)
    // The anchor of an FPCopyIO (copy.cc): no host exchange (io.initiator 0,
    // vseg_id kNoTag); io.target_id / io.lun / lv_lba the source, block_size
    // and blocks the copy's, io.data_length its bytes, io.utag its dtag. Its
    // legs are the destination's WRITE and one READ of the source per
    // XFER_RDY burst. Never matches a host frame nor a pending-I/O filter.
    kCopy,
  };
  State state = State::kFree;
  uint8_t is_write = 0;
  uint8_t seq_id = 0;  // SEQ_ID of the next data sequence the FP sends the host
  // Linked into FastPath::Impl::mirror_writes (a write to a mirror the FP
  // split, or faulted for serialization): what later mirror writes on this FP
  // are serialized against.
  uint8_t in_mirror_writes = 0;
  uint16_t generation = 0;
  uint16_t legs = 0;  // downstream entries linked
  uint16_t seq_cnt = 0;
  uint16_t reserved2 = 0;
  uint32_t first_leg = kNone;          // downstream index; legs chain through Downstream::next_leg
  uint32_t next_mirror_write = kNone;  // the next entry of mirror_writes
  uint32_t vseg_id = fpapi::kNoTag;
  uint32_t block_size = 512;
  uint32_t blocks = 0;
  uint64_t lv_lba = 0;      // first block, LV-relative
  uint64_t start = 0;       // first block, VSEG-relative (valid once vseg_id is set)
  uint64_t started_ns = 0;  // dispatch (FP-owned) or queue/hold (CP-owned) time
  // FPGetData: host bytes [get_offset, get_end) go to the CP as they arrive.
  uint32_t get_offset = 0;
  uint32_t get_end = 0;
  fpapi::UpstreamIo io;  // the command as it arrived (CpQueueIO carries it)
};

// One downstream I/O: an exchange the FP opened from its virtual initiator.
// Its OX_ID names its index (exchange_id()).
struct Downstream {
  uint8_t active = 0;
  // 1: the remap of `upstream` (or a side of its write split); 0: an
  // FPDispatchIO leg.
  uint8_t remap : 1 = 0;
  // A journal leg: its wire offsets are the host's plus one header block
  // (Impl::journal_headers holds the header until the target asks for it).
  uint8_t journal : 1 = 0;
  // Write splitting: the legs of `upstream` with the same upstream_offset and
  // data_length that all receive the same host data (the sides of a mirror,
  // or a journal's data and journal legs), `copies` of them; 0 or 1: this
  // leg alone.
  uint8_t copies : 6 = 0;
  fpapi::DataDirection direction = fpapi::DataDirection::kNone;
  uint8_t generation = 0;               // times the entry was handed out (modulo 256)
  uint16_t rx_id = fc::kUnassignedXid;  // the target's, from its first frame
  uint16_t ox_id = 0;                   // ours: see exchange_id()
  uint32_t target = 0;                  // physical N_Port ID
  uint32_t upstream = kNone;
  uint32_t next_leg = kNone;
  uint32_t dtag = fpapi::kNoTag;
  uint32_t upstream_offset = 0;
  uint32_t data_length = 0;
  uint32_t bytes = 0;  // data moved so far
  // Copies: the end of what this leg's target asked for (leg-relative). The
  // host is asked only for data every copy is ready for, as soon as it is:
  // what it was asked for is the smallest ready_end of the group (the entry
  // stays 48 bytes: this field fills the padding before started_ns).
  uint32_t ready_end = 0;
  uint64_t started_ns = 0;
};
static_assert(sizeof(Downstream) == 48, "the downstream table's size is part of the footprint");

// One exposed (target, LUN). Its initiators are initiators_per_exposure
// slots of Impl::initiators starting at index * initiators_per_exposure.
struct Exposure {
  uint32_t target_id = 0;
  uint16_t lun = 0;
  uint8_t flags = 0;  // fpapi::expose_flags
  uint8_t reserved = 0;
  uint32_t lv_id = 0;
  uint32_t block_size = 512;
  uint64_t capacity_blocks = 0;
  uint32_t initiator_count = 0;
  uint32_t reserved2 = 0;
};

struct Vseg {
  uint32_t lv_id = 0;
  uint32_t reserved = 0;
  map::VsegDescriptor desc;
};

// A cached redirect entry. Found through Impl::redirect_hash (open
// addressing, linear probing, kNone = empty slot).
struct Redirect {
  uint32_t vseg_id = 0;
  map::RedirectIndex index = 0;
  uint8_t used = 0;
  uint8_t read_turn = 0;  // a mirror's next read side in round robin
  uint16_t reserved = 0;
  // A journal's pointer: blocks of it used, and the next record's sequence
  // number; both 0 when the CP adds the entry or replaces its descriptor.
  uint32_t journal_used = 0;
  uint32_t journal_seq = 0;
  map::RedirectEntry entry;
};

// An FP -> CP message waiting for room in the mailbox.
struct OutMsg {
  uint32_t type = 0;
  uint32_t length = 0;
  uint8_t bytes[fpapi::kMaxMessageSize];
};

// Outcome of handling one CP message: done, or retry the same message later
// because no frame buffer was free (nothing was changed).
enum class CpResult : uint8_t { kDone, kRetry };

struct FastPath::Impl {
  hal::Hal hal;
  FastPathConfig config;
  sp_hal_port_info info{};
  uint64_t table_mem_bytes = 0;
  bool discovered = false;
  uint32_t vi = 0;  // virtual initiator N_Port ID

  Upstream* up = nullptr;
  uint32_t up_count = 0;  // in use
  // Free entries are reused oldest first (a FIFO through Upstream::first_leg
  // and Downstream::next_leg), and an entry's exchange ID changes with its
  // generation, so an exchange ID comes back only after many others: a late
  // frame of an ended exchange (or an analyzer) never mistakes it for a new one.
  uint32_t up_free = kNone;
  uint32_t up_free_tail = kNone;
  Downstream* down = nullptr;
  uint32_t down_count = 0;
  uint32_t down_free = kNone;
  uint32_t down_free_tail = kNone;

  uint32_t mirror_writes = kNone;  // upstream entries with in_mirror_writes, newest first

  Exposure* exposures = nullptr;  // compact: [0, exposure_count)
  uint32_t exposure_count = 0;
  uint32_t* initiators = nullptr;
  uint32_t* targets = nullptr;  // every virtual target ever exposed, compact
  uint32_t target_count = 0;

  Vseg* vsegs = nullptr;  // compact: [0, vseg_count), capacity rmap.max_vsegs
  uint32_t vseg_count = 0;

  Redirect* redirects = nullptr;  // redirect_capacity entries
  uint32_t redirect_count = 0;
  uint32_t* redirect_hash = nullptr;  // redirect_hash_size slots (a power of two)
  uint32_t redirect_hash_size = 0;

  OutMsg* outbox = nullptr;  // ring
  uint32_t out_head = 0;
  uint32_t out_count = 0;
  uint64_t outbox_lost = 0;  // messages dropped because the outbox was full

  // Per downstream entry: a journal leg's header block, built at dispatch
  // and sent when the target first asks for data (null otherwise).
  sp_hal_buf** journal_headers = nullptr;

  sp_hal_buf** held = nullptr;  // ring of frames waiting for the transmit ring
  uint32_t held_head = 0;
  uint32_t held_count = 0;

  // A CP message put back for lack of a frame buffer, retried first next poll.
  bool stashed = false;
  uint32_t stash_type = 0;
  uint32_t stash_length = 0;
  uint8_t stash[fpapi::kMaxMessageSize];

  RmapCache rmap;
  fpapi::FpStatistics stats;

  // --- fast_path.cc: the HAL plumbing ---
  uint64_t now() const { return hal.now_ns(); }
  // Queues `buf` (length set) for transmission; frames leave in call order.
  void transmit(sp_hal_buf* buf);
  void flush_tx();
  void free_buf(sp_hal_buf* buf);
  // An allocated buffer, or nullptr when the pool is empty.
  sp_hal_buf* alloc_buf();
  // Encodes and posts a message, through the outbox if the mailbox is full.
  template <class M>
  void post(const M& msg) {
    uint8_t bytes[fpapi::kMaxMessageSize];
    const size_t n = fpapi::encode(msg, std::span<uint8_t>(bytes, sizeof bytes));
    post_raw(static_cast<uint32_t>(fpapi::TypeOf<M>::value), bytes, static_cast<uint32_t>(n));
  }
  void post_raw(uint32_t type, const uint8_t* bytes, uint32_t length);
  void flush_outbox();
  // Whether the outbox has room for what one CP message or one frame may
  // post. Without it the FP leaves messages in the mailbox and frames in the
  // receive ring, where they wait without loss, until the CP drains it.
  bool outbox_has_room() const;
  void reply(uint32_t req_id, fpapi::MsgType request, fpapi::ApiStatus status, uint32_t value);

  // --- pending_io.cc ---
  Upstream* up_alloc();
  void up_release(Upstream& u);
  uint32_t up_index(const Upstream& u) const { return static_cast<uint32_t>(&u - up); }
  // Exchange ID of entry `index` in its `generation`: index + capacity * k,
  // with k cycling through every value that keeps it below 0xFFFF (the
  // unassigned ID). Its remainder by the capacity is the index.
  static uint16_t exchange_id(uint32_t index, uint32_t generation, uint32_t capacity) {
    const uint32_t cycle = 0xFFFFu / capacity;
    return static_cast<uint16_t>(index + capacity * (generation % cycle));
  }
  // The RX_ID the host sees for this upstream exchange.
  uint16_t up_rx_id(const Upstream& u) const {
    return exchange_id(up_index(u), u.generation, config.upstream_capacity);
  }
  uint32_t utag_of(const Upstream& u) const { return uint32_t{u.generation} << 16 | up_index(u); }
  Upstream* up_by_utag(uint32_t utag);
  // The upstream I/O a host frame belongs to (RX_ID, S_ID, D_ID, OX_ID), or null.
  Upstream* up_for_host_frame(const fc::FrameHeader& h);
  Downstream* down_alloc(Upstream* u);
  void down_release(Downstream& d);
  uint32_t down_index(const Downstream& d) const { return static_cast<uint32_t>(&d - down); }
  Downstream* down_for_frame(const fc::FrameHeader& h);
  static uint8_t owner_of(const Upstream& u);
  bool matches(const Upstream& u, const fpapi::PendingFilter& f) const;
  // Hands the I/O to the CP (CpQueueIO `reason`); it becomes CP-owned.
  // `downstream_target`: kDownstreamError's failing downstream N_Port ID.
  void queue_to_cp(Upstream& u, fpapi::FaultKind reason, const fc::FcpRsp* rsp = nullptr,
                   uint32_t downstream_target = 0);
  // Ends a downstream exchange the FP gives up: ABTS to the target, and for an
  // FPDispatchIO leg CpDispatchIOComplete with transport_error.
  void abort_leg(Downstream& d);

  // --- tables.cc ---
  bool is_virtual_target(uint32_t id) const;
  const Exposure* find_exposure(uint32_t target, uint16_t lun) const;
  bool initiator_allowed(const Exposure& e, uint32_t initiator) const;
  fpapi::ApiStatus expose(const fpapi::FpExpose& m);
  uint32_t hide(const fpapi::FpHide& m);
  const Vseg* vseg_for_lba(uint32_t lv_id, uint64_t lv_lba) const;
  const Vseg* find_vseg(uint32_t vseg_id) const;
  const map::RedirectEntry* find_redirect(uint32_t vseg_id, map::RedirectIndex index) const;
  Redirect* find_redirect_slot(uint32_t vseg_id, map::RedirectIndex index);
  fpapi::ApiStatus mapping(fpapi::MsgType type, const fpapi::FpMapping& m, uint32_t* value);

  // --- frames.cc ---
  // Rewrites the addressing of a frame in place.
  static void readdress(uint8_t* frame, uint32_t d_id, uint32_t s_id, uint16_t ox_id,
                        uint16_t rx_id);
  // Builds the header of an originated frame into `buf`; returns the payload.
  static uint8_t* start_frame(sp_hal_buf* buf, uint8_t r_ctl, uint8_t type, uint32_t d_id,
                              uint32_t s_id, uint32_t f_ctl, uint16_t ox_id, uint16_t rx_id,
                              uint32_t parameter = 0, uint8_t seq_id = 0, uint16_t seq_cnt = 0);
  // FCP_RSP from the virtual target to the host of `u`.
  void send_host_rsp(sp_hal_buf* buf, const Upstream& u, const fc::FcpRsp& rsp);
  void send_host_xfer_rdy(sp_hal_buf* buf, const Upstream& u, uint32_t offset, uint32_t length);
  void send_cmnd(sp_hal_buf* buf, const Downstream& d, uint16_t lun, std::span<const uint8_t> cdb,
                 uint8_t task_attribute);
  void send_abts(const Downstream& d);

  // --- classify.cc ---
  void on_command(sp_hal_buf* buf, const fc::FrameHeader& h);
  // Figure 7 from the VSEG lookup on (steps 3-8); `after_miss`: the CP has
  // answered CONTINUE, so another miss queues the I/O (kNoMapping).
  void classify_mapped(Upstream& u, bool after_miss);
  // Step 8 for a simple or striped entry: one downstream I/O to `target`.
  void dispatch_remap(Upstream& u, const map::StorageElement& target);

  // --- write_split.cc ---
  // Step 8 for a mirror: a read to one side (round robin among the cheapest
  // readable ones, r's read_turn), a write to every writable side, after the
  // serialization check (step 120, figure 16). `mirror` is r's descriptor, or
  // for a stripe of mirrors the column the I/O falls in (column_mirror);
  // `side_lba` is the I/O's first block on each side (VSEG or column block).
  void dispatch_mirror(Upstream& u, Redirect& r, const map::StorageDescriptor& mirror,
                       uint64_t side_lba);
  // Does [start, start + blocks) of `vseg_id` overlap a write in mirror_writes?
  bool overlaps_mirror_write(uint32_t vseg_id, uint64_t start, uint32_t blocks) const;
  void add_mirror_write(Upstream& u);
  void remove_mirror_write(Upstream& u);
  // Step 8 for a journal (journal.cc): a read remapped to the data device; a
  // write, after the serialization check, as a data leg and a journal leg
  // (a record: header block then the data) at the journal pointer, or
  // kJournalFull when the record does not fit.
  void dispatch_journal(Upstream& u, Redirect& r);
  // Builds the first frame of a journal leg's header block (`header`:
  // kJournalHeaderBytes, then zeros) in a buffer held for the leg; false if
  // no buffer is free.
  bool hold_journal_header(Downstream& d, const uint8_t* header, uint32_t block_size);
  // A journal leg's XFER_RDY for wire bytes [offset, offset + length): sends
  // the header if asked for; the host-data part, in host offsets, in
  // *host_offset and *host_length (length 0: nothing of the host's).
  // False if no buffer is free for the header block's other frames.
  bool journal_leg_xfer_rdy(Downstream& d, const Upstream& u, uint32_t offset, uint32_t length,
                            uint32_t* host_offset, uint32_t* host_length);
  // Bytes of the header block per data frame: a frame's data field (the
  // FC-FS default of 2048 bytes, or less if the HAL's frames are smaller).
  uint32_t journal_header_chunk(uint32_t block_size) const;
  // A header block of the largest block size a journal takes (64 KiB) in
  // the smallest frames a HAL may have.
  static constexpr uint32_t kMaxJournalHeaderFrames = 65536 / SP_HAL_MIN_FRAME_PAYLOAD_LIMIT;
  // A write leg's XFER_RDY: relayed as is, or for copies, held until every
  // copy is ready and then one XFER_RDY to the host for what they all want.
  // A split write that cannot go on (no buffer to copy data into): an FP
  // write's legs are aborted and it goes to the CP (kDownstreamError); for
  // a CP's, `d` and its copies are aborted (the CP sees them fail).
  void fail_split_write(Upstream& u, Downstream& d);
  void on_write_leg_xfer_rdy(sp_hal_buf* buf, Downstream& d, Upstream& u, uint32_t offset,
                             uint32_t length);
  // A host data frame for `count` legs: one copy of it for each (from the
  // buffer pool), or, without buffers, the I/O fails cleanly.
  void fan_out_host_data(sp_hal_buf* buf, Upstream& u, const uint32_t* legs, uint32_t count,
                         uint32_t offset, uint32_t n);
  // A leg of a group of copies ended without success: its sibling copies
  // cannot finish (they wait for data the host is never asked for), so they
  // are aborted too.
  void abort_copies_of(const Downstream& d);

  // --- relay.cc ---
  void on_frame(sp_hal_buf* buf);
  void on_host_frame(sp_hal_buf* buf, const fc::FrameHeader& h);
  void on_downstream_frame(sp_hal_buf* buf, const fc::FrameHeader& h);
  void to_cp_frame(sp_hal_buf* buf);
  void drop(sp_hal_buf* buf);

  // --- copy.cc ---
  // FPCopyIO: validates, anchors the copy on an upstream entry and sends the
  // destination's WRITE(16); kRetry (nothing changed) when no upstream or
  // downstream entry or no frame buffer is free. An invalid copy completes
  // at once with transport_error.
  CpResult start_copy(const fpapi::FpCopyIO& m);
  // A frame of leg `d` of copy `u` (from on_downstream_frame): the
  // destination's XFER_RDY (a READ of the source for that burst), the
  // source's data (readdressed into the write exchange), either's FCP_RSP.
  void on_copy_frame(sp_hal_buf* buf, const fc::FrameHeader& h, Downstream& d, Upstream& u);
  // Ends copy `u`: ABTS on every leg still open, `c` (dtag and utag filled
  // in here) to the CP, the anchor released.
  void end_copy(Upstream& u, fpapi::CpDispatchIOComplete& c);
  // Ends copy `u` with transport_error (bytes_transferred: what was written).
  void fail_copy(Upstream& u);
  // The destination's WRITE leg of copy `u` (null once it has answered).
  Downstream* copy_write_leg(Upstream& u);

  // --- cp_messages.cc ---
  CpResult on_cp_message(uint32_t type, std::span<const uint8_t> payload);
  void handle_mailbox(bool* did_work);
};

}  // namespace splitpath::fp
