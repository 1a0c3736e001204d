// Fuzz target for every wire codec under include/splitpath/fc. The input is read
// twice: as an FC-2 frame (header, then the payload decoder its R_CTL/TYPE
// selects, as a port would), and raw, by every payload and SCSI data decoder.
// Whatever decodes is encoded again and decoded once more; the result must equal
// the first decode, otherwise the target aborts. Built as a libFuzzer binary
// (wire_fuzz) and into wire_fuzz_replay_test.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "splitpath/fc/bls.h"
#include "splitpath/fc/ct.h"
#include "splitpath/fc/els.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/frame_header.h"
#include "splitpath/fc/scsi.h"

namespace splitpath::fc {
namespace {

[[noreturn]] void fail(const char* what, const char* detail = "") {
  std::fprintf(stderr, "wire_fuzz: %s %s\n", what, detail);
  std::abort();
}

// An output buffer larger than anything the encoders write.
using Buffer = std::array<uint8_t, 1024>;

// decode(encode(x)) == x for a value x that decoded.
template <typename T, typename Encode, typename Decode>
void round_trip(const char* name, const WireResult<T>& first, Encode encode, Decode decode) {
  if (!first.ok()) return;
  Buffer buf;
  auto n = encode(*first, MutableBytes(buf));
  if (!n.ok()) fail(name, n.error().field);
  auto second = decode(ConstBytes(buf.data(), *n));
  if (!second.ok()) fail(name, second.error().field);
  if (!(*second == *first)) fail(name, "decode(encode(x)) != x");
}

void check_error(const char* name, const WireError& e) {
  if (e.code == WireErrc::kOk || e.field == nullptr) fail(name, "error without a code or field");
}

template <typename T>
void check(const char* name, const WireResult<T>& r) {
  if (!r.ok()) check_error(name, r.error());
}

void fuzz_cdb(ConstBytes in) {
  auto c = decode_cdb(in);
  check("cdb", c);
  if (!c.ok()) {
    if (c.error().offset > in.size()) fail("cdb", "error offset past the CDB");
    return;
  }
  if (c->cdb_length > in.size()) fail("cdb", "cdb_length past the input");
  round_trip("cdb", c, encode_cdb, decode_cdb);
  // Re-encoding a decoded CDB reproduces the bytes the decoder looked at, except
  // for reserved and ignored fields, so only the opcode is compared here.
  Buffer buf;
  if (encode_cdb(*c, buf).ok() && buf[0] != in[0]) fail("cdb", "opcode changed");
}

void fuzz_fcp_cmnd(ConstBytes in) {
  auto c = decode_fcp_cmnd(in);
  check("fcp_cmnd", c);
  round_trip("fcp_cmnd", c, encode_fcp_cmnd, decode_fcp_cmnd);
  if (!c.ok()) return;
  auto lun = decode_lun(c->lun);
  check("lun", lun);
  if (lun.ok() && *decode_lun(make_lun(*lun)) != *lun) fail("lun", "make_lun");
  fuzz_cdb(c->cdb_bytes());
}

void fuzz_fcp_rsp(ConstBytes in) {
  auto r = decode_fcp_rsp(in);
  check("fcp_rsp", r);
  round_trip("fcp_rsp", r, encode_fcp_rsp, decode_fcp_rsp);
  if (r.ok()) {
    auto s = decode_sense_data(r->sense_bytes());
    check("sense", s);
    round_trip("sense", s, encode_sense_data, decode_sense_data);
  }
}

void fuzz_report_luns(ConstBytes in) {
  auto v = decode_report_luns(in);
  check("report_luns", v);
  if (!v.ok()) return;
  if (v->entries.size() != v->count * kLunSize) fail("report_luns", "entries size");
  std::vector<ScsiLun> luns;
  for (size_t i = 0; i < v->count; ++i)
    luns.push_back(v->lun(i));
  std::vector<uint8_t> out(report_luns_size(luns.size()));
  if (encode_report_luns(luns, out) != out.size()) fail("report_luns", "short encode");
  auto again = decode_report_luns(out);
  if (!again.ok() || again->count != luns.size() || again->truncated) fail("report_luns", "again");
  for (size_t i = 0; i < luns.size(); ++i) {
    if (!(again->lun(i) == luns[i])) fail("report_luns", "entry");
  }
}

void fuzz_read_keys(ConstBytes in) {
  auto v = decode_pr_in_read_keys(in);
  check("read_keys", v);
  if (!v.ok()) return;
  std::vector<uint64_t> keys;
  for (size_t i = 0; i < v->count; ++i)
    keys.push_back(v->key(i));
  std::vector<uint8_t> out(8 + 8 * keys.size());
  if (encode_pr_in_read_keys(v->generation, keys, out) != out.size()) fail("read_keys", "short");
  auto again = decode_pr_in_read_keys(out);
  if (!again.ok() || again->count != keys.size() || again->generation != v->generation) {
    fail("read_keys", "again");
  }
}

void fuzz_read_reservation(ConstBytes in) {
  auto r = decode_pr_in_read_reservation(in);
  check("read_reservation", r);
  if (!r.ok()) return;
  Buffer buf;
  const size_t n = encode_pr_in_read_reservation(*r, buf);
  auto again = decode_pr_in_read_reservation(ConstBytes(buf.data(), n));
  if (!again.ok() || !(*again == *r)) fail("read_reservation", "decode(encode(x)) != x");
}

void fuzz_scsi_data(ConstBytes in) {
  round_trip("sense", decode_sense_data(in), encode_sense_data, decode_sense_data);
  round_trip("inquiry", decode_inquiry_data(in), encode_inquiry_data, decode_inquiry_data);
  round_trip("vpd_00", decode_vpd_supported_pages(in), encode_vpd_supported_pages,
             decode_vpd_supported_pages);
  round_trip("vpd_80", decode_vpd_unit_serial_number(in), encode_vpd_unit_serial_number,
             decode_vpd_unit_serial_number);
  round_trip("vpd_83", decode_vpd_device_identification(in), encode_vpd_device_identification,
             decode_vpd_device_identification);
  round_trip("read_capacity10", decode_read_capacity10_data(in), encode_read_capacity10_data,
             decode_read_capacity10_data);
  round_trip("read_capacity16", decode_read_capacity16_data(in), encode_read_capacity16_data,
             decode_read_capacity16_data);
  for (bool ten : {false, true}) {
    auto enc = [ten](const ModeSenseData& m, MutableBytes out) {
      return encode_mode_sense(m, ten, out);
    };
    auto dec = [ten](ConstBytes b) { return decode_mode_sense(b, ten); };
    round_trip("mode_sense", dec(in), enc, dec);
  }
  round_trip("pr_out", decode_pr_out_parameters(in), encode_pr_out_parameters,
             decode_pr_out_parameters);
  fuzz_report_luns(in);
  fuzz_read_keys(in);
  fuzz_read_reservation(in);
}

void fuzz_service_parameters(ConstBytes in) {
  round_trip("service_parameters", decode_service_parameters(in), encode_service_parameters,
             decode_service_parameters);
}

void fuzz_rscn(ConstBytes in) {
  auto v = decode_rscn(in);
  check("rscn", v);
  if (!v.ok()) return;
  std::vector<RscnPage> pages;
  for (size_t i = 0; i < v->count; ++i)
    pages.push_back(v->page(i));
  std::vector<uint8_t> out(rscn_size(pages.size()));
  auto n = encode_rscn(pages, out);
  if (!n.ok()) fail("rscn", n.error().field);
  auto again = decode_rscn(out);
  if (!again.ok() || again->count != pages.size()) fail("rscn", "again");
  for (size_t i = 0; i < pages.size(); ++i) {
    if (!(again->page(i) == pages[i])) fail("rscn", "page");
  }
}

void fuzz_els(ConstBytes in) {
  auto code = els_command_code(in);
  check("els_command", code);
  if (!code.ok()) return;
  fuzz_service_parameters(in);
  round_trip("logo", decode_logo(in), encode_logo, decode_logo);
  round_trip("prli", decode_prli(in), encode_prli, decode_prli);
  round_trip("ls_rjt", decode_ls_rjt(in), encode_ls_rjt, decode_ls_rjt);
  auto scr = decode_scr(in);
  check("scr", scr);
  if (scr.ok()) {
    Buffer buf;
    if (!encode_scr(*scr, buf).ok() || *decode_scr(ConstBytes(buf.data(), kScrSize)) != *scr) {
      fail("scr", "decode(encode(x)) != x");
    }
  }
  fuzz_rscn(in);
}

void fuzz_gid_ft_acc(ConstBytes body) {
  auto v = decode_gid_ft_acc(body);
  check("gid_ft_acc", v);
  if (!v.ok()) return;
  std::vector<FcId> ids;
  for (size_t i = 0; i < v->count; ++i)
    ids.push_back(v->port_id(i));
  std::vector<uint8_t> out(kGidFtEntrySize * ids.size());
  auto n = encode_gid_ft_acc(ids, out);
  if (!n.ok()) fail("gid_ft_acc", n.error().field);
  auto again = decode_gid_ft_acc(out);
  if (!again.ok() || again->count != ids.size() || !again->complete) fail("gid_ft_acc", "again");
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!(again->port_id(i) == ids[i])) fail("gid_ft_acc", "entry");
  }
}

void fuzz_ct_body(ConstBytes body) {
  auto port_id = decode_ns_port_id(body);
  check("ns_port_id", port_id);
  if (port_id.ok()) {
    Buffer buf;
    if (!encode_ns_port_id(*port_id, buf).ok() ||
        !(*decode_ns_port_id(ConstBytes(buf.data(), 4)) == *port_id)) {
      fail("ns_port_id", "decode(encode(x)) != x");
    }
  }
  auto name = decode_ns_name(body);
  check("ns_name", name);
  if (name.ok()) {
    Buffer buf;
    if (!encode_ns_name(*name, buf).ok() ||
        !(*decode_ns_name(ConstBytes(buf.data(), 8)) == *name)) {
      fail("ns_name", "decode(encode(x)) != x");
    }
  }
  round_trip("ns_id_name", decode_ns_id_name(body), encode_ns_id_name, decode_ns_id_name);
  round_trip("rft_id", decode_rft_id(body), encode_rft_id, decode_rft_id);
  round_trip("rff_id", decode_rff_id(body), encode_rff_id, decode_rff_id);
  round_trip("gid_ft", decode_gid_ft_request(body), encode_gid_ft_request, decode_gid_ft_request);
  fuzz_gid_ft_acc(body);
}

void fuzz_ct(ConstBytes in) {
  auto pre = decode_ct_preamble(in);
  check("ct_preamble", pre);
  round_trip("ct_preamble", pre, encode_ct_preamble, decode_ct_preamble);
  if (pre.ok()) fuzz_ct_body(ct_body(in));
}

void fuzz_bls(ConstBytes in) {
  round_trip("ba_acc", decode_ba_acc(in), encode_ba_acc, decode_ba_acc);
  round_trip("ba_rjt", decode_ba_rjt(in), encode_ba_rjt, decode_ba_rjt);
}

// As a port classifies a received frame.
void fuzz_frame(ConstBytes frame) {
  auto h = decode_frame_header(frame);
  check("frame_header", h);
  round_trip("frame_header", h, encode_frame_header, decode_frame_header);
  if (!h.ok()) return;
  if (!(peek_d_id(frame.data()) == h->d_id) || !(peek_s_id(frame.data()) == h->s_id)) {
    fail("frame_header", "peek");
  }
  const ConstBytes payload = frame.subspan(kFrameHeaderSize);
  switch (h->type) {
    case fc_type::kFcp:
      if (h->r_ctl == rctl::kDeviceDataUnsolicitedCmd) fuzz_fcp_cmnd(payload);
      if (h->r_ctl == rctl::kDeviceDataDataDescriptor) {
        round_trip("fcp_xfer_rdy", decode_fcp_xfer_rdy(payload), encode_fcp_xfer_rdy,
                   decode_fcp_xfer_rdy);
      }
      if (h->r_ctl == rctl::kDeviceDataCommandStatus) fuzz_fcp_rsp(payload);
      if (h->r_ctl == rctl::kDeviceDataSolicitedData) (void)fcp_data_relative_offset(*h);
      break;
    case fc_type::kEls:
      fuzz_els(payload);
      break;
    case fc_type::kCt:
      fuzz_ct(payload);
      break;
    case fc_type::kBls:
      if (h->r_ctl == rctl::kBlsBaAcc || h->r_ctl == rctl::kBlsBaRjt) fuzz_bls(payload);
      break;
    default:
      break;
  }
}

}  // namespace
}  // namespace splitpath::fc

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace splitpath::fc;
  const ConstBytes in(data, size);
  fuzz_frame(in);
  fuzz_fcp_cmnd(in);
  fuzz_cdb(in);
  round_trip("fcp_xfer_rdy", decode_fcp_xfer_rdy(in), encode_fcp_xfer_rdy, decode_fcp_xfer_rdy);
  fuzz_fcp_rsp(in);
  fuzz_scsi_data(in);
  fuzz_els(in);
  fuzz_ct(in);
  fuzz_ct_body(in);
  fuzz_bls(in);
  return 0;
}
