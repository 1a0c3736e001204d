// Frames the FP originates (FCP_CMND, FCP_XFER_RDY, FCP_RSP, ABTS) and the
// in-place header rewrite of relayed ones. Headers carry the F_CTL the hosts
// and disks of the fabric use for the same IUs (fast_path_impl.h).
#include <cstring>

#include "fp_firmware/fast_path_impl.h"
#include "splitpath/fc/bls.h"
#include "splitpath/fc/fcp.h"

namespace splitpath::fp {

void FastPath::Impl::readdress(uint8_t* frame, uint32_t d_id, uint32_t s_id, uint16_t ox_id,
                               uint16_t rx_id) {
  fc::store_be24(frame + 1, d_id);
  fc::store_be24(frame + 5, s_id);
  fc::store_be16(frame + 16, ox_id);
  fc::store_be16(frame + 18, rx_id);
}

uint8_t* FastPath::Impl::start_frame(sp_hal_buf* buf, uint8_t r_ctl, uint8_t type, uint32_t d_id,
                                     uint32_t s_id, uint32_t f_ctl, uint16_t ox_id, uint16_t rx_id,
                                     uint32_t parameter, uint8_t seq_id, uint16_t seq_cnt) {
  fc::FrameHeader h;
  h.r_ctl = r_ctl;
  h.d_id = fc::FcId{d_id};
  h.s_id = fc::FcId{s_id};
  h.type = type;
  h.f_ctl = f_ctl;
  h.seq_id = seq_id;
  h.seq_cnt = seq_cnt;
  h.ox_id = ox_id;
  h.rx_id = rx_id;
  h.parameter = parameter;
  (void)fc::encode_frame_header(h, fc::MutableBytes(buf->data, buf->capacity));
  buf->length = fc::kFrameHeaderSize;
  return buf->data + fc::kFrameHeaderSize;
}

void FastPath::Impl::send_host_rsp(sp_hal_buf* buf, const Upstream& u, const fc::FcpRsp& rsp) {
  uint8_t* p = start_frame(buf, fc::rctl::kDeviceDataCommandStatus, fc::fc_type::kFcp,
                           u.io.initiator, u.io.target_id, kFctlRsp, u.io.ox_id, up_rx_id(u));
  const auto n = fc::encode_fcp_rsp(rsp, fc::MutableBytes(p, buf->capacity - buf->length));
  buf->length += n.ok() ? static_cast<uint32_t>(*n) : 0;
  transmit(buf);
}

void FastPath::Impl::send_host_xfer_rdy(sp_hal_buf* buf, const Upstream& u, uint32_t offset,
                                        uint32_t length) {
  uint8_t* p = start_frame(buf, fc::rctl::kDeviceDataDataDescriptor, fc::fc_type::kFcp,
                           u.io.initiator, u.io.target_id, kFctlXferRdy, u.io.ox_id, up_rx_id(u));
  (void)fc::encode_fcp_xfer_rdy({offset, length}, fc::MutableBytes(p, fc::kFcpXferRdySize));
  buf->length += fc::kFcpXferRdySize;
  transmit(buf);
}

void FastPath::Impl::send_cmnd(sp_hal_buf* buf, const Downstream& d, uint16_t lun,
                               std::span<const uint8_t> cdb, uint8_t task_attribute) {
  fc::FcpCmnd c;
  c.lun = fc::make_lun(lun);
  c.task_attribute = task_attribute <= 5 && task_attribute != 3
                         ? static_cast<fc::TaskAttribute>(task_attribute)
                         : fc::TaskAttribute::kSimple;
  c.rddata = d.direction == fpapi::DataDirection::kRead;
  c.wrdata = d.direction == fpapi::DataDirection::kWrite;
  (void)fc::set_fcp_cdb(c, cdb);
  // A journal leg also carries its header block (the upstream's block size).
  c.fcp_dl = d.data_length + (d.journal && d.upstream != kNone ? up[d.upstream].block_size : 0);
  uint8_t* p = start_frame(buf, fc::rctl::kDeviceDataUnsolicitedCmd, fc::fc_type::kFcp, d.target,
                           vi, kFctlCmnd, d.ox_id, fc::kUnassignedXid);
  const auto n = fc::encode_fcp_cmnd(c, fc::MutableBytes(p, buf->capacity - buf->length));
  buf->length += n.ok() ? static_cast<uint32_t>(*n) : 0;
  transmit(buf);
}

void FastPath::Impl::send_abts(const Downstream& d) {
  // Without a buffer the ABTS is skipped: the target's exchange then ends by
  // its own timeout, and the FP has forgotten the exchange either way.
  sp_hal_buf* buf = alloc_buf();
  if (buf == nullptr) return;
  (void)start_frame(buf, fc::rctl::kBlsAbts, fc::fc_type::kBls, d.target, vi, kFctlAbts, d.ox_id,
                    d.rx_id);
  transmit(buf);
}

}  // namespace splitpath::fp
