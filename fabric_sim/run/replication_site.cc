#include "fabric_sim/run/replication_site.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

#include "splitpath/map/journal_record.h"

namespace splitpath::sim {

namespace {

struct Record {
  uint64_t timestamp_ns = 0;
  size_t journal = 0;  // order of the journal in the epoch, then its sequence
  uint32_t sequence = 0;
  size_t image = 0;
  uint64_t lv_lba = 0;
  uint32_t blocks = 0;
  uint32_t block_size = 0;
  const uint8_t* data = nullptr;  // the record's data blocks
};

}  // namespace

void ReplicationSite::apply(const cp::ShippedEpoch& epoch) {
  // Every staged journal, read as written: records from its first block
  // while the header is this journal's and the sequence goes on.
  std::vector<std::vector<uint8_t>> journals;
  std::vector<Record> records;
  for (const cp::StagedJournal& j : epoch.journals) {
    const SparseStore* store = staging_->store(staging_lun_);
    if (!store) continue;
    std::vector<uint8_t>& bytes = journals.emplace_back(uint64_t{j.blocks} * j.block_size);
    store->read(j.staging_lba * j.block_size, bytes);
    ++stats_.journals_read;
    const auto image = std::find_if(images_.begin(), images_.end(),
                                    [&](const Image& i) { return i.volume == j.volume; });
    uint64_t at = 0;
    uint32_t next_sequence = 0;
    while (at < j.blocks) {
      map::JournalRecordHeader h;
      if (!map::decode_journal_header(bytes.data() + at * j.block_size, &h) ||
          h.journal_id != j.journal_id || h.sequence < next_sequence ||
          h.block_size != j.block_size || h.blocks == 0 || h.blocks > j.blocks - at - 1) {
        // A hole (a record whose journal leg failed: its write was not
        // acknowledged, and later records go on after it), or the unused end.
        ++at;
        continue;
      }
      next_sequence = h.sequence + 1;
      if (image == images_.end()) {
        ++stats_.malformed_records;
      } else {
        records.push_back(Record{h.timestamp_ns, journals.size() - 1, h.sequence,
                                 static_cast<size_t>(image - images_.begin()), h.lv_lba, h.blocks,
                                 j.block_size, bytes.data() + (at + 1) * j.block_size});
      }
      at += 1 + h.blocks;
    }
  }
  // The merge: in write order, the last write of each block wins.
  std::sort(records.begin(), records.end(), [](const Record& a, const Record& b) {
    return std::tie(a.timestamp_ns, a.journal, a.sequence) <
           std::tie(b.timestamp_ns, b.journal, b.sequence);
  });
  // (image, block) -> the block's data and size
  std::map<std::pair<size_t, uint64_t>, std::pair<const uint8_t*, uint32_t>> last;
  uint64_t written = 0;
  for (const Record& r : records) {
    for (uint32_t b = 0; b < r.blocks; ++b) {
      last[{r.image, r.lv_lba + b}] = {r.data + uint64_t{b} * r.block_size, r.block_size};
      ++written;
    }
  }
  stats_.records_applied += records.size();
  stats_.blocks_superseded += written - last.size();
  for (const auto& [where, block] : last) {
    const Image& image = images_[where.first];
    SparseStore* store = image.disk ? image.disk->mutable_store(image.lun) : nullptr;
    if (!store) continue;
    store->write((image.lba + where.second) * block.second,
                 std::span<const uint8_t>(block.first, block.second));
    ++stats_.blocks_written;
  }
  ++stats_.epochs_applied;
  stats_.last_barrier_ns = epoch.barrier_ns;
  cp_.release_staged(name_, epoch.epoch);
  if (on_applied) on_applied(epoch.epoch);
}

}  // namespace splitpath::sim
