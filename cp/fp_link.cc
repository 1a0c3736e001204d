#include "cp/fp_link.h"

#include <utility>

namespace splitpath::cp {

uint32_t FpLink::next_req_id() {
  uint32_t id = next_req_id_++;
  // kNoTag means "no reply wanted" in FpMapping; never hand it out.
  if (id == fpapi::kNoTag) id = next_req_id_++;
  return id;
}

void FpLink::expect_reply(uint32_t req_id, ReplyFn fn) {
  replies_[req_id] = std::move(fn);
}

void FpLink::expect_pending_reply(uint32_t req_id, PendingFn fn) {
  pending_replies_[req_id] = std::move(fn);
}

bool FpLink::on_reply(const fpapi::FpReply& reply) {
  auto it = replies_.find(reply.req_id);
  if (it == replies_.end()) return false;
  ReplyFn fn = std::move(it->second);
  replies_.erase(it);
  fn(reply);
  return true;
}

bool FpLink::on_pending_reply(const fpapi::FpQueryPendingIOsReply& reply) {
  auto it = pending_replies_.find(reply.req_id);
  if (it == pending_replies_.end()) return false;
  PendingFn fn = std::move(it->second);
  pending_replies_.erase(it);
  fn(reply);
  return true;
}

void FpLink::set_port_info(uint32_t port, const fpapi::FpDiscoverReply& info) {
  info_[port] = info;
}

uint32_t FpLink::max_transfer_bytes(uint32_t port) const {
  auto it = info_.find(port);
  if (it == info_.end() || it->second.max_transfer_bytes == 0) return kDefaultMaxTransferBytes;
  return it->second.max_transfer_bytes;
}

}  // namespace splitpath::cp
