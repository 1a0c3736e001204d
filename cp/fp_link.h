// The CP's side of the FP API mailboxes: encodes messages for a port's FP,
// allocates request ids and routes the replies that carry them (FpReply,
// FPQueryPendingIOs replies) to the callback of the request. Also keeps what
// each port reported in its FPDiscoverReply.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "cp/control_path.h"
#include "splitpath/fpapi.h"

namespace splitpath::cp {

class FpLink {
 public:
  using ReplyFn = std::function<void(const fpapi::FpReply&)>;
  using PendingFn = std::function<void(const fpapi::FpQueryPendingIOsReply&)>;

  // Used when a port has not answered FPDiscover yet.
  static constexpr uint32_t kDefaultMaxTransferBytes = 1u << 20;

  explicit FpLink(CpEnvironment& env) : env_(env) {}

  // Encodes and posts `msg` to `port`'s FP as `type` (the struct's own type
  // unless given: FpMapping travels as three types). False if it does not
  // encode (never for well-formed messages).
  template <class M>
  bool send(uint32_t port, const M& msg) {
    return send_as(port, fpapi::TypeOf<M>::value, msg);
  }
  template <class M>
  bool send_as(uint32_t port, fpapi::MsgType type, const M& msg) {
    std::array<uint8_t, fpapi::kMaxMessageSize> buf{};
    const size_t n = fpapi::encode(msg, buf);
    if (n == 0) return false;
    env_.send_to_fp(port, type, std::span<const uint8_t>(buf.data(), n));
    ++sent_;
    return true;
  }

  uint32_t next_req_id();
  // Calls `fn` with the FpReply / FPQueryPendingIOs reply carrying `req_id`.
  void expect_reply(uint32_t req_id, ReplyFn fn);
  void expect_pending_reply(uint32_t req_id, PendingFn fn);
  // Routes a reply; false if no request waits for it.
  bool on_reply(const fpapi::FpReply& reply);
  bool on_pending_reply(const fpapi::FpQueryPendingIOsReply& reply);

  void set_port_info(uint32_t port, const fpapi::FpDiscoverReply& info);
  bool discovered(uint32_t port) const { return info_.contains(port); }
  uint32_t max_transfer_bytes(uint32_t port) const;
  uint64_t sent() const { return sent_; }

 private:
  CpEnvironment& env_;
  uint32_t next_req_id_ = 1;
  uint64_t sent_ = 0;
  absl::flat_hash_map<uint32_t, ReplyFn> replies_;
  absl::flat_hash_map<uint32_t, PendingFn> pending_replies_;
  absl::flat_hash_map<uint32_t, fpapi::FpDiscoverReply> info_;
};

}  // namespace splitpath::cp
