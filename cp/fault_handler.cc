// What the FPs fault to the CP: mapping misses (load the extent, CONTINUE),
// queued I/Os (CpQueueIO: errors, target commands, READ/WRITEs the FP could
// not remap), and the legs the CP dispatches for the READ/WRITEs it owns.
//
// A CP-owned READ/WRITE is cut into legs lazily, at dispatch time, from the
// metadata then in force, so an I/O held during a restrictive update uses the
// new mapping. At most config.max_legs_per_io legs are in flight per I/O; the
// first failing leg stops further dispatches and its status and sense are
// what the host gets once the legs in flight have ended.
#include <algorithm>
#include <array>

#include "cp/control_path_impl.h"
#include "cp/io_split.h"
#include "cp/target/scsi_target.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_sense.h"

namespace splitpath::cp {

namespace {

std::vector<uint8_t> fixed_sense(uint8_t key, uint8_t asc, uint8_t ascq) {
  return check_condition(key, asc, ascq).sense;
}

// A MISCOMPARE's INFORMATION is the offset of the first differing byte in the
// Data-Out of the command that found it: a leg's offset becomes the host's.
void rebase_miscompare(std::vector<uint8_t>& sense, uint64_t leg_offset) {
  auto decoded = fc::decode_sense_data(sense);
  if (!decoded.ok()) return;
  fc::SenseData s = *decoded;
  if (s.sense_key != fc::sense_key::kMiscompare || !s.valid || leg_offset == 0) return;
  const uint64_t offset = uint64_t{s.information} + leg_offset;
  s.valid = offset <= 0xFFFFFFFFu;
  s.information = static_cast<uint32_t>(offset);
  sense.resize(fc::kFixedSenseSize);
  (void)fc::encode_sense_data(s, sense);
}

// Times a write starts again because a mirror side failed under it (each
// failure leaves one side fewer) before its error goes to the host.
constexpr uint32_t kMaxSideFailureRedos = 3;

}  // namespace

map::RedirectEntry ControlPath::Impl::fp_redirect(const Vseg& seg, map::RedirectIndex index) const {
  map::RedirectEntry e = seg.redirects[index];
  if (config.fault_every_io) {
    e.flags |= map::redirect_flags::kFaultOnRead | map::redirect_flags::kFaultOnWrite;
  }
  return e;
}

bool ControlPath::Impl::entry_ready(uint32_t port, const Vseg& seg, map::RedirectIndex index) {
  bool ready = true;
  for (uint32_t disk : entry_disks(seg, index))
    ready = want_login(port, disk) && ready;  // every element's disk starts logging in
  return ready;
}

void ControlPath::Impl::send_redirect(uint32_t port, const Vseg& seg, map::RedirectIndex index,
                                      fpapi::MsgType type) {
  // An entry reaches an FP only once every disk it names (each column of a
  // stripe) is logged in from that port; a miss loads it later.
  if (!entry_ready(port, seg, index)) return;
  fpapi::FpMapping m;
  m.req_id = fpapi::kNoTag;
  m.kind = fpapi::MappingKind::kRedirect;
  m.redirect_index = index;
  m.vseg.id = seg.descriptor.id;
  m.redirect = fp_redirect(seg, index);
  if (!patch_journal(port, seg, index, &m.redirect)) return;
  link.send_as(port, type, m);
  loaded_redirects.insert(redirect_key(port, seg.descriptor.id, index));
}

bool ControlPath::Impl::allowed(const Lun& lun, uint32_t initiator) const {
  if (lun.def.initiators.empty()) return true;
  auto it = host_wwpn.find(initiator & 0xFFFFFF);
  if (it == host_wwpn.end()) return false;
  return std::find(lun.def.initiators.begin(), lun.def.initiators.end(), it->second) !=
         lun.def.initiators.end();
}

void ControlPath::Impl::on_miss(uint32_t port, const fpapi::CpMappingMiss& miss, bool again) {
  if (!again) ++stats.mapping_misses;
  fpapi::CpMappingMissReply reply;
  reply.utag = miss.utag;
  reply.action = fpapi::MissAction::kQueue;
  const Vseg* seg = metadata.vseg(miss.vseg_id);
  const map::Extent* e = seg && seg->lv_id == miss.lv_id && miss.lba < seg->descriptor.length
                             ? seg->extent_at(miss.lba)
                             : nullptr;
  // The FP caches the whole extent: it must not overlap a range being
  // updated, and its disk must be logged in from this port.
  // A mirror extent goes to one FP at a time (mirror_authority.cc).
  // A port whose journal is being swapped waits for its new one.
  if (e && updating(seg->descriptor.id, e->start, e->length) && updates.front().hold_misses) {
    held_misses.emplace_back(port, miss);
    return;
  }
  // A volume shared by several DVEs: cached only while its oplocks are shared.
  if (e && !dve_ready(seg->lv_id, seg->descriptor.id, e->start, e->length)) {
    dve_held_misses.emplace_back(port, miss);
    return;
  }
  if (e && !updating(seg->descriptor.id, e->start, e->length) &&
      !journal_swapping(port, seg->descriptor.id) && entry_ready(port, *seg, e->redirect_index) &&
      grant_mirror_to_fp(port, *seg, *e)) {
    load_extent(port, *seg, *e);
    reply.action = fpapi::MissAction::kContinue;
  }
  link.send(port, reply);
}

void ControlPath::Impl::complete(uint32_t port, uint32_t utag, uint8_t status,
                                 std::span<const uint8_t> sense, uint8_t residual_flags,
                                 uint32_t residual, bool silent) {
  fpapi::FpQueueIOComplete c;
  c.utag = utag;
  c.silent = silent ? 1 : 0;
  c.scsi_status = status;
  c.residual_flags = residual_flags;
  c.residual = residual;
  c.sense.assign(sense);
  link.send(port, c);
  ++stats.completed_ios;
  if (!silent && status != fc::scsi_status::kGood) ++stats.error_completions;
}

void ControlPath::Impl::complete_check(uint32_t port, uint32_t utag, uint8_t key, uint8_t asc,
                                       uint8_t ascq) {
  complete(port, utag, fc::scsi_status::kCheckCondition, fixed_sense(key, asc, ascq));
}

void ControlPath::Impl::on_queue_io(uint32_t port, const fpapi::CpQueueIO& q) {
  ++stats.queued_ios;
  const auto reason = static_cast<size_t>(q.reason);
  if (reason < fpapi::kFaultKinds) ++stats.faults[reason];
  const fpapi::UpstreamIo& io = q.io;
  using fpapi::FaultKind;
  // A command not yet started (not one the FP aborted, ran or journaled
  // already) owes its initiator a pending unit attention first.
  if (q.reason != FaultKind::kAborted && q.reason != FaultKind::kDownstreamError &&
      q.reason != FaultKind::kJournalFull && q.reason != FaultKind::kLunNotExposed &&
      (deliver_unit_attention(port, io) || reservation_conflict(port, io))) {
    return;
  }
  switch (q.reason) {
    case FaultKind::kNotReadWrite: {
      // VERIFY, WRITE SAME, UNMAP, COMPARE AND WRITE..: legs like a READ/WRITE.
      const size_t n =
          std::min<size_t>(io.cdb_length ? io.cdb_length : fpapi::kCdbSize, fpapi::kCdbSize);
      const std::span<const uint8_t> cdb(io.cdb.data(), n);
      if (decode_block_io(cdb) || io.cdb[0] == fc::scsi_op::kUnmap) {
        start_rw(port, io);
      } else {
        answer_command(port, io);
      }
      return;
    }
    case FaultKind::kLunNotExposed:
      complete_check(port, io.utag, fc::sense_key::kIllegalRequest,
                     fc::asc::kLogicalUnitNotSupported.asc, fc::asc::kLogicalUnitNotSupported.ascq);
      return;
    case FaultKind::kJournalFull:
      on_journal_full(port, io);
      return;
    case FaultKind::kDownstreamError: {
      // A side of a mirror failed under a split write: it becomes DEAD
      // before the host hears of the write (figure 31), which the CP then
      // does again on the live sides.
      if (is_mirror_write(io) && q.downstream_target != 0 &&
          side_write_failed(q.downstream_status, q.sense.view())) {
        const Lun* lun = metadata.lun(io.target_id, io.lun);
        const size_t n =
            std::min<size_t>(io.cdb_length ? io.cdb_length : fpapi::kCdbSize, fpapi::kCdbSize);
        const std::optional<RwRequest> rw = decode_rw(std::span<const uint8_t>(io.cdb.data(), n));
        const Vseg* seg = lun && rw ? metadata.vseg_at(lun->lv_id, rw->lba) : nullptr;
        const std::optional<uint32_t> side =
            seg ? mirror_side_on(*seg, q.downstream_target) : std::nullopt;
        if (seg && side &&
            (mirror_changing(seg->descriptor.id) ||
             side_failed(seg->descriptor.id, *side,
                         side_failure_text(q.downstream_status, q.sense.view()),
                         /*path_lost=*/false))) {
          ++stats.side_failure_redos;
          start_rw(port, io);
          return;
        }
      }
      // Figure 6: the disk's status and sense go to the host. A GOOD status
      // here means a transport-level failure (response code, residual); for
      // a write split to a mirror's sides, never GOOD (the other sides were
      // aborted).
      if (q.downstream_status == fc::scsi_status::kGood &&
          (q.downstream_residual == 0 || is_mirror_write(io))) {
        complete_check(port, io.utag, fc::sense_key::kAbortedCommand,
                       fc::asc::kLogicalUnitCommunicationFailure.asc,
                       fc::asc::kLogicalUnitCommunicationFailure.ascq);
      } else {
        complete(port, io.utag, q.downstream_status, q.sense.view(),
                 q.downstream_residual ? fc::fcp_rsp_flags::kResidUnder : 0, q.downstream_residual);
      }
      return;
    }
    case FaultKind::kAborted: {
      ++stats.aborted_ios;
      const uint64_t xkey = exchange_key(port, io.initiator, io.ox_id);
      const uint64_t key = io_key(port, io.utag);
      parameter_fetches.erase(key);  // a PR OUT or UNMAP whose parameter list was on its way
      const bool by_host =
          host_aborted.erase(xkey) > 0 || departed.contains(io_key(port, io.initiator));
      auto it = ios.find(key);
      if (it != ios.end()) {
        // The CP owned it: forget its legs (the FP has aborted them).
        for (auto l = legs.begin(); l != legs.end();) {
          if (l->second.io_key == key) {
            if (l->second.cp_journal) cp_journal_leg_done(l->second.vseg_id, l->second.journal_id);
            legs.erase(l++);
          } else {
            ++l;
          }
        }
        const bool stale = it->second.stale && !by_host;
        release_mirror_holds(it->second);
        ios.erase(it);
        retry_blocked();
        if (stale) {
          complete_check(port, io.utag, fc::sense_key::kAbortedCommand,
                         fc::asc::kLogicalUnitCommunicationTimeout.asc,
                         fc::asc::kLogicalUnitCommunicationTimeout.ascq);
        } else {
          complete(port, io.utag, 0, {}, 0, 0, /*silent=*/true);
        }
        maybe_finish_update();
        return;
      }
      if (by_host) {
        complete(port, io.utag, 0, {}, 0, 0, /*silent=*/true);
        return;
      }
      if (update_active && updates.front().path_failed) {
        // Aborted off a failed path (figure 11): the host retries, and the
        // retry runs on the alternate path.
        ++stats.path_failed_ios;
        complete_check(port, io.utag, fc::sense_key::kAbortedCommand,
                       fc::asc::kLogicalUnitCommunicationFailure.asc,
                       fc::asc::kLogicalUnitCommunicationFailure.ascq);
        return;
      }
      // Aborted by a restrictive-update drain: the CP reissues it itself,
      // after the update (start_rw holds it while the range is updating).
      start_rw(port, io);
      return;
    }
    case FaultKind::kLunMasked:
    case FaultKind::kSpansVsegs:
    case FaultKind::kNoMapping:
    case FaultKind::kSpansExtents:
    case FaultKind::kFaultOnRead:
    case FaultKind::kFaultOnWrite:
    case FaultKind::kCapacity:
    case FaultKind::kSerialization:
    case FaultKind::kSpansStripeUnits:  // cut into per-unit legs below
    case FaultKind::kCount:
      break;
  }
  if (q.reason == FaultKind::kCount || reason >= fpapi::kFaultKinds) {
    ++stats.malformed_messages;
    return;
  }
  start_rw(port, io);
}

void ControlPath::Impl::start_rw(uint32_t port, const fpapi::UpstreamIo& io) {
  const Lun* lun = metadata.lun(io.target_id, io.lun);
  const Target* target = metadata.target_by_port_id(io.target_id);
  if (!lun || !target || !allowed(*lun, io.initiator)) {
    complete_check(port, io.utag, fc::sense_key::kIllegalRequest,
                   fc::asc::kLogicalUnitNotSupported.asc, fc::asc::kLogicalUnitNotSupported.ascq);
    return;
  }
  const size_t cdb_len =
      std::min<size_t>(io.cdb_length ? io.cdb_length : fpapi::kCdbSize, fpapi::kCdbSize);
  const std::span<const uint8_t> cdb(io.cdb.data(), cdb_len);
  const bool unmap = cdb[0] == fc::scsi_op::kUnmap;
  std::optional<RwRequest> rw = decode_block_io(cdb);
  if (!rw && !unmap) {
    // Not a (well-formed) READ/WRITE after all: the device server answers.
    answer_command(port, io);
    return;
  }
  if ((unmap || rw->write) && write_protected(*lun)) {
    complete_check(port, io.utag, fc::sense_key::kDataProtect, fc::asc::kWriteProtected.asc,
                   fc::asc::kWriteProtected.ascq);
    return;
  }
  if (unmap) return start_unmap(port, io);
  const Volume* vol = metadata.volume_by_lv(lun->lv_id);
  if (!vol || rw->lba > vol->blocks || rw->blocks > vol->blocks - rw->lba) {
    complete_check(port, io.utag, fc::sense_key::kIllegalRequest, fc::asc::kLbaOutOfRange.asc,
                   fc::asc::kLbaOutOfRange.ascq);
    return;
  }
  if (block_command_refused(port, io, *rw, vol->block_size)) return;
  begin_io(port, io, lun->lv_id, *vol, *rw, {});
}

bool ControlPath::Impl::write_protected(const Lun& lun) const {
  return lun.def.read_only || is_snapshot_lv(lun.lv_id) || frozen_lvs.contains(lun.lv_id);
}

void ControlPath::Impl::begin_io(uint32_t port, const fpapi::UpstreamIo& io, uint32_t lv_id,
                                 const Volume& vol, const RwRequest& rw,
                                 std::deque<std::pair<uint64_t, uint32_t>> more_ranges) {
  CpIo cio;
  cio.port = port;
  cio.io = io;
  cio.lv_id = lv_id;
  cio.block_size = vol.block_size;
  cio.write = rw.write;
  cio.fua = rw.fua;
  cio.command = rw;
  cio.lba = rw.lba;
  cio.blocks = rw.blocks;
  cio.more_ranges = std::move(more_ranges);
  // Move what both the CDB and FCP_DL allow; the rest is a residual. (The
  // other block commands were refused unless FCP_DL holds their Data-Out.)
  const bool rw_data = rw.op == BlockOp::kRead || rw.op == BlockOp::kWrite;
  const uint64_t wanted = rw_data ? uint64_t{rw.blocks} * vol.block_size
                                  : data_out_bytes(rw.op, rw.blocks, vol.block_size);
  if (rw_data) cio.blocks = std::min<uint64_t>(rw.blocks, io.data_length / vol.block_size);
  if (io.data_length > wanted) {
    cio.residual_flags = fc::fcp_rsp_flags::kResidUnder;
    cio.residual = static_cast<uint32_t>(io.data_length - wanted);
  } else if (io.data_length < wanted) {
    cio.residual_flags = fc::fcp_rsp_flags::kResidOver;
    cio.residual = static_cast<uint32_t>(wanted - io.data_length);
  }
  const uint64_t key = io_key(port, io.utag);
  if (ios.contains(key)) {
    ++stats.dropped;  // the FP reused a utag the CP still owns
    return;
  }
  ios[key] = std::move(cio);
  pump(key);
}

void ControlPath::Impl::pump(uint64_t key) {
  auto it = ios.find(key);
  if (it == ios.end()) return;
  CpIo& io = it->second;
  if (io.aborting) return;  // completed silently when the FP hands it back
  // Legs without Data-Out, or with the host's one block, are not bound by
  // the FP's transfer size.
  const BlockOp op = io.command.op;
  const bool one_block_data = op == BlockOp::kWriteSame || op == BlockOp::kDeallocate ||
                              op == BlockOp::kVerify || op == BlockOp::kVerifyOne;
  const uint32_t max_blocks =
      one_block_data ? 0xFFFFFFFFu
                     : std::max<uint32_t>(1, link.max_transfer_bytes(io.port) / io.block_size);
  // The FP hands a host's Data-Out frame to the one leg (or split write)
  // whose range holds its offset: legs that all take the host's block 0 go
  // out one after another.
  const bool shared_data = op == BlockOp::kWriteSame || op == BlockOp::kVerifyOne;
  const uint32_t max_legs = shared_data ? 1 : std::max<uint32_t>(1, config.max_legs_per_io);
  // UNMAP: the next range once this one's legs are out.
  auto next_range = [&io]() {
    if (io.next < io.blocks || io.more_ranges.empty()) return false;
    io.lba = io.more_ranges.front().first;
    io.blocks = io.more_ranges.front().second;
    io.more_ranges.pop_front();
    io.next = 0;
    return true;
  };
  while (!io.failed && (io.next < io.blocks || next_range()) && io.outstanding < max_legs) {
    // The volume became read only while this write waited (a snapshot taken
    // into it, an incremental of it): its Rmap now maps storage that an
    // image shares, so the rest of the write must not go out.
    if (io.write && (is_snapshot_lv(io.lv_id) || frozen_lvs.contains(io.lv_id))) {
      io.failed = true;
      io.status = fc::scsi_status::kCheckCondition;
      io.sense = fixed_sense(fc::sense_key::kDataProtect, fc::asc::kWriteProtected.asc,
                             fc::asc::kWriteProtected.ascq);
      break;
    }
    std::optional<LegPlan> plan =
        plan_leg(metadata, io.lv_id, io.lba + io.next, io.blocks - io.next, max_blocks, io.write,
                 io.write ? 0 : mirror_read_turn);
    // COMPARE AND WRITE is atomic only as one leg (kMaxCompareAndWriteBlocks
    // keeps it inside an extent).
    if (!plan || (op == BlockOp::kCompareAndWrite && plan->blocks < io.blocks)) {
      io.failed = true;
      io.status = fc::scsi_status::kCheckCondition;
      io.sense = fixed_sense(fc::sense_key::kHardwareError, fc::asc::kInternalTargetFailure.asc,
                             fc::asc::kInternalTargetFailure.ascq);
      break;
    }
    if (plan->journal && op != BlockOp::kWrite && op != BlockOp::kRead) {
      // A journal record holds a WRITE's data; the other writing commands have
      // none to journal (VPD 0xB2 still reports them: a journaled VSEG is one
      // being replicated or snapshotted incrementally, rare and short-lived).
      io.failed = true;
      io.status = fc::scsi_status::kCheckCondition;
      io.sense =
          fixed_sense(fc::sense_key::kIllegalRequest, fc::asc::kInvalidCommandOperationCode.asc,
                      fc::asc::kInvalidCommandOperationCode.ascq);
      break;
    }
    // A mirror's reads round robin over its cheapest readable sides; a write
    // goes to every writable side (write splitting).
    if (plan->mirror && !io.write) mirror_read_turn = plan->element + 1;
    std::vector<LegTarget> targets = plan->copies;
    if (targets.empty()) targets.push_back(LegTarget{plan->disk, plan->storage, plan->element});
    bool logged_in = true;
    for (const LegTarget& t : targets)
      logged_in = want_login(io.port, t.disk) && logged_in;
    // A write into a migration's copy barrier waits for the barrier to move
    // (figure 24); retry_blocked runs when it has.
    const bool barrier = io.write && in_copy_barrier(plan->vseg_id, plan->vseg_lba, plan->blocks);
    if (barrier && !io.met_barrier) {
      io.met_barrier = true;
      ++stats.barrier_write_waits;
      if (Migration* m = migration_of(plan->vseg_id)) ++m->progress.barrier_writes;
    }
    // A write to a mirror waits for a side state change queued before it
    // (it must reach the sides the change leaves writable), and for a
    // resync's copy of the extent it writes.
    const bool mirror_wait = io.write && plan->mirror &&
                             (mirror_changing(plan->vseg_id) ||
                              in_resync_barrier(plan->vseg_id, plan->vseg_lba, plan->blocks));
    if (updating(plan->vseg_id, plan->vseg_lba, plan->blocks) ||
        !dve_ready(io.lv_id, plan->vseg_id, plan->vseg_lba, plan->blocks) || !logged_in ||
        barrier || mirror_wait ||
        (io.write && !snapshot_write_may_go(io, plan->vseg_id, plan->vseg_lba, plan->blocks)) ||
        (io.write && !incremental_write_may_go(io, plan->vseg_id, plan->vseg_lba, plan->blocks)) ||
        (io.write && !mirror_write_may_go(key, io, *plan))) {
      io.blocked = true;
      break;
    }
    // A write to a journaled VSEG: a data leg, and a record in the CP's own
    // journal that the FP prepends the header block to.
    uint64_t record_lba = 0;
    map::JournalRecordHeader record;
    const Vseg* jseg = plan->journal ? metadata.vseg(plan->vseg_id) : nullptr;
    if (plan->journal && (!jseg || !jseg->journal_area || targets.size() != 2)) {
      io.failed = true;
      io.status = fc::scsi_status::kCheckCondition;
      io.sense = fixed_sense(fc::sense_key::kHardwareError, fc::asc::kInternalTargetFailure.asc,
                             fc::asc::kInternalTargetFailure.ascq);
      break;
    }
    if (plan->journal && !cp_journal_record(*jseg, io, *plan, &record_lba, &record)) {
      io.blocked = true;  // no journal free: retried when one is released
      break;
    }
    if (io.write && plan->mirror) record_age(plan->vseg_id, plan->vseg_lba, plan->blocks);
    for (size_t ti = 0; ti < targets.size(); ++ti) {
      const LegTarget& t = targets[ti];
      const bool journal_leg = plan->journal && ti == 1;
      const uint64_t io_offset = io.done_bytes + io.next * io.block_size;
      const LegCommand leg = leg_command(io.command, t.storage.start_lba, plan->blocks,
                                         static_cast<uint32_t>(io_offset), io.block_size);
      fpapi::FpDispatchIO d;
      d.dtag = next_dtag++;
      if (next_dtag == fpapi::kNoTag) next_dtag = 1;
      d.utag = io.io.utag;
      d.upstream_offset = leg.upstream_offset;
      d.target_id = t.storage.port_id;
      d.lun = t.storage.lun;
      d.direction = leg.direction;
      d.cdb_length = 16;
      d.data_length = leg.data_length;
      d.cdb = leg.cdb;
      // Write splitting shares the host's Data-Out; legs without any go alone.
      d.copies = targets.size() > 1 && leg.direction == fpapi::DataDirection::kWrite
                     ? static_cast<uint8_t>(targets.size())
                     : 0;
      if (journal_leg) {
        d.cdb = leg_cdb(true, record_lba, plan->blocks + 1, io.fua);
        d.journal = 1;
        map::encode_journal_header(record, d.journal_header.data());
      }
      link.send(io.port, d);
      legs[d.dtag] = Leg{
          key,         plan->vseg_id,     plan->vseg_lba, plan->blocks, io.write && plan->mirror,
          journal_leg, record.journal_id, t.element,      io_offset};
      ++io.outstanding;
      ++stats.dispatched;
    }
    io.next += plan->blocks;
  }
  if (io.outstanding == 0 && io.redo) {
    // A side failed under the write: all of it again, once the side's state
    // change is in force, on the sides left (the host sends the data again).
    io.redo = false;
    if (++io.redos <= kMaxSideFailureRedos) {
      io.failed = false;
      io.status = 0;
      io.sense.clear();
      io.next = 0;
      release_mirror_holds(io);
      return pump(key);
    }
  }
  if (io.outstanding == 0 && (io.failed || (io.next >= io.blocks && io.more_ranges.empty()))) {
    finish(key);
  }
}

void ControlPath::Impl::finish(uint64_t key) {
  auto it = ios.find(key);
  if (it == ios.end()) return;
  CpIo io = std::move(it->second);
  ios.erase(it);
  if (io.failed) {
    complete(io.port, io.io.utag, io.status, io.sense);
  } else {
    complete(io.port, io.io.utag, fc::scsi_status::kGood, {}, io.residual_flags, io.residual);
  }
  release_mirror_holds(io);
}

void ControlPath::Impl::retry_blocked() {
  std::vector<uint64_t> keys;
  for (auto& [key, io] : ios) {
    if (io.blocked) {
      io.blocked = false;
      keys.push_back(key);
    }
  }
  std::sort(keys.begin(), keys.end());  // deterministic order
  for (uint64_t key : keys)
    pump(key);
}

void ControlPath::Impl::on_dispatch_complete(uint32_t port, const fpapi::CpDispatchIOComplete& c) {
  if (on_path_test_complete(c) || on_copy_complete(c)) return;
  auto l = legs.find(c.dtag);
  if (l == legs.end()) {
    ++stats.dropped;
    return;
  }
  const uint64_t key = l->second.io_key;
  const bool mirror_write = l->second.mirror_write;
  const Leg leg = l->second;
  if (l->second.cp_journal) cp_journal_leg_done(l->second.vseg_id, l->second.journal_id);
  legs.erase(l);
  auto it = ios.find(key);
  if (it == ios.end() || it->second.port != port) {
    ++stats.dropped;
    if (mirror_write) retry_blocked();
    maybe_finish_update();
    return;
  }
  CpIo& io = it->second;
  --io.outstanding;
  // The FP ends the legs of an I/O the host aborted (transport_error) before
  // it hands the I/O back as kAborted: no FCP_RSP may be sent for it.
  if (c.transport_error && host_ended(port, io.io.initiator, io.io.ox_id)) io.aborting = true;
  const bool good =
      !c.transport_error && c.scsi_status == fc::scsi_status::kGood && c.residual == 0;
  // A mirror side that failed a write becomes DEAD; the write starts again
  // on the others once it is (a side aborted with it ends transport_error).
  if (!good && mirror_write && !c.transport_error && !io.aborting &&
      side_write_failed(c.scsi_status, c.sense.view()) && !leg.cp_journal) {
    const bool changing = mirror_changing(leg.vseg_id);
    if (changing ||
        side_failed(leg.vseg_id, leg.element, side_failure_text(c.scsi_status, c.sense.view()),
                    /*path_lost=*/false)) {
      if (!io.redo) ++stats.side_failure_redos;
      io.redo = true;
    }
  }
  if (!good && !io.failed) {
    io.failed = true;
    if (c.transport_error || c.scsi_status == fc::scsi_status::kGood) {
      io.status = fc::scsi_status::kCheckCondition;
      io.sense =
          fixed_sense(fc::sense_key::kAbortedCommand, fc::asc::kLogicalUnitCommunicationFailure.asc,
                      fc::asc::kLogicalUnitCommunicationFailure.ascq);
    } else {
      io.status = c.scsi_status;
      io.sense.assign(c.sense.view().begin(), c.sense.view().end());
      rebase_miscompare(io.sense, leg.io_offset);
    }
  }
  pump(key);
  if (mirror_write) retry_blocked();  // CP writes held behind this one's blocks
  maybe_finish_update();
}

}  // namespace splitpath::cp
