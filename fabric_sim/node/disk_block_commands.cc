// The disk's device server for the SBC commands that are neither READ nor
// WRITE but touch the medium: VERIFY (BYTCHK 0, 1 and 3), WRITE SAME (with
// UNMAP and NDOB), UNMAP and COMPARE AND WRITE (atomic: the medium changes
// in one event; the status follows after the media time of the blocks read
// or written, the latency alone for a deallocation). WRITE AND VERIFY takes the WRITE data path
// (disk_io.cc): the store cannot fail a read-back. Unmapped blocks read as zeros (LBPRZ).
#include <algorithm>
#include <cstring>

#include "fabric_sim/node/disk.h"
#include "fabric_sim/node/disk_internal.h"
#include "splitpath/fc/scsi_data.h"

namespace splitpath::sim {

namespace {

using fc::ScsiCommandKind;

Disk::Outcome illegal(fc::AscAscq code) {
  return Disk::Outcome::check(fc::make_sense(fc::sense_key::kIllegalRequest, code));
}

// MISCOMPARE with the offset of the first differing byte of the Data-Out
// buffer in INFORMATION (SBC-3 VERIFY and COMPARE AND WRITE).
Disk::Outcome miscompare(uint64_t offset) {
  fc::SenseData s = fc::make_sense(fc::sense_key::kMiscompare, fc::asc::kMiscompareDuringVerify);
  s.valid = offset <= 0xFFFFFFFFu;
  s.information = static_cast<uint32_t>(offset);
  return Disk::Outcome::check(s);
}

Disk::Outcome medium_error(bool write, uint64_t lba) {
  fc::SenseData s = fc::make_sense(fc::sense_key::kMediumError,
                                   write ? fc::asc::kWriteError : fc::asc::kUnrecoveredReadError);
  s.valid = lba <= 0xFFFFFFFFu;
  s.information = static_cast<uint32_t>(lba);
  return Disk::Outcome::check(s);
}

bool all_zero(std::span<const uint8_t> data) {
  return std::all_of(data.begin(), data.end(), [](uint8_t b) { return b == 0; });
}

// The offset in `expected` of the first byte the store holds otherwise from
// byte `store_offset` on, comparing `expected` against each `stride` bytes of
// the store `count` times (stride = expected.size() except for BYTCHK 3).
std::optional<uint64_t> first_difference(const SparseStore& store, uint64_t store_offset,
                                         std::span<const uint8_t> expected, uint64_t count,
                                         std::vector<uint8_t>& scratch) {
  scratch.resize(expected.size());
  for (uint64_t i = 0; i < count; ++i) {
    store.read(store_offset + i * expected.size(), scratch);
    const auto diff = std::mismatch(expected.begin(), expected.end(), scratch.begin());
    if (diff.first != expected.end()) {
      return i * expected.size() + static_cast<uint64_t>(diff.first - expected.begin());
    }
  }
  return std::nullopt;
}

}  // namespace

uint64_t Disk::block_command_data_out(const fc::ScsiCommand& cmd, uint32_t block_size) {
  switch (cmd.kind) {
    case ScsiCommandKind::kVerify:
      if (cmd.bytchk == fc::bytchk::kCompare) return uint64_t{cmd.transfer_length} * block_size;
      return cmd.bytchk == fc::bytchk::kCompareOne && cmd.transfer_length > 0 ? block_size : 0;
    case ScsiCommandKind::kWriteSame:
      return cmd.ndob ? 0 : block_size;
    case ScsiCommandKind::kUnmap:
      return cmd.parameter_list_length;
    case ScsiCommandKind::kCompareAndWrite:
      return 2 * uint64_t{cmd.transfer_length} * block_size;
    default:
      return 0;
  }
}

Disk::Outcome Disk::execute_block_command(Task& task) {
  LogicalUnit& lu = *task.lu;
  const fc::ScsiCommand& cmd = task.cmd;
  const uint64_t block = lu.config.block_size;
  const std::span<const uint8_t> out(task.parameters);
  std::vector<uint8_t>& scratch = scratch_;
  if (cmd.kind == ScsiCommandKind::kUnmap) {
    auto count = fc::decode_unmap_descriptor_count(out);
    if (!count.ok()) return illegal(fc::asc::kParameterListLengthError);
    // Every range is checked before any is deallocated.
    for (size_t i = 0; i < *count; ++i) {
      const fc::UnmapDescriptor d = fc::unmap_descriptor(out, i);
      if (d.lba > lu.config.blocks || d.blocks > lu.config.blocks - d.lba) {
        return illegal(fc::asc::kLbaOutOfRange);
      }
    }
    for (size_t i = 0; i < *count && !config_.null_data; ++i) {
      const fc::UnmapDescriptor d = fc::unmap_descriptor(out, i);
      lu.store.discard(d.lba * block, uint64_t{d.blocks} * block);
    }
    ++stats_.unmaps;
    return Outcome::good();
  }
  // WRITE SAME with NUMBER OF LOGICAL BLOCKS 0 writes to the last LBA (SBC-3).
  const uint64_t blocks = cmd.kind == ScsiCommandKind::kWriteSame && cmd.transfer_length == 0
                              ? lu.config.blocks - std::min(cmd.lba, lu.config.blocks)
                              : cmd.transfer_length;
  if (cmd.lba > lu.config.blocks || blocks > lu.config.blocks - cmd.lba) {
    return illegal(fc::asc::kLbaOutOfRange);
  }
  if (blocks == 0) return Outcome::good();
  const bool writes = cmd.kind != ScsiCommandKind::kVerify;
  if (auto bad = lu.first_medium_error(cmd.lba, blocks)) return medium_error(writes, *bad);
  const uint64_t offset = cmd.lba * block;
  switch (cmd.kind) {
    case ScsiCommandKind::kVerify: {
      ++stats_.verifies;
      task.media_bytes = blocks * block;  // the medium is read
      if (cmd.bytchk == fc::bytchk::kNone) return Outcome::good();
      const uint64_t count = cmd.bytchk == fc::bytchk::kCompareOne ? blocks : 1;
      if (auto diff = first_difference(lu.store, offset, out, count, scratch)) {
        ++stats_.miscompares;
        return miscompare(*diff);
      }
      return Outcome::good();
    }
    case ScsiCommandKind::kWriteSame: {
      ++stats_.write_sames;
      if (config_.null_data) return Outcome::good();  // no media to keep
      if (cmd.ndob || all_zero(out)) {
        // Zeros: deallocated or not, the blocks read the same (LBPRZ).
        lu.store.discard(offset, blocks * block);
        return Outcome::good();
      }
      task.media_bytes = blocks * block;
      for (uint64_t i = 0; i < blocks; ++i)
        lu.store.write(offset + i * block, out);
      return Outcome::good();
    }
    case ScsiCommandKind::kCompareAndWrite: {
      ++stats_.compare_and_writes;
      const uint64_t half = blocks * block;
      task.media_bytes = 2 * half;  // read, then written
      if (auto diff = first_difference(lu.store, offset, out.first(half), 1, scratch)) {
        ++stats_.miscompares;
        return miscompare(*diff);
      }
      if (!config_.null_data) lu.store.write(offset, out.subspan(half, half));
      return Outcome::good();
    }
    default:
      return illegal(fc::asc::kInvalidCommandOperationCode);
  }
}

}  // namespace splitpath::sim
