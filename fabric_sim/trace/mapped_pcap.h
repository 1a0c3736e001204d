// A classic pcap file (magic a1b2c3d4 for microseconds, a1b23c4d for
// nanoseconds, either byte order, version 2.4) mapped into memory, whose records
// are parsed in place: the fast path of TraceReader, with no copy of the
// packet bytes and no call into libpcap per record.
//
// Only what this reader can parse exactly as libpcap does is taken: anything
// else (pcapng, other magics, a record whose captured length exceeds the
// snapshot length, a record cut by the end of the file) is left to libpcap,
// either from the start (open() returns null) or from the record where it
// begins (next() returns kHandOver; offset() says where that record starts).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace splitpath::sim::trace {

struct PcapRecord {
  uint64_t time_ns = 0;
  uint32_t caplen = 0;
  uint32_t len = 0;
  const uint8_t* data = nullptr;  // caplen bytes, valid while the file is open
};

class MappedPcap {
 public:
  enum class Next : uint8_t { kRecord, kEnd, kHandOver };

  // Null when the file cannot be mapped or is not a classic pcap this class reads.
  static std::unique_ptr<MappedPcap> open(const std::string& path);
  ~MappedPcap();
  MappedPcap(const MappedPcap&) = delete;
  MappedPcap& operator=(const MappedPcap&) = delete;

  int link_type() const { return link_type_; }
  size_t offset() const { return offset_; }  // of the next record
  Next next(PcapRecord& record);

 private:
  MappedPcap(const uint8_t* base, size_t size) : base_(base), size_(size) {}
  uint32_t load32(const uint8_t* p) const;

  const uint8_t* base_;
  size_t size_;
  size_t offset_ = 0;
  bool swapped_ = false;
  bool nanoseconds_ = false;
  uint32_t max_caplen_ = 0;
  int link_type_ = 0;
};

}  // namespace splitpath::sim::trace
