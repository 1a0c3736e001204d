// Decodes every frame of a real FC-2 capture (bluecmd-fc2-real-frames.pcap, see
// shared/captures/PROVENANCE.md): an initiator at 02.0f.00 logging in to a target
// at 01.00.00 and issuing 116 SCSI commands.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "splitpath/fc/els.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/frame_header.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_cdb_encode.h"
#include "test_util.h"

namespace splitpath::fc {
namespace {

using test::Bytes;

constexpr uint32_t kLinktypeFc2 = 224;

uint32_t le32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

// Reads a classic little-endian pcap file: 24-byte global header, then per packet
// a 16-byte record header (ts_sec, ts_usec, incl_len, orig_len) and the bytes.
std::vector<Bytes> read_pcap(const std::filesystem::path& path, uint32_t* linktype) {
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<Bytes> packets;
  EXPECT_GE(file.size(), 24u);
  if (file.size() < 24) return packets;
  EXPECT_EQ(le32(file.data()), 0xa1b2c3d4u) << "not a little-endian microsecond pcap";
  *linktype = le32(file.data() + 20);
  size_t off = 24;
  while (off < file.size()) {
    EXPECT_LE(off + 16, file.size()) << "truncated record header";
    if (off + 16 > file.size()) break;
    const uint32_t incl = le32(file.data() + off + 8);
    const uint32_t orig = le32(file.data() + off + 12);
    EXPECT_EQ(incl, orig) << "packet " << packets.size() << " was cut by the snap length";
    off += 16;
    EXPECT_LE(off + incl, file.size()) << "truncated packet";
    if (off + incl > file.size()) break;
    packets.emplace_back(file.begin() + static_cast<std::ptrdiff_t>(off),
                         file.begin() + static_cast<std::ptrdiff_t>(off + incl));
    off += incl;
  }
  return packets;
}

std::filesystem::path captures_dir() {
  const char* src = std::getenv("SPLITPATH_SOURCE_DIR");
  return std::filesystem::path(src ? src : ".") / ".." / "shared" / "captures";
}

TEST(RealCapture, DecodesEveryBluecmdFrame) {
  const auto path = captures_dir() / "bluecmd-fc2-real-frames.pcap";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is missing";
  uint32_t linktype = 0;
  const std::vector<Bytes> packets = read_pcap(path, &linktype);
  ASSERT_EQ(linktype, kLinktypeFc2);
  ASSERT_EQ(packets.size(), 135u);

  int plogi = 0, prli = 0, cmnd = 0, data = 0;
  std::map<uint8_t, int> opcodes;
  for (size_t i = 0; i < packets.size(); ++i) {
    SCOPED_TRACE("frame " + std::to_string(i + 1));
    const Bytes& frame = packets[i];
    auto h = decode_frame_header(frame);
    ASSERT_TRUE(h.ok()) << test::describe(h.error());
    EXPECT_EQ(h->s_id, FcId{0x020f00});
    EXPECT_EQ(h->d_id, FcId{0x010000});
    const ConstBytes payload = ConstBytes(frame).subspan(kFrameHeaderSize);

    if (h->r_ctl == rctl::kElsRequest && h->type == fc_type::kEls) {
      auto code = els_command_code(payload);
      ASSERT_TRUE(code.ok());
      if (*code == els_cmd::kPlogi) {
        ++plogi;
        auto sp = decode_service_parameters(payload);
        ASSERT_TRUE(sp.ok()) << test::describe(sp.error());
        EXPECT_EQ(sp->common.bb_credit, 5);
        EXPECT_EQ(sp->common.features, csp_features::kContinuouslyIncreasingRelOff);
        EXPECT_EQ(sp->common.bb_rx_data_field_size, 2048);
        EXPECT_EQ(sp->common.total_concurrent_sequences(), 255);
        EXPECT_EQ(sp->common.relative_offset_by_category(), 31);
        EXPECT_EQ(sp->common.e_d_tov, 2000u);
        EXPECT_EQ(sp->port_name, Wwn{0x21000024ff3d39a0});
        EXPECT_EQ(sp->node_name, Wwn{0x20000024ff3d39a0});
        EXPECT_TRUE(sp->class3.valid);
        EXPECT_EQ(sp->class3.rx_data_field_size, 2048);
        EXPECT_EQ(sp->class3.concurrent_sequences, 255);
        EXPECT_EQ(sp->class3.open_sequences_per_exchange, 1);
        // This PLOGI carries nothing the codec drops: it re-encodes to the same bytes.
        std::array<uint8_t, kServiceParametersSize> out{};
        ASSERT_TRUE(encode_service_parameters(*sp, out).ok());
        EXPECT_EQ(Bytes(out.begin(), out.end()), Bytes(payload.begin(), payload.end()));
      } else if (*code == els_cmd::kPrli) {
        ++prli;
        auto p = decode_prli(payload);
        ASSERT_TRUE(p.ok()) << test::describe(p.error());
        EXPECT_TRUE(p->establish_image_pair);
        EXPECT_TRUE(p->initiator());
        EXPECT_EQ(p->service_parameters, 0x7a2u);
      } else {
        ADD_FAILURE() << "unexpected ELS " << int(*code);
      }
    } else if (h->r_ctl == rctl::kDeviceDataUnsolicitedCmd && h->type == fc_type::kFcp) {
      ++cmnd;
      auto c = decode_fcp_cmnd(payload);
      ASSERT_TRUE(c.ok()) << test::describe(c.error());
      EXPECT_EQ(*decode_lun(c->lun), 0);
      std::array<uint8_t, kMaxCdbSize + 16> out{};
      auto n = encode_fcp_cmnd(*c, out);
      ASSERT_TRUE(n.ok());
      EXPECT_EQ(Bytes(out.begin(), out.begin() + *n), Bytes(payload.begin(), payload.end()));

      const ConstBytes cdb = c->cdb_bytes();
      ++opcodes[cdb[0]];
      auto cmd = decode_cdb(cdb);
      ASSERT_TRUE(cmd.ok()) << test::describe(cmd.error());
      // The decoded command re-encodes to the captured CDB.
      std::array<uint8_t, 16> cdb_out{};
      auto len = encode_cdb(*cmd, cdb_out);
      ASSERT_TRUE(len.ok());
      EXPECT_EQ(Bytes(cdb_out.begin(), cdb_out.begin() + *len),
                Bytes(cdb.begin(), cdb.begin() + *len));
      switch (cmd->kind) {
        case ScsiCommandKind::kRead:
          EXPECT_TRUE(c->rddata);
          EXPECT_EQ(c->fcp_dl, cmd->transfer_length * 512);
          break;
        case ScsiCommandKind::kWrite:
          EXPECT_TRUE(c->wrdata);
          EXPECT_EQ(c->fcp_dl, cmd->transfer_length * 512);
          break;
        case ScsiCommandKind::kTestUnitReady:
          EXPECT_EQ(c->fcp_dl, 0u);
          break;
        case ScsiCommandKind::kWriteSame:
          EXPECT_TRUE(c->wrdata);
          EXPECT_EQ(c->fcp_dl, 512u);  // the one block written over the range
          break;
        case ScsiCommandKind::kReportLuns:
          EXPECT_TRUE(c->rddata);
          EXPECT_EQ(cmd->allocation_length, 4096u);
          EXPECT_EQ(c->fcp_dl, cmd->allocation_length);
          break;
        default:
          ADD_FAILURE() << "unexpected command " << int(cmd->opcode);
      }
    } else if (h->r_ctl == rctl::kDeviceDataSolicitedData && h->type == fc_type::kFcp) {
      ++data;
      EXPECT_TRUE(h->f_ctl & fctl::kRelativeOffsetPresent);
      EXPECT_EQ(payload.size(), kDefaultDataFieldSize);
    } else {
      ADD_FAILURE() << "unexpected R_CTL " << int(h->r_ctl) << " TYPE " << int(h->type);
    }
  }
  EXPECT_EQ(plogi, 1);
  EXPECT_EQ(prli, 1);
  EXPECT_EQ(cmnd, 116);
  EXPECT_EQ(data, 17);
  EXPECT_EQ(opcodes[scsi_op::kRead10], 55);
  EXPECT_EQ(opcodes[scsi_op::kWrite10], 52);
  EXPECT_EQ(opcodes[scsi_op::kWriteSame10], 6);
  EXPECT_EQ(opcodes[scsi_op::kTestUnitReady], 2);
  EXPECT_EQ(opcodes[scsi_op::kReportLuns], 1);
}

}  // namespace
}  // namespace splitpath::fc
