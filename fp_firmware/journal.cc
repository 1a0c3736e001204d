// The write-journaling primitive (figure 32 of the specification; step 122
// of figure 7): write splitting where one destination is a journal.
// - A READ through a journal entry is remapped to the data device.
// - A WRITE overlapping a write still outstanding in this FP's upstream
//   pending list faults to the CP (kSerialization), as for a mirror.
// - A WRITE whose record (one header block + its blocks) is larger than a
//   whole journal faults kCapacity (the CP cuts it into records that fit).
// - A WRITE whose record does not fit in what is left of this FP's journal
//   faults to the CP (kJournalFull): the CP
//   swaps in an empty journal (the entry comes back with another descriptor,
//   which resets the pointer) and does the write itself.
// - Any other WRITE becomes two legs stamped with one dispatch time: the
//   data leg (N blocks to the data device) and the journal leg (1 + N blocks
//   at the journal pointer). The FP builds the header block in a buffer held
//   for the journal leg and sends it as the leg's first data frame when the
//   journal's disk asks for data; the host's data frames then go to both legs
//   (write_split.cc), the journal's at their offset plus one block. The host
//   gets GOOD once both legs have; a failed leg aborts the other and hands
//   the I/O to the CP (kDownstreamError).
#include <cstring>

#include "fp_firmware/fast_path_impl.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/scsi_cdb_encode.h"
#include "splitpath/map/journal_record.h"

namespace splitpath::fp {

uint32_t FastPath::Impl::journal_header_chunk(uint32_t block_size) const {
  uint32_t chunk = static_cast<uint32_t>(fc::kDefaultDataFieldSize);
  if (info.max_frame_payload != 0 && info.max_frame_payload < chunk) chunk = info.max_frame_payload;
  return block_size < chunk ? block_size : chunk;
}

bool FastPath::Impl::hold_journal_header(Downstream& d, const uint8_t* header,
                                         uint32_t block_size) {
  sp_hal_buf* buf = alloc_buf();
  if (buf == nullptr) return false;
  // The header block's first frame (the record header, then zeros); the
  // frame header is written when it is sent. A block larger than a frame's
  // data field goes as several frames, the others all zeros.
  const uint32_t chunk = journal_header_chunk(block_size);
  uint8_t* p = buf->data + fc::kFrameHeaderSize;
  std::memcpy(p, header, map::kJournalHeaderBytes);
  std::memset(p + map::kJournalHeaderBytes, 0, chunk - map::kJournalHeaderBytes);
  buf->length = static_cast<uint32_t>(fc::kFrameHeaderSize) + chunk;
  d.journal = 1;
  journal_headers[down_index(d)] = buf;
  return true;
}

bool FastPath::Impl::journal_leg_xfer_rdy(Downstream& d, const Upstream& u, uint32_t offset,
                                          uint32_t length, uint32_t* host_offset,
                                          uint32_t* host_length) {
  const uint32_t header = u.block_size;
  sp_hal_buf*& held = journal_headers[down_index(d)];
  if (offset == 0 && held != nullptr) {
    const uint32_t chunk = journal_header_chunk(header);
    const uint32_t frames = (header + chunk - 1) / chunk;
    sp_hal_buf* bufs[kMaxJournalHeaderFrames];
    if (frames > kMaxJournalHeaderFrames ||
        (frames > 1 && hal.alloc_bufs(bufs + 1, frames - 1) != hal::Status::kOk)) {
      return false;
    }
    bufs[0] = held;
    held = nullptr;
    for (uint32_t i = 0; i < frames; ++i) {
      const uint32_t at = i * chunk;
      const uint32_t n = header - at < chunk ? header - at : chunk;
      uint8_t* p = start_frame(bufs[i], fc::rctl::kDeviceDataSolicitedData, fc::fc_type::kFcp,
                               d.target, vi, fc::fctl::kRelativeOffsetPresent, d.ox_id, d.rx_id,
                               /*parameter=*/at);
      if (i > 0) std::memset(p, 0, n);
      bufs[i]->length += n;
      transmit(bufs[i]);
    }
  }
  const uint64_t end = uint64_t{offset} + length;
  const uint32_t from = offset > header ? offset - header : 0;
  *host_offset = from;
  *host_length = end > uint64_t{header} + from ? static_cast<uint32_t>(end - header - from) : 0;
  return true;
}

void FastPath::Impl::dispatch_journal(Upstream& u, Redirect& r) {
  map::JournalStorage j;
  if (!r.entry.descriptor.journal(&j)) return queue_to_cp(u, fpapi::FaultKind::kCapacity);
  map::StorageElement data = j.data;
  data.start_lba += u.start;
  if (!u.is_write) return dispatch_remap(u, data);

  // Step 120 (figure 16), as for a mirror: overlapping writes are ordered by
  // the CP, so the records replay in dispatch-time order.
  if (!config.skip_serialization_for_testing &&
      overlaps_mirror_write(u.vseg_id, u.start, u.blocks)) {
    add_mirror_write(u);
    return queue_to_cp(u, fpapi::FaultKind::kSerialization);
  }
  // A record larger than a whole journal never fits: the CP cuts the write.
  if (uint64_t{1} + u.blocks > j.capacity_blocks || u.block_size < map::kJournalHeaderBytes) {
    return queue_to_cp(u, fpapi::FaultKind::kCapacity);
  }
  // Step 122: the journal is full. The write stays in the list so later
  // overlapping writes follow it through the CP.
  if (uint64_t{r.journal_used} + 1 + u.blocks > j.capacity_blocks) {
    add_mirror_write(u);
    return queue_to_cp(u, fpapi::FaultKind::kJournalFull);
  }

  sp_hal_buf* bufs[2];
  if (hal.alloc_bufs(bufs, 2) != hal::Status::kOk) {
    return queue_to_cp(u, fpapi::FaultKind::kCapacity);
  }
  Downstream* data_leg = down_alloc(&u);
  Downstream* journal_leg = data_leg != nullptr ? down_alloc(&u) : nullptr;
  const uint64_t t = now();
  map::JournalRecordHeader h;
  h.journal_id = j.journal_id;
  h.sequence = r.journal_seq;
  h.blocks = u.blocks;
  h.timestamp_ns = t;
  h.lv_id = u.io.lv_id;
  h.vseg_id = u.vseg_id;
  h.lv_lba = u.lv_lba;
  h.vseg_lba = u.start;
  h.block_size = u.block_size;
  uint8_t header[map::kJournalHeaderBytes];
  map::encode_journal_header(h, header);
  if (journal_leg == nullptr || !hold_journal_header(*journal_leg, header, u.block_size)) {
    if (journal_leg != nullptr) down_release(*journal_leg);
    if (data_leg != nullptr) down_release(*data_leg);
    (void)hal.free_bufs(bufs, 2);
    return queue_to_cp(u, fpapi::FaultKind::kCapacity);
  }
  const uint64_t record_lba = j.journal.start_lba + r.journal_used;
  r.journal_used += 1 + u.blocks;
  ++r.journal_seq;
  (void)hal.charge_cycles(config.classify_cycles);
  const RwCommand rw = decode_rw(u.io);
  u.state = Upstream::State::kFp;
  u.started_ns = t;
  add_mirror_write(u);
  Downstream* legs[2] = {data_leg, journal_leg};
  const map::StorageElement targets[2] = {data, j.journal};
  const uint64_t lbas[2] = {data.start_lba, record_lba};
  for (uint32_t i = 0; i < 2; ++i) {
    Downstream& d = *legs[i];
    d.remap = 1;
    d.direction = fpapi::DataDirection::kWrite;
    d.target = targets[i].port_id;
    d.data_length = u.io.data_length;
    d.copies = 2;
    d.started_ns = t;
    uint8_t cdb[fpapi::kCdbSize] = {};
    fc::encode_read_write16(true, lbas[i], u.blocks + i, rw.fua, rw.dpo,
                            std::span<uint8_t, 16>(cdb, 16));
    send_cmnd(bufs[i], d, targets[i].lun, std::span<const uint8_t>(cdb, sizeof cdb),
              u.io.task_attribute);
  }
}

}  // namespace splitpath::fp
