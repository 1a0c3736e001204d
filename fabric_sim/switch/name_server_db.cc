#include "fabric_sim/switch/name_server_db.h"

namespace splitpath::sim {

bool NameServerEntry::has_fc4_type(uint8_t type) const {
  // FC-GS: word w of the bitmap holds types 32w..32w+31, least significant bit
  // first, and words are big-endian.
  const size_t word = type / 32;
  const size_t bit = type % 32;
  const size_t byte = word * 4 + (3 - bit / 8);
  return (fc4_types[byte] >> (bit % 8)) & 1;
}

void NameServerEntry::set_fc4_type(uint8_t type) {
  const size_t word = type / 32;
  const size_t bit = type % 32;
  const size_t byte = word * 4 + (3 - bit / 8);
  fc4_types[byte] |= static_cast<uint8_t>(1u << (bit % 8));
}

NameServerEntry& NameServerDb::upsert(fc::FcId id, uint8_t home_domain) {
  ++generation_;
  auto [it, inserted] = entries_.try_emplace(id.value);
  if (inserted) {
    it->second.port_id = id;
    it->second.home_domain = home_domain;
  }
  return it->second;
}

const NameServerEntry* NameServerDb::find(fc::FcId id) const {
  auto it = entries_.find(id.value);
  return it == entries_.end() ? nullptr : &it->second;
}

NameServerEntry* NameServerDb::find(fc::FcId id) {
  auto it = entries_.find(id.value);
  return it == entries_.end() ? nullptr : &it->second;
}

bool NameServerDb::erase(fc::FcId id) {
  ++generation_;
  return entries_.erase(id.value) > 0;
}

std::vector<fc::FcId> NameServerDb::ports_with_type(uint8_t type) const {
  std::vector<fc::FcId> out;
  for (const auto& [id, e] : entries_) {
    if (e.has_fc4_type(type)) out.push_back(e.port_id);
  }
  return out;
}

}  // namespace splitpath::sim
