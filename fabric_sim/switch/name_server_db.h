// The name server's database (FC-GS directory service): one entry per N_Port
// logged into the fabric, local or learnt from another switch. Kept ordered by
// port ID so that queries answer in the same order on every run.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "absl/container/btree_map.h"
#include "splitpath/fc/wire.h"

namespace splitpath::sim {

struct NameServerEntry {
  fc::FcId port_id;
  uint64_t wwpn = 0;
  uint64_t wwnn = 0;
  std::array<uint8_t, 32> fc4_types{};  // RFT_ID bitmap: bit (type % 32) of word (type / 32)
  uint8_t fcp_features = 0;             // RFF_ID features for FC-4 type FCP
  uint8_t home_domain = 0;              // the switch the port is attached to
  bool wants_rscn = false;              // registered with SCR (local ports only)

  bool has_fc4_type(uint8_t type) const;
  void set_fc4_type(uint8_t type);
};

class NameServerDb {
 public:
  // Creates or returns the entry for `id`.
  NameServerEntry& upsert(fc::FcId id, uint8_t home_domain);
  const NameServerEntry* find(fc::FcId id) const;
  NameServerEntry* find(fc::FcId id);
  bool erase(fc::FcId id);
  // Port IDs with FC-4 `type` registered, in ascending order.
  std::vector<fc::FcId> ports_with_type(uint8_t type) const;
  const absl::btree_map<uint32_t, NameServerEntry>& entries() const { return entries_; }
  // Bumped on every change, so users can drop caches derived from the database.
  uint64_t generation() const { return generation_; }
  void touch() { ++generation_; }

 private:
  absl::btree_map<uint32_t, NameServerEntry> entries_;
  uint64_t generation_ = 0;
};

}  // namespace splitpath::sim
