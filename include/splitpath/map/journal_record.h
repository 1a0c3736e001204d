// A journal record (figure 32 of the specification): what the
// write-journaling primitive writes into a journal for each write. A record
// is one header block (the VSEG's block size) followed by the write's data
// blocks, written as one downstream WRITE of 1 + blocks blocks at the
// journal pointer, so records follow one another from the journal's first
// block. The header says where the write went; the rest of the header block
// is zero.
//
// Header layout, every integer big-endian:
//   bytes 0-3    magic kJournalMagic ("SPJR")
//   bytes 4-5    format version (kJournalVersion)
//   bytes 6-7    journal id: the generation the CP gave this journal
//   bytes 8-11   sequence number within the journal (0, 1, 2, ...)
//   bytes 12-15  block count of the write (N: the record is 1 + N blocks)
//   bytes 16-23  dispatch time, ns of the writer's clock (simulated time)
//   bytes 24-27  lv id
//   bytes 28-31  VSEG id
//   bytes 32-39  volume (LV-relative) LBA of the write's first block
//   bytes 40-47  VSEG-relative LBA of the write's first block
//   bytes 48-51  block size in bytes
//   bytes 52-63  reserved (zero)
// Reading a journal: records from its first block while a header decodes
// with the magic, the version, this journal's id and the next sequence
// number; the first that does not ends the journal (older records left in
// the blocks carry another id or break the sequence).
//
// Firmware-safe: standard library only, no exceptions, no heap.
#pragma once

#include <cstddef>
#include <cstdint>

namespace splitpath::map {

inline constexpr uint32_t kJournalMagic = 0x53504A52;  // "SPJR"
inline constexpr uint16_t kJournalVersion = 1;
inline constexpr size_t kJournalHeaderBytes = 64;

struct JournalRecordHeader {
  uint16_t journal_id = 0;
  uint32_t sequence = 0;
  uint32_t blocks = 0;
  uint64_t timestamp_ns = 0;
  uint32_t lv_id = 0;
  uint32_t vseg_id = 0;
  uint64_t lv_lba = 0;
  uint64_t vseg_lba = 0;
  uint32_t block_size = 0;
  friend constexpr bool operator==(const JournalRecordHeader&,
                                   const JournalRecordHeader&) = default;
};

namespace journal_detail {
constexpr void put(uint8_t* p, size_t n, uint64_t v) {
  for (size_t i = 0; i < n; ++i)
    p[i] = static_cast<uint8_t>(v >> (8 * (n - 1 - i)));
}
constexpr uint64_t get(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v = v << 8 | p[i];
  return v;
}
}  // namespace journal_detail

// Writes the header into out[0, kJournalHeaderBytes).
constexpr void encode_journal_header(const JournalRecordHeader& h, uint8_t* out) {
  using journal_detail::put;
  for (size_t i = 0; i < kJournalHeaderBytes; ++i)
    out[i] = 0;
  put(out, 4, kJournalMagic);
  put(out + 4, 2, kJournalVersion);
  put(out + 6, 2, h.journal_id);
  put(out + 8, 4, h.sequence);
  put(out + 12, 4, h.blocks);
  put(out + 16, 8, h.timestamp_ns);
  put(out + 24, 4, h.lv_id);
  put(out + 28, 4, h.vseg_id);
  put(out + 32, 8, h.lv_lba);
  put(out + 40, 8, h.vseg_lba);
  put(out + 48, 4, h.block_size);
}

// Reads a header from in[0, kJournalHeaderBytes); false if the magic or the
// version is not ours (then *h is untouched).
constexpr bool decode_journal_header(const uint8_t* in, JournalRecordHeader* h) {
  using journal_detail::get;
  if (get(in, 4) != kJournalMagic || get(in + 4, 2) != kJournalVersion) return false;
  JournalRecordHeader r;
  r.journal_id = static_cast<uint16_t>(get(in + 6, 2));
  r.sequence = static_cast<uint32_t>(get(in + 8, 4));
  r.blocks = static_cast<uint32_t>(get(in + 12, 4));
  r.timestamp_ns = get(in + 16, 8);
  r.lv_id = static_cast<uint32_t>(get(in + 24, 4));
  r.vseg_id = static_cast<uint32_t>(get(in + 28, 4));
  r.lv_lba = get(in + 32, 8);
  r.vseg_lba = get(in + 40, 8);
  r.block_size = static_cast<uint32_t>(get(in + 48, 4));
  *h = r;
  return true;
}

}  // namespace splitpath::map
