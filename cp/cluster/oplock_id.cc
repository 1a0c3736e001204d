#include "cp/cluster/oplock_id.h"

#include <limits>

#include <fmt/format.h>

#include "cp/cluster/dve_message.h"

namespace splitpath::cp::cluster {

std::string_view luid_name(Luid luid) {
  switch (luid) {
    case Luid::kMirrorSideState:
      return "MIRROR";
    case Luid::kMirrorWrite:
      return "MIRROR_WRITE";
    case Luid::kRmap:
      return "RMAP";
    case Luid::kRedirs:
      return "DIRS";
    case Luid::kScsiReserve:
      return "RESERVE";
    case Luid::kUnitAttention:
      return "UALIST";
    case Luid::kGroupAtomic:
      return "PAUSE";
    case Luid::kLvReconfig:
      return "RECONFIG";
    case Luid::kTaskSet:
      return "TS";
    case Luid::kMembership:
      return "MEMBERSHIP";
  }
  return "UNKNOWN";
}

std::string to_string(const OplockId& id) {
  return fmt::format("{}.{}[{}]", id.guid, luid_name(id.luid), id.index);
}

std::vector<OplockId> chunk_oplocks(uint64_t guid, Luid luid, uint64_t lba, uint64_t blocks,
                                    uint64_t chunk_blocks) {
  std::vector<OplockId> out;
  if (blocks == 0 || chunk_blocks == 0) return out;
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  // The extent's last block, clamped where lba + blocks would wrap around.
  const uint64_t last = blocks - 1 > kMax - lba ? kMax : lba + (blocks - 1);
  const uint64_t first_chunk = lba / chunk_blocks;
  const uint64_t last_chunk = last / chunk_blocks;
  out.reserve(last_chunk - first_chunk + 1);
  for (uint64_t index = first_chunk;; ++index) {
    out.push_back(OplockId{guid, luid, index});
    if (index == last_chunk) break;
  }
  return out;
}

std::string_view msg_kind_name(MsgKind kind) {
  switch (kind) {
    case MsgKind::kJoin:
      return "join";
    case MsgKind::kLeave:
      return "leave";
    case MsgKind::kShare:
      return "share";
    case MsgKind::kUnshare:
      return "unshare";
    case MsgKind::kAcquire:
      return "acquire";
    case MsgKind::kRelease:
      return "release";
    case MsgKind::kAck:
      return "ack";
    case MsgKind::kNak:
      return "nak";
    case MsgKind::kProbe:
      return "probe";
    case MsgKind::kProbeAck:
      return "probe-ack";
  }
  return "unknown";
}

}  // namespace splitpath::cp::cluster
