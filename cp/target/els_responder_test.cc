#include "cp/target/els_responder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <random>
#include <vector>

#include "splitpath/fc/bls.h"
#include "splitpath/fc/els.h"
#include "splitpath/fc/frame_header.h"

namespace splitpath::cp {
namespace {

using Bytes = std::vector<uint8_t>;

constexpr uint64_t kTargetWwpn = 0x5005350000000100;
constexpr uint64_t kTargetWwnn = 0x5005350000000101;
constexpr uint64_t kHostWwpn = 0x2100001b32a0b0c0;
constexpr uint64_t kHostWwnn = 0x2000001b32a0b0c0;
constexpr uint32_t kHostId = 0x010200;
constexpr uint32_t kTargetId = 0x01F001;  // a fabricated virtual target N_Port ID
constexpr uint16_t kOxId = 0x8123;

Bytes frame(uint8_t r_ctl, uint8_t type, uint32_t s_id, uint32_t d_id, uint16_t ox_id,
            uint16_t rx_id, const Bytes& payload, uint32_t f_ctl = kFctlOriginatorFirst) {
  fc::FrameHeader h;
  h.r_ctl = r_ctl;
  h.type = type;
  h.s_id = fc::FcId{s_id};
  h.d_id = fc::FcId{d_id};
  h.ox_id = ox_id;
  h.rx_id = rx_id;
  h.f_ctl = f_ctl;
  Bytes out(fc::kFrameHeaderSize + payload.size());
  EXPECT_TRUE(fc::encode_frame_header(h, out).ok());
  std::copy(payload.begin(), payload.end(), out.begin() + fc::kFrameHeaderSize);
  return out;
}

Bytes els_request(const Bytes& payload, uint16_t rx_id = fc::kUnassignedXid) {
  return frame(fc::rctl::kElsRequest, fc::fc_type::kEls, kHostId, kTargetId, kOxId, rx_id, payload);
}

Bytes payload_of(const Bytes& f) {
  return Bytes(f.begin() + fc::kFrameHeaderSize, f.end());
}

fc::FrameHeader header_of(const Bytes& f) {
  auto h = fc::decode_frame_header(f);
  EXPECT_TRUE(h.ok());
  return h.ok() ? *h : fc::FrameHeader{};
}

Bytes host_plogi() {
  return make_plogi(kHostId, kTargetId, kOxId, kHostWwpn, kHostWwnn);
}

ElsAnswer ask(const Bytes& request) {
  return answer_els(request, kTargetWwpn, kTargetWwnn);
}

// Checks the reply header every ELS answer carries.
void expect_reply_header(const Bytes& reply, uint16_t rx_id = kElsResponderRxId) {
  ASSERT_GE(reply.size(), fc::kFrameHeaderSize + 4);
  const fc::FrameHeader h = header_of(reply);
  EXPECT_EQ(h.r_ctl, fc::rctl::kElsReply);
  EXPECT_EQ(h.type, fc::fc_type::kEls);
  EXPECT_EQ(h.d_id.value, kHostId);
  EXPECT_EQ(h.s_id.value, kTargetId);
  EXPECT_EQ(h.ox_id, kOxId);
  EXPECT_EQ(h.rx_id, rx_id);
  EXPECT_TRUE(h.f_ctl & fc::fctl::kExchangeContext);
  EXPECT_TRUE(h.f_ctl & fc::fctl::kLastSequence);
  EXPECT_TRUE(h.f_ctl & fc::fctl::kEndSequence);
  EXPECT_FALSE(h.f_ctl & fc::fctl::kFirstSequence);
  EXPECT_FALSE(h.f_ctl & fc::fctl::kSequenceContext);
  EXPECT_EQ(h.df_ctl, 0);
}

// Expects an LS_RJT with this reason and explanation, both in the frame and in
// the answer.
void expect_ls_rjt(const ElsAnswer& a, uint8_t reason, uint8_t explanation) {
  expect_reply_header(a.reply_frame);
  auto rjt = fc::decode_ls_rjt(payload_of(a.reply_frame));
  ASSERT_TRUE(rjt.ok());
  EXPECT_EQ(rjt->reason, reason);
  EXPECT_EQ(rjt->explanation, explanation);
  EXPECT_EQ(a.reject_reason, reason);
  EXPECT_EQ(a.reject_explanation, explanation);
  EXPECT_FALSE(a.accepted);
  EXPECT_FALSE(a.logged_in);
  EXPECT_FALSE(a.logged_out);
  EXPECT_EQ(a.initiator_wwpn, 0u);
}

// ------------------------------------------------------------ answer_els

TEST(ElsResponder, PlogiAccepted) {
  const ElsAnswer a = ask(host_plogi());
  EXPECT_EQ(a.command, fc::els_cmd::kPlogi);
  EXPECT_TRUE(a.accepted);
  EXPECT_TRUE(a.logged_in);
  EXPECT_FALSE(a.logged_out);
  EXPECT_EQ(a.initiator_wwpn, kHostWwpn);
  expect_reply_header(a.reply_frame);
  auto acc = fc::decode_service_parameters(payload_of(a.reply_frame));
  ASSERT_TRUE(acc.ok());
  EXPECT_EQ(acc->command, fc::els_cmd::kAcc);
  EXPECT_EQ(acc->port_name.value, kTargetWwpn);
  EXPECT_EQ(acc->node_name.value, kTargetWwnn);
  EXPECT_FALSE(acc->common.f_port());
  EXPECT_EQ(acc->common.bb_rx_data_field_size, 2048);
  EXPECT_TRUE(acc->class3.valid);
  EXPECT_EQ(acc->class3.rx_data_field_size, 2048);
  EXPECT_EQ(payload_of(a.reply_frame).size(), fc::kServiceParametersSize);
}

TEST(ElsResponder, AssignedRxIdIsKept) {
  Bytes req = host_plogi();
  fc::store_be16(&req[18], 0x1234);
  expect_reply_header(ask(req).reply_frame, 0x1234);
}

TEST(ElsResponder, PrliAcceptedAsTarget) {
  const ElsAnswer a = ask(make_prli_initiator(kHostId, kTargetId, kOxId));
  EXPECT_EQ(a.command, fc::els_cmd::kPrli);
  EXPECT_TRUE(a.accepted);
  EXPECT_FALSE(a.logged_in);
  EXPECT_FALSE(a.logged_out);
  expect_reply_header(a.reply_frame);
  auto acc = fc::decode_prli(payload_of(a.reply_frame));
  ASSERT_TRUE(acc.ok());
  EXPECT_EQ(acc->command, fc::els_cmd::kAcc);
  EXPECT_EQ(acc->response_code, fc::prli_response::kRequestExecuted);
  EXPECT_TRUE(acc->establish_image_pair);
  EXPECT_TRUE(acc->target());
  EXPECT_FALSE(acc->initiator());
  EXPECT_TRUE(acc->service_parameters & fc::prli_fcp::kReadXferRdyDisabled);
}

TEST(ElsResponder, LogoAndPrloLogOut) {
  ElsAnswer logo = ask(make_logo(kHostId, kTargetId, kOxId, kHostWwpn));
  EXPECT_EQ(logo.command, fc::els_cmd::kLogo);
  EXPECT_TRUE(logo.accepted);
  EXPECT_TRUE(logo.logged_out);
  EXPECT_FALSE(logo.logged_in);
  expect_reply_header(logo.reply_frame);
  EXPECT_EQ(payload_of(logo.reply_frame), Bytes({0x02, 0, 0, 0}));

  fc::Prli prlo;
  prlo.command = fc::els_cmd::kPrlo;
  prlo.establish_image_pair = false;
  Bytes payload(fc::kPrliSize);
  ASSERT_TRUE(fc::encode_prli(prlo, payload).ok());
  ElsAnswer a = ask(els_request(payload));
  EXPECT_EQ(a.command, fc::els_cmd::kPrlo);
  EXPECT_TRUE(a.accepted);
  EXPECT_TRUE(a.logged_out);
  expect_reply_header(a.reply_frame);
  auto acc = fc::decode_prli(payload_of(a.reply_frame));
  ASSERT_TRUE(acc.ok());
  EXPECT_EQ(acc->command, fc::els_cmd::kAcc);
  EXPECT_EQ(acc->response_code, fc::prli_response::kRequestExecuted);
}

TEST(ElsResponder, AdiscAccepted) {
  Bytes adisc(kAdiscSize, 0);
  adisc[0] = kElsAdisc;
  fc::store_be64(&adisc[8], kHostWwpn);
  fc::store_be64(&adisc[16], kHostWwnn);
  fc::store_be24(&adisc[25], kHostId);
  const ElsAnswer a = ask(els_request(adisc));
  EXPECT_EQ(a.command, kElsAdisc);
  EXPECT_TRUE(a.accepted);
  EXPECT_FALSE(a.logged_in);
  EXPECT_FALSE(a.logged_out);
  expect_reply_header(a.reply_frame);
  const Bytes acc = payload_of(a.reply_frame);
  ASSERT_EQ(acc.size(), kAdiscSize);
  EXPECT_EQ(acc[0], fc::els_cmd::kAcc);
  EXPECT_EQ(fc::load_be64(&acc[8]), kTargetWwpn);
  EXPECT_EQ(fc::load_be64(&acc[16]), kTargetWwnn);
  EXPECT_EQ(fc::load_be24(&acc[25]), kTargetId);

  adisc.resize(kAdiscSize - 1);
  expect_ls_rjt(ask(els_request(adisc)), fc::ls_rjt_reason::kProtocolError,
                fc::ls_rjt_explanation::kInvalidPayloadLength);
}

TEST(ElsResponder, OtherCommandsRejected) {
  for (uint8_t code : {fc::els_cmd::kFlogi, fc::els_cmd::kScr, fc::els_cmd::kRscn, uint8_t{0x78},
                       uint8_t{0x00}, uint8_t{0xFF}}) {
    SCOPED_TRACE(int{code});
    Bytes payload(fc::kServiceParametersSize, 0);
    payload[0] = code;
    const ElsAnswer a = ask(els_request(payload));
    EXPECT_EQ(a.command, code);
    expect_ls_rjt(a, fc::ls_rjt_reason::kCommandNotSupported, fc::ls_rjt_explanation::kNone);
  }
}

TEST(ElsResponder, MalformedPlogi) {
  const Bytes good = payload_of(host_plogi());
  // Cut short.
  expect_ls_rjt(ask(els_request(Bytes(good.begin(), good.begin() + 60))),
                fc::ls_rjt_reason::kProtocolError, fc::ls_rjt_explanation::kInvalidPayloadLength);
  // Class 3 not valid: the only class served.
  Bytes no_class3 = good;
  no_class3[68] = 0;
  expect_ls_rjt(ask(els_request(no_class3)), fc::ls_rjt_reason::kLogicalError,
                fc::ls_rjt_explanation::kServiceParamOptions);
  // Class 3 receive data field size below 256.
  Bytes small_rx = good;
  fc::store_be16(&small_rx[74], 128);
  expect_ls_rjt(ask(els_request(small_rx)), fc::ls_rjt_reason::kLogicalError, 0x07);
  // Common BB receive data field size out of range.
  Bytes bad_bb = good;
  fc::store_be16(&bad_bb[10], 100);
  expect_ls_rjt(ask(els_request(bad_bb)), fc::ls_rjt_reason::kLogicalError, 0x07);
  // No port name.
  Bytes no_name = good;
  fc::store_be64(&no_name[20], 0);
  expect_ls_rjt(ask(els_request(no_name)), fc::ls_rjt_reason::kLogicalError, 0x0D);
}

TEST(ElsResponder, MalformedPrli) {
  const Bytes good = payload_of(make_prli_initiator(kHostId, kTargetId, kOxId));
  Bytes not_fcp = good;
  not_fcp[4] = 0x05;  // a page for another FC-4 type only
  expect_ls_rjt(ask(els_request(not_fcp)), fc::ls_rjt_reason::kUnableToPerform,
                fc::ls_rjt_explanation::kRequestNotSupported);
  Bytes bad_page_length = good;
  bad_page_length[1] = 0x20;
  expect_ls_rjt(ask(els_request(bad_page_length)), fc::ls_rjt_reason::kProtocolError,
                fc::ls_rjt_explanation::kInvalidPayloadLength);
  Bytes long_stated = good;
  fc::store_be16(&long_stated[2], 36);
  expect_ls_rjt(ask(els_request(long_stated)), fc::ls_rjt_reason::kProtocolError,
                fc::ls_rjt_explanation::kInvalidPayloadLength);
}

TEST(ElsResponder, ShortPayloadAndOptionalHeaders) {
  ElsAnswer a = ask(els_request(Bytes{0x03, 0}));
  EXPECT_EQ(a.command, 0);
  expect_ls_rjt(a, fc::ls_rjt_reason::kProtocolError,
                fc::ls_rjt_explanation::kInvalidPayloadLength);
  expect_ls_rjt(ask(els_request(Bytes{})), fc::ls_rjt_reason::kProtocolError,
                fc::ls_rjt_explanation::kInvalidPayloadLength);
  Bytes with_headers = host_plogi();
  with_headers[13] = 0x40;  // DF_CTL: ESP header
  expect_ls_rjt(ask(with_headers), fc::ls_rjt_reason::kProtocolError,
                fc::ls_rjt_explanation::kNone);
}

TEST(ElsResponder, EveryPrefixOfAPlogiIsAnsweredSafely) {
  const Bytes full = host_plogi();
  for (size_t n = 0; n < full.size(); ++n) {
    // Exactly sized heap copies, so AddressSanitizer catches a read past the end.
    const Bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    const ElsAnswer a = ask(prefix);
    if (n < fc::kFrameHeaderSize) {
      EXPECT_TRUE(a.reply_frame.empty()) << n;
    } else {
      expect_ls_rjt(a, fc::ls_rjt_reason::kProtocolError,
                    fc::ls_rjt_explanation::kInvalidPayloadLength);
    }
  }
}

TEST(ElsResponder, RandomFramesNeverCrash) {
  std::mt19937 rng(7);
  for (int i = 0; i < 5000; ++i) {
    Bytes f(rng() % 160);
    for (auto& b : f)
      b = static_cast<uint8_t>(rng());
    if (f.size() >= fc::kFrameHeaderSize && (i % 2) == 0) {
      f[0] = fc::rctl::kElsRequest;
      f[8] = fc::fc_type::kEls;
      f[13] = 0;
      if (i % 4 == 0 && f.size() > fc::kFrameHeaderSize) {
        const uint8_t codes[] = {0x03, 0x20, 0x21, 0x05, 0x52};
        f[fc::kFrameHeaderSize] = codes[rng() % 5];
      }
    }
    const ElsAnswer a = ask(f);
    if (a.reply_frame.empty()) continue;
    const fc::FrameHeader h = header_of(a.reply_frame);
    EXPECT_EQ(h.r_ctl, fc::rctl::kElsReply);
    const uint8_t code = a.reply_frame[fc::kFrameHeaderSize];
    EXPECT_TRUE(code == fc::els_cmd::kAcc || code == fc::els_cmd::kLsRjt);
    EXPECT_EQ(a.accepted, code == fc::els_cmd::kAcc);
  }
}

TEST(ElsResponder, NoReplyToWhatIsNotAnElsRequest) {
  // An ELS reply: answering it could start a loop.
  const ElsAnswer acc = ask(ask(host_plogi()).reply_frame);
  EXPECT_TRUE(acc.reply_frame.empty());
  EXPECT_EQ(acc.command, 0);
  const Bytes fcp = frame(fc::rctl::kDeviceDataUnsolicitedCmd, fc::fc_type::kFcp, kHostId,
                          kTargetId, kOxId, 0xFFFF, Bytes(32, 0));
  EXPECT_TRUE(ask(fcp).reply_frame.empty());
  EXPECT_TRUE(ask(Bytes(23, 0x22)).reply_frame.empty());
}

TEST(ElsResponder, MakeElsReject) {
  const Bytes rjt = make_els_reject(make_prli_initiator(kHostId, kTargetId, kOxId),
                                    fc::ls_rjt_reason::kUnableToPerform,
                                    fc::ls_rjt_explanation::kNPortLoginRequired);
  expect_reply_header(rjt);
  auto r = fc::decode_ls_rjt(payload_of(rjt));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->reason, fc::ls_rjt_reason::kUnableToPerform);
  EXPECT_EQ(r->explanation, fc::ls_rjt_explanation::kNPortLoginRequired);
  EXPECT_TRUE(make_els_reject(Bytes(10, 0), 1, 0).empty());
}

// ----------------------------------------------------------- answer_abts

TEST(AbtsResponder, BaAccNamesTheAbortedExchange) {
  const Bytes abts = frame(fc::rctl::kBlsAbts, fc::fc_type::kBls, kHostId, kTargetId, 0x0042,
                           0x0777, {}, fc::fctl::kSequenceInitiative);
  const Bytes reply = answer_abts(abts);
  ASSERT_EQ(reply.size(), fc::kFrameHeaderSize + fc::kBaAccSize);
  const fc::FrameHeader h = header_of(reply);
  EXPECT_EQ(h.r_ctl, fc::rctl::kBlsBaAcc);
  EXPECT_EQ(h.type, fc::fc_type::kBls);
  EXPECT_EQ(h.d_id.value, kHostId);
  EXPECT_EQ(h.s_id.value, kTargetId);
  EXPECT_EQ(h.ox_id, 0x0042);
  EXPECT_EQ(h.rx_id, 0x0777);
  EXPECT_TRUE(h.f_ctl & fc::fctl::kExchangeContext);
  EXPECT_TRUE(h.f_ctl & fc::fctl::kLastSequence);
  EXPECT_TRUE(h.f_ctl & fc::fctl::kEndSequence);
  auto acc = fc::decode_ba_acc(payload_of(reply));
  ASSERT_TRUE(acc.ok());
  EXPECT_EQ(acc->ox_id, 0x0042);
  EXPECT_EQ(acc->rx_id, 0x0777);
  EXPECT_FALSE(acc->seq_id_valid);
  EXPECT_EQ(acc->low_seq_cnt, 0);
  EXPECT_EQ(acc->high_seq_cnt, 0xFFFF);
}

TEST(AbtsResponder, AbtsFromTheResponderIsAnsweredAsOriginator) {
  const Bytes abts = frame(fc::rctl::kBlsAbts, fc::fc_type::kBls, kHostId, kTargetId, 0x0042,
                           0x0777, {}, fc::fctl::kExchangeContext);
  const fc::FrameHeader h = header_of(answer_abts(abts));
  EXPECT_EQ(h.r_ctl, fc::rctl::kBlsBaAcc);
  EXPECT_FALSE(h.f_ctl & fc::fctl::kExchangeContext);
}

TEST(AbtsResponder, UnassignedOxIdRejected) {
  const Bytes abts =
      frame(fc::rctl::kBlsAbts, fc::fc_type::kBls, kHostId, kTargetId, 0xFFFF, 0xFFFF, {});
  const Bytes reply = answer_abts(abts);
  ASSERT_EQ(reply.size(), fc::kFrameHeaderSize + fc::kBaRjtSize);
  EXPECT_EQ(header_of(reply).r_ctl, fc::rctl::kBlsBaRjt);
  auto rjt = fc::decode_ba_rjt(payload_of(reply));
  ASSERT_TRUE(rjt.ok());
  EXPECT_EQ(rjt->reason, fc::ba_rjt_reason::kLogicalError);
  EXPECT_EQ(rjt->explanation, fc::ba_rjt_explanation::kInvalidOxIdRxId);
}

TEST(AbtsResponder, NotAnAbts) {
  EXPECT_TRUE(answer_abts(Bytes(20, 0x81)).empty());
  EXPECT_TRUE(answer_abts(host_plogi()).empty());
  const Bytes ba_acc = frame(fc::rctl::kBlsBaAcc, fc::fc_type::kBls, kHostId, kTargetId, 1, 2,
                             Bytes(fc::kBaAccSize, 0));
  EXPECT_TRUE(answer_abts(ba_acc).empty());
}

// -------------------------------------------------- virtual initiator side

TEST(VirtualInitiator, MakePlogi) {
  const Bytes f = make_plogi(0x0A0B0C, 0x010203, 0x8001, kHostWwpn, kHostWwnn);
  const fc::FrameHeader h = header_of(f);
  EXPECT_EQ(h.r_ctl, fc::rctl::kElsRequest);
  EXPECT_EQ(h.type, fc::fc_type::kEls);
  EXPECT_EQ(h.s_id.value, 0x0A0B0Cu);
  EXPECT_EQ(h.d_id.value, 0x010203u);
  EXPECT_EQ(h.ox_id, 0x8001);
  EXPECT_EQ(h.rx_id, fc::kUnassignedXid);
  EXPECT_EQ(h.f_ctl,
            fc::fctl::kFirstSequence | fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative);
  auto p = fc::decode_service_parameters(payload_of(f));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->command, fc::els_cmd::kPlogi);
  EXPECT_EQ(p->port_name.value, kHostWwpn);
  EXPECT_EQ(p->node_name.value, kHostWwnn);
  EXPECT_TRUE(p->class3.valid);
  EXPECT_EQ(p->class3.rx_data_field_size, 2048);
}

TEST(VirtualInitiator, MakePrliAndLogo) {
  const Bytes prli = make_prli_initiator(0x0A0B0C, 0x010203, 0x8002);
  EXPECT_EQ(header_of(prli).r_ctl, fc::rctl::kElsRequest);
  EXPECT_EQ(header_of(prli).ox_id, 0x8002);
  auto p = fc::decode_prli(payload_of(prli));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->command, fc::els_cmd::kPrli);
  EXPECT_TRUE(p->establish_image_pair);
  EXPECT_TRUE(p->initiator());
  EXPECT_FALSE(p->target());

  const Bytes logo = make_logo(0x0A0B0C, 0x010203, 0x8003, kHostWwpn);
  auto l = fc::decode_logo(payload_of(logo));
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->port_id.value, 0x0A0B0Cu);
  EXPECT_EQ(l->port_name.value, kHostWwpn);
}

TEST(VirtualInitiator, ParseReplies) {
  // The answers of our own responder stand in for a disk's.
  const ElsReply plogi = parse_els_reply(ask(host_plogi()).reply_frame, fc::els_cmd::kPlogi);
  EXPECT_TRUE(plogi.accepted);
  EXPECT_EQ(plogi.code, fc::els_cmd::kAcc);
  EXPECT_EQ(plogi.ox_id, kOxId);
  EXPECT_EQ(plogi.port_name, kTargetWwpn);
  EXPECT_EQ(plogi.node_name, kTargetWwnn);

  const Bytes prli_acc = ask(make_prli_initiator(kHostId, kTargetId, kOxId)).reply_frame;
  const ElsReply prli = parse_els_reply(prli_acc, fc::els_cmd::kPrli);
  EXPECT_TRUE(prli.accepted);
  EXPECT_EQ(prli.prli_response_code, fc::prli_response::kRequestExecuted);
  EXPECT_TRUE(prli.fcp_service_parameters & fc::prli_fcp::kTargetFunction);
  EXPECT_TRUE(parse_els_reply(prli_acc).accepted);
  // A PRLI ACC is no PLOGI ACC.
  EXPECT_FALSE(parse_els_reply(prli_acc, fc::els_cmd::kPlogi).accepted);

  const ElsReply rjt = parse_els_reply(ask(els_request(Bytes{0x78, 0, 0, 0})).reply_frame);
  EXPECT_FALSE(rjt.accepted);
  EXPECT_EQ(rjt.code, fc::els_cmd::kLsRjt);
  EXPECT_EQ(rjt.reject_reason, fc::ls_rjt_reason::kCommandNotSupported);
}

TEST(VirtualInitiator, PrliAccWithoutImagePairIsNotAccepted) {
  fc::Prli acc;
  acc.command = fc::els_cmd::kAcc;
  acc.response_code = fc::prli_response::kTargetImageDoesNotExist;
  Bytes payload(fc::kPrliSize);
  ASSERT_TRUE(fc::encode_prli(acc, payload).ok());
  const Bytes f = frame(fc::rctl::kElsReply, fc::fc_type::kEls, kTargetId, kHostId, kOxId, 1,
                        payload, kFctlResponderLast);
  const ElsReply r = parse_els_reply(f, fc::els_cmd::kPrli);
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(r.code, fc::els_cmd::kAcc);
  EXPECT_EQ(r.prli_response_code, fc::prli_response::kTargetImageDoesNotExist);
}

TEST(VirtualInitiator, GarbageRepliesAreNotAccepted) {
  EXPECT_FALSE(parse_els_reply(Bytes{}).accepted);
  EXPECT_EQ(parse_els_reply(Bytes(10, 0x23)).code, 0);
  // A request is not a reply.
  const ElsReply req = parse_els_reply(host_plogi());
  EXPECT_FALSE(req.accepted);
  EXPECT_EQ(req.code, 0);
  // An ACC too short to carry service parameters.
  const Bytes short_acc = frame(fc::rctl::kElsReply, fc::fc_type::kEls, kTargetId, kHostId, kOxId,
                                1, Bytes{0x02, 0, 0, 0}, kFctlResponderLast);
  EXPECT_FALSE(parse_els_reply(short_acc, fc::els_cmd::kPlogi).accepted);
  EXPECT_TRUE(parse_els_reply(short_acc, fc::els_cmd::kLogo).accepted);
  const Bytes empty_reply = frame(fc::rctl::kElsReply, fc::fc_type::kEls, kTargetId, kHostId, kOxId,
                                  1, Bytes{0x02}, kFctlResponderLast);
  EXPECT_FALSE(parse_els_reply(empty_reply).accepted);
}

}  // namespace
}  // namespace splitpath::cp
