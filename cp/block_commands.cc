// The block commands the CP carries out on the split path besides READ and
// WRITE: WRITE AND VERIFY, VERIFY, WRITE SAME, UNMAP and COMPARE AND WRITE.
// The FP faults them (not READ/WRITE); the CP checks them against the limits
// it reports in VPD page 0xB0 and runs them like CP-owned READ/WRITEs
// (fault_handler.cc's pump): cut into legs at extent, stripe unit and VSEG
// boundaries, each leg the command in its 16-byte form at the storage
// element's LBA (io_split.cc's leg_command), writes to every mirror side,
// held by every data service a WRITE is held by (snapshot pushes, migration
// barriers, mirror serialization, shared-volume oplocks). UNMAP's ranges
// come first from the host (FpGetData) and run one after another as
// deallocating legs (WRITE SAME(16) with UNMAP and NDOB).
#include <algorithm>

#include "cp/control_path_impl.h"
#include "cp/target/scsi_target.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_data.h"

namespace splitpath::cp {

namespace {

std::vector<uint8_t> sense_bytes(const fc::SenseData& s) {
  std::vector<uint8_t> out(fc::kFixedSenseSize);
  (void)fc::encode_sense_data(s, out);
  return out;
}

// The sense a block command gets before any leg goes out, if it breaks a
// limit or asks for what the CP does not do (SBC-3).
std::optional<fc::SenseData> refusal(const fc::ScsiCommand& c, const RwRequest& rw) {
  const bool sixteen = c.cdb_length == 16;
  switch (c.kind) {
    case fc::ScsiCommandKind::kWriteSame:
      // WSNZ is reported: 0 blocks is refused, as is more than the maximum.
      if (c.anchor) return fc::make_invalid_field_in_cdb(1, 4);  // ANC_SUP is 0
      if (rw.blocks == 0 || rw.blocks > kMaxWriteSameBlocks) {
        return fc::make_invalid_field_in_cdb(sixteen ? 10 : 7);
      }
      return std::nullopt;
    case fc::ScsiCommandKind::kCompareAndWrite:
      if (rw.blocks > kMaxCompareAndWriteBlocks) return fc::make_invalid_field_in_cdb(13);
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace

bool ControlPath::Impl::block_command_refused(uint32_t port, const fpapi::UpstreamIo& io,
                                              const RwRequest& rw, uint32_t block_size) {
  const size_t n =
      std::min<size_t>(io.cdb_length ? io.cdb_length : fpapi::kCdbSize, fpapi::kCdbSize);
  auto c = fc::decode_cdb(std::span<const uint8_t>(io.cdb.data(), n));
  std::optional<fc::SenseData> sense = c.ok() ? refusal(*c, rw) : std::nullopt;
  // The Data-Out must hold what the command takes (a WRITE's shortfall is a
  // residual instead: fault_handler.cc moves what FCP_DL allows).
  const uint64_t wanted = data_out_bytes(rw.op, rw.blocks, block_size);
  if (!sense && rw.op != BlockOp::kRead && rw.op != BlockOp::kWrite &&
      (io.data_length < wanted || (wanted > 0 && !io.write_data) ||
       (rw.op == BlockOp::kCompareAndWrite && io.data_length != wanted))) {
    sense = fc::make_sense(fc::sense_key::kIllegalRequest, fc::asc::kInvalidFieldInCdb);
  }
  if (!sense) return false;
  complete(port, io.utag, fc::scsi_status::kCheckCondition, sense_bytes(*sense));
  return true;
}

void ControlPath::Impl::start_unmap(uint32_t port, const fpapi::UpstreamIo& io) {
  const size_t n =
      std::min<size_t>(io.cdb_length ? io.cdb_length : fpapi::kCdbSize, fpapi::kCdbSize);
  auto c = fc::decode_cdb(std::span<const uint8_t>(io.cdb.data(), n));
  if (!c.ok()) return answer_command(port, io);  // the device server names the bad field
  if (c->anchor) {
    return complete(port, io.utag, fc::scsi_status::kCheckCondition,
                    sense_bytes(fc::make_invalid_field_in_cdb(1, 0)));
  }
  const uint32_t length = std::min<uint32_t>(c->parameter_list_length, io.data_length);
  if (length == 0 || !io.write_data) {
    return complete(port, io.utag, fc::scsi_status::kGood, {});  // nothing to deallocate
  }
  if (length < fc::kUnmapHeaderSize) {
    return complete_check(port, io.utag, fc::sense_key::kIllegalRequest,
                          fc::asc::kParameterListLengthError.asc,
                          fc::asc::kParameterListLengthError.ascq);
  }
  fetch_parameters(port, io, length,
                   [this](uint32_t p, const fpapi::UpstreamIo& i, std::vector<uint8_t> list) {
                     unmap_parameters_in(p, i, list);
                   });
}

void ControlPath::Impl::unmap_parameters_in(uint32_t port, const fpapi::UpstreamIo& io,
                                            std::span<const uint8_t> list) {
  const Lun* lun = metadata.lun(io.target_id, io.lun);
  const Volume* vol = lun ? metadata.volume_by_lv(lun->lv_id) : nullptr;
  if (!lun || !vol || !allowed(*lun, io.initiator)) {
    return complete_check(port, io.utag, fc::sense_key::kIllegalRequest,
                          fc::asc::kLogicalUnitNotSupported.asc,
                          fc::asc::kLogicalUnitNotSupported.ascq);
  }
  if (write_protected(*lun)) {
    return complete_check(port, io.utag, fc::sense_key::kDataProtect, fc::asc::kWriteProtected.asc,
                          fc::asc::kWriteProtected.ascq);
  }
  auto count = fc::decode_unmap_descriptor_count(list);
  if (!count.ok()) {
    return complete_check(port, io.utag, fc::sense_key::kIllegalRequest,
                          fc::asc::kParameterListLengthError.asc,
                          fc::asc::kParameterListLengthError.ascq);
  }
  if (*count > kMaxUnmapDescriptors) {
    return complete_check(port, io.utag, fc::sense_key::kIllegalRequest,
                          fc::asc::kInvalidFieldInParameterList.asc,
                          fc::asc::kInvalidFieldInParameterList.ascq);
  }
  std::deque<std::pair<uint64_t, uint32_t>> ranges;
  uint64_t total = 0;
  for (size_t i = 0; i < *count; ++i) {
    const fc::UnmapDescriptor d = fc::unmap_descriptor(list, i);
    if (d.lba > vol->blocks || d.blocks > vol->blocks - d.lba) {
      return complete_check(port, io.utag, fc::sense_key::kIllegalRequest,
                            fc::asc::kLbaOutOfRange.asc, fc::asc::kLbaOutOfRange.ascq);
    }
    total += d.blocks;
    if (d.blocks > 0) ranges.emplace_back(d.lba, d.blocks);
  }
  if (total > kMaxUnmapBlocks) {
    return complete_check(port, io.utag, fc::sense_key::kIllegalRequest,
                          fc::asc::kInvalidFieldInParameterList.asc,
                          fc::asc::kInvalidFieldInParameterList.ascq);
  }
  if (ranges.empty()) return complete(port, io.utag, fc::scsi_status::kGood, {});
  RwRequest rw;
  rw.op = BlockOp::kDeallocate;
  rw.write = true;
  rw.lba = ranges.front().first;
  rw.blocks = ranges.front().second;
  ranges.pop_front();
  begin_io(port, io, lun->lv_id, *vol, rw, std::move(ranges));
}

}  // namespace splitpath::cp
