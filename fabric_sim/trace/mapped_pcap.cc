#include "fabric_sim/trace/mapped_pcap.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace splitpath::sim::trace {

namespace {

constexpr size_t kFileHeaderSize = 24;
constexpr size_t kRecordHeaderSize = 16;
constexpr uint32_t kMagicMicro = 0xA1B2C3D4;
constexpr uint32_t kMagicNano = 0xA1B23C4D;
// libpcap's largest snapshot length (MAXIMUM_SNAPLEN); a larger or zero header
// value stands for it.
constexpr uint32_t kMaxSnaplen = 262144;
// The link type field also carries FCS bits above these (LT_LINKTYPE).
constexpr uint32_t kLinkTypeMask = 0x03FFFFFF;

}  // namespace

std::unique_ptr<MappedPcap> MappedPcap::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<size_t>(st.st_size) < kFileHeaderSize) {
    ::close(fd);
    return nullptr;
  }
  const auto size = static_cast<size_t>(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return nullptr;
  ::madvise(map, size, MADV_SEQUENTIAL);
  std::unique_ptr<MappedPcap> file(new MappedPcap(static_cast<const uint8_t*>(map), size));
  uint32_t magic = 0;
  std::memcpy(&magic, file->base_, sizeof magic);
  if (magic == __builtin_bswap32(kMagicMicro) || magic == __builtin_bswap32(kMagicNano)) {
    file->swapped_ = true;
    magic = __builtin_bswap32(magic);
  }
  if (magic != kMagicMicro && magic != kMagicNano) return nullptr;
  file->nanoseconds_ = magic == kMagicNano;
  uint16_t major = 0;
  uint16_t minor = 0;
  std::memcpy(&major, file->base_ + 4, 2);
  std::memcpy(&minor, file->base_ + 6, 2);
  if (file->swapped_) {
    major = __builtin_bswap16(major);
    minor = __builtin_bswap16(minor);
  }
  if (major != 2 || minor != 4) return nullptr;
  const uint32_t snaplen = file->load32(file->base_ + 16);
  file->max_caplen_ = snaplen == 0 || snaplen > kMaxSnaplen ? kMaxSnaplen : snaplen;
  const uint32_t link = file->load32(file->base_ + 20) & kLinkTypeMask;
  if (link > 0xFFFF) return nullptr;
  file->link_type_ = static_cast<int>(link);
  file->offset_ = kFileHeaderSize;
  return file;
}

MappedPcap::~MappedPcap() {
  ::munmap(const_cast<uint8_t*>(base_), size_);
}

uint32_t MappedPcap::load32(const uint8_t* p) const {
  uint32_t v = 0;
  std::memcpy(&v, p, sizeof v);
  return swapped_ ? __builtin_bswap32(v) : v;
}

MappedPcap::Next MappedPcap::next(PcapRecord& record) {
  const size_t left = size_ - offset_;
  if (left == 0) return Next::kEnd;
  if (left < kRecordHeaderSize) return Next::kHandOver;
  const uint8_t* h = base_ + offset_;
  const uint32_t caplen = load32(h + 8);
  if (caplen > max_caplen_ || caplen > left - kRecordHeaderSize) return Next::kHandOver;
  const uint64_t sec = load32(h);
  const uint64_t frac = load32(h + 4);
  record.time_ns = sec * 1000000000ull + (nanoseconds_ ? frac : frac * 1000ull);
  record.caplen = caplen;
  record.len = load32(h + 12);
  record.data = h + kRecordHeaderSize;
  offset_ += kRecordHeaderSize + caplen;
  return Next::kRecord;
}

}  // namespace splitpath::sim::trace
