// Bring-up, logins, misses, virtual-target frames and commands, cost model.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "cp/testing/cp_harness.h"
#include "splitpath/fc/bls.h"
#include "splitpath/fc/scsi_data.h"
#include "splitpath/fc/scsi_sense.h"

namespace splitpath::cp {
namespace {

using fpapi::MsgType;
using testing::CpHarness;
using testing::kDiskAId;
using testing::kDiskB;
using testing::kDiskBId;
using testing::kHost1;
using testing::kHost1Id;
using testing::kHost2;
using testing::kHost2Id;

using ControlPathTest = CpHarness;

fc::SenseData sense_of(const fpapi::FpQueueIOComplete& c) {
  auto s = fc::decode_sense_data(c.sense.view());
  EXPECT_TRUE(s.ok());
  return s.ok() ? *s : fc::SenseData{};
}

TEST_F(ControlPathTest, StartSendsDiscoverExposeAndVsegsInOrder) {
  define();
  cp->start();
  env.run_for(0);
  ASSERT_EQ(env.registered.size(), 1u);
  const uint32_t tid = (5u << 16) | (0xFFu << 8) | 0x80u;
  EXPECT_EQ(std::get<0>(env.registered[0]), tid);
  EXPECT_EQ(std::get<1>(env.registered[0]), testing::kTargetWwpn);
  EXPECT_EQ(target_id(), tid);
  for (uint32_t p = 0; p < kPorts; ++p) {
    std::vector<uint64_t> disc_seq, expose_seq, add_seq;
    auto disc = sent<fpapi::FpDiscover>(p, &disc_seq);
    ASSERT_EQ(disc.size(), 1u);
    EXPECT_EQ(disc[0].virtual_initiator, env.virtual_initiator(p));
    auto exposes = sent<fpapi::FpExpose>(p, &expose_seq);
    ASSERT_EQ(exposes.size(), 3u);
    EXPECT_EQ(exposes[0].target_id, tid);
    EXPECT_EQ(exposes[0].lun, 0);
    EXPECT_EQ(exposes[0].flags, fpapi::expose_flags::kAnyInitiator);
    EXPECT_EQ(exposes[0].capacity_blocks, 1500u);
    EXPECT_EQ(exposes[1].flags, 0);  // masked, nobody logged in yet
    EXPECT_EQ(exposes[1].initiator_count, 0);
    EXPECT_EQ(exposes[2].flags,
              fpapi::expose_flags::kAnyInitiator | fpapi::expose_flags::kReadOnly);
    EXPECT_NE(exposes[0].lv_id, exposes[1].lv_id);
    EXPECT_EQ(exposes[1].lv_id, exposes[2].lv_id);
    auto adds = sent<fpapi::FpMapping>(p, MsgType::kFpAddMapping, &add_seq);
    ASSERT_EQ(adds.size(), 3u);  // kVseg only: no disk is logged in yet
    std::vector<uint32_t> ids;
    for (const auto& m : adds) {
      EXPECT_EQ(m.kind, fpapi::MappingKind::kVseg);
      ids.push_back(m.vseg.id);
    }
    EXPECT_EQ(adds[1].vseg.virtual_start_lba, 1000u);
    EXPECT_EQ(adds[1].vseg.length, 500u);
    std::sort(ids.begin(), ids.end());
    EXPECT_TRUE(std::adjacent_find(ids.begin(), ids.end()) == ids.end());
    EXPECT_LT(disc_seq[0], expose_seq[0]);
    EXPECT_LT(expose_seq.back(), add_seq[0]);
  }
  // One PLOGI per (port, disk).
  EXPECT_EQ(env.frames.size(), 4u);
}

TEST_F(ControlPathTest, LoginsThenRedirectEntries) {
  define();
  cp->start();
  env.run_for(0);
  accept_logins();  // PLOGI ACCs -> PRLIs
  ASSERT_EQ(env.frames.size(), 8u);
  for (size_t i = 4; i < 8; ++i)
    EXPECT_EQ(env.frames[i].bytes[fc::kFrameHeaderSize], fc::els_cmd::kPrli);
  EXPECT_TRUE(sent<fpapi::FpMapping>(0, MsgType::kFpAddMapping).size() == 3u);
  accept_logins();  // PRLI ACCs -> redirects
  EXPECT_EQ(cp->stats().vi_logins, 4u);
  for (uint32_t p = 0; p < kPorts; ++p) {
    auto adds = sent<fpapi::FpMapping>(p, MsgType::kFpAddMapping);
    ASSERT_EQ(adds.size(), 6u);
    for (size_t i = 3; i < 6; ++i) {
      EXPECT_EQ(adds[i].kind, fpapi::MappingKind::kRedirect);
      EXPECT_EQ(adds[i].redirect.descriptor.kind, map::StorageKind::kSimple);
    }
    const map::SimpleStorage a = adds[3].redirect.descriptor.simple();
    EXPECT_EQ(a.port_id, kDiskAId);
    EXPECT_EQ(a.lun, 1);
    EXPECT_EQ(a.start_lba, 5000u);
    // vol1's VSEG keeps its FoW flag.
    bool fow = false;
    for (size_t i = 3; i < 6; ++i)
      fow |= adds[i].redirect.fault_on_write();
    EXPECT_TRUE(fow);
  }
}

TEST_F(ControlPathTest, DiskResolvedLateIsRetried) {
  env.name_server.erase(kDiskB);
  define();
  cp->start();
  env.run_for(0);
  EXPECT_EQ(env.frames.size(), 2u);  // only disk A
  env.run_for(3'000'000);
  EXPECT_EQ(env.frames.size(), 2u);
  env.name_server[kDiskB] = kDiskBId;
  env.run_for(1'000'000);
  ASSERT_EQ(env.frames.size(), 4u);
  auto h = fc::decode_frame_header(env.frames[3].bytes);
  EXPECT_EQ(h->d_id.value, kDiskBId);
}

TEST_F(ControlPathTest, UnansweredLoginIsRetriedAfterTimeout) {
  define();
  cp->start();
  env.run_for(0);
  EXPECT_EQ(env.frames.size(), 4u);
  env.run_for(CpConfig{}.els_timeout_ns);
  EXPECT_EQ(env.frames.size(), 8u);
}

TEST_F(ControlPathTest, DefinitionErrorsArePrecise) {
  define();
  std::string error;
  VolumeDef bad;
  bad.name = "vol0";
  bad.vsegs = {VsegDef{10, testing::kDiskA, 1, 0, 0, 0}};
  EXPECT_FALSE(cp->add_volume(bad, &error));
  EXPECT_EQ(error, "volume 'vol0' is already defined");
  bad.name = "x";
  bad.vsegs = {VsegDef{0, testing::kDiskA, 1, 0, 0, 0}};
  EXPECT_FALSE(cp->add_volume(bad, &error));
  EXPECT_EQ(error, "volume 'x' VSEG 0: blocks is 0");
  bad.vsegs = {VsegDef{100, testing::kDiskA, 1, 5990, 0, 0}};
  EXPECT_FALSE(cp->add_volume(bad, &error));
  EXPECT_EQ(error,
            "volume 'x' VSEG 0 overlaps volume 'vol0' VSEG 0 on disk 0x500a000000000001 LUN 1");
  VirtualTargetDef t;
  t.name = "t1";
  t.wwpn = 0x77;
  t.luns = {LunDef{0, "nope", {}, false}};
  EXPECT_FALSE(cp->add_target(t, &error));
  EXPECT_EQ(error, "target 't1' LUN 0: unknown volume 'nope'");
  t.wwpn = testing::kTargetWwpn;
  EXPECT_FALSE(cp->add_target(t, &error));
  EXPECT_EQ(error, "target 't1': wwpn 0x5005350000000001 is already used by target 't0'");
  cp->start();
  EXPECT_FALSE(cp->add_volume(bad, &error));
  EXPECT_EQ(error, "add_volume after start()");
}

TEST_F(ControlPathTest, MissLoadsExtentThenContinues) {
  bring_up();
  fpapi::CpMappingMiss miss;
  miss.utag = 7;
  miss.lv_id = 1;
  miss.vseg_id = 1;
  miss.lba = 150;
  miss.blocks = 8;
  deliver(0, miss);
  std::vector<uint64_t> add_seq, reply_seq;
  auto adds = sent<fpapi::FpMapping>(0, MsgType::kFpAddMapping, &add_seq);
  auto replies = sent<fpapi::CpMappingMissReply>(0, &reply_seq);
  ASSERT_EQ(adds.size(), 1u);  // the redirect entry is loaded already
  EXPECT_EQ(adds[0].kind, fpapi::MappingKind::kExtent);
  EXPECT_EQ(adds[0].vseg.id, 1u);
  EXPECT_EQ(adds[0].extent.start, 100u);
  EXPECT_EQ(adds[0].extent.length, 100u);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].utag, 7u);
  EXPECT_EQ(replies[0].action, fpapi::MissAction::kContinue);
  EXPECT_LT(add_seq[0], reply_seq[0]);
  EXPECT_EQ(cp->stats().mapping_misses, 1u);

  // A miss on a VSEG the CP does not know: QUEUE.
  clear();
  miss.vseg_id = 99;
  deliver(0, miss);
  replies = sent<fpapi::CpMappingMissReply>(0);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].action, fpapi::MissAction::kQueue);
}

TEST_F(ControlPathTest, MissBeforeDiskLoginIsQueued) {
  define();
  cp->start();
  env.run_for(0);
  fpapi::CpMappingMiss miss;
  miss.utag = 1;
  miss.lv_id = 1;
  miss.vseg_id = 1;
  miss.lba = 0;
  miss.blocks = 1;
  deliver(1, miss);
  auto replies = sent<fpapi::CpMappingMissReply>(1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].action, fpapi::MissAction::kQueue);
  EXPECT_TRUE(sent<fpapi::FpMapping>(1, MsgType::kFpAddMapping).size() == 3u);  // kVseg only
}

TEST_F(ControlPathTest, HostPlogiAppendsExposureBeforeLsAcc) {
  bring_up();
  deliver_frame(0, host_plogi(kHost1Id, kHost1, 0x10));
  // kAppend for the masked LUN 1 on every FP, and no LS_ACC yet.
  EXPECT_TRUE(env.frames.empty());
  std::vector<uint32_t> req_ids;
  for (uint32_t p = 0; p < kPorts; ++p) {
    auto e = sent<fpapi::FpExpose>(p);
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].lun, 1);
    EXPECT_EQ(e[0].flags, fpapi::expose_flags::kAppend);
    ASSERT_EQ(e[0].initiator_count, 1);
    EXPECT_EQ(e[0].initiators[0], kHost1Id);
    req_ids.push_back(e[0].req_id);
  }
  fpapi::FpReply r;
  r.request = MsgType::kFpExpose;
  r.req_id = req_ids[0];
  deliver(0, r);
  EXPECT_TRUE(env.frames.empty());
  r.req_id = req_ids[1];
  deliver(1, r);
  ASSERT_EQ(env.frames.size(), 1u);
  ElsReply acc = parse_els_reply(env.frames[0].bytes, fc::els_cmd::kPlogi);
  EXPECT_TRUE(acc.accepted);
  EXPECT_EQ(acc.port_name, testing::kTargetWwpn);

  // A host not in the list: LS_ACC at once, no exposure.
  clear();
  deliver_frame(0, host_plogi(kHost2Id, kHost2, 0x11));
  EXPECT_TRUE(sent<fpapi::FpExpose>(0).empty());
  ASSERT_EQ(env.frames.size(), 1u);
  EXPECT_TRUE(parse_els_reply(env.frames[0].bytes, fc::els_cmd::kPlogi).accepted);
}

TEST_F(ControlPathTest, PrliBeforePlogiIsRejected) {
  bring_up();
  deliver_frame(0, make_prli_initiator(kHost2Id, target_id(), 0x20));
  ASSERT_EQ(env.frames.size(), 1u);
  ElsReply r = parse_els_reply(env.frames[0].bytes);
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(r.code, fc::els_cmd::kLsRjt);
  clear();
  deliver_frame(0, host_plogi(kHost2Id, kHost2, 0x21));
  deliver_frame(0, make_prli_initiator(kHost2Id, target_id(), 0x22));
  ASSERT_EQ(env.frames.size(), 2u);
  EXPECT_TRUE(parse_els_reply(env.frames[1].bytes, fc::els_cmd::kPrli).accepted);
}

TEST_F(ControlPathTest, TargetCommandsAnsweredWithPutData) {
  bring_up();
  // INQUIRY, 96 bytes allowed.
  queue_io(0, fpapi::FaultKind::kNotReadWrite,
           make_io(1, target_id(), 0, fc::make_inquiry(96), 96, kHost2Id));
  std::vector<uint64_t> put_seq, done_seq;
  auto puts = sent<fpapi::FpPutData>(0, &put_seq);
  auto done = sent<fpapi::FpQueueIOComplete>(0, &done_seq);
  ASSERT_FALSE(puts.empty());
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].utag, 1u);
  EXPECT_EQ(done[0].scsi_status, fc::scsi_status::kGood);
  EXPECT_LT(put_seq.back(), done_seq[0]);
  EXPECT_EQ(puts[0].offset, 0u);
  EXPECT_EQ(puts[0].data.data[0] & 0x1F, 0);  // direct-access block device
  EXPECT_EQ(cp->stats().target_commands, 1u);

  // READ CAPACITY(10) of LUN 0: 1500 blocks of 512.
  clear();
  queue_io(0, fpapi::FaultKind::kNotReadWrite,
           make_io(2, target_id(), 0, fc::make_read_capacity10(), 8, kHost2Id));
  puts = sent<fpapi::FpPutData>(0);
  ASSERT_EQ(puts.size(), 1u);
  auto cap = fc::decode_read_capacity10_data(puts[0].data.view());
  ASSERT_TRUE(cap.ok());
  EXPECT_EQ(cap->returned_lba, 1499u);
  EXPECT_EQ(cap->block_length, 512u);

  // REPORT LUNS: host 2 (unknown to masking) sees LUNs 0 and 2; host 1, logged
  // in with its WWPN, sees all three.
  clear();
  queue_io(0, fpapi::FaultKind::kNotReadWrite,
           make_io(3, target_id(), 0, fc::make_report_luns(256), 256, kHost2Id));
  puts = sent<fpapi::FpPutData>(0);
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(fc::load_be32(puts[0].data.data.data()), 16u);
  done = sent<fpapi::FpQueueIOComplete>(0);
  EXPECT_EQ(done[0].residual_flags, fc::fcp_rsp_flags::kResidUnder);
  EXPECT_EQ(done[0].residual, 256u - 24u);
  deliver_frame(0, host_plogi(kHost1Id, kHost1, 0x30));
  clear();
  queue_io(0, fpapi::FaultKind::kNotReadWrite,
           make_io(4, target_id(), 0, fc::make_report_luns(256), 256, kHost1Id));
  puts = sent<fpapi::FpPutData>(0);
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(fc::load_be32(puts[0].data.data.data()), 24u);

  // TEST UNIT READY on the masked LUN from host 2: LOGICAL UNIT NOT SUPPORTED.
  clear();
  queue_io(0, fpapi::FaultKind::kNotReadWrite,
           make_io(5, target_id(), 1, fc::make_test_unit_ready(), 0, kHost2Id));
  done = sent<fpapi::FpQueueIOComplete>(0);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].scsi_status, fc::scsi_status::kCheckCondition);
  EXPECT_EQ(sense_of(done[0]).code, fc::asc::kLogicalUnitNotSupported);
}

TEST_F(ControlPathTest, LargeInquiryDataIsChunked) {
  bring_up();
  queue_io(0, fpapi::FaultKind::kNotReadWrite,
           make_io(1, target_id(), 0, fc::make_inquiry(1024, true, 0x83), 1024, kHost2Id));
  auto puts = sent<fpapi::FpPutData>(0);
  ASSERT_FALSE(puts.empty());
  uint32_t expect = 0;
  for (const auto& p : puts) {
    EXPECT_EQ(p.offset, expect);
    EXPECT_LE(p.data.length, fpapi::kMaxChunk);
    expect += p.data.length;
  }
}

std::vector<uint8_t> abts_frame(uint32_t s_id, uint32_t d_id, uint16_t ox_id) {
  fc::FrameHeader h;
  h.r_ctl = fc::rctl::kBlsAbts;
  h.s_id = fc::FcId{s_id};
  h.d_id = fc::FcId{d_id};
  h.type = fc::fc_type::kBls;
  h.f_ctl = fc::fctl::kFirstSequence | fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative;
  h.ox_id = ox_id;
  h.rx_id = 0x55;
  std::vector<uint8_t> f(fc::kFrameHeaderSize);
  (void)fc::encode_frame_header(h, f);
  return f;
}

TEST_F(ControlPathTest, HostAbtsAbortsAndCompletesSilently) {
  bring_up();
  deliver_frame(1, abts_frame(kHost2Id, target_id(), 0x123));
  auto aborts = sent<fpapi::FpAbortPendingIOs>(1);
  ASSERT_EQ(aborts.size(), 1u);
  EXPECT_EQ(aborts[0].filter.initiator, kHost2Id);
  EXPECT_EQ(aborts[0].filter.ox_id, 0x123);
  ASSERT_EQ(env.frames.size(), 1u);
  EXPECT_EQ(env.frames[0].bytes[0], fc::rctl::kBlsBaAcc);
  // The FP hands the I/O back: silent completion, no reissue.
  fpapi::CpQueueIO q;
  q.reason = fpapi::FaultKind::kAborted;
  q.io = make_io(9, target_id(), 0, fc::make_read(0, 8), 4096, kHost2Id, 0x123);
  deliver(1, q);
  auto done = sent<fpapi::FpQueueIOComplete>(1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].utag, 9u);
  EXPECT_EQ(done[0].silent, 1);
  EXPECT_TRUE(sent<fpapi::FpDispatchIO>(1).empty());
  EXPECT_EQ(cp->stats().aborted_ios, 1u);
}

TEST_F(ControlPathTest, HostAbtsOfCpOwnedIoCompletesOnlySilently) {
  CpConfig config;
  config.max_legs_per_io = 1;
  bring_up(config);
  queue_io(0, fpapi::FaultKind::kSpansExtents,
           make_io(3, target_id(), 0, fc::make_read(90, 20), 20 * 512, kHost2Id, 0x77));
  auto legs = sent<fpapi::FpDispatchIO>(0);
  ASSERT_EQ(legs.size(), 1u);
  deliver_frame(0, abts_frame(kHost2Id, target_id(), 0x77));
  // As the FP does it: the leg ends with a transport error, then the I/O
  // comes back as kAborted.
  fpapi::CpDispatchIOComplete c;
  c.dtag = legs[0].dtag;
  c.utag = 3;
  c.transport_error = 1;
  deliver(0, c);
  EXPECT_TRUE(sent<fpapi::FpQueueIOComplete>(0).empty());
  EXPECT_EQ(sent<fpapi::FpDispatchIO>(0).size(), 1u);  // no second leg
  fpapi::CpQueueIO q;
  q.reason = fpapi::FaultKind::kAborted;
  q.io = make_io(3, target_id(), 0, fc::make_read(90, 20), 20 * 512, kHost2Id, 0x77);
  deliver(0, q);
  auto done = sent<fpapi::FpQueueIOComplete>(0);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].silent, 1);
  // A late completion of a forgotten leg is dropped.
  deliver(0, c);
  EXPECT_EQ(sent<fpapi::FpQueueIOComplete>(0).size(), 1u);
}

TEST_F(ControlPathTest, MalformedMessagesAreCountedAndDropped) {
  bring_up();
  const uint8_t junk[3] = {1, 2, 3};
  cp->on_fp_message(0, static_cast<uint32_t>(MsgType::kCpQueueIO), junk);
  cp->on_fp_message(0, 0xDEAD, junk);
  cp->on_fp_message(0, static_cast<uint32_t>(MsgType::kCpFrame), {});
  cp->on_fp_message(7, static_cast<uint32_t>(MsgType::kCpFrame), junk);  // no such port
  env.run_for(1'000'000);
  EXPECT_EQ(cp->stats().malformed_messages, 3u);
  EXPECT_EQ(cp->stats().dropped, 1u);
  // A frame too short for a header, and one for nobody.
  const uint8_t tiny[4] = {0x22, 0, 0, 0};
  deliver_frame(0, tiny);
  std::vector<uint8_t> stray = abts_frame(kHost2Id, 0x0A0B0C, 1);
  deliver_frame(0, stray);
  EXPECT_EQ(cp->stats().dropped, 3u);
  fpapi::CpDispatchIOComplete c;
  c.dtag = 12345;
  deliver(0, c);
  EXPECT_EQ(cp->stats().dropped, 4u);
  EXPECT_TRUE(env.frames.empty());
}

// Random but well-formed messages of every FP -> CP type, and random frames:
// the CP must neither crash nor answer with something that does not encode.
TEST_F(ControlPathTest, RandomMessagesNeverCrash) {
  bring_up();
  std::mt19937 rng(1234);
  auto randomize = [&](auto msg, bool trailing_bytes_field) {
    std::array<uint8_t, 1024> buf{};
    const size_t n = fpapi::encode(msg, buf);
    for (size_t i = 0; i < n; ++i)
      buf[i] = static_cast<uint8_t>(rng());
    if (trailing_bytes_field) buf[n - 2] = buf[n - 1] = 0;
    return std::vector<uint8_t>(buf.begin(), buf.begin() + n);
  };
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> payload;
    MsgType type{};
    switch (rng() % 8) {
      case 0:
        type = MsgType::kFpReply;
        payload = randomize(fpapi::FpReply{}, false);
        break;
      case 1:
        type = MsgType::kFpQueryPendingIOsReply;
        payload = randomize(fpapi::FpQueryPendingIOsReply{}, false);
        break;
      case 2:
        type = MsgType::kCpMappingMiss;
        payload = randomize(fpapi::CpMappingMiss{}, false);
        payload[4 + 3] = static_cast<uint8_t>(rng() % 3);  // lv_id 0..2, often known
        break;
      case 3: {
        type = MsgType::kCpQueueIO;
        payload = randomize(fpapi::CpQueueIO{}, true);
        payload[0] = static_cast<uint8_t>(rng() % 13);
        // Mostly our target, LUN 0..3, small LBAs.
        fc::store_be32(payload.data() + 9, target_id());
        fc::store_be16(payload.data() + 15, static_cast<uint16_t>(rng() % 4));
        break;
      }
      case 4:
        type = MsgType::kCpDispatchIOComplete;
        payload = randomize(fpapi::CpDispatchIOComplete{}, true);
        break;
      case 5: {
        type = MsgType::kCpFrame;
        fpapi::CpFrame f;
        std::vector<uint8_t> frame(rng() % 120);
        for (auto& b : frame)
          b = static_cast<uint8_t>(rng());
        if (frame.size() >= 24) {
          const uint8_t rctls[] = {0x22, 0x23, 0x81, 0x01};
          frame[0] = rctls[rng() % 4];
          fc::store_be24(frame.data() + 1, rng() % 2 ? target_id() : env.virtual_initiator(0));
          frame[8] = static_cast<uint8_t>(rng() % 2);
          frame[13] = 0;
        }
        f.length = static_cast<uint32_t>(frame.size() + rng() % 2);
        f.frame.assign(frame);
        std::array<uint8_t, 512> buf{};
        const size_t n = fpapi::encode(f, buf);
        payload.assign(buf.begin(), buf.begin() + n);
        break;
      }
      case 6:
        type = MsgType::kFpGetDataReply;
        payload = randomize(fpapi::FpGetDataReply{}, true);
        break;
      default:
        type = static_cast<MsgType>(rng());
        payload = randomize(fpapi::FpReply{}, false);
        break;
    }
    cp->on_fp_message(rng() % (kPorts + 1), static_cast<uint32_t>(type), payload);
    if (i % 16 == 0) env.run_for(100'000);
  }
  env.run_for(10'000'000);
  EXPECT_GT(cp->stats().messages, 19000u);
  for (const auto& m : env.messages)
    EXPECT_LE(m.payload.size(), fpapi::kMaxMessageSize);
}

TEST_F(ControlPathTest, BusyTimeAccumulatesPerMessage) {
  CpConfig config;
  config.message_cost_ns = 1'000;
  config.fault_cost_ns = 10'000;
  bring_up(config);
  const CpStats before = cp->stats();
  // Three misses delivered at once are handled one after another.
  for (uint32_t i = 0; i < 3; ++i) {
    fpapi::CpMappingMiss miss;
    miss.utag = i;
    miss.lv_id = 1;
    miss.vseg_id = 1;
    miss.lba = 0;
    miss.blocks = 1;
    std::array<uint8_t, 64> buf{};
    const size_t n = fpapi::encode(miss, buf);
    cp->on_fp_message(0, static_cast<uint32_t>(MsgType::kCpMappingMiss),
                      std::span<const uint8_t>(buf.data(), n));
  }
  env.run_for(2'500);
  EXPECT_EQ(sent<fpapi::CpMappingMissReply>(0).size(), 2u);
  env.run_for(1'000);
  EXPECT_EQ(sent<fpapi::CpMappingMissReply>(0).size(), 3u);
  EXPECT_EQ(cp->stats().busy_ns - before.busy_ns, 3'000u);
  EXPECT_EQ(cp->stats().messages - before.messages, 3u);
  // A CpQueueIO costs the fault cost on top.
  queue_io(0, fpapi::FaultKind::kNotReadWrite,
           make_io(1, target_id(), 0, fc::make_test_unit_ready(), 0, kHost2Id));
  EXPECT_EQ(cp->stats().busy_ns - before.busy_ns, 3'000u + 11'000u);
  auto done = sent<fpapi::FpQueueIOComplete>(0);
  ASSERT_EQ(done.size(), 1u);
}

}  // namespace
}  // namespace splitpath::cp

namespace splitpath::cp {
namespace {

// Without eager_vi_logins a port's virtual initiator logs into a disk only
// when something needs it: a host logging in through that port (the disks
// behind the LUNs the host may see), or a miss on that port.
class LazyLoginTest : public testing::CpHarness {};

size_t plogis_from(const testing::FakeEnv& env, uint32_t vi) {
  size_t n = 0;
  for (const auto& f : env.frames) {
    auto h = fc::decode_frame_header(f.bytes);
    n += h.ok() && h->s_id.value == vi && h->r_ctl == fc::rctl::kElsRequest &&
         f.bytes[fc::kFrameHeaderSize] == fc::els_cmd::kPlogi;
  }
  return n;
}

TEST_F(LazyLoginTest, HostLoginAndMissesLogInOnlyThePortsThatNeedIt) {
  lazy_logins = true;
  define();
  cp->start();
  for (uint32_t p = 0; p < kPorts; ++p) {
    fpapi::FpDiscoverReply r;
    r.port_index = p;
    r.virtual_initiator = env.virtual_initiator(p);
    r.max_transfer_bytes = testing::kMaxTransfer;
    deliver(p, r);
  }
  EXPECT_EQ(plogis_from(env, env.virtual_initiator(0)), 0u);
  EXPECT_EQ(plogis_from(env, env.virtual_initiator(1)), 0u);

  // host2 may see LUNs 0 (vol0: disks A and B) and 2 (vol1: disk B): port 0
  // logs into both disks, port 1 into none.
  deliver_frame(0, host_plogi(testing::kHost2Id, testing::kHost2, 0x30));
  EXPECT_EQ(plogis_from(env, env.virtual_initiator(0)), 2u);
  EXPECT_EQ(plogis_from(env, env.virtual_initiator(1)), 0u);
  accept_logins();
  accept_logins();
  EXPECT_EQ(cp->stats().vi_logins, 2u);

  // A miss on port 1 (disk A) is queued and starts port 1's login there.
  fpapi::CpMappingMiss miss;
  miss.utag = 9;
  miss.lv_id = 1;
  miss.vseg_id = 1;
  miss.lba = 10;
  miss.blocks = 1;
  deliver(1, miss);
  auto replies = sent<fpapi::CpMappingMissReply>(1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].action, fpapi::MissAction::kQueue);
  EXPECT_EQ(plogis_from(env, env.virtual_initiator(1)), 1u);
  accept_logins();
  accept_logins();
  EXPECT_EQ(cp->stats().vi_logins, 3u);
  // Port 1 now has disk A's redirect entries; the next miss continues.
  miss.utag = 10;
  deliver(1, miss);
  replies = sent<fpapi::CpMappingMissReply>(1);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[1].action, fpapi::MissAction::kContinue);
}

}  // namespace
}  // namespace splitpath::cp
