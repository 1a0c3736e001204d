// The messages DVEs exchange about oplocks (PROTOCOL.md, "Messages").
#pragma once

#include <cstdint>
#include <string_view>

#include "cp/cluster/oplock_id.h"

namespace splitpath::cp::cluster {

// kProbe/kProbeAck are not about an oplock: a booting DVE asks whether it
// reaches the jlist's members before it joins (PROTOCOL.md, "Booting").
enum class MsgKind : uint8_t {
  kJoin,
  kLeave,
  kShare,
  kUnshare,
  kAcquire,
  kRelease,
  kAck,
  kNak,
  kProbe,
  kProbeAck,
};
inline constexpr int kMsgKinds = 10;

std::string_view msg_kind_name(MsgKind kind);

struct DveMessage {
  MsgKind kind = MsgKind::kJoin;
  OplockId oplock;
  uint32_t from = 0;
  uint32_t to = 0;
  // The broadcast round a request belongs to; an answer echoes its request's.
  uint64_t round = 0;
  bool restrictive = false;  // acquire: the peers drain I/O before they answer
  bool old_dirty = false;    // ack of an acquire: the sender flushed dirty metadata
  bool interested = true;    // ack: false from a node that caches nothing (Boot, Uninterested)
  bool waiting = false;      // ack of an acquire from a node whose share round restarted
};

}  // namespace splitpath::cp::cluster
