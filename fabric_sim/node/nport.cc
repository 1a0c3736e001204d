#include "fabric_sim/node/nport.h"

#include <cstring>
#include <utility>

#include "splitpath/fc/bls.h"

namespace splitpath::sim {

namespace {
// F_CTL of a request opening an exchange: first and end of sequence, and the
// sequence initiative passes to the responder.
constexpr uint32_t kFctlRequest =
    fc::fctl::kFirstSequence | fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative;
// F_CTL of the responder's last sequence.
constexpr uint32_t kFctlReply = fc::fctl::kExchangeContext | fc::fctl::kLastSequence |
                                fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative;
}  // namespace

NPort::NPort(Kernel& kernel, FramePool& pool, std::string name, uint64_t wwpn, uint64_t wwnn,
             Role role, Rng rng)
    : kernel_(kernel),
      pool_(pool),
      name_(std::move(name)),
      wwpn_(wwpn),
      wwnn_(wwnn),
      role_(role),
      rng_(rng) {}

NPort::~NPort() = default;

void NPort::connect(Link& link, int side) {
  link_ = &link;
  side_ = side;
  link.attach(side, this);
}

void NPort::start() {
  if (!link_ || !link_->up()) return;
  send_flogi();
}

Frame* NPort::new_frame(const fc::FrameHeader& h, size_t payload_size) {
  Frame* f = pool_.alloc();
  (void)fc::encode_frame_header(h, {f->bytes, fc::kFrameHeaderSize});
  f->size = static_cast<uint16_t>(fc::kFrameHeaderSize + payload_size);
  return f;
}

void NPort::send(Frame* frame) {
  ++port_stats_.tx_frames;
  link_->transmit(side_, frame);
}

void NPort::release(Frame* frame) {
  pool_.free(frame);
}

void NPort::send_control(uint8_t r_ctl, uint8_t type, fc::FcId d_id,
                         std::span<const uint8_t> payload, ControlCallback done) {
  // Control exchanges use OX_IDs 0x8000..0xFFFE; FCP I/O uses the lower half.
  uint16_t ox_id = next_control_oxid_;
  while (pending_control_.contains(ox_id))
    ox_id = ox_id == 0xFFFE ? 0x8000 : ox_id + 1;
  next_control_oxid_ = ox_id == 0xFFFE ? 0x8000 : ox_id + 1;

  fc::FrameHeader h;
  h.r_ctl = r_ctl;
  h.d_id = d_id;
  h.s_id = port_id_;
  h.type = type;
  h.f_ctl = kFctlRequest;
  h.ox_id = ox_id;
  Frame* f = new_frame(h, payload.size());
  std::memcpy(f->payload_ptr(), payload.data(), payload.size());
  const uint64_t token = next_token_++;
  pending_control_[ox_id] = PendingControl{std::move(done), token};
  kernel_.schedule_in<&NPort::on_control_timeout>(control_timeout_ns_, this, (token << 16) | ox_id);
  send(f);
}

void NPort::send_els(fc::FcId d_id, std::span<const uint8_t> payload, ControlCallback done) {
  send_control(fc::rctl::kElsRequest, fc::fc_type::kEls, d_id, payload, std::move(done));
}

void NPort::send_ct(fc::FcId d_id, std::span<const uint8_t> payload, ControlCallback done) {
  send_control(fc::rctl::kDeviceDataUnsolicitedCtl, fc::fc_type::kCt, d_id, payload,
               std::move(done));
}

void NPort::reply_els(const fc::FrameHeader& request, std::span<const uint8_t> payload) {
  fc::FrameHeader h;
  h.r_ctl = fc::rctl::kElsReply;
  h.d_id = request.s_id;
  h.s_id = port_id_;
  h.type = fc::fc_type::kEls;
  h.f_ctl = kFctlReply;
  h.ox_id = request.ox_id;
  h.rx_id = request.rx_id;
  Frame* f = new_frame(h, payload.size());
  std::memcpy(f->payload_ptr(), payload.data(), payload.size());
  send(f);
}

void NPort::on_control_timeout(uint64_t arg) {
  const auto ox_id = static_cast<uint16_t>(arg & 0xFFFF);
  auto it = pending_control_.find(ox_id);
  if (it == pending_control_.end() || it->second.token != (arg >> 16)) return;
  ControlCallback done = std::move(it->second.done);
  pending_control_.erase(it);
  ++port_stats_.control_timeouts;
  ControlReply reply;
  reply.timed_out = true;
  done(reply);
}

void NPort::on_link_state(Link& /*link*/, int /*side*/, bool up) {
  ++link_epoch_;
  if (!up) {
    login_state_ = LoginState::kOffline;
    pending_control_.clear();
    plogi_peers_.clear();
    prli_peers_.clear();
    peer_wwpns_.clear();
    on_fabric_lost();
  } else {
    start();
  }
}

void NPort::fail_login(const char* /*step*/) {
  ++port_stats_.login_failures;
  login_state_ = LoginState::kOffline;
}

void NPort::on_frame(Link& link, int side, Frame* frame) {
  // A node consumes frames as they arrive: its receive buffer is free at once.
  link.release_credit(side);
  ++port_stats_.rx_frames;
  auto header = fc::decode_frame_header(frame->data());
  if (!header.ok() || (login_state_ == LoginState::kOffline)) {
    ++port_stats_.rx_dropped;
    release(frame);
    return;
  }
  const fc::FrameHeader& h = *header;
  if (h.type == fc::fc_type::kFcp) {
    on_fcp_frame(h, frame);
    return;
  }
  const auto payload = frame->payload();
  if ((h.type == fc::fc_type::kEls && h.r_ctl == fc::rctl::kElsReply) ||
      (h.type == fc::fc_type::kCt && h.r_ctl == fc::rctl::kDeviceDataSolicitedCtl)) {
    auto it = pending_control_.find(h.ox_id);
    if (it == pending_control_.end()) {
      ++port_stats_.rx_dropped;
    } else {
      ControlCallback done = std::move(it->second.done);
      pending_control_.erase(it);
      done(ControlReply{false, h, payload});
    }
  } else if (h.type == fc::fc_type::kEls && h.r_ctl == fc::rctl::kElsRequest) {
    handle_els_request(h, payload);
  } else if (h.type == fc::fc_type::kBls) {
    handle_bls(h);
  } else {
    ++port_stats_.rx_dropped;
  }
  release(frame);
}

void NPort::handle_bls(const fc::FrameHeader& h) {
  if (h.r_ctl != fc::rctl::kBlsAbts) return;  // BA_ACC / BA_RJT to our ABTS need no action
  on_abort(h.s_id, h.ox_id);
  fc::BaAcc acc;
  acc.ox_id = h.ox_id;
  acc.rx_id = h.rx_id;
  acc.high_seq_cnt = 0xFFFF;
  fc::FrameHeader r;
  r.r_ctl = fc::rctl::kBlsBaAcc;
  r.d_id = h.s_id;
  r.s_id = port_id_;
  r.type = fc::fc_type::kBls;
  r.f_ctl = kFctlReply;
  r.ox_id = h.ox_id;
  r.rx_id = h.rx_id;
  Frame* f = new_frame(r, fc::kBaAccSize);
  (void)fc::encode_ba_acc(acc, f->payload());
  send(f);
}

}  // namespace splitpath::sim
