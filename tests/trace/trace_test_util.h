// Helpers for the trace tests: FC frames built with the project's encoders, their
// 225 and FCoE encapsulations, and capture files written with libpcap.
#pragma once

#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "fabric_sim/trace/decode_report.h"
#include "fabric_sim/trace/trace_reader.h"
#include "nlohmann/json.hpp"
#include "splitpath/fc/bls.h"
#include "splitpath/fc/crc32.h"
#include "splitpath/fc/ct.h"
#include "splitpath/fc/els.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/frame_header.h"
#include "splitpath/fc/scsi.h"

namespace splitpath::sim::trace::testing {

using Bytes = std::vector<uint8_t>;
using fc::FcId;

inline std::filesystem::path captures_dir() {
  const char* src = std::getenv("SPLITPATH_SOURCE_DIR");
  return std::filesystem::path(src ? src : ".") / ".." / "shared" / "captures";
}

inline const char* const kRealCaptures[] = {
    "bluecmd-fc2-real-frames.pcap", "bluecmd-fc2delims-real-frames.pcap",
    "fikonfarm-fcoe1-init.pcap",    "fikonfarm-fcoe1-fabric.pcap",
    "fikonfarm-fcoe1-merged.pcap",
};

inline Bytes slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void spill(const std::string& path, const Bytes& b) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// ------------------------------------------------------------------ frames

inline constexpr uint32_t kFctlRequest =
    fc::fctl::kFirstSequence | fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative;
inline constexpr uint32_t kFctlReply = fc::fctl::kExchangeContext | fc::fctl::kLastSequence |
                                       fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative;

inline Bytes frame(uint8_t r_ctl, uint8_t type, FcId s_id, FcId d_id, uint32_t f_ctl,
                   uint16_t ox_id, uint16_t rx_id, const Bytes& payload, uint32_t parameter = 0,
                   uint16_t seq_cnt = 0, uint8_t seq_id = 0) {
  fc::FrameHeader h;
  h.r_ctl = r_ctl;
  h.type = type;
  h.s_id = s_id;
  h.d_id = d_id;
  h.f_ctl = f_ctl;
  h.ox_id = ox_id;
  h.rx_id = rx_id;
  h.parameter = parameter;
  h.seq_cnt = seq_cnt;
  h.seq_id = seq_id;
  Bytes out(fc::kFrameHeaderSize);
  (void)fc::encode_frame_header(h, out);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

template <typename T, typename Encode>
Bytes encode(const T& value, Encode enc) {
  std::array<uint8_t, 2048> buf{};
  auto n = enc(value, fc::MutableBytes(buf));
  return n.ok() ? Bytes(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n)) : Bytes{};
}

inline Bytes fcp_cmnd(FcId init, FcId tgt, uint16_t ox, const fc::ScsiCommand& cmd, uint32_t fcp_dl,
                      uint16_t lun = 0) {
  fc::FcpCmnd c;
  c.lun = fc::make_lun(lun);
  const Bytes cdb = encode(cmd, fc::encode_cdb);
  fc::set_fcp_cdb(c, cdb);
  c.wrdata = cmd.kind == fc::ScsiCommandKind::kWrite;
  c.rddata = !c.wrdata && fcp_dl > 0;
  c.fcp_dl = fcp_dl;
  return frame(fc::rctl::kDeviceDataUnsolicitedCmd, fc::fc_type::kFcp, init, tgt, kFctlRequest, ox,
               fc::kUnassignedXid, encode(c, fc::encode_fcp_cmnd));
}

// A CDB the codec may not know (WRITE SAME, vendor commands), sent as is.
inline Bytes fcp_cmnd_raw(FcId init, FcId tgt, uint16_t ox, const Bytes& cdb, uint32_t fcp_dl) {
  fc::FcpCmnd c;
  fc::set_fcp_cdb(c, cdb);
  c.wrdata = fcp_dl > 0;
  c.fcp_dl = fcp_dl;
  return frame(fc::rctl::kDeviceDataUnsolicitedCmd, fc::fc_type::kFcp, init, tgt, kFctlRequest, ox,
               fc::kUnassignedXid, encode(c, fc::encode_fcp_cmnd));
}

inline Bytes fcp_data(FcId from, FcId to, bool from_target, uint16_t ox, uint16_t rx,
                      uint32_t offset, size_t size, bool last, uint8_t fill_byte = 0x5A) {
  uint32_t f = fc::fctl::kRelativeOffsetPresent;
  if (from_target) f |= fc::fctl::kExchangeContext;
  if (last) f |= fc::fctl::kEndSequence | (from_target ? 0 : fc::fctl::kSequenceInitiative);
  return frame(fc::rctl::kDeviceDataSolicitedData, fc::fc_type::kFcp, from, to, f, ox, rx,
               Bytes(size, fill_byte), offset);
}

inline Bytes fcp_xfer_rdy(FcId tgt, FcId init, uint16_t ox, uint16_t rx, uint32_t offset,
                          uint32_t burst) {
  return frame(fc::rctl::kDeviceDataDataDescriptor, fc::fc_type::kFcp, tgt, init,
               fc::fctl::kExchangeContext | fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative,
               ox, rx, encode(fc::FcpXferRdy{offset, burst}, fc::encode_fcp_xfer_rdy));
}

struct Sense {
  uint8_t key = 0;
  uint8_t asc = 0;
  uint8_t ascq = 0;
};

inline Bytes fcp_rsp(FcId tgt, FcId init, uint16_t ox, uint16_t rx, uint8_t status,
                     std::optional<Sense> sense = std::nullopt, uint32_t resid_under = 0) {
  fc::FcpRsp r;
  r.scsi_status = status;
  if (resid_under) {
    r.resid_under = true;
    r.residual = resid_under;
  }
  if (sense) {
    const Bytes s = encode(fc::make_sense(sense->key, fc::AscAscq{sense->asc, sense->ascq}),
                           fc::encode_sense_data);
    fc::set_fcp_sense(r, s);
  }
  return frame(fc::rctl::kDeviceDataCommandStatus, fc::fc_type::kFcp, tgt, init, kFctlReply, ox, rx,
               encode(r, fc::encode_fcp_rsp));
}

inline Bytes service_parameters(uint8_t command, uint64_t wwpn) {
  fc::ServiceParameters sp;
  sp.command = command;
  sp.common.set_plogi_sequences(255, 31);
  sp.port_name = fc::Wwn{wwpn};
  sp.node_name = fc::Wwn{wwpn ^ 0x0100000000000000ull};
  return encode(sp, fc::encode_service_parameters);
}

inline Bytes els_request(FcId s, FcId d, uint16_t ox, const Bytes& payload) {
  return frame(fc::rctl::kElsRequest, fc::fc_type::kEls, s, d, kFctlRequest, ox, fc::kUnassignedXid,
               payload);
}
inline Bytes els_reply(FcId s, FcId d, uint16_t ox, uint16_t rx, const Bytes& payload) {
  return frame(fc::rctl::kElsReply, fc::fc_type::kEls, s, d, kFctlReply, ox, rx, payload);
}

inline Bytes ct_iu(const fc::CtPreamble& p, const Bytes& body) {
  Bytes out = encode(p, fc::encode_ct_preamble);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}
inline Bytes ct_request(FcId s, uint16_t ox, uint16_t command, const Bytes& body) {
  return frame(fc::rctl::kDeviceDataUnsolicitedCtl, fc::fc_type::kCt, s, fc::kDirectoryServer,
               kFctlRequest, ox, fc::kUnassignedXid, ct_iu(fc::make_ns_request(command), body));
}
inline Bytes ct_reply(FcId d, uint16_t ox, uint16_t rx, const fc::CtPreamble& p,
                      const Bytes& body) {
  return frame(fc::rctl::kDeviceDataSolicitedCtl, fc::fc_type::kCt, fc::kDirectoryServer, d,
               kFctlReply, ox, rx, ct_iu(p, body));
}

inline Bytes abts(FcId s, FcId d, uint16_t ox, uint16_t rx) {
  return frame(fc::rctl::kBlsAbts, fc::fc_type::kBls, s, d,
               fc::fctl::kSequenceInitiative | fc::fctl::kEndSequence, ox, rx, {});
}
inline Bytes ba_acc(FcId s, FcId d, uint16_t ox, uint16_t rx) {
  return frame(fc::rctl::kBlsBaAcc, fc::fc_type::kBls, s, d,
               fc::fctl::kExchangeContext | fc::fctl::kLastSequence | fc::fctl::kEndSequence, ox,
               rx, encode(fc::BaAcc{false, 0, ox, rx, 0, 0xFFFF}, fc::encode_ba_acc));
}

inline constexpr FcId kInit{0x010100};
inline constexpr FcId kTarget{0x010200};

// A short, complete conversation between initiator 01.01.00 and target 01.02.00
// that exercises every CDB form tshark decodes: fabric login (from 00.00.00),
// name server, port login, REPORT LUNS, READ(6/10/12/16), WRITE(10/16) with
// XFER_RDY, SYNCHRONIZE CACHE(10/16), a READ failing with CHECK CONDITION
// (MEDIUM ERROR 11/00), TEST UNIT READY on LUN 1 answered BUSY, and an ABTS.
// Every exchange gets its answer. Frame i is sent at i microseconds.
inline std::vector<Bytes> sample_session() {
  using namespace fc;
  std::vector<Bytes> f;
  f.push_back(els_request(FcId{0}, kFabricLoginServer, 0x0001,
                          service_parameters(els_cmd::kFlogi, 0x1000000000000001ull)));
  f.push_back(els_reply(kFabricLoginServer, kInit, 0x0001, 0x0101,
                        service_parameters(els_cmd::kAcc, 0x2000000000000001ull)));
  f.push_back(els_request(kInit, kDirectoryServer, 0x0002,
                          service_parameters(els_cmd::kPlogi, 0x1000000000000001ull)));
  f.push_back(els_reply(kDirectoryServer, kInit, 0x0002, 0x0102,
                        service_parameters(els_cmd::kAcc, 0x2000000000000002ull)));
  f.push_back(
      ct_request(kInit, 0x0003, ct_cmd::kGidFt, encode(GidFtRequest{}, encode_gid_ft_request)));
  {
    const FcId ids[] = {kTarget};
    std::array<uint8_t, 64> buf{};
    const auto n = encode_gid_ft_acc(ids, buf);
    f.push_back(ct_reply(kInit, 0x0003, 0x0103, make_ct_accept(make_ns_request(ct_cmd::kGidFt)),
                         Bytes(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n))));
  }
  f.push_back(els_request(kInit, kTarget, 0x0004,
                          service_parameters(els_cmd::kPlogi, 0x1000000000000001ull)));
  f.push_back(els_reply(kTarget, kInit, 0x0004, 0x0201,
                        service_parameters(els_cmd::kAcc, 0x5000000000000001ull)));
  f.push_back(els_request(
      kInit, kTarget, 0x0005,
      encode(Prli{els_cmd::kPrli, true, 0, prli_fcp::kInitiatorFunction}, encode_prli)));
  f.push_back(els_reply(
      kTarget, kInit, 0x0005, 0x0202,
      encode(Prli{els_cmd::kAcc, true, prli_response::kRequestExecuted, prli_fcp::kTargetFunction},
             encode_prli)));
  // REPORT LUNS: 24 bytes of data in, under-run.
  f.push_back(fcp_cmnd(kInit, kTarget, 0x0010, make_report_luns(4096), 4096));
  f.push_back(fcp_data(kTarget, kInit, true, 0x0010, 0x0301, 0, 24, true));
  f.push_back(fcp_rsp(kTarget, kInit, 0x0010, 0x0301, scsi_status::kGood, std::nullopt, 4072));
  // READ(10) of 8 blocks in two frames.
  f.push_back(fcp_cmnd(kInit, kTarget, 0x0011, make_rw(scsi_op::kRead10, 1000, 8), 4096));
  f.push_back(fcp_data(kTarget, kInit, true, 0x0011, 0x0302, 0, 2048, false));
  f.push_back(fcp_data(kTarget, kInit, true, 0x0011, 0x0302, 2048, 2048, true));
  f.push_back(fcp_rsp(kTarget, kInit, 0x0011, 0x0302, scsi_status::kGood));
  // WRITE(16) of 4 blocks: XFER_RDY, one data frame.
  f.push_back(fcp_cmnd(kInit, kTarget, 0x0012, make_rw(scsi_op::kWrite16, 1ull << 33, 4), 2048));
  f.push_back(fcp_xfer_rdy(kTarget, kInit, 0x0012, 0x0303, 0, 2048));
  f.push_back(fcp_data(kInit, kTarget, false, 0x0012, 0x0303, 0, 2048, true));
  f.push_back(fcp_rsp(kTarget, kInit, 0x0012, 0x0303, scsi_status::kGood));
  // READ(6), READ(12), READ(16) of one block each.
  const ScsiCommand reads[] = {make_rw(scsi_op::kRead6, 0x12345, 1),
                               make_rw(scsi_op::kRead12, 77777, 1),
                               make_rw(scsi_op::kRead16, 0x123456789ull, 1)};
  uint16_t ox = 0x0013;
  uint16_t rx = 0x0304;
  for (const ScsiCommand& c : reads) {
    f.push_back(fcp_cmnd(kInit, kTarget, ox, c, 512));
    f.push_back(fcp_data(kTarget, kInit, true, ox, rx, 0, 512, true));
    f.push_back(fcp_rsp(kTarget, kInit, ox, rx, scsi_status::kGood));
    ++ox;
    ++rx;
  }
  // WRITE(10) of 2 blocks.
  f.push_back(fcp_cmnd(kInit, kTarget, ox, make_rw(scsi_op::kWrite10, 4242, 2), 1024));
  f.push_back(fcp_xfer_rdy(kTarget, kInit, ox, rx, 0, 1024));
  f.push_back(fcp_data(kInit, kTarget, false, ox, rx, 0, 1024, true));
  f.push_back(fcp_rsp(kTarget, kInit, ox, rx, scsi_status::kGood));
  ++ox;
  ++rx;
  // SYNCHRONIZE CACHE(10) and (16).
  f.push_back(fcp_cmnd(kInit, kTarget, ox, make_synchronize_cache(100, 50), 0));
  f.push_back(fcp_rsp(kTarget, kInit, ox, rx, scsi_status::kGood));
  ++ox;
  ++rx;
  f.push_back(fcp_cmnd(kInit, kTarget, ox, make_synchronize_cache(1ull << 40, 7), 0));
  f.push_back(fcp_rsp(kTarget, kInit, ox, rx, scsi_status::kGood));
  ++ox;
  ++rx;
  // A READ(10) that fails: MEDIUM ERROR, UNRECOVERED READ ERROR.
  f.push_back(fcp_cmnd(kInit, kTarget, ox, make_rw(scsi_op::kRead10, 666, 8), 4096));
  f.push_back(fcp_rsp(kTarget, kInit, ox, rx, scsi_status::kCheckCondition,
                      Sense{sense_key::kMediumError, 0x11, 0x00}, 4096));
  ++ox;
  ++rx;
  // TEST UNIT READY on LUN 1: BUSY.
  f.push_back(fcp_cmnd(kInit, kTarget, ox, make_test_unit_ready(), 0, 1));
  f.push_back(fcp_rsp(kTarget, kInit, ox, rx, scsi_status::kBusy));
  ++ox;
  ++rx;
  // A READ(10) aborted by the initiator: ABTS, BA_ACC.
  f.push_back(fcp_cmnd(kInit, kTarget, ox, make_rw(scsi_op::kRead10, 9, 1), 512));
  f.push_back(abts(kInit, kTarget, ox, fc::kUnassignedXid));
  f.push_back(ba_acc(kTarget, kInit, ox, rx));
  return f;
}

// ----------------------------------------------------------- encapsulation

inline void put_le32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline void put_be32(Bytes& b, uint32_t v) {
  for (int i = 3; i >= 0; --i)
    b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline void put_be16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}

inline constexpr uint32_t kSofI3 = 0xBCB55656;
inline constexpr uint32_t kEofTPos = 0xBCB57575;

// LINKTYPE_FC_2_WITH_FRAME_DELIMS: SOF, frame, CRC (LSB first), EOF.
inline Bytes wrap_225(const Bytes& fc_frame, uint32_t sof = kSofI3, uint32_t eof = kEofTPos,
                      uint32_t crc_xor = 0) {
  Bytes out;
  put_be32(out, sof);
  out.insert(out.end(), fc_frame.begin(), fc_frame.end());
  put_le32(out, fc::crc32(fc_frame.data(), fc_frame.size()) ^ crc_xor);
  put_be32(out, eof);
  return out;
}

inline Bytes ethernet(uint16_t ethertype, const Bytes& payload,
                      const std::vector<uint16_t>& vlans = {923}) {
  Bytes out = {0x0e, 0xfc, 0x00, 0x01, 0x01, 0x00, 0x8c, 0x60, 0x4f, 0x18, 0xa7, 0xb6};
  for (uint16_t v : vlans) {
    put_be16(out, 0x8100);
    put_be16(out, static_cast<uint16_t>(0x6000 | v));
  }
  put_be16(out, ethertype);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

// FCoE: 14-byte header (version 0, SOF code last), frame, CRC, EOF code, 3 reserved
// bytes; optionally followed by 4 bytes standing for an Ethernet FCS.
inline Bytes wrap_fcoe(const Bytes& fc_frame, const std::vector<uint16_t>& vlans = {923},
                       uint32_t crc_xor = 0, bool fcs = false, uint8_t sof = 0x2E,
                       uint8_t eof = 0x42) {
  Bytes p(13, 0);
  p.push_back(sof);
  p.insert(p.end(), fc_frame.begin(), fc_frame.end());
  put_le32(p, fc::crc32(fc_frame.data(), fc_frame.size()) ^ crc_xor);
  p.push_back(eof);
  p.insert(p.end(), 3, 0);
  Bytes out = ethernet(0x8906, p, vlans);
  if (fcs) put_le32(out, 0xDEADBEEF);
  return out;
}

// A FIP link service request carrying `fc_frame` (FLOGI descriptor, type 7).
inline Bytes wrap_fip_flogi(const Bytes& fc_frame, bool reply) {
  Bytes p = {0x10, 0x00, 0x00, 0x02, 0x00, static_cast<uint8_t>(reply ? 2 : 1)};
  const size_t desc_words = (4 + fc_frame.size()) / 4;
  put_be16(p, static_cast<uint16_t>(desc_words + 2));  // + the MAC address descriptor
  put_be16(p, 0x8000);
  p.push_back(7);
  p.push_back(static_cast<uint8_t>(desc_words));
  p.push_back(0);
  p.push_back(0);
  p.insert(p.end(), fc_frame.begin(), fc_frame.end());
  p.insert(p.end(), {2, 2, 0x0e, 0xfc, 0x00, 0x01, 0x01, 0x00});
  return ethernet(0x8914, p);
}

// -------------------------------------------------------------- captures

struct Record {
  uint64_t time_ns = 0;
  Bytes data;
  uint32_t orig_len = 0;  // 0: the record is complete
};

inline std::vector<Record> records(const std::vector<Bytes>& frames, uint64_t step_ns = 1000) {
  std::vector<Record> r;
  for (size_t i = 0; i < frames.size(); ++i)
    r.push_back(Record{1700000000ull * 1000000000ull + i * step_ns, frames[i], 0});
  return r;
}

// Writes a nanosecond pcap with libpcap (pcap_open_dead + pcap_dump).
inline bool write_pcap(const std::string& path, int link_type, const std::vector<Record>& recs) {
  pcap_t* p = pcap_open_dead_with_tstamp_precision(link_type, 262144, PCAP_TSTAMP_PRECISION_NANO);
  if (!p) return false;
  pcap_dumper_t* d = pcap_dump_open(p, path.c_str());
  if (!d) {
    pcap_close(p);
    return false;
  }
  for (const Record& r : recs) {
    pcap_pkthdr h{};
    h.ts.tv_sec = static_cast<time_t>(r.time_ns / 1000000000ull);
    h.ts.tv_usec = static_cast<suseconds_t>(r.time_ns % 1000000000ull);
    h.caplen = static_cast<uint32_t>(r.data.size());
    h.len = r.orig_len ? r.orig_len : h.caplen;
    pcap_dump(reinterpret_cast<u_char*>(d), &h, r.data.data());
  }
  pcap_dump_close(d);
  pcap_close(p);
  return true;
}

// A pcapng file (section header, one interface with nanosecond timestamps,
// enhanced packet blocks), written by hand: libpcap does not write pcapng.
inline Bytes pcapng_bytes(int link_type, const std::vector<Record>& recs) {
  Bytes out;
  auto block = [&out](uint32_t type, const Bytes& body) {
    const uint32_t total = static_cast<uint32_t>(12 + body.size());
    put_le32(out, type);
    put_le32(out, total);
    out.insert(out.end(), body.begin(), body.end());
    put_le32(out, total);
  };
  Bytes shb;
  put_le32(shb, 0x1A2B3C4D);
  shb.insert(shb.end(), {1, 0, 0, 0});  // version 1.0
  put_le32(shb, 0xFFFFFFFF);            // section length unknown
  put_le32(shb, 0xFFFFFFFF);
  block(0x0A0D0D0A, shb);
  Bytes idb = {static_cast<uint8_t>(link_type), static_cast<uint8_t>(link_type >> 8), 0, 0};
  put_le32(idb, 0);                                 // snap length: none
  idb.insert(idb.end(), {9, 0, 1, 0, 9, 0, 0, 0});  // if_tsresol = 10^-9, padded
  idb.insert(idb.end(), {0, 0, 0, 0});              // opt_endofopt
  block(0x00000001, idb);
  for (const Record& r : recs) {
    Bytes epb;
    put_le32(epb, 0);  // interface 0
    put_le32(epb, static_cast<uint32_t>(r.time_ns >> 32));
    put_le32(epb, static_cast<uint32_t>(r.time_ns));
    put_le32(epb, static_cast<uint32_t>(r.data.size()));
    put_le32(epb, r.orig_len ? r.orig_len : static_cast<uint32_t>(r.data.size()));
    epb.insert(epb.end(), r.data.begin(), r.data.end());
    while (epb.size() % 4)
      epb.push_back(0);
    block(0x00000006, epb);
  }
  return out;
}

// Decodes a capture file in process: the JSON report, or null (with a test
// failure) when the file does not open.
inline nlohmann::ordered_json decode_file(const std::string& path) {
  auto reader = TraceReader::open(path);
  if (!reader.ok()) {
    ADD_FAILURE() << reader.status().message();
    return nullptr;
  }
  return decode_json(**reader, DecodeOptions{});
}

inline std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "/" + name;
}

}  // namespace splitpath::sim::trace::testing
