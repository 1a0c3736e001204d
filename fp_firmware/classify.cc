// Classification of an FCP_CMND to a virtual target (figure 7, in the order
// FPAPI.md gives) and the remap and stripe primitives (the descriptor's
// locate() gives the physical target of an I/O inside one stripe unit; a
// stripe of mirrors picks the column the same way and hands it to the
// write-splitting primitive). The first failed check
// hands the I/O to the CP (CpQueueIO); a missing extent or redirect entry asks the CP
// (CpMappingMiss) and holds the I/O until its reply.
#include "fp_firmware/fast_path_impl.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_cdb_encode.h"

namespace splitpath::fp {

using fpapi::FaultKind;

RwCommand decode_rw(const fpapi::UpstreamIo& io) {
  return fc::decode_read_write(fc::ConstBytes(io.cdb.data(), io.cdb_length));
}

void FastPath::Impl::on_command(sp_hal_buf* buf, const fc::FrameHeader& h) {
  ++stats.commands;
  (void)hal.charge_cycles(config.classify_cycles);
  const auto cmnd = fc::decode_fcp_cmnd(
      fc::ConstBytes(buf->data + fc::kFrameHeaderSize, buf->length - fc::kFrameHeaderSize));
  if (!cmnd.ok()) {
    drop(buf);
    return;
  }
  Upstream* up_entry = up_alloc();
  if (up_entry == nullptr) {
    // No upstream entry means no utag to hand the CP: the port answers like
    // any target with a full task set, from the received buffer.
    fc::FcpRsp rsp;
    rsp.scsi_status = fc::scsi_status::kTaskSetFull;
    uint8_t* p = start_frame(buf, fc::rctl::kDeviceDataCommandStatus, fc::fc_type::kFcp,
                             h.s_id.value, h.d_id.value, kFctlRsp, h.ox_id, fc::kUnassignedXid);
    const auto n = fc::encode_fcp_rsp(rsp, fc::MutableBytes(p, buf->capacity - buf->length));
    buf->length += n.ok() ? static_cast<uint32_t>(*n) : 0;
    transmit(buf);
    return;
  }
  Upstream& u = *up_entry;
  fpapi::UpstreamIo& io = u.io;
  io.utag = utag_of(u);
  io.initiator = h.s_id.value;
  io.target_id = h.d_id.value;
  io.ox_id = h.ox_id;
  const auto lun = fc::decode_lun(cmnd->lun);
  io.lun = lun.ok() ? *lun : fpapi::kAllLuns;
  io.data_length = cmnd->fcp_dl;
  io.task_attribute = static_cast<uint8_t>(cmnd->task_attribute);
  io.task_management = cmnd->task_management_flags;
  io.read_data = cmnd->rddata ? 1 : 0;
  io.write_data = cmnd->wrdata ? 1 : 0;
  io.cdb_length =
      static_cast<uint8_t>(cmnd->cdb_length < fpapi::kCdbSize ? cmnd->cdb_length : fpapi::kCdbSize);
  for (uint32_t i = 0; i < fpapi::kCdbSize; ++i)
    io.cdb[i] = cmnd->cdb[i];
  free_buf(buf);

  // Step 1: only READ/WRITE without task management stays on the FP.
  const fc::ReadWriteCdb rw = decode_rw(io);
  if (io.task_management != 0 || !rw.ok) return queue_to_cp(u, FaultKind::kNotReadWrite);
  u.is_write = rw.write ? 1 : 0;
  u.lv_lba = rw.lba;
  u.blocks = rw.blocks;

  // Step 2: exposure and LUN masking.
  const Exposure* e = lun.ok() ? find_exposure(io.target_id, io.lun) : nullptr;
  if (e == nullptr) return queue_to_cp(u, FaultKind::kLunNotExposed);
  io.lv_id = e->lv_id;
  u.block_size = e->block_size;
  if (!initiator_allowed(*e, io.initiator) ||
      (rw.write && (e->flags & fpapi::expose_flags::kReadOnly))) {
    return queue_to_cp(u, FaultKind::kLunMasked);
  }
  classify_mapped(u, false);
}

void FastPath::Impl::classify_mapped(Upstream& u, bool after_miss) {
  // Step 3: the VSEG holding the first block, and the I/O within it.
  const Vseg* v = vseg_for_lba(u.io.lv_id, u.lv_lba);
  if (v == nullptr) {
    u.vseg_id = fpapi::kNoTag;
    return queue_to_cp(u, FaultKind::kNoMapping);
  }
  u.vseg_id = v->desc.id;
  u.start = u.lv_lba - v->desc.virtual_start_lba;
  if (u.start + u.blocks > v->desc.length) return queue_to_cp(u, FaultKind::kSpansVsegs);

  // Step 4: the extent and its redirect entry, from the FP's caches.
  const RmapLookup l = rmap.lookup(u.vseg_id, u.start);
  Redirect* slot = l.status == map::RmapStatus::kOk
                       ? find_redirect_slot(u.vseg_id, l.extent.redirect_index)
                       : nullptr;
  const map::RedirectEntry* r = slot != nullptr ? &slot->entry : nullptr;
  if (r == nullptr) {
    if (after_miss) return queue_to_cp(u, FaultKind::kNoMapping);
    ++stats.mapping_misses;
    u.state = Upstream::State::kMissHeld;
    u.started_ns = now();
    fpapi::CpMappingMiss m;
    m.utag = utag_of(u);
    m.lv_id = u.io.lv_id;
    m.vseg_id = u.vseg_id;
    m.lba = u.start;
    m.blocks = u.blocks;
    m.is_write = u.is_write;
    post(m);
    return;
  }

  // Steps 5-7: extent span, faulting modes, FP capacity.
  if (u.start + u.blocks > l.extent.end()) return queue_to_cp(u, FaultKind::kSpansExtents);
  if (!u.is_write && r->fault_on_read()) return queue_to_cp(u, FaultKind::kFaultOnRead);
  if (u.is_write && r->fault_on_write()) return queue_to_cp(u, FaultKind::kFaultOnWrite);
  // Step 7 (116): the storage descriptor locates the first block (remap, or
  // the stripe primitive's shift and mask); kinds the FP cannot serve, sizes
  // beyond its limits and I/Os crossing a stripe unit go to the CP. A mirror
  // goes to the write-splitting primitive (write_split.cc).
  if (u.io.data_length > info.max_transfer_bytes ||
      uint64_t{u.io.data_length} != uint64_t{u.blocks} * u.block_size) {
    return queue_to_cp(u, FaultKind::kCapacity);
  }
  if (r->descriptor.kind == map::StorageKind::kMirror && r->descriptor.valid()) {
    return dispatch_mirror(u, *slot, r->descriptor, u.start);
  }
  if (r->descriptor.kind == map::StorageKind::kStripeOfMirrors && r->descriptor.valid()) {
    // RAID 10: the stripe's shift and mask pick the column, whose sides are
    // written (or one read) like a mirror's.
    const map::Location col = r->descriptor.locate_column(u.start);
    if (u.blocks > col.run) return queue_to_cp(u, FaultKind::kSpansStripeUnits);
    return dispatch_mirror(u, *slot, r->descriptor.column_mirror(col.element),
                           col.target.start_lba);
  }
  if (r->descriptor.kind == map::StorageKind::kJournal && r->descriptor.valid()) {
    return dispatch_journal(u, *slot);
  }
  const map::Location loc = r->descriptor.locate(u.start);
  if (loc.status != map::LocateStatus::kOk) return queue_to_cp(u, FaultKind::kCapacity);
  if (u.blocks > loc.run) return queue_to_cp(u, FaultKind::kSpansStripeUnits);
  dispatch_remap(u, loc.target);
}

void FastPath::Impl::dispatch_remap(Upstream& u, const map::StorageElement& target) {
  // Step 8: remap (a stripe unit is remapped like a simple extent). Both entries exist before the
  // command leaves, stamped with one dispatch time, so a drain that filters by time sees both or
  // neither.
  sp_hal_buf* buf = alloc_buf();
  Downstream* d = buf != nullptr ? down_alloc(&u) : nullptr;
  if (d == nullptr) {
    if (buf != nullptr) free_buf(buf);
    return queue_to_cp(u, FaultKind::kCapacity);
  }
  const fc::ReadWriteCdb rw = decode_rw(u.io);
  d->remap = 1;
  d->direction = u.is_write ? fpapi::DataDirection::kWrite : fpapi::DataDirection::kRead;
  d->target = target.port_id;
  d->data_length = u.io.data_length;
  uint8_t cdb[fpapi::kCdbSize] = {};
  static_assert(fpapi::kCdbSize >= 16);
  fc::encode_read_write16(u.is_write, target.start_lba, u.blocks, rw.fua, rw.dpo,
                          std::span<uint8_t, 16>(cdb, 16));
  const uint64_t t = now();
  u.state = Upstream::State::kFp;
  u.started_ns = t;
  d->started_ns = t;
  send_cmnd(buf, *d, target.lun, std::span<const uint8_t>(cdb, sizeof cdb), u.io.task_attribute);
}

}  // namespace splitpath::fp
