// Reservations of virtual volumes: the CP keeps one ReservationState
// (cp/target/persistent_reservation.h) per volume, answers RESERVE(6),
// RELEASE(6) and PERSISTENT RESERVE IN/OUT (fetching the PR OUT parameter
// list from the host with FpGetData), checks every faulted command against
// it (RESERVATION CONFLICT), and keeps the FPs' fast path to the nexuses a
// reservation lets do anything: while one restricts access, each LUN of the
// volume is exposed masked, the others' I/O faults to the CP as kLunMasked,
// and the CP lets through what the reservation permits (a READ under Write
// Exclusive) and refuses the rest.
//
// A volume served by several DVEs (shared_with) would need its reservation
// coherent among them (the SCSI Reserve oplock): PR OUT and RESERVE(6) are
// refused there, as the services a shared volume does not support are.
#include <algorithm>
#include <memory>
#include <string>

#include "cp/control_path_impl.h"
#include "spdlog/spdlog.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_data.h"

namespace splitpath::cp {

Nexus ControlPath::Impl::nexus_of(uint32_t target, uint32_t host) const {
  Nexus n;
  auto w = host_wwpn.find(host & 0xFFFFFF);
  if (w != host_wwpn.end()) n.initiator_wwpn = w->second;
  uint16_t index = 1;
  for (const Target& t : metadata.targets()) {
    if (t.port_id == (target & 0xFFFFFF)) {
      n.target_wwpn = t.def.wwpn;
      n.relative_target_port = index;
      break;
    }
    ++index;
  }
  return n;
}

bool ControlPath::Impl::reservation_masked(uint32_t lv_id) const {
  auto it = reservations.find(lv_id);
  return it != reservations.end() && it->second.restricts();
}

bool ControlPath::Impl::reservation_fast_path(const Target& target, const Lun& lun,
                                              uint32_t host) const {
  auto it = reservations.find(lun.lv_id);
  return it == reservations.end() || it->second.full_access(nexus_of(target.port_id, host));
}

bool ControlPath::Impl::reservation_conflict(uint32_t port, const fpapi::UpstreamIo& io) {
  if (io.task_management != 0) return false;
  const Lun* lun = metadata.lun(io.target_id, io.lun);
  if (!lun) return false;
  auto it = reservations.find(lun->lv_id);
  if (it == reservations.end()) return false;
  const size_t n =
      std::min<size_t>(io.cdb_length ? io.cdb_length : fpapi::kCdbSize, fpapi::kCdbSize);
  const ReservationAccess access =
      classify_for_reservation(std::span<const uint8_t>(io.cdb.data(), n));
  if (!it->second.conflicts(nexus_of(io.target_id, io.initiator), access)) return false;
  ++stats.reservation_conflicts;
  complete(port, io.utag, fc::scsi_status::kReservationConflict, {});
  return true;
}

namespace {

bool is_reservation_opcode(uint8_t op) {
  return op == fc::scsi_op::kReserve6 || op == fc::scsi_op::kRelease6 ||
         op == fc::scsi_op::kPersistentReserveIn || op == fc::scsi_op::kPersistentReserveOut;
}

}  // namespace

bool ControlPath::Impl::reservation_command(uint32_t port, const fpapi::UpstreamIo& io) {
  const uint8_t op = io.cdb[0];
  if (!is_reservation_opcode(op)) return false;
  const Lun* lun = metadata.lun(io.target_id, io.lun);
  if (!lun || !allowed(*lun, io.initiator)) return false;  // the device server says why
  const size_t n =
      std::min<size_t>(io.cdb_length ? io.cdb_length : fpapi::kCdbSize, fpapi::kCdbSize);
  const std::span<const uint8_t> cdb(io.cdb.data(), n);
  const Volume* vol = metadata.volume_by_lv(lun->lv_id);
  if ((op == fc::scsi_op::kPersistentReserveOut || op == fc::scsi_op::kReserve6) && vol) {
    std::string why;
    if (refuse_shared(vol->name, "a reservation", &why)) {
      spdlog::warn("cp: {} refused: {}", op == fc::scsi_op::kReserve6 ? "RESERVE(6)" : "PR OUT",
                   why);
      complete_check(port, io.utag, fc::sense_key::kIllegalRequest,
                     fc::asc::kInvalidCommandOperationCode.asc,
                     fc::asc::kInvalidCommandOperationCode.ascq);
      return true;
    }
  }
  auto decoded = fc::decode_cdb(cdb);
  if (op == fc::scsi_op::kPersistentReserveOut && decoded.ok() &&
      decoded->parameter_list_length == fc::kPrOutParameterListSize && io.write_data &&
      io.data_length >= fc::kPrOutParameterListSize) {
    // The parameter list comes first (FCP_XFER_RDY to the host).
    fetch_parameters(port, io, fc::kPrOutParameterListSize,
                     [this](uint32_t p, const fpapi::UpstreamIo& i, std::vector<uint8_t> list) {
                       pr_out_parameters_in(p, i, std::move(list));
                     });
    return true;
  }
  // Everything else (a PR OUT without its parameter list among it: the
  // state answers PARAMETER LIST LENGTH ERROR) is answered at once.
  ++stats.reservation_commands;
  ReservationResult r =
      reservations[lun->lv_id].apply(cdb, {}, nexus_of(io.target_id, io.initiator));
  reservation_done(port, io, lun->lv_id, std::move(r));
  return true;
}

void ControlPath::Impl::pr_out_parameters_in(uint32_t port, const fpapi::UpstreamIo& io,
                                             std::vector<uint8_t> parameters) {
  const Lun* lun = metadata.lun(io.target_id, io.lun);
  if (!lun) {
    complete_check(port, io.utag, fc::sense_key::kIllegalRequest,
                   fc::asc::kLogicalUnitNotSupported.asc, fc::asc::kLogicalUnitNotSupported.ascq);
    return;
  }
  ++stats.reservation_commands;
  const size_t n =
      std::min<size_t>(io.cdb_length ? io.cdb_length : fpapi::kCdbSize, fpapi::kCdbSize);
  ReservationResult res = reservations[lun->lv_id].apply(
      std::span<const uint8_t>(io.cdb.data(), n), parameters, nexus_of(io.target_id, io.initiator));
  reservation_done(port, io, lun->lv_id, std::move(res));
}

void ControlPath::Impl::reservation_done(uint32_t port, const fpapi::UpstreamIo& io, uint32_t lv_id,
                                         ReservationResult r) {
  const size_t len = std::min<size_t>(r.reply.data.size(), io.data_length);
  for (size_t off = 0; off < len; off += fpapi::kMaxChunk) {
    fpapi::FpPutData d;
    d.utag = io.utag;
    d.offset = static_cast<uint32_t>(off);
    d.data.assign(std::span<const uint8_t>(r.reply.data)
                      .subspan(off, std::min<size_t>(fpapi::kMaxChunk, len - off)));
    link.send(port, d);
  }
  uint8_t flags = 0;
  uint32_t residual = 0;
  if (r.reply.data.size() > io.data_length) {
    flags = fc::fcp_rsp_flags::kResidOver;
    residual = static_cast<uint32_t>(r.reply.data.size() - io.data_length);
  } else if (len < io.data_length) {
    flags = fc::fcp_rsp_flags::kResidUnder;
    residual = static_cast<uint32_t>(io.data_length - len);
  }
  // UAs for the other nexuses, on every LUN presenting the volume at their target.
  for (const ReservationUa& ua : r.unit_attentions) {
    for (const Target& t : metadata.targets()) {
      if (t.def.wwpn != ua.nexus.target_wwpn) continue;
      for (const auto& [host, wwpn] : host_wwpn) {
        if (wwpn != ua.nexus.initiator_wwpn || !host_logins.contains(login_key(t.port_id, host)))
          continue;
        for (const Lun& l : t.luns)
          if (l.lv_id == lv_id && allowed(l, host))
            queue_unit_attention(t.port_id, l.def.lun, host, ua.code);
      }
    }
  }
  std::vector<uint32_t> reqs;
  if (r.access_changed || !r.unit_attentions.empty()) {
    for (const Target& t : metadata.targets())
      for (const Lun& l : t.luns)
        if (l.lv_id == lv_id)
          for (uint32_t req : expose_lun(t, l))
            reqs.push_back(req);
  }
  if (reqs.empty()) {
    complete(port, io.utag, r.reply.status, r.reply.sense, flags, residual);
    return;
  }
  auto reply = std::make_shared<ScsiReply>(std::move(r.reply));
  auto left = std::make_shared<size_t>(reqs.size());
  const uint32_t utag = io.utag;
  for (uint32_t req : reqs) {
    link.expect_reply(req, [this, left, reply, port, utag, flags, residual](const fpapi::FpReply&) {
      if (--*left == 0) complete(port, utag, reply->status, reply->sense, flags, residual);
    });
  }
}

void ControlPath::Impl::reservation_nexus_lost(uint32_t target, uint32_t host) {
  for (auto& [lv, state] : reservations) {
    bool changed = false;
    for (const Target& t : metadata.targets()) {
      if (target != 0 && t.port_id != target) continue;
      changed = state.nexus_lost(nexus_of(t.port_id, host)) || changed;
    }
    if (!changed) continue;
    for (const Target& t : metadata.targets())
      for (const Lun& l : t.luns)
        if (l.lv_id == lv) expose_lun(t, l);
  }
}

}  // namespace splitpath::cp
