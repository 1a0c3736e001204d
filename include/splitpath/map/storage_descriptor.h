// Storage descriptors (figure 9, and the primitives after figure 18 of the
// specification): how a redirect entry reaches the storage of its extents. A
// descriptor is a kind tag and a fixed-size byte payload holding a set of
// storage elements (physical LUN ranges) and what the kind needs to combine
// them. Its internals stay inside it: the FP and the CP ask it where a block
// lives (`locate`) and walk its elements, and only the typed accessors below
// know the payload layout.
//
// Payload layout, every integer big-endian, so the bytes an FP API message
// carries mean the same on every byte order:
//   byte 0      element count (simple 1; stripe: its width; mirror: its sides;
//               stripe of mirrors: columns x sides per column; journal 2)
//   byte 1      stripe, stripe of mirrors: log2 of the stripe unit in blocks
//   byte 2      stripe of mirrors: sides per column
//   bytes 2-3   journal: the journal id (the generation the CP gave it)
//   bytes 4-7   journal: the journal's capacity in blocks
//               (bytes a kind does not use are reserved, zero)
//   bytes 8...  the elements, 16 bytes each: port_id (32), lun (16),
//               side (16: a mirror side's state in the high byte, its read
//               cost in the low byte; zero for other kinds), start_lba (64)
// A mirror (RAID 1) keeps one copy of every VSEG block on each side, at the
// side's start_lba + the VSEG block: `locate` answers kUnsupported for it
// (no single element holds a written block), `side` locates a block on one
// side and `read_side` picks the side a read goes to.
// A stripe of mirrors (RAID 10) is a stripe whose columns are mirrors, every
// column with the same number of sides; its elements are column-major (side
// s of column c is element c * sides + s). `locate_column` finds the column
// and the column block by the stripe's shift and mask, and `column_mirror`
// views that column as a mirror descriptor, so the mirror accessors
// (`read_side`, `locate_side`) serve it; `locate` answers kUnsupported.
// A journal (the write-journaling primitive) is element 0, the data device
// (VSEG block b at its start_lba + b, as a simple descriptor), and element 1,
// the journal: `capacity` blocks from its start_lba, filled by records
// (splitpath/map/journal_record.h). `locate` answers kUnsupported for it
// (a write goes to both); `journal` reads it back.
//
// Firmware-safe: standard library only, no exceptions, no heap.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace splitpath::map {

// Kinds of storage descriptor.
enum class StorageKind : uint8_t {
  kNone = 0,  // no storage: every I/O through this entry faults
  kSimple = 1,
  kStripe = 2,           // RAID 0: the striping primitive
  kMirror = 3,           // RAID 1: the write-splitting primitive
  kStripeOfMirrors = 4,  // RAID 10: striping over mirrors (write splitting per column)
  kJournal = 5,          // data device plus journal: the write-journaling primitive
};

constexpr uint32_t kPortIdMask = 0x00FFFFFF;

// One storage element: blocks of one physical LUN behind one port, from
// `start_lba`. The simple descriptor is one element; a stripe has one per
// column.
struct SimpleStorage {
  uint32_t port_id = 0;  // physical target's 24-bit FC port ID (N_Port ID) in the low bits
  uint16_t lun = 0;
  uint16_t reserved = 0;   // a mirror side's state and read cost (MirrorSide)
  uint64_t start_lba = 0;  // physical LBA of the element's first block
  friend constexpr bool operator==(const SimpleStorage&, const SimpleStorage&) = default;
};
static_assert(sizeof(SimpleStorage) == 16);
static_assert(std::is_trivially_copyable_v<SimpleStorage>);
static_assert(std::has_unique_object_representations_v<SimpleStorage>);
using StorageElement = SimpleStorage;

inline constexpr uint32_t kMaxStorageElements = 8;
inline constexpr uint32_t kMaxStripeColumns = kMaxStorageElements;
// The largest stripe unit: 2^24 blocks (8 GiB of 512-byte blocks).
inline constexpr uint32_t kMaxStripeUnitShift = 24;

// Blocks of a VSEG of `vseg_blocks` blocks that column `column` of a stripe
// of `width` columns and units of 2^unit_shift blocks holds.
constexpr uint64_t stripe_column_blocks(uint32_t width, uint32_t unit_shift, uint64_t vseg_blocks,
                                        uint32_t column) {
  const uint64_t unit = uint64_t{1} << unit_shift;
  const uint64_t row = unit * width;
  const uint64_t rest = vseg_blocks % row;
  const uint64_t before = uint64_t{column} * unit;
  const uint64_t tail = rest > before ? (rest - before < unit ? rest - before : unit) : 0;
  return vseg_blocks / row * unit + tail;
}

// RAID 0 over `width` columns: the VSEG's blocks are dealt out in stripe units
// of 2^unit_shift blocks, round robin. VSEG block b is in unit u = b >> shift
// at offset b & (unit - 1); the unit lives on column u % width at column
// block (u / width) * unit + offset, counted from that column's start_lba.
struct StripeStorage {
  uint8_t width = 0;       // columns: 1 .. kMaxStripeColumns
  uint8_t unit_shift = 0;  // stripe unit = 1 << unit_shift blocks
  std::array<StorageElement, kMaxStripeColumns> columns{};

  constexpr uint64_t unit_blocks() const { return uint64_t{1} << unit_shift; }
  // Blocks of a VSEG of `vseg_blocks` blocks that column `column` holds.
  constexpr uint64_t column_blocks(uint64_t vseg_blocks, uint32_t column) const {
    return stripe_column_blocks(width, unit_shift, vseg_blocks, column);
  }
};

// A mirror side's state. Writes go to every writable side, reads to readable
// ones. Values are wire values (the high byte of an element's side field).
enum class SideState : uint8_t {
  kAlive = 0,   // readable and writable
  kDead = 1,    // neither: out of the mirror until resynchronized
  kResync = 2,  // being resynchronized: writable, not yet readable
};
inline constexpr uint8_t kMaxSideState = 2;
constexpr bool side_readable(SideState s) {
  return s == SideState::kAlive;
}
constexpr bool side_writable(SideState s) {
  return s == SideState::kAlive || s == SideState::kResync;
}

inline constexpr uint32_t kMinMirrorSides = 2;
inline constexpr uint32_t kMaxMirrorSides = kMaxStorageElements;

// One side of a mirror: its storage, its state, and its read cost (reads
// go to the readable sides of the lowest cost).
struct MirrorSide {
  StorageElement storage;  // storage.reserved is ignored: state and read_cost hold it
  SideState state = SideState::kAlive;
  uint8_t read_cost = 0;
};

// RAID 1 over `sides` sides: VSEG block b is at side s's start_lba + b on
// every side.
struct MirrorStorage {
  uint8_t sides = 0;  // kMinMirrorSides .. kMaxMirrorSides
  std::array<MirrorSide, kMaxMirrorSides> side{};
};

// RAID 10: a stripe (as StripeStorage) whose `columns` are each a mirror of
// `sides` sides (as MirrorStorage). VSEG block b is in column c at column
// block k as for a stripe; it is at side s's start_lba + k on every side s
// of column c. columns x sides is at most kMaxStorageElements.
inline constexpr uint32_t kMaxStripeOfMirrorsColumns = kMaxStorageElements / kMinMirrorSides;
struct StripeOfMirrorsStorage {
  uint8_t columns = 0;     // 1 .. kMaxStripeOfMirrorsColumns
  uint8_t sides = 0;       // per column: kMinMirrorSides .. and columns x sides <= 8
  uint8_t unit_shift = 0;  // stripe unit = 1 << unit_shift blocks
  std::array<MirrorStorage, kMaxStripeOfMirrorsColumns> column{};  // column[c].sides == sides

  constexpr uint64_t unit_blocks() const { return uint64_t{1} << unit_shift; }
  // Blocks of a VSEG of `vseg_blocks` blocks that each side of column `c` holds.
  constexpr uint64_t column_blocks(uint64_t vseg_blocks, uint32_t c) const {
    return stripe_column_blocks(columns, unit_shift, vseg_blocks, c);
  }
};

// The smallest journal: one record of one block (its header and the block).
inline constexpr uint32_t kMinJournalBlocks = 2;

// The write-journaling primitive: every write goes to `data` (VSEG block b at
// data.start_lba + b) and, as a record, to the journal: `capacity_blocks`
// blocks of `journal` from journal.start_lba. `journal_id` tells this journal's
// records from older ones left in the same blocks.
struct JournalStorage {
  StorageElement data;
  StorageElement journal;
  uint16_t journal_id = 0;
  uint32_t capacity_blocks = 0;
};

// Where a VSEG-relative block lives, from StorageDescriptor::locate.
enum class LocateStatus : uint8_t {
  kOk = 0,
  kUnsupported = 1,  // no storage, a kind without a layout yet, or a malformed payload
};

struct Location {
  LocateStatus status = LocateStatus::kUnsupported;
  uint8_t element = 0;  // index of the element holding the block (a stripe's column)
  // port_id and lun of that element; start_lba is the physical block itself.
  StorageElement target;
  // Blocks from there that stay contiguous on that element: to the end of the
  // stripe unit, unbounded (~0) for a simple descriptor.
  uint64_t run = 0;
};

struct StorageDescriptor {
  static constexpr size_t kHeaderBytes = 8;
  static constexpr size_t kElementBytes = 16;
  static constexpr size_t kPayloadBytes = kHeaderBytes + kMaxStorageElements * kElementBytes;

  StorageKind kind = StorageKind::kNone;
  std::array<uint8_t, 7> reserved{};
  std::array<uint8_t, kPayloadBytes> payload{};

  static constexpr StorageDescriptor make_simple(const SimpleStorage& s) {
    StorageDescriptor d;
    d.kind = StorageKind::kSimple;
    d.payload[0] = 1;
    d.put_element(0, s);
    return d;
  }
  // The simple descriptor; only meaningful when kind == kSimple (else zeros).
  constexpr SimpleStorage simple() const {
    return kind == StorageKind::kSimple ? element(0) : SimpleStorage{};
  }

  // A stripe descriptor; false (and *out untouched) if the width or the unit
  // is out of range.
  static constexpr bool make_stripe(const StripeStorage& s, StorageDescriptor* out) {
    if (s.width == 0 || s.width > kMaxStripeColumns || s.unit_shift > kMaxStripeUnitShift) {
      return false;
    }
    StorageDescriptor d;
    d.kind = StorageKind::kStripe;
    d.payload[0] = s.width;
    d.payload[1] = s.unit_shift;
    for (uint32_t i = 0; i < s.width; ++i)
      d.put_element(i, s.columns[i]);
    *out = d;
    return true;
  }
  // The stripe descriptor; false unless kind == kStripe and it is well formed.
  constexpr bool stripe(StripeStorage* out) const {
    if (kind != StorageKind::kStripe || !valid()) return false;
    StripeStorage s;
    s.width = payload[0];
    s.unit_shift = payload[1];
    for (uint32_t i = 0; i < s.width; ++i)
      s.columns[i] = element(i);
    *out = s;
    return true;
  }

  // A mirror descriptor; false (and *out untouched) if the side count or a
  // side's state is out of range.
  static constexpr bool make_mirror(const MirrorStorage& m, StorageDescriptor* out) {
    if (m.sides < kMinMirrorSides || m.sides > kMaxMirrorSides) return false;
    StorageDescriptor d;
    d.kind = StorageKind::kMirror;
    d.payload[0] = m.sides;
    for (uint32_t i = 0; i < m.sides; ++i) {
      if (static_cast<uint8_t>(m.side[i].state) > kMaxSideState) return false;
      d.put_element(i, side_element(m.side[i]));
    }
    *out = d;
    return true;
  }
  // The mirror descriptor; false unless kind == kMirror and it is well formed.
  constexpr bool mirror(MirrorStorage* out) const {
    if (kind != StorageKind::kMirror || !valid()) return false;
    MirrorStorage m;
    m.sides = payload[0];
    for (uint32_t i = 0; i < m.sides; ++i)
      m.side[i] = side(i);
    *out = m;
    return true;
  }
  // Side `i` of a mirror (its storage's reserved field zeroed).
  constexpr MirrorSide side(uint32_t i) const {
    MirrorSide s;
    s.storage = element(i);
    s.state = static_cast<SideState>(s.storage.reserved >> 8);
    s.read_cost = static_cast<uint8_t>(s.storage.reserved & 0xFF);
    s.storage.reserved = 0;
    return s;
  }
  constexpr uint32_t mirror_sides() const {
    return kind == StorageKind::kMirror && valid() ? payload[0] : 0;
  }
  // Where VSEG block `vseg_lba` lives on side `i` of a mirror (kUnsupported
  // for other kinds or a side out of range); run is unbounded.
  constexpr Location locate_side(uint32_t i, uint64_t vseg_lba) const {
    Location l;
    if (i >= mirror_sides()) return l;
    l.status = LocateStatus::kOk;
    l.element = static_cast<uint8_t>(i);
    l.target = side(i).storage;
    l.target.start_lba += vseg_lba;
    l.run = ~uint64_t{0};
    return l;
  }
  // The side a read goes to: the readable sides of the lowest read cost, in
  // round robin: the first of them at or after `turn` (modulo the sides),
  // so a caller advancing `turn` past each answer spreads reads over them.
  // -1 if no side is readable.
  constexpr int read_side(uint32_t turn) const {
    const uint32_t n = mirror_sides();
    int best_cost = 256;
    for (uint32_t i = 0; i < n; ++i) {
      const MirrorSide s = side(i);
      if (side_readable(s.state) && s.read_cost < best_cost) best_cost = s.read_cost;
    }
    if (best_cost == 256) return -1;
    for (uint32_t k = 0; k < n; ++k) {
      const uint32_t i = (turn + k) % n;
      const MirrorSide s = side(i);
      if (side_readable(s.state) && s.read_cost == best_cost) return static_cast<int>(i);
    }
    return -1;
  }

  // A stripe-of-mirrors descriptor; false (and *out untouched) if the
  // columns, the sides per column, the unit or a side's state is out of
  // range, or a column's side count differs from `sides`.
  static constexpr bool make_stripe_of_mirrors(const StripeOfMirrorsStorage& s,
                                               StorageDescriptor* out) {
    if (s.columns == 0 || s.columns > kMaxStripeOfMirrorsColumns || s.sides < kMinMirrorSides ||
        uint32_t{s.columns} * s.sides > kMaxStorageElements || s.unit_shift > kMaxStripeUnitShift) {
      return false;
    }
    StorageDescriptor d;
    d.kind = StorageKind::kStripeOfMirrors;
    d.payload[0] = static_cast<uint8_t>(s.columns * s.sides);
    d.payload[1] = s.unit_shift;
    d.payload[2] = s.sides;
    for (uint32_t c = 0; c < s.columns; ++c) {
      if (s.column[c].sides != s.sides) return false;
      for (uint32_t i = 0; i < s.sides; ++i) {
        if (static_cast<uint8_t>(s.column[c].side[i].state) > kMaxSideState) return false;
        d.put_element(c * s.sides + i, side_element(s.column[c].side[i]));
      }
    }
    *out = d;
    return true;
  }
  // The stripe-of-mirrors descriptor; false unless kind == kStripeOfMirrors
  // and it is well formed.
  constexpr bool stripe_of_mirrors(StripeOfMirrorsStorage* out) const {
    if (kind != StorageKind::kStripeOfMirrors || !valid()) return false;
    StripeOfMirrorsStorage s;
    s.sides = payload[2];
    s.columns = static_cast<uint8_t>(payload[0] / s.sides);
    s.unit_shift = payload[1];
    for (uint32_t c = 0; c < s.columns; ++c) {
      if (!column_mirror(c).mirror(&s.column[c])) return false;
    }
    *out = s;
    return true;
  }
  // Column `c` of a stripe of mirrors as a mirror descriptor (its sides'
  // start_lba count column blocks, from locate_column); kind kNone for other
  // kinds or a column out of range.
  constexpr StorageDescriptor column_mirror(uint32_t c) const {
    StorageDescriptor d;
    if (kind != StorageKind::kStripeOfMirrors || !valid()) return d;
    const uint32_t sides = payload[2];
    if (c >= payload[0] / sides) return d;
    d.kind = StorageKind::kMirror;
    d.payload[0] = static_cast<uint8_t>(sides);
    for (uint32_t i = 0; i < sides; ++i)
      d.put_element(i, element(c * sides + i));
    return d;
  }
  // A stripe of mirrors' sides per column (0 for other kinds).
  constexpr uint32_t sides_per_column() const {
    return kind == StorageKind::kStripeOfMirrors && valid() ? payload[2] : 0;
  }
  // Whether writes go to several sides: a mirror or a stripe of mirrors.
  constexpr bool mirrored() const {
    return (kind == StorageKind::kMirror || kind == StorageKind::kStripeOfMirrors) && valid();
  }
  // The stripe column holding VSEG block `vseg_lba` (a stripe or a stripe of
  // mirrors; kUnsupported otherwise): element is the column, target.start_lba
  // the block within the column (from its start_lba; port_id and lun zero),
  // run the blocks to the end of the stripe unit.
  constexpr Location locate_column(uint64_t vseg_lba) const {
    Location l;
    if (!valid()) return l;
    uint32_t width = 0;
    if (kind == StorageKind::kStripe) width = payload[0];
    if (kind == StorageKind::kStripeOfMirrors) width = payload[0] / payload[2];
    if (width == 0) return l;
    const uint32_t shift = payload[1];
    const uint64_t mask = (uint64_t{1} << shift) - 1;
    const uint64_t unit = vseg_lba >> shift;
    const uint64_t offset = vseg_lba & mask;
    l.status = LocateStatus::kOk;
    l.element = static_cast<uint8_t>(unit % width);
    l.target.start_lba = ((unit / width) << shift) + offset;
    l.run = mask + 1 - offset;
    return l;
  }
  // A journal descriptor; false (and *out untouched) if the journal cannot
  // hold one record.
  static constexpr bool make_journal(const JournalStorage& j, StorageDescriptor* out) {
    if (j.capacity_blocks < kMinJournalBlocks) return false;
    StorageDescriptor d;
    d.kind = StorageKind::kJournal;
    d.payload[0] = 2;
    d.store(2, 2, j.journal_id);
    d.store(4, 4, j.capacity_blocks);
    StorageElement data = j.data;
    StorageElement journal = j.journal;
    data.reserved = 0;
    journal.reserved = 0;
    d.put_element(0, data);
    d.put_element(1, journal);
    *out = d;
    return true;
  }
  // The journal descriptor; false unless kind == kJournal and it is well formed.
  constexpr bool journal(JournalStorage* out) const {
    if (kind != StorageKind::kJournal || !valid()) return false;
    JournalStorage j;
    j.data = element(0);
    j.journal = element(1);
    j.journal_id = static_cast<uint16_t>(load(2, 2));
    j.capacity_blocks = static_cast<uint32_t>(load(4, 4));
    *out = j;
    return true;
  }

  // Whether the payload is well formed for its kind (kNone is: it faults);
  // an unknown kind is not.
  constexpr bool valid() const {
    switch (kind) {
      case StorageKind::kNone:
        return true;
      case StorageKind::kJournal:
        return payload[0] == 2 && load(4, 4) >= kMinJournalBlocks;
      case StorageKind::kSimple:
        return payload[0] == 1;
      case StorageKind::kStripe:
        return payload[0] >= 1 && payload[0] <= kMaxStripeColumns &&
               payload[1] <= kMaxStripeUnitShift;
      case StorageKind::kMirror:
        return payload[0] >= kMinMirrorSides && payload[0] <= kMaxMirrorSides &&
               side_states_valid();
      case StorageKind::kStripeOfMirrors:
        return payload[2] >= kMinMirrorSides && payload[0] >= payload[2] &&
               payload[0] <= kMaxStorageElements && payload[0] % payload[2] == 0 &&
               payload[1] <= kMaxStripeUnitShift && side_states_valid();
    }
    return false;
  }

  // The storage elements (0 for kinds without a layout): the CP walks them to
  // learn which disks an entry needs and to fill in their port IDs.
  constexpr uint32_t element_count() const {
    return (kind == StorageKind::kSimple || kind == StorageKind::kStripe ||
            kind == StorageKind::kMirror || kind == StorageKind::kStripeOfMirrors ||
            kind == StorageKind::kJournal) &&
                   valid()
               ? payload[0]
               : 0;
  }
  constexpr StorageElement element(uint32_t i) const {
    StorageElement e;
    if (i >= kMaxStorageElements) return e;
    const size_t at = kHeaderBytes + i * kElementBytes;
    e.port_id = static_cast<uint32_t>(load(at, 4));
    e.lun = static_cast<uint16_t>(load(at + 4, 2));
    e.reserved = static_cast<uint16_t>(load(at + 6, 2));
    e.start_lba = load(at + 8, 8);
    return e;
  }
  constexpr void set_element_port_id(uint32_t i, uint32_t port_id) {
    if (i < kMaxStorageElements) store(kHeaderBytes + i * kElementBytes, 4, port_id & kPortIdMask);
  }

  // Where VSEG-relative block `vseg_lba` lives: the remap primitive for a
  // simple descriptor, shift and mask for a stripe.
  constexpr Location locate(uint64_t vseg_lba) const {
    Location l;
    if (!valid()) return l;
    if (kind == StorageKind::kSimple) {
      l.status = LocateStatus::kOk;
      l.target = element(0);
      l.target.start_lba += vseg_lba;
      l.run = ~uint64_t{0};
      return l;
    }
    if (kind != StorageKind::kStripe) return l;
    l = locate_column(vseg_lba);
    const uint64_t column_lba = l.target.start_lba;
    l.target = element(l.element);
    l.target.start_lba += column_lba;
    return l;
  }

  friend constexpr bool operator==(const StorageDescriptor&, const StorageDescriptor&) = default;

 private:
  static constexpr StorageElement side_element(const MirrorSide& s) {
    StorageElement e = s.storage;
    e.reserved = static_cast<uint16_t>(static_cast<uint16_t>(s.state) << 8 | s.read_cost);
    return e;
  }
  // Every element's side state (byte 6 of the element) is a known one.
  constexpr bool side_states_valid() const {
    for (uint32_t i = 0; i < payload[0]; ++i) {
      if (payload[kHeaderBytes + i * kElementBytes + 6] > kMaxSideState) return false;
    }
    return true;
  }
  constexpr void put_element(uint32_t i, const StorageElement& e) {
    const size_t at = kHeaderBytes + i * kElementBytes;
    store(at, 4, e.port_id & kPortIdMask);
    store(at + 4, 2, e.lun);
    store(at + 6, 2, e.reserved);
    store(at + 8, 8, e.start_lba);
  }
  constexpr void store(size_t at, size_t n, uint64_t v) {
    for (size_t i = 0; i < n; ++i)
      payload[at + i] = static_cast<uint8_t>(v >> (8 * (n - 1 - i)));
  }
  constexpr uint64_t load(size_t at, size_t n) const {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i)
      v = v << 8 | payload[at + i];
    return v;
  }
};
static_assert(sizeof(StorageDescriptor) == 8 + StorageDescriptor::kPayloadBytes);
static_assert(std::is_trivially_copyable_v<StorageDescriptor>);
static_assert(std::has_unique_object_representations_v<StorageDescriptor>);

}  // namespace splitpath::map
