// The FP API (figure 8, and the API list after figure 18 of the specification):
// every call the CP makes on a port's fast path (FPDiscover ... FPQueueIOComplete)
// and every callback the FP makes on the CP (CpMappingMiss, CpQueueIO,
// CpDispatchIOComplete), as messages through the HAL mailbox (hal.h mbox_send /
// mbox_recv). The CP never touches FP memory: it only exchanges these messages,
// so a CP could run in another process or on another processor.
//
// Encoding. The mailbox `type` is the MsgType below; the payload is the
// message's fields in declaration order, big-endian, packed (no padding), with
// variable-length byte fields as a 16-bit length and the bytes. A message never
// exceeds SP_HAL_MBOX_MIN_MSG_SIZE (256) bytes, so it fits every platform's
// mailbox; messages that carry data (FPPutData, the FPGetData reply, CpFrame)
// carry at most kMaxChunk bytes each and the sender splits larger data.
//
// Ordering. Each direction of the mailbox is FIFO, which the protocol relies
// on: mappings sent before a CpMappingMiss reply are in place when the FP acts
// on the reply; an FPRemoveMapping reply is sent after the entry is gone.
//
// Tags. The FP names each upstream I/O (a host exchange to a virtual target) by
// a 32-bit `utag` it chooses; the CP names each downstream I/O it dispatches by
// a 32-bit `dtag` it chooses. Requests that want an answer carry a `req_id`
// that the reply echoes.
//
// Firmware-safe: header-only, standard library only, no exceptions, no heap.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "splitpath/fc/wire.h"
#include "splitpath/map/journal_record.h"
#include "splitpath/map/rmap_types.h"

namespace splitpath::fpapi {

inline constexpr uint32_t kMaxMessageSize = 256;  // SP_HAL_MBOX_MIN_MSG_SIZE
// Data bytes one FPPutData / FPGetData reply carries: a multiple of 64 so data
// chunks stay aligned in the receiver's buffer.
inline constexpr uint32_t kMaxChunk = 192;
// Frame bytes (header and payload) a CpFrame carries.
inline constexpr uint32_t kMaxFrameChunk = 232;
inline constexpr uint32_t kMaxSense = 96;  // fc::kMaxFcpSenseLength
inline constexpr uint32_t kCdbSize = 16;
inline constexpr uint32_t kNoTag = 0xFFFFFFFF;
// Initiators one FPExpose message lists; a LUN with more sends several
// (ExposeFlags::kAppend).
inline constexpr uint32_t kMaxInitiatorsPerExpose = 16;
// Pending I/Os one FPQueryPendingIOs reply lists (the count covers them all).
inline constexpr uint32_t kMaxPendingListed = 6;

// Mailbox message types. CP -> FP calls are 0x01xx, FP -> CP callbacks and
// replies 0x02xx.
enum class MsgType : uint32_t {
  // CP -> FP
  kFpDiscover = 0x0101,
  kFpExpose = 0x0102,
  kFpHide = 0x0103,
  kFpAddMapping = 0x0104,
  kFpReplaceMapping = 0x0105,
  kFpRemoveMapping = 0x0106,
  kFpQueryPendingIOs = 0x0107,
  kFpAbortPendingIOs = 0x0108,
  kFpQueryStatistics = 0x0109,
  kFpDispatchIO = 0x010A,
  kFpGetData = 0x010B,
  kFpPutData = 0x010C,
  kFpQueueIOComplete = 0x010D,
  kCpMappingMissReply = 0x010E,  // the CP's answer to CpMappingMiss
  kFpCopyIO = 0x010F,
  // FP -> CP
  kFpDiscoverReply = 0x0201,
  kFpReply = 0x0202,  // generic acknowledgement of a request with a req_id
  kFpQueryPendingIOsReply = 0x0203,
  kFpQueryStatisticsReply = 0x0204,
  kFpGetDataReply = 0x0205,
  kCpMappingMiss = 0x0206,
  kCpQueueIO = 0x0207,
  kCpDispatchIOComplete = 0x0208,
  kCpFrame = 0x0209,  // a non-FCP frame (ELS, BLS) for a virtual address
};

constexpr const char* msg_type_name(MsgType t) {
  switch (t) {
    case MsgType::kFpDiscover:
      return "FPDiscover";
    case MsgType::kFpExpose:
      return "FPExpose";
    case MsgType::kFpHide:
      return "FPHide";
    case MsgType::kFpAddMapping:
      return "FPAddMapping";
    case MsgType::kFpReplaceMapping:
      return "FPReplaceMapping";
    case MsgType::kFpRemoveMapping:
      return "FPRemoveMapping";
    case MsgType::kFpQueryPendingIOs:
      return "FPQueryPendingIOs";
    case MsgType::kFpAbortPendingIOs:
      return "FPAbortPendingIOs";
    case MsgType::kFpQueryStatistics:
      return "FPQueryStatistics";
    case MsgType::kFpDispatchIO:
      return "FPDispatchIO";
    case MsgType::kFpGetData:
      return "FPGetData";
    case MsgType::kFpPutData:
      return "FPPutData";
    case MsgType::kFpQueueIOComplete:
      return "FPQueueIOComplete";
    case MsgType::kCpMappingMissReply:
      return "CpMappingMissReply";
    case MsgType::kFpCopyIO:
      return "FPCopyIO";
    case MsgType::kFpDiscoverReply:
      return "FPDiscoverReply";
    case MsgType::kFpReply:
      return "FPReply";
    case MsgType::kFpQueryPendingIOsReply:
      return "FPQueryPendingIOsReply";
    case MsgType::kFpQueryStatisticsReply:
      return "FPQueryStatisticsReply";
    case MsgType::kFpGetDataReply:
      return "FPGetDataReply";
    case MsgType::kCpMappingMiss:
      return "CpMappingMiss";
    case MsgType::kCpQueueIO:
      return "CpQueueIO";
    case MsgType::kCpDispatchIOComplete:
      return "CpDispatchIOComplete";
    case MsgType::kCpFrame:
      return "CpFrame";
  }
  return "unknown";
}

// Result of an FP API call, in FpReply and the other replies.
enum class ApiStatus : uint8_t {
  kOk = 0,
  kFull = 1,      // a table is full; nothing changed (mappings: the entry stays uncached)
  kInvalid = 2,   // malformed or out-of-range argument
  kNotFound = 3,  // no such target, LUN, VSEG, tag or entry
  kBusy = 4,      // the FP cannot take it now (no free exchange); retry later
};

constexpr const char* api_status_name(ApiStatus s) {
  switch (s) {
    case ApiStatus::kOk:
      return "ok";
    case ApiStatus::kFull:
      return "full";
    case ApiStatus::kInvalid:
      return "invalid";
    case ApiStatus::kNotFound:
      return "not_found";
    case ApiStatus::kBusy:
      return "busy";
  }
  return "unknown";
}

// Why an I/O left the FP for the CP: the checks of figure 7 in their order,
// and the error completion of figure 6. One counter per kind in FpStatistics.
enum class FaultKind : uint8_t {
  kNotReadWrite = 0,       // step 88: a SCSI command other than READ/WRITE
  kLunMasked = 1,          // step 93: the initiator may not access this LUN
  kLunNotExposed = 2,      // step 94: no such LUN on the target
  kSpansVsegs = 3,         // step 100
  kNoMapping = 4,          // step 104: extent not cached and the CP answered QUEUE
  kSpansExtents = 5,       // step 106
  kFaultOnRead = 6,        // step 112: FoR set on the redirect entry
  kFaultOnWrite = 7,       // step 114: FoW set
  kCapacity = 8,           // beyond the FP's limits (transfer size, legs, descriptor kind)
  kSerialization = 9,      // overlaps an outstanding mirrored write
  kDownstreamError = 10,   // figure 6: a downstream I/O did not end GOOD
  kAborted = 11,           // FPAbortPendingIOs ended it
  kSpansStripeUnits = 12,  // step 116 for a stripe: the I/O crosses a stripe unit
  kJournalFull = 13,       // step 122: the write's record does not fit in the FP's journal
  kCount = 14,
};

constexpr const char* fault_kind_name(FaultKind k) {
  switch (k) {
    case FaultKind::kNotReadWrite:
      return "not_read_write";
    case FaultKind::kLunMasked:
      return "lun_masked";
    case FaultKind::kLunNotExposed:
      return "lun_not_exposed";
    case FaultKind::kSpansVsegs:
      return "spans_vsegs";
    case FaultKind::kNoMapping:
      return "no_mapping";
    case FaultKind::kSpansExtents:
      return "spans_extents";
    case FaultKind::kFaultOnRead:
      return "fault_on_read";
    case FaultKind::kFaultOnWrite:
      return "fault_on_write";
    case FaultKind::kCapacity:
      return "capacity";
    case FaultKind::kSerialization:
      return "serialization";
    case FaultKind::kDownstreamError:
      return "downstream_error";
    case FaultKind::kAborted:
      return "aborted";
    case FaultKind::kSpansStripeUnits:
      return "spans_stripe_units";
    case FaultKind::kJournalFull:
      return "journal_full";
    case FaultKind::kCount:
      break;
  }
  return "unknown";
}
inline constexpr size_t kFaultKinds = static_cast<size_t>(FaultKind::kCount);

// A variable-length byte field with a fixed capacity (no heap).
template <size_t N>
struct Bytes {
  uint16_t length = 0;
  std::array<uint8_t, N> data{};
  std::span<const uint8_t> view() const { return {data.data(), length}; }
  // Copies `b` (truncated to N); returns the bytes copied.
  size_t assign(std::span<const uint8_t> b) {
    length = static_cast<uint16_t>(b.size() < N ? b.size() : N);
    for (size_t i = 0; i < length; ++i)
      data[i] = b[i];
    return length;
  }
};

// ---- CP -> FP --------------------------------------------------------------

// FPDiscover: what the port is and can do. The physical devices it can reach
// are the fabric's (the CP reads them from its switch's name server); the FP
// reports its own identity, its virtual-initiator address and its limits.
struct FpDiscover {
  uint32_t req_id = 0;
  // The N_Port ID the FP uses as the initiator of every downstream I/O; the
  // switch routes frames for it to this port. Assigned by the CP.
  uint32_t virtual_initiator = 0;
  template <class V>
  constexpr void fields(V& v) {
    v(req_id), v(virtual_initiator);
  }
};
struct FpDiscoverReply {
  uint32_t req_id = 0;
  uint32_t port_index = 0;
  uint64_t wwpn = 0;
  uint32_t virtual_initiator = 0;
  uint32_t max_transfer_bytes = 0;
  uint32_t max_frame_payload = 0;
  uint32_t upstream_capacity = 0;    // upstream pending-I/O entries
  uint32_t downstream_capacity = 0;  // downstream pending-I/O entries
  uint32_t extent_capacity = 0;      // cached Rmap extents
  uint32_t vseg_capacity = 0;
  uint32_t redirect_capacity = 0;
  uint32_t exposure_capacity = 0;  // (target, LUN) pairs
  uint64_t table_mem_bytes = 0;
  template <class V>
  constexpr void fields(V& v) {
    v(req_id), v(port_index), v(wwpn), v(virtual_initiator), v(max_transfer_bytes),
        v(max_frame_payload), v(upstream_capacity), v(downstream_capacity), v(extent_capacity),
        v(vseg_capacity), v(redirect_capacity), v(exposure_capacity), v(table_mem_bytes);
  }
};

namespace expose_flags {
inline constexpr uint8_t kAnyInitiator = 0x01;  // no LUN masking
inline constexpr uint8_t kAppend = 0x02;        // add initiators to an existing exposure
inline constexpr uint8_t kReadOnly = 0x04;      // writes fault (kLunMasked)
}  // namespace expose_flags

// FPExpose: target `target_id` (a fabricated virtual N_Port ID) presents
// `lun`, backed by volume `lv_id`, to the listed initiators (N_Port IDs).
struct FpExpose {
  uint32_t req_id = 0;
  uint32_t target_id = 0;
  uint16_t lun = 0;
  uint8_t flags = 0;  // expose_flags
  uint8_t initiator_count = 0;
  uint32_t lv_id = 0;
  uint32_t block_size = 512;
  uint64_t capacity_blocks = 0;
  std::array<uint32_t, kMaxInitiatorsPerExpose> initiators{};
  template <class V>
  constexpr void fields(V& v) {
    v(req_id), v(target_id), v(lun), v(flags), v(initiator_count), v(lv_id), v(block_size),
        v(capacity_blocks), v(initiators);
  }
};

inline constexpr uint16_t kAllLuns = 0xFFFF;
// FPHide: the LUN (or every LUN, kAllLuns) of the target is no longer exposed;
// later commands to it fault (kLunNotExposed).
struct FpHide {
  uint32_t req_id = 0;
  uint32_t target_id = 0;
  uint16_t lun = kAllLuns;
  template <class V>
  constexpr void fields(V& v) {
    v(req_id), v(target_id), v(lun);
  }
};

// What an FPAddMapping / FPReplaceMapping / FPRemoveMapping names.
enum class MappingKind : uint8_t {
  kVseg = 1,      // a VSEG of volume lv_id (vseg); remove: the VSEG and its extents
  kRedirect = 2,  // redirect entry `redirect_index` of VSEG vseg.id
  kExtent = 3,    // an extent of VSEG vseg.id; remove: every extent overlapping it
};

struct FpMapping {
  uint32_t req_id = 0;  // kNoTag: no reply wanted
  MappingKind kind = MappingKind::kExtent;
  uint8_t reserved = 0;
  map::RedirectIndex redirect_index = 0;  // kRedirect
  uint32_t lv_id = 0;                     // kVseg
  map::VsegDescriptor vseg;               // kVseg: all of it; otherwise only id
  map::Extent extent;                     // kExtent
  map::RedirectEntry redirect;            // kRedirect
  template <class V>
  constexpr void fields(V& v) {
    v(req_id), v(kind), v(reserved), v(redirect_index), v(lv_id), v(vseg.id),
        v(vseg.virtual_start_lba), v(vseg.length), v(extent.start), v(extent.length),
        v(extent.redirect_index), v(redirect.flags), v(redirect.age_list),
        v(redirect.descriptor.kind), v(redirect.descriptor.payload);
  }
};

// PendingFilter::owner and PendingIoInfo::owner.
inline constexpr uint8_t kOwnerFp = 0;  // dispatched by the FP itself
inline constexpr uint8_t kOwnerCp = 1;  // queued to the CP (CpQueueIO), or held for a miss
// A copy (FPCopyIO) in progress: matched only by a filter with this owner
// (and, with a utag, the copy's dtag); no other filter matches a copy.
inline constexpr uint8_t kOwnerCopy = 2;
inline constexpr uint8_t kAnyOwner = 0xFF;

// Which pending upstream I/Os an FPQueryPendingIOs / FPAbortPendingIOs means:
// all conditions must hold.
struct PendingFilter {
  uint32_t vseg_id = kNoTag;  // kNoTag: any VSEG (and I/Os not yet mapped)
  uint64_t start = 0;         // VSEG-relative block range the I/O must overlap
  uint64_t length = ~0ull;
  // FP timestamp: entries stamped at or before it (an FP-owned entry is
  // stamped when the FP dispatches it, a CP-owned one when it is queued or
  // held). An FpReply's now_ns is the right bound for the I/Os that may have
  // used what the reply removed.
  uint64_t started_by_ns = ~0ull;
  uint32_t utag = kNoTag;  // kNoTag: any; else just this I/O
  // With ox_id: the host exchange (an ABTS); with ox_id 0xFFFF (unassigned):
  // every exchange of that initiator (it left the fabric: implicit logout).
  uint32_t initiator = kNoTag;
  uint16_t ox_id = 0xFFFF;
  // Which owners count (kOwnerFp, kOwnerCp, kAnyOwner). The restrictive-
  // update drain asks for kOwnerFp only: the CP tracks the I/Os it owns itself
  // (and may be holding some of them until the very update it drains for).
  uint8_t owner = kAnyOwner;
  template <class V>
  constexpr void fields(V& v) {
    v(vseg_id), v(start), v(length), v(started_by_ns), v(utag), v(initiator), v(ox_id), v(owner);
  }
};

struct FpQueryPendingIOs {
  uint32_t req_id = 0;
  PendingFilter filter;
  template <class V>
  constexpr void fields(V& v) {
    v(req_id), filter.fields(v);
  }
};

struct PendingIoInfo {
  uint32_t utag = 0;
  uint32_t vseg_id = kNoTag;
  uint64_t start = 0;
  uint32_t blocks = 0;
  uint8_t owner = kOwnerFp;  // kOwnerFp or kOwnerCp
  uint8_t is_write = 0;
  uint16_t legs = 0;  // downstream I/Os outstanding
  uint64_t started_ns = 0;
  template <class V>
  constexpr void fields(V& v) {
    v(utag), v(vseg_id), v(start), v(blocks), v(owner), v(is_write), v(legs), v(started_ns);
  }
};

struct FpQueryPendingIOsReply {
  uint32_t req_id = 0;
  uint32_t count = 0;  // all matching entries
  uint64_t now_ns = 0;
  uint64_t oldest_ns = 0;  // of the matching entries; 0 when count is 0
  uint8_t listed = 0;
  std::array<PendingIoInfo, kMaxPendingListed> ios{};
  template <class V>
  constexpr void fields(V& v) {
    v(req_id), v(count), v(now_ns), v(oldest_ns), v(listed);
    for (auto& io : ios)
      io.fields(v);
  }
};

// FPAbortPendingIOs: ends every matching upstream I/O. The FP sends ABTS for
// its downstream exchanges, forgets them, and hands each upstream I/O to the
// CP (CpQueueIO, FaultKind::kAborted), which completes it to the host.
struct FpAbortPendingIOs {
  uint32_t req_id = 0;
  PendingFilter filter;
  template <class V>
  constexpr void fields(V& v) {
    v(req_id), filter.fields(v);
  }
};

struct FpQueryStatistics {
  uint32_t req_id = 0;
  template <class V>
  constexpr void fields(V& v) {
    v(req_id);
  }
};

struct FpStatistics {
  uint32_t req_id = 0;
  uint64_t commands = 0;      // FCP_CMNDs to virtual targets
  uint64_t fp_completed = 0;  // upstream I/Os completed by the FP alone
  uint64_t cp_completed = 0;  // upstream I/Os completed by FPQueueIOComplete
  uint64_t read_bytes = 0;    // data relayed host-bound
  uint64_t write_bytes = 0;   // data relayed disk-bound
  uint64_t mapping_misses = 0;
  uint64_t transparent_frames = 0;  // physical D_ID frames switched unchanged
  uint64_t dropped_frames = 0;      // malformed or for no known exchange
  uint32_t upstream_pending = 0;
  uint32_t downstream_pending = 0;
  std::array<uint64_t, kFaultKinds> faults{};
  template <class V>
  constexpr void fields(V& v) {
    v(req_id), v(commands), v(fp_completed), v(cp_completed), v(read_bytes), v(write_bytes),
        v(mapping_misses), v(transparent_frames), v(dropped_frames), v(upstream_pending),
        v(downstream_pending), v(faults);
  }
};

enum class DataDirection : uint8_t { kNone = 0, kRead = 1, kWrite = 2 };

// FPDispatchIO: the FP issues a downstream command from its virtual initiator.
// When linked to an upstream I/O (utag != kNoTag), its data moves between the
// disk and the host directly through the FP: data byte i of the downstream I/O
// is byte upstream_offset + i of the host's. The CP splits a host I/O into
// several linked dispatches this way. Unlinked dispatches carry no data.
// Write splitting: `copies` > 1 linked WRITE dispatches with the same
// upstream_offset and data_length (the sides of a mirror) all receive the same
// host data; the FP asks the host for data only once all `copies` are
// dispatched and ready for it, and a copy failing aborts the others.
// Completion: CpDispatchIOComplete with the same dtag.
struct FpDispatchIO {
  uint32_t dtag = 0;
  uint32_t utag = kNoTag;
  uint32_t upstream_offset = 0;
  uint32_t target_id = 0;  // physical N_Port ID
  uint16_t lun = 0;
  DataDirection direction = DataDirection::kNone;
  uint8_t cdb_length = 0;
  uint32_t data_length = 0;
  std::array<uint8_t, kCdbSize> cdb{};
  uint8_t copies = 0;  // 0 or 1: this leg alone; 2 .. map::kMaxMirrorSides: write splitting
  // A journal leg (the write-journaling primitive): the FP writes one header
  // block of the upstream's block size, `journal_header` (an encoded
  // map::JournalRecordHeader) then zeros, at leg offset 0, and the host's
  // bytes [upstream_offset, + data_length) after it. data_length counts the
  // host's bytes only; the CDB covers 1 + data blocks. Needs copies >= 2.
  uint8_t journal = 0;
  std::array<uint8_t, map::kJournalHeaderBytes> journal_header{};
  template <class V>
  constexpr void fields(V& v) {
    v(dtag), v(utag), v(upstream_offset), v(target_id), v(lun), v(direction), v(cdb_length),
        v(data_length), v(cdb), v(copies), v(journal), v(journal_header);
  }
};

// FPCopyIO: the FP copies `blocks` blocks of `block_size` bytes from
// (src_target, src_lun, src_lba) to (dst_target, dst_lun, dst_lba) from its
// virtual initiator, the data never reaching the CP (the copy agent of
// snapshots and migration, run by the FP as the specification's completion
// thread): a WRITE(16) to the destination, and for each FCP_XFER_RDY burst
// of it a READ(16) of exactly those blocks from the source, whose data frames
// the FP readdresses into the write exchange. Bursts must be whole blocks.
// Completion: CpDispatchIOComplete with this dtag and utag = kNoTag: GOOD
// only when the destination answered GOOD having received every byte; any
// other ending (a leg's CHECK CONDITION, whose status and sense it carries,
// or a transport failure) aborts the other leg.
struct FpCopyIO {
  uint32_t dtag = 0;
  uint32_t src_target = 0;  // physical N_Port IDs
  uint16_t src_lun = 0;
  uint64_t src_lba = 0;
  uint32_t dst_target = 0;
  uint16_t dst_lun = 0;
  uint64_t dst_lba = 0;
  uint32_t blocks = 0;
  uint32_t block_size = 512;
  template <class V>
  constexpr void fields(V& v) {
    v(dtag), v(src_target), v(src_lun), v(src_lba), v(dst_target), v(dst_lun), v(dst_lba),
        v(blocks), v(block_size);
  }
};

// FPGetData: the FP solicits bytes [offset, offset + length) of a queued
// upstream write from the host (FCP_XFER_RDY) and passes them to the CP as
// FPGetData replies of at most kMaxChunk bytes.
struct FpGetData {
  uint32_t utag = 0;
  uint32_t offset = 0;
  uint32_t length = 0;
  template <class V>
  constexpr void fields(V& v) {
    v(utag), v(offset), v(length);
  }
};

struct FpGetDataReply {
  uint32_t utag = 0;
  uint32_t offset = 0;
  ApiStatus status = ApiStatus::kOk;
  Bytes<kMaxChunk> data;
  template <class V>
  constexpr void fields(V& v) {
    v(utag), v(offset), v(status), v(data);
  }
};

// FPPutData: bytes of a queued upstream read, sent to the host as FCP_DATA at
// relative offset `offset`.
struct FpPutData {
  uint32_t utag = 0;
  uint32_t offset = 0;
  Bytes<kMaxChunk> data;
  template <class V>
  constexpr void fields(V& v) {
    v(utag), v(offset), v(data);
  }
};

// FPQueueIOComplete: the CP has finished a queued upstream I/O; the FP sends
// FCP_RSP with this status (and sense), then forgets the I/O. With `silent`
// set (the host aborted the exchange) it only forgets it.
struct FpQueueIOComplete {
  uint32_t utag = 0;
  uint8_t silent = 0;
  uint8_t scsi_status = 0;
  uint8_t residual_flags = 0;  // fc::fcp_rsp_flags kResidUnder / kResidOver
  uint32_t residual = 0;
  Bytes<kMaxSense> sense;
  template <class V>
  constexpr void fields(V& v) {
    v(utag), v(silent), v(scsi_status), v(residual_flags), v(residual), v(sense);
  }
};

enum class MissAction : uint8_t {
  kContinue = 0,  // the mapping was added (messages before this one): look up again
  kIgnore = 1,    // no mapping is valid: the FP drops the command
  kQueue = 2,     // the FP queues the I/O to the CP (CpQueueIO)
};

struct CpMappingMissReply {
  uint32_t utag = 0;
  MissAction action = MissAction::kQueue;
  template <class V>
  constexpr void fields(V& v) {
    v(utag), v(action);
  }
};

// ---- FP -> CP --------------------------------------------------------------

// Acknowledges a request: FPExpose, FPHide, the mapping calls (with
// `value` = entries affected), FPAbortPendingIOs (`value` = I/Os aborted).
// `now_ns` is the FP's clock when the change took effect: every I/O the FP
// starts afterwards sees it (the restrictive-update drain waits for the ones
// started before).
struct FpReply {
  uint32_t req_id = 0;
  MsgType request = MsgType::kFpDiscover;
  ApiStatus status = ApiStatus::kOk;
  uint32_t value = 0;
  uint64_t now_ns = 0;
  template <class V>
  constexpr void fields(V& v) {
    v(req_id), v(request), v(status), v(value), v(now_ns);
  }
};

// The identity of a host I/O as it arrived (the CP needs it to act as the
// virtual target).
struct UpstreamIo {
  uint32_t utag = 0;
  uint32_t initiator = 0;  // S_ID
  uint32_t target_id = 0;  // D_ID: the virtual target
  uint16_t ox_id = 0;
  uint16_t lun = 0;
  uint32_t lv_id = kNoTag;   // kNoTag: the LUN is not exposed
  uint32_t data_length = 0;  // FCP_DL
  uint8_t task_attribute = 0;
  uint8_t task_management = 0;
  uint8_t read_data = 0;   // RDDATA
  uint8_t write_data = 0;  // WRDATA
  uint8_t cdb_length = 0;
  std::array<uint8_t, kCdbSize> cdb{};
  template <class V>
  constexpr void fields(V& v) {
    v(utag), v(initiator), v(target_id), v(ox_id), v(lun), v(lv_id), v(data_length),
        v(task_attribute), v(task_management), v(read_data), v(write_data), v(cdb_length), v(cdb);
  }
};

// CpMappingMiss: the I/O's extent is not cached. The FP holds the I/O until
// the CP's CpMappingMissReply.
struct CpMappingMiss {
  uint32_t utag = 0;
  uint32_t lv_id = 0;
  uint32_t vseg_id = 0;
  uint64_t lba = 0;  // VSEG-relative first block
  uint32_t blocks = 0;
  uint8_t is_write = 0;
  template <class V>
  constexpr void fields(V& v) {
    v(utag), v(lv_id), v(vseg_id), v(lba), v(blocks), v(is_write);
  }
};

// CpQueueIO: the I/O faulted; the CP now owns its processing and completes it
// with FPQueueIOComplete. For kDownstreamError the downstream status follows.
struct CpQueueIO {
  FaultKind reason = FaultKind::kNotReadWrite;
  UpstreamIo io;
  uint8_t downstream_status = 0;
  uint32_t downstream_residual = 0;
  Bytes<kMaxSense> sense;
  // kDownstreamError: the N_Port ID of the downstream whose ending failed
  // the I/O (for a split write, the mirror side that failed); 0 if none did
  // (no buffer for the copies).
  uint32_t downstream_target = 0;
  template <class V>
  constexpr void fields(V& v) {
    v(reason), io.fields(v), v(downstream_status), v(downstream_residual), v(sense),
        v(downstream_target);
  }
};

// CpDispatchIOComplete: a downstream I/O from FPDispatchIO has ended.
// `transport_error` is set when it ended without an FCP_RSP (aborted, or the
// upstream I/O went away); scsi_status is then meaningless.
struct CpDispatchIOComplete {
  uint32_t dtag = 0;
  uint32_t utag = kNoTag;
  uint8_t scsi_status = 0;
  uint8_t transport_error = 0;
  uint8_t residual_flags = 0;
  uint32_t residual = 0;
  uint32_t bytes_transferred = 0;
  Bytes<kMaxSense> sense;
  template <class V>
  constexpr void fields(V& v) {
    v(dtag), v(utag), v(scsi_status), v(transport_error), v(residual_flags), v(residual),
        v(bytes_transferred), v(sense);
  }
};

// CpFrame: a frame for a virtual address (a virtual target, or the FP's
// virtual initiator) that is not FCP: ELS, BLS (ABTS), CT. The whole frame,
// header first; frames longer than kMaxFrameChunk are truncated (`length`
// keeps the original size) and the CP rejects them.
struct CpFrame {
  uint32_t length = 0;
  Bytes<kMaxFrameChunk> frame;
  template <class V>
  constexpr void fields(V& v) {
    v(length), v(frame);
  }
};

// ---- Codec -----------------------------------------------------------------

namespace detail {

// Visits fields to compute the size, write or read them.
struct Writer {
  uint8_t* out;
  size_t capacity;
  size_t pos = 0;
  bool ok = true;
  constexpr bool room(size_t n) {
    if (pos + n > capacity) ok = false;
    return ok;
  }
  template <class T>
  constexpr void operator()(const T& value) {
    put(value);
  }
  constexpr void put(uint8_t x) {
    if (room(1)) out[pos++] = x;
  }
  constexpr void put(uint16_t x) {
    if (room(2)) fc::store_be16(out + pos, x), pos += 2;
  }
  constexpr void put(uint32_t x) {
    if (room(4)) fc::store_be32(out + pos, x), pos += 4;
  }
  constexpr void put(uint64_t x) {
    if (room(8)) fc::store_be64(out + pos, x), pos += 8;
  }
  template <class E>
  requires std::is_enum_v<E>
  constexpr void put(E e) { put(static_cast<std::underlying_type_t<E>>(e)); }
  template <class T, size_t N>
  constexpr void put(const std::array<T, N>& a) {
    for (const T& x : a)
      put(x);
  }
  template <size_t N>
  constexpr void put(const Bytes<N>& b) {
    const uint16_t n = b.length <= N ? b.length : static_cast<uint16_t>(N);
    put(n);
    if (room(n)) {
      for (size_t i = 0; i < n; ++i)
        out[pos + i] = b.data[i];
      pos += n;
    }
  }
};

struct Reader {
  const uint8_t* in;
  size_t size;
  size_t pos = 0;
  bool ok = true;
  constexpr bool have(size_t n) {
    if (pos + n > size) ok = false;
    return ok;
  }
  template <class T>
  constexpr void operator()(T& value) {
    get(value);
  }
  constexpr void get(uint8_t& x) {
    if (have(1)) x = in[pos++];
  }
  constexpr void get(uint16_t& x) {
    if (have(2)) x = fc::load_be16(in + pos), pos += 2;
  }
  constexpr void get(uint32_t& x) {
    if (have(4)) x = fc::load_be32(in + pos), pos += 4;
  }
  constexpr void get(uint64_t& x) {
    if (have(8)) x = fc::load_be64(in + pos), pos += 8;
  }
  template <class E>
  requires std::is_enum_v<E>
  constexpr void get(E& e) {
    std::underlying_type_t<E> raw{};
    get(raw);
    e = static_cast<E>(raw);
  }
  template <class T, size_t N>
  constexpr void get(std::array<T, N>& a) {
    for (T& x : a)
      get(x);
  }
  template <size_t N>
  constexpr void get(Bytes<N>& b) {
    uint16_t n = 0;
    get(n);
    if (!ok) return;
    if (n > N) {
      ok = false;
      return;
    }
    if (have(n)) {
      for (size_t i = 0; i < n; ++i)
        b.data[i] = in[pos + i];
      b.length = n;
      pos += n;
    }
  }
};

}  // namespace detail

// The message type of each message struct.
template <class M>
struct TypeOf;
#define SPLITPATH_FPAPI_TYPE_(Struct, Type) \
  template <>                               \
  struct TypeOf<Struct> {                   \
    static constexpr MsgType value = Type;  \
  };
SPLITPATH_FPAPI_TYPE_(FpDiscover, MsgType::kFpDiscover)
SPLITPATH_FPAPI_TYPE_(FpDiscoverReply, MsgType::kFpDiscoverReply)
SPLITPATH_FPAPI_TYPE_(FpExpose, MsgType::kFpExpose)
SPLITPATH_FPAPI_TYPE_(FpHide, MsgType::kFpHide)
SPLITPATH_FPAPI_TYPE_(FpQueryPendingIOs, MsgType::kFpQueryPendingIOs)
SPLITPATH_FPAPI_TYPE_(FpQueryPendingIOsReply, MsgType::kFpQueryPendingIOsReply)
SPLITPATH_FPAPI_TYPE_(FpAbortPendingIOs, MsgType::kFpAbortPendingIOs)
SPLITPATH_FPAPI_TYPE_(FpQueryStatistics, MsgType::kFpQueryStatistics)
SPLITPATH_FPAPI_TYPE_(FpStatistics, MsgType::kFpQueryStatisticsReply)
SPLITPATH_FPAPI_TYPE_(FpDispatchIO, MsgType::kFpDispatchIO)
SPLITPATH_FPAPI_TYPE_(FpGetData, MsgType::kFpGetData)
SPLITPATH_FPAPI_TYPE_(FpGetDataReply, MsgType::kFpGetDataReply)
SPLITPATH_FPAPI_TYPE_(FpPutData, MsgType::kFpPutData)
SPLITPATH_FPAPI_TYPE_(FpQueueIOComplete, MsgType::kFpQueueIOComplete)
SPLITPATH_FPAPI_TYPE_(CpMappingMissReply, MsgType::kCpMappingMissReply)
SPLITPATH_FPAPI_TYPE_(FpCopyIO, MsgType::kFpCopyIO)
SPLITPATH_FPAPI_TYPE_(FpReply, MsgType::kFpReply)
SPLITPATH_FPAPI_TYPE_(CpMappingMiss, MsgType::kCpMappingMiss)
SPLITPATH_FPAPI_TYPE_(CpQueueIO, MsgType::kCpQueueIO)
SPLITPATH_FPAPI_TYPE_(CpDispatchIOComplete, MsgType::kCpDispatchIOComplete)
SPLITPATH_FPAPI_TYPE_(CpFrame, MsgType::kCpFrame)
#undef SPLITPATH_FPAPI_TYPE_
// FpMapping travels as three types; encode() takes the type explicitly.

// Encodes `msg` into `out`; returns the payload size, or 0 if it does not fit.
template <class M>
constexpr size_t encode(const M& msg, std::span<uint8_t> out) {
  detail::Writer w{out.data(), out.size()};
  const_cast<M&>(msg).fields(w);  // fields() only reads through the writer
  return w.ok ? w.pos : 0;
}

// Decodes a payload of the message type `M`. Fails on a short payload or
// trailing bytes.
template <class M>
constexpr bool decode(std::span<const uint8_t> in, M* msg) {
  detail::Reader r{in.data(), in.size()};
  msg->fields(r);
  return r.ok && r.pos == in.size();
}

// The encoded size of `msg`.
template <class M>
constexpr size_t encoded_size(const M& msg) {
  std::array<uint8_t, 1024> scratch{};
  return encode(msg, scratch);
}

}  // namespace splitpath::fpapi
