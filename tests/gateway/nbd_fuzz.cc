// Fuzz target for the NBD codec (fabric_sim/gateway/nbd_codec.h): the bytes
// are a client's side of a connection, fed through the codec as the server
// does (client flags, options with their data, then transmission requests).
// Nothing may crash; every failure must say what was wrong; and a request the
// codec lets through must be one the server can carry out: within the
// export, aligned, no longer than the advertised maximum.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include "fabric_sim/gateway/nbd_codec.h"

namespace nbd = splitpath::sim::nbd;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "nbd_fuzz: %s\n", what);
  std::abort();
}

template <typename T>
bool ok_or_explained(const T& result) {
  if (result.ok()) return true;
  if (result.status().message().empty()) fail("an error without a message");
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  auto take = [&](size_t n) {
    const auto part = in.first(std::min(n, in.size()));
    in = in.subspan(part.size());
    return part;
  };
  if (!ok_or_explained(nbd::parse_client_flags(take(nbd::kClientFlagsSize)))) return 0;
  // Options until GO or EXPORT_NAME.
  for (;;) {
    auto header = nbd::parse_option_header(take(nbd::kOptionHeaderSize));
    if (!ok_or_explained(header)) return 0;
    if (header->length > nbd::kMaxOptionLength) fail("an option longer than the maximum passed");
    const auto payload = take(header->length);
    if (header->option == nbd::kOptInfo || header->option == nbd::kOptGo) {
      auto info = nbd::parse_info_request(payload);
      if (ok_or_explained(info) && info->export_name.size() > payload.size())
        fail("an export name longer than its option");
    }
    if (header->option == nbd::kOptGo || header->option == nbd::kOptExportName) break;
  }
  nbd::ExportLimits limits;
  limits.size = 1 << 20;
  limits.min_block = 512;
  limits.max_block = 64 * 1024;
  limits.transmission_flags = nbd::kTransHasFlags | nbd::kTransSendFlush | nbd::kTransSendFua;
  while (!in.empty()) {
    auto request = nbd::parse_request(take(nbd::kRequestSize));
    if (!ok_or_explained(request)) return 0;
    const nbd::Verdict v = nbd::check_request(*request, limits);
    if (v.kind != nbd::Verdict::Kind::kExecute && v.reason.empty())
      fail("a verdict without reason");
    if (v.kind == nbd::Verdict::Kind::kReject && v.error == 0) fail("a rejection without error");
    if (v.kind == nbd::Verdict::Kind::kDrop) return 0;
    const bool rw = request->type == nbd::kCmdRead || request->type == nbd::kCmdWrite;
    if (v.kind == nbd::Verdict::Kind::kExecute && rw) {
      if (request->length == 0 || request->length > limits.max_block) fail("a bad length passed");
      if (request->offset > limits.size || request->length > limits.size - request->offset)
        fail("a range beyond the export passed");
      if (request->offset % limits.min_block != 0 || request->length % limits.min_block != 0)
        fail("a misaligned range passed");
    }
    if (request->type == nbd::kCmdWrite) take(request->length);
  }
  (void)nbd::build_simple_reply(nbd::kEio, 1);
  return 0;
}
