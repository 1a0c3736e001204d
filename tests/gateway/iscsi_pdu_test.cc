// The iSCSI PDU codec (fabric_sim/gateway/iscsi_pdu.h) and the login
// negotiation (iscsi_login.h): byte layouts worked out by hand from RFC 7143
// section 11 (BHS 48 bytes, AHS, data segment padding), every decoder's
// malformed cases, the text format, and each key's result function.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "fabric_sim/gateway/iscsi_login.h"
#include "fabric_sim/gateway/iscsi_pdu.h"

namespace splitpath::sim::iscsi {
namespace {

std::vector<uint8_t> bytes(std::initializer_list<int> v) {
  std::vector<uint8_t> out;
  for (int b : v)
    out.push_back(static_cast<uint8_t>(b));
  return out;
}

Pdu pdu_with(uint8_t byte0, uint8_t byte1) {
  Pdu p;
  p.bhs[0] = byte0;
  p.bhs[1] = byte1;
  return p;
}

TEST(IscsiPdu, EncodePadsTheDataSegmentAndFillsTheLengths) {
  Pdu p = pdu_with(opcode::kNopIn, 0x80);
  p.data = bytes({1, 2, 3, 4, 5});
  const auto out = encode_pdu(p);
  ASSERT_EQ(out.size(), 48u + 8u);  // 5 data bytes padded to 8
  EXPECT_EQ(out[4], 0);             // TotalAHSLength
  EXPECT_EQ(out[5], 0);
  EXPECT_EQ(out[6], 0);
  EXPECT_EQ(out[7], 5);  // DataSegmentLength excludes the padding
  EXPECT_EQ(out[48 + 4], 5);
  EXPECT_EQ(out[48 + 5], 0);
  EXPECT_EQ(out[48 + 7], 0);
  auto framing = parse_framing(std::span(out).first(48), 8192);
  ASSERT_TRUE(framing.ok());
  EXPECT_EQ(framing->data_length, 5u);
  EXPECT_EQ(framing->rest(), 8u);
  auto back = parse_pdu(std::span(out).first(48), std::span(out).subspan(48));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->data, p.data);
  EXPECT_EQ(back->opcode(), opcode::kNopIn);
}

TEST(IscsiPdu, AnAlignedDataSegmentGetsNoPadding) {
  Pdu p = pdu_with(opcode::kNopIn, 0x80);
  p.data.assign(8192, 0xee);
  EXPECT_EQ(encode_pdu(p).size(), 48u + 8192u);
  p.data.clear();
  EXPECT_EQ(encode_pdu(p).size(), 48u);
}

TEST(IscsiPdu, AhsRoundTripWithItsPadding) {
  Pdu p = pdu_with(opcode::kScsiCommand, 0xa0);
  // An Extended CDB AHS for a 32-byte CDB: a reserved byte and 16 CDB bytes,
  // AHSLength 17, padded from 3 + 17 = 20 bytes (already aligned).
  Ahs a;
  a.type = kAhsExtendedCdb;
  a.data.assign(17, 0);
  for (int i = 1; i < 17; ++i)
    a.data[static_cast<size_t>(i)] = static_cast<uint8_t>(0x10 + i);
  p.ahs.push_back(a);
  // A bidirectional read length AHS: AHSLength 5, 3 + 5 = 8 bytes.
  Ahs b;
  b.type = kAhsBidiReadLength;
  b.data = bytes({0, 0, 0, 2, 0});
  p.ahs.push_back(b);
  const auto out = encode_pdu(p);
  EXPECT_EQ(out[4], (20 + 8) / 4);
  EXPECT_EQ(out[48], 0);
  EXPECT_EQ(out[49], 17);
  EXPECT_EQ(out[50], kAhsExtendedCdb);
  EXPECT_EQ(out[48 + 20], 0);
  EXPECT_EQ(out[48 + 21], 5);
  EXPECT_EQ(out[48 + 22], kAhsBidiReadLength);
  ASSERT_EQ(out.size(), 48u + 28u);
  auto back = parse_pdu(std::span(out).first(48), std::span(out).subspan(48));
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->ahs.size(), 2u);
  EXPECT_EQ(back->ahs[0].data, a.data);
  EXPECT_EQ(back->ahs[1].data, b.data);
  auto cmd = decode_scsi_command(*back);
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_EQ(cmd->cdb.size(), 32u);
  EXPECT_EQ(cmd->cdb[16], 0x11);
  EXPECT_EQ(cmd->cdb[31], 0x20);
  ASSERT_TRUE(cmd->bidi_read_length.has_value());
  EXPECT_EQ(*cmd->bidi_read_length, 512u);
}

TEST(IscsiPdu, FramingRefusesAnOversizedDataSegment) {
  std::vector<uint8_t> bhs(48, 0);
  bhs[0] = opcode::kScsiCommand;
  bhs[5] = 0x00;
  bhs[6] = 0x20;
  bhs[7] = 0x01;  // 8193
  auto f = parse_framing(bhs, 8192);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("8193"), std::string::npos) << f.status();
  EXPECT_NE(f.status().message().find("MaxRecvDataSegmentLength"), std::string::npos);
  EXPECT_TRUE(parse_framing(bhs, 8193).ok());
  EXPECT_FALSE(parse_framing(std::span(bhs).first(47), 8192).ok());
}

TEST(IscsiPdu, AnAhsRunningPastItsTotalLengthIsRefused) {
  std::vector<uint8_t> bhs(48, 0);
  bhs[0] = opcode::kScsiCommand;
  bhs[4] = 1;  // 4 bytes of AHS
  // AHSLength 5 needs 8 bytes.
  const auto rest = bytes({0, 5, kAhsBidiReadLength, 0});
  EXPECT_FALSE(parse_pdu(bhs, rest).ok());
  // A body of the wrong size.
  EXPECT_FALSE(parse_pdu(bhs, bytes({0, 1, 2})).ok());
}

TEST(IscsiPdu, SplitPdusKeepsAPartialPduForLater) {
  Pdu a = pdu_with(opcode::kNopOut | 0x40, 0x80);
  a.data = bytes({9, 9, 9});
  Pdu b = pdu_with(opcode::kLogoutRequest | 0x40, 0x80);
  auto stream = encode_pdu(a);
  const auto second = encode_pdu(b);
  stream.insert(stream.end(), second.begin(), second.end() - 1);
  size_t consumed = 0;
  auto pdus = split_pdus(stream, 8192, &consumed);
  ASSERT_TRUE(pdus.ok());
  ASSERT_EQ(pdus->size(), 1u);
  EXPECT_EQ(consumed, 48u + 4u);
  EXPECT_EQ((*pdus)[0].data, a.data);
}

TEST(IscsiPdu, ScsiCommandFields) {
  Pdu p = pdu_with(opcode::kScsiCommand | 0x40, 0x80 | 0x20 | 0x01);  // I, F, W, SIMPLE
  p.bhs[9] = 3;                                                       // LUN 3
  p.set_u32(16, 0x11223344);
  p.set_u32(20, 4096);
  p.set_u32(24, 77);
  p.set_u32(28, 5);
  p.bhs[32] = 0x2a;
  p.data.assign(512, 1);
  auto c = decode_scsi_command(p);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->immediate);
  EXPECT_TRUE(c->final_bit);
  EXPECT_TRUE(c->write);
  EXPECT_FALSE(c->read);
  EXPECT_EQ(c->attributes, 1);
  EXPECT_EQ(fc::decode_lun(c->lun).value(), 3);
  EXPECT_EQ(c->itt, 0x11223344u);
  EXPECT_EQ(c->expected_length, 4096u);
  EXPECT_EQ(c->cmd_sn, 77u);
  EXPECT_EQ(c->exp_stat_sn, 5u);
  ASSERT_EQ(c->cdb.size(), 16u);
  EXPECT_EQ(c->cdb[0], 0x2a);
}

TEST(IscsiPdu, ScsiCommandMalformations) {
  // Neither F nor W: unsolicited data without end.
  EXPECT_FALSE(decode_scsi_command(pdu_with(opcode::kScsiCommand, 0x40)).ok());
  // Neither R nor W with an expected length.
  Pdu p = pdu_with(opcode::kScsiCommand, 0x80);
  p.set_u32(20, 512);
  EXPECT_FALSE(decode_scsi_command(p).ok());
  // An AHS of an unknown type.
  Pdu q = pdu_with(opcode::kScsiCommand, 0x80);
  q.ahs.push_back(Ahs{7, bytes({0})});
  EXPECT_FALSE(decode_scsi_command(q).ok());
  // A bidirectional length AHS of the wrong size.
  Pdu r = pdu_with(opcode::kScsiCommand, 0x80);
  r.ahs.push_back(Ahs{kAhsBidiReadLength, bytes({0, 1})});
  EXPECT_FALSE(decode_scsi_command(r).ok());
  // The wrong opcode.
  EXPECT_FALSE(decode_scsi_command(pdu_with(opcode::kNopOut, 0x80)).ok());
}

TEST(IscsiPdu, LoginRequestFieldsAndMalformations) {
  Pdu p = pdu_with(opcode::kLoginRequest | 0x40, 0x80 | (0 << 2) | 1);  // T, CSG 0, NSG 1
  p.bhs[2] = 0;
  p.bhs[3] = 0;
  for (int i = 0; i < 6; ++i)
    p.bhs[8 + static_cast<size_t>(i)] = static_cast<uint8_t>(0x80 + i);
  p.set_u16(14, 0);
  p.set_u32(16, 9);
  p.set_u16(20, 1);
  p.set_u32(24, 100);
  auto l = decode_login_request(p);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_TRUE(l->transit);
  EXPECT_EQ(l->csg, stage::kSecurity);
  EXPECT_EQ(l->nsg, stage::kOperational);
  EXPECT_EQ(l->isid[5], 0x85);
  EXPECT_EQ(l->cid, 1);
  EXPECT_EQ(l->cmd_sn, 100u);
  // No I bit.
  Pdu q = p;
  q.bhs[0] = opcode::kLoginRequest;
  EXPECT_FALSE(decode_login_request(q).ok());
  // T and C.
  q = p;
  q.bhs[1] |= 0x40;
  EXPECT_FALSE(decode_login_request(q).ok());
  // A transit backwards (CSG 1 to NSG 0), to stage 2, and CSG 3.
  q = p;
  q.bhs[1] = 0x80 | (1 << 2) | 0;
  EXPECT_FALSE(decode_login_request(q).ok());
  q.bhs[1] = 0x80 | (1 << 2) | 2;
  EXPECT_FALSE(decode_login_request(q).ok());
  q.bhs[1] = (3 << 2);
  EXPECT_FALSE(decode_login_request(q).ok());
}

TEST(IscsiPdu, OtherInitiatorDecoders) {
  Pdu n = pdu_with(opcode::kNopOut, 0x80);
  n.set_u32(16, kReservedTag);
  EXPECT_FALSE(decode_nop_out(n).ok());  // reserved ITT needs the I bit
  n.bhs[0] |= 0x40;
  EXPECT_TRUE(decode_nop_out(n).ok());

  Pdu t = pdu_with(opcode::kTaskManagementRequest | 0x40, 0x80 | tmf::kLogicalUnitReset);
  t.set_u32(20, 0xabc);
  t.set_u32(32, 12);
  auto tm = decode_task_management(t);
  ASSERT_TRUE(tm.ok());
  EXPECT_EQ(tm->function, tmf::kLogicalUnitReset);
  EXPECT_EQ(tm->referenced_task_tag, 0xabcu);
  EXPECT_EQ(tm->ref_cmd_sn, 12u);
  t.bhs[1] &= 0x7f;
  EXPECT_FALSE(decode_task_management(t).ok());  // no F

  Pdu x = pdu_with(opcode::kTextRequest, 0xc0);  // F and C
  x.set_u32(16, 1);
  EXPECT_FALSE(decode_text_request(x).ok());
  x.bhs[1] = 0x80;
  x.set_u32(16, kReservedTag);
  EXPECT_FALSE(decode_text_request(x).ok());

  Pdu l = pdu_with(opcode::kLogoutRequest | 0x40, 0x80 | 3);
  EXPECT_FALSE(decode_logout_request(l).ok());  // reason 3
  l.bhs[1] = 0x80 | logout::kCloseSession;
  EXPECT_TRUE(decode_logout_request(l).ok());
  l.data = bytes({1});
  EXPECT_FALSE(decode_logout_request(l).ok());

  Pdu d = pdu_with(opcode::kDataOut, 0x80);
  d.set_u32(20, 7);
  d.set_u32(36, 2);
  d.set_u32(40, 8192);
  auto dd = decode_data_out(d);
  ASSERT_TRUE(dd.ok());
  EXPECT_TRUE(dd->final_bit);
  EXPECT_EQ(dd->ttt, 7u);
  EXPECT_EQ(dd->data_sn, 2u);
  EXPECT_EQ(dd->buffer_offset, 8192u);
}

TEST(IscsiPdu, ScsiResponseCarriesSenseWithItsLengthPrefix) {
  ScsiResponse r;
  r.itt = 0x1234;
  r.status = 0x02;
  r.underflow = true;
  r.residual = 100;
  r.exp_data_sn = 3;
  r.sense = bytes({0x70, 0, 5, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x24, 0, 0, 0, 0, 0});
  const auto out = encode_pdu(build_scsi_response(r, SeqNumbers{10, 20, 40}));
  EXPECT_EQ(out[0], opcode::kScsiResponse);
  EXPECT_EQ(out[1], 0x80 | 0x02);
  EXPECT_EQ(out[2], 0);     // completed at target
  EXPECT_EQ(out[3], 0x02);  // CHECK CONDITION
  EXPECT_EQ(out[7], 20);    // 2 + 18
  EXPECT_EQ(out[19], 0x34);
  EXPECT_EQ(out[27], 10);  // StatSN
  EXPECT_EQ(out[31], 20);  // ExpCmdSN
  EXPECT_EQ(out[35], 40);  // MaxCmdSN
  EXPECT_EQ(out[39], 3);   // ExpDataSN
  EXPECT_EQ(out[47], 100);
  EXPECT_EQ(out[48], 0);
  EXPECT_EQ(out[49], 18);
  EXPECT_EQ(out[50], 0x70);
  EXPECT_EQ(out[50 + 12], 0x24);
  EXPECT_EQ(out.size(), 48u + 20u);
}

TEST(IscsiPdu, DataInWithStatus) {
  DataIn d;
  d.itt = 5;
  d.data_sn = 2;
  d.buffer_offset = 16384;
  d.has_status = true;
  d.status = 0;
  d.overflow = true;
  d.residual = 512;
  const auto payload = bytes({1, 2, 3});
  const auto out = encode_pdu(build_data_in(d, SeqNumbers{7, 8, 9}, payload));
  EXPECT_EQ(out[0], opcode::kDataIn);
  EXPECT_EQ(out[1], 0x80 | 0x04 | 0x01);  // F, O, S
  EXPECT_EQ(out[7], 3);
  EXPECT_EQ(out[20], 0xff);  // TTT reserved
  EXPECT_EQ(out[27], 7);
  EXPECT_EQ(out[39], 2);
  EXPECT_EQ(out[42], 0x40);  // offset 16384
  EXPECT_EQ(out[46], 2);     // residual 512
  EXPECT_EQ(out.size(), 48u + 4u);
  // Without status: no StatSN, no residual.
  DataIn e;
  e.itt = 5;
  const auto plain = encode_pdu(build_data_in(e, SeqNumbers{7, 8, 9}, payload));
  EXPECT_EQ(plain[1], 0);
  EXPECT_EQ(plain[27], 0);
  EXPECT_EQ(plain[31], 8);
}

TEST(IscsiPdu, R2tAndLoginResponseLayouts) {
  R2t r;
  r.lun = fc::make_lun(1);
  r.itt = 1;
  r.ttt = 2;
  r.r2t_sn = 3;
  r.buffer_offset = 4;
  r.desired_length = 65536;
  const auto out = encode_pdu(build_r2t(r, SeqNumbers{5, 6, 7}));
  EXPECT_EQ(out[0], opcode::kR2t);
  EXPECT_EQ(out[1], 0x80);
  EXPECT_EQ(out[9], 1);
  EXPECT_EQ(out[23], 2);
  EXPECT_EQ(out[27], 5);
  EXPECT_EQ(out[39], 3);
  EXPECT_EQ(out[43], 4);
  EXPECT_EQ(out[45], 1);  // 65536

  LoginResponse l;
  l.transit = true;
  l.csg = stage::kOperational;
  l.nsg = stage::kFullFeature;
  l.isid = {1, 2, 3, 4, 5, 6};
  l.tsih = 0x0102;
  l.itt = 9;
  l.status_class = 2;
  l.status_detail = 3;
  const auto text = encode_text({{"TargetAlias", "vt0"}});
  const auto lr = encode_pdu(build_login_response(l, SeqNumbers{1, 2, 3}, text));
  EXPECT_EQ(lr[0], opcode::kLoginResponse);
  EXPECT_EQ(lr[1], 0x80 | (1 << 2) | 3);
  EXPECT_EQ(lr[13], 6);
  EXPECT_EQ(lr[14], 1);
  EXPECT_EQ(lr[15], 2);
  EXPECT_EQ(lr[36], 2);
  EXPECT_EQ(lr[37], 3);
  EXPECT_EQ(lr[7], text.size());
  EXPECT_EQ(lr.size(), 48u + 16u);  // "TargetAlias=vt0\0" is 16 bytes
}

TEST(IscsiText, ParsesPairsAndRefusesMalformedOnes) {
  auto ok = parse_text(encode_text({{"InitiatorName", "iqn.x"}, {"SessionType", "Discovery"}}));
  ASSERT_TRUE(ok.ok());
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[1].first, "SessionType");
  EXPECT_EQ((*ok)[1].second, "Discovery");
  // NUL padding is fine, an empty value too.
  auto padded = parse_text(bytes({'A', '=', 0, 0, 0, 0}));
  ASSERT_TRUE(padded.ok());
  EXPECT_EQ((*padded)[0].second, "");
  EXPECT_FALSE(parse_text(bytes({'A', '=', 'b'})).ok());          // no final NUL
  EXPECT_FALSE(parse_text(bytes({'A', 'b', 0})).ok());            // no '='
  EXPECT_FALSE(parse_text(bytes({'=', 'b', 0})).ok());            // empty key
  EXPECT_FALSE(parse_text(bytes({'A', ' ', '=', 'b', 0})).ok());  // a space in the key
  std::vector<uint8_t> long_key(64, 'k');
  long_key.push_back('=');
  long_key.push_back(0);
  EXPECT_FALSE(parse_text(long_key).ok());
}

TEST(IscsiText, SerialNumberArithmetic) {
  EXPECT_TRUE(sn_less(1, 2));
  EXPECT_FALSE(sn_less(2, 1));
  EXPECT_FALSE(sn_less(5, 5));
  EXPECT_TRUE(sn_less(0xffffffff, 0));
  EXPECT_FALSE(sn_less(0, 0xffffffff));
}

TEST(IscsiLogin, OperationalKeysUseTheirResultFunctions) {
  TargetSettings s;
  s.max_burst_length = 1 << 20;
  s.first_burst_length = 65536;
  s.max_outstanding_r2t = 8;
  s.initial_r2t = false;
  s.immediate_data = true;
  Negotiation n(s);
  auto out = n.on_keys({{"HeaderDigest", "CRC32C,None"},
                        {"DataDigest", "CRC32C"},
                        {"MaxConnections", "4"},
                        {"InitialR2T", "No"},
                        {"ImmediateData", "No"},
                        {"MaxRecvDataSegmentLength", "131072"},
                        {"MaxBurstLength", "16776192"},
                        {"FirstBurstLength", "0x4000"},
                        {"DefaultTime2Wait", "0"},
                        {"DefaultTime2Retain", "20"},
                        {"MaxOutstandingR2T", "64"},
                        {"DataPDUInOrder", "No"},
                        {"DataSequenceInOrder", "Yes"},
                        {"ErrorRecoveryLevel", "2"},
                        {"IFMarker", "Yes"},
                        {"OFMarkInt", "2048~8192"},
                        {"X-com.example.key", "1"},
                        {"MaxBurstLength2", "1"}},
                       stage::kOperational);
  ASSERT_EQ(out.status, login_status::kSuccess) << out.error;
  auto value = [&](const std::string& key) {
    for (const auto& [k, v] : out.reply)
      if (k == key) return v;
    return std::string("<absent>");
  };
  EXPECT_EQ(value("HeaderDigest"), "None");
  EXPECT_EQ(value("DataDigest"), "Reject");
  EXPECT_EQ(value("MaxConnections"), "1");
  EXPECT_EQ(value("InitialR2T"), "No");
  EXPECT_EQ(value("ImmediateData"), "No");
  EXPECT_EQ(value("MaxBurstLength"), "1048576");
  EXPECT_EQ(value("FirstBurstLength"), "16384");
  EXPECT_EQ(value("DefaultTime2Wait"), "2");
  EXPECT_EQ(value("DefaultTime2Retain"), "0");
  EXPECT_EQ(value("MaxOutstandingR2T"), "8");
  EXPECT_EQ(value("DataPDUInOrder"), "Yes");
  EXPECT_EQ(value("DataSequenceInOrder"), "Yes");
  EXPECT_EQ(value("ErrorRecoveryLevel"), "0");
  EXPECT_EQ(value("IFMarker"), "No");
  EXPECT_EQ(value("OFMarkInt"), "Irrelevant");
  EXPECT_EQ(value("X-com.example.key"), "NotUnderstood");
  EXPECT_EQ(value("MaxBurstLength2"), "NotUnderstood");
  // The target declares its own MaxRecvDataSegmentLength, once.
  EXPECT_EQ(value("MaxRecvDataSegmentLength"), "262144");
  const SessionParams& p = n.params();
  EXPECT_EQ(p.initiator_max_recv_dsl, 131072u);
  EXPECT_EQ(p.target_max_recv_dsl, 262144u);
  EXPECT_FALSE(p.initial_r2t);
  EXPECT_FALSE(p.immediate_data);
  EXPECT_EQ(p.max_burst_length, 1u << 20);
  EXPECT_EQ(p.first_burst_length, 16384u);
  EXPECT_EQ(p.max_outstanding_r2t, 8u);
  auto again = n.on_keys({{"InitialR2T", "Yes"}}, stage::kOperational);
  EXPECT_EQ(again.reply.size(), 1u);    // no second MaxRecvDataSegmentLength
  EXPECT_TRUE(n.params().initial_r2t);  // OR
}

TEST(IscsiLogin, DefaultsHoldForKeysNotOffered) {
  Negotiation n(TargetSettings{});
  auto out =
      n.on_keys({{"InitiatorName", "iqn.a"}, {"SessionType", "Discovery"}}, stage::kSecurity);
  EXPECT_EQ(out.status, login_status::kSuccess);
  EXPECT_TRUE(out.reply.empty());  // declarations need no answer
  EXPECT_TRUE(n.discovery());
  EXPECT_EQ(n.initiator_name(), "iqn.a");
  EXPECT_TRUE(n.params().initial_r2t);
  EXPECT_TRUE(n.params().immediate_data);
  EXPECT_EQ(n.params().max_burst_length, 262144u);
  EXPECT_EQ(n.params().initiator_max_recv_dsl, 8192u);
}

TEST(IscsiLogin, SecurityAcceptsOnlyAuthMethodNone) {
  Negotiation ok(TargetSettings{});
  auto a = ok.on_keys({{"AuthMethod", "CHAP,None"}}, stage::kSecurity);
  EXPECT_EQ(a.status, login_status::kSuccess);
  ASSERT_EQ(a.reply.size(), 1u);
  EXPECT_EQ(a.reply[0].second, "None");
  EXPECT_TRUE(ok.auth_none_agreed());

  Negotiation chap(TargetSettings{});
  auto b = chap.on_keys({{"AuthMethod", "CHAP"}}, stage::kSecurity);
  EXPECT_EQ(b.status, login_status::kAuthenticationFailure);
  EXPECT_NE(b.error.find("None"), std::string::npos);

  Negotiation c(TargetSettings{});
  EXPECT_EQ(c.on_keys({{"CHAP_A", "5"}}, stage::kSecurity).status,
            login_status::kAuthenticationFailure);
}

TEST(IscsiLogin, BadValues) {
  Negotiation n(TargetSettings{});
  auto out = n.on_keys({{"MaxBurstLength", "100"},
                        {"InitialR2T", "Maybe"},
                        {"MaxConnections", "0"},
                        {"SessionType", "Discovery"}},
                       stage::kOperational);
  EXPECT_EQ(out.status, login_status::kSuccess);
  EXPECT_EQ(out.reply[0].second, "Reject");
  EXPECT_EQ(out.reply[1].second, "Reject");
  EXPECT_EQ(out.reply[2].second, "Reject");
  EXPECT_EQ(n.params().max_burst_length, 262144u);  // the default stays
  Negotiation m(TargetSettings{});
  EXPECT_EQ(m.on_keys({{"SessionType", "Other"}}, stage::kSecurity).status,
            login_status::kInitiatorError);
  Negotiation k(TargetSettings{});
  EXPECT_EQ(k.on_keys({{"MaxRecvDataSegmentLength", "12"}}, stage::kOperational).status,
            login_status::kInitiatorError);
}

TEST(IscsiLogin, Numbers) {
  EXPECT_EQ(parse_number("0"), 0u);
  EXPECT_EQ(parse_number("4294967295"), 0xffffffffu);
  EXPECT_FALSE(parse_number("4294967296").has_value());
  EXPECT_EQ(parse_number("0x10"), 16u);
  EXPECT_EQ(parse_number("0XfF"), 255u);
  EXPECT_FALSE(parse_number("").has_value());
  EXPECT_FALSE(parse_number("0x").has_value());
  EXPECT_FALSE(parse_number("12a").has_value());
  EXPECT_FALSE(parse_number("-1").has_value());
}

}  // namespace
}  // namespace splitpath::sim::iscsi
