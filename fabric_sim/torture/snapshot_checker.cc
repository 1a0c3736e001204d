#include "fabric_sim/torture/snapshot_checker.h"

#include <span>

#include "fabric_sim/node/block_stamp.h"
#include "fmt/format.h"

namespace splitpath::sim::torture {

size_t SnapshotChecker::requested(FaultKind kind, const std::string& name, size_t source,
                                  size_t image, uint64_t units, SimTime at) {
  Image m;
  m.kind = kind;
  m.name = name;
  m.source = source;
  m.image = image;
  m.units = units;
  m.requested = at;
  images_.push_back(m);
  model_.suspend(image);
  // Until it is taken, the source's writes from before the window stay in
  // the model (a read open since `at` keeps them from being pruned).
  model_.begin_read(window(m));
  return images_.size() - 1;
}

void SnapshotChecker::taken(size_t index, bool ok, SimTime at, const std::string& error) {
  Image& m = images_[index];
  m.done = at;
  model_.end_read(window(m), false, at);
  if (ok) {
    m.state = State::kTaken;
    model_.alias(m.image, m.source, m.units, m.requested, at);
  } else {
    m.state = State::kFailed;
    m.error = error.empty() ? "the CP failed it" : error;
    model_.forget(m.image);
  }
}

HostIo SnapshotChecker::window(const Image& m) {
  HostIo io;
  io.id = ~uint64_t{0};
  io.volume = m.source;
  io.issued = m.requested;
  return io;
}

void SnapshotChecker::broken(size_t index, const std::string& error) {
  Image& m = images_[index];
  if (m.state != State::kTaken) return;
  m.state = State::kBroken;
  m.error = error;
  model_.forget(m.image);
}

const SnapshotChecker::Image* SnapshotChecker::image_of_volume(size_t volume) const {
  for (const Image& m : images_)
    if (m.image == volume) return &m;
  return nullptr;
}

std::string SnapshotChecker::describe(const Image& m) const {
  const char* state = m.state == State::kRequested ? "requested"
                      : m.state == State::kTaken   ? "taken"
                      : m.state == State::kFailed  ? "failed"
                                                   : "broken";
  return fmt::format("{} {} of volume {} (volume {}): requested {}, {} {}{}",
                     m.kind == FaultKind::kSnapshot ? "snapshot" : "incremental", m.name, m.source,
                     m.image, m.requested, state, m.done, m.error.empty() ? "" : ": " + m.error);
}

std::optional<Violation> SnapshotChecker::end_write(const HostIo& io, bool acknowledged) {
  for (const Image& m : images_) {
    if (m.state == State::kRequested || m.state == State::kFailed) continue;
    // A snapshot is read only; so is the base of an incremental.
    const size_t read_only = m.kind == FaultKind::kSnapshot ? m.image : m.source;
    if (io.volume != read_only || io.issued <= m.done) continue;
    if (!acknowledged) {
      ++refused_writes_;
      return std::nullopt;
    }
    Violation v;
    v.invariant = kSnapshot;
    v.at = io.issued;
    v.summary = fmt::format(
        "a write to volume {} units [{}, +{}) issued at {} was acknowledged, but the volume is "
        "read only since {} ({} {} was taken): it must get DATA PROTECT",
        io.volume, io.first_unit, io.units, io.issued, m.done,
        m.kind == FaultKind::kSnapshot ? "it is a snapshot:" : "it is the base: incremental",
        m.name);
    v.history.push_back(describe(m));
    return v;
  }
  return std::nullopt;
}

std::optional<Violation> SnapshotChecker::judge(size_t index, size_t volume,
                                                const std::vector<UnitData>& data, SimTime now,
                                                const std::string& what) {
  const Image& m = images_[index];
  HostIo io;
  io.id = ~uint64_t{0};
  io.volume = volume;
  io.first_unit = 0;
  io.units = static_cast<uint32_t>(data.size());
  io.issued = now;
  io.data = data;
  units_judged_ += data.size();
  std::optional<Violation> v = model_.end_read(io, true, now + 1);
  if (!v) return std::nullopt;
  v->invariant = kSnapshot;
  v->summary =
      fmt::format("{} (read from the disk stores at the end of the run): {}", what, v->summary);
  v->history.insert(v->history.begin(), describe(m));
  return v;
}

std::vector<UnitData> SnapshotChecker::read_volume(
    const Fabric& fabric, uint64_t blocks, uint32_t block_size,
    const std::function<PlaceElement(uint64_t)>& locate) {
  const uint64_t per_block = block_size / kStampUnit;
  std::vector<UnitData> out(blocks * per_block);
  std::vector<uint8_t> buf(block_size);
  for (uint64_t b = 0; b < blocks; ++b) {
    const PlaceElement at = locate(b);
    fabric.disk(at.disk)->store(at.lun)->read(at.lba * block_size, buf);
    for (uint64_t u = 0; u < per_block; ++u) {
      UnitData& d = out[b * per_block + u];
      d.seen = true;
      d.check = read_stamp(
          std::span<const uint8_t, kStampUnit>(buf.data() + u * kStampUnit, kStampUnit), &d.stamp);
    }
  }
  return out;
}

}  // namespace splitpath::sim::torture
