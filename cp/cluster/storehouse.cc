#include "cp/cluster/storehouse.h"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace splitpath::cp::cluster {

namespace {

// An elist entry whose caretaker is the victim itself marks a released
// journal: the victim stays evicted until it rejoins, but nobody holds its
// journal any more.
bool is_released(const std::pair<const uint32_t, uint32_t>& entry) {
  return entry.first == entry.second;
}

// ---------------------------------------------------------------- text format

constexpr std::string_view kHeader = "splitpath-storehouse 1";
constexpr std::string_view kEmptyBytes = "-";  // so every field is a non-empty token
constexpr uint64_t kMaxLuid = static_cast<uint64_t>(Luid::kMembership);

std::string_view journal_kind_name(OplockJournalRecord::Kind kind) {
  switch (kind) {
    case OplockJournalRecord::Kind::kAcquire:
      return "acquire";
    case OplockJournalRecord::Kind::kRelease:
      return "release";
    case OplockJournalRecord::Kind::kRecovered:
      return "recovered";
  }
  return "unknown";
}

std::string hex(std::string_view bytes) {
  if (bytes.empty()) return std::string(kEmptyBytes);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xF]);
  }
  return out;
}

std::string oplock_fields(const OplockId& id) {
  return fmt::format("{} {} {}", id.guid, static_cast<unsigned>(id.luid), id.index);
}

// A token quoted in an error message: printable, and short whatever the input.
std::string shown(std::string_view token) {
  constexpr size_t kMaxShown = 40;
  std::string out;
  for (size_t i = 0; i < token.size() && i < kMaxShown; ++i) {
    const unsigned char c = static_cast<unsigned char>(token[i]);
    if (c >= 0x20 && c < 0x7F && c != '\'' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (token.size() > kMaxShown) out += "...";
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t pos = 0;
  while (pos < line.size()) {
    const size_t start = line.find_first_not_of(" \t", pos);
    if (start == std::string_view::npos) break;
    size_t end = line.find_first_of(" \t", start);
    if (end == std::string_view::npos) end = line.size();
    fields.push_back(line.substr(start, end - start));
    pos = end;
  }
  return fields;
}

struct ParseError {
  size_t line = 0;
  std::string field;
  std::string what;
};

// What a file holds, parsed before any of it replaces the storehouse's.
struct Contents {
  std::set<uint32_t> jlist;
  std::map<uint32_t, uint32_t> elist;
  std::map<uint32_t, size_t> elist_lines;  // victim -> its line, for the final check
  std::map<uint32_t, uint64_t> leases;
  std::map<OplockId, uint32_t> owners;
  std::map<uint32_t, std::vector<OplockJournalRecord>> oplock_journals;
  std::map<uint32_t, std::map<uint64_t, TaskRecord>> tasks;
  std::map<OplockId, MetadataRecord> metadata;
  uint64_t writes = 0;
  bool have_writes = false;
};

// The fields of one record line; every accessor names the field on error.
class Record {
 public:
  Record(size_t line, std::vector<std::string_view> fields, ParseError* error)
      : line_(line), fields_(std::move(fields)), error_(error) {}

  std::string_view kind() const { return fields_[0]; }
  std::string_view field(size_t i) const { return fields_[i]; }
  size_t count() const { return fields_.size(); }
  size_t line() const { return line_; }

  bool fail(std::string_view name, std::string what) const {
    error_->line = line_;
    error_->field = name.empty() ? std::string(kind()) : fmt::format("{}.{}", kind(), name);
    error_->what = std::move(what);
    return false;
  }

  bool u64(size_t i, std::string_view name, uint64_t* out) const {
    const std::string_view token = fields_[i];
    if (token.empty() || token.find_first_not_of("0123456789") != std::string_view::npos) {
      return fail(name, fmt::format("not a number (got '{}')", shown(token)));
    }
    const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), *out);
    if (ec == std::errc::result_out_of_range) {
      return fail(name, fmt::format("out of range (got '{}')", shown(token)));
    }
    if (ec != std::errc() || end != token.data() + token.size()) {
      return fail(name, fmt::format("not a number (got '{}')", shown(token)));
    }
    return true;
  }

  bool u32(size_t i, std::string_view name, uint32_t* out) const {
    uint64_t value = 0;
    if (!u64(i, name, &value)) return false;
    if (value > std::numeric_limits<uint32_t>::max()) {
      return fail(name, fmt::format("out of range (got '{}')", shown(fields_[i])));
    }
    *out = static_cast<uint32_t>(value);
    return true;
  }

  bool luid(size_t i, std::string_view name, Luid* out) const {
    uint64_t value = 0;
    if (!u64(i, name, &value)) return false;
    if (value < 1 || value > kMaxLuid) {
      return fail(name,
                  fmt::format("luid out of range 1..{} (got '{}')", kMaxLuid, shown(fields_[i])));
    }
    *out = static_cast<Luid>(value);
    return true;
  }

  // guid, luid and index in three fields from `i`.
  bool oplock(size_t i, OplockId* out) const {
    return u64(i, "guid", &out->guid) && luid(i + 1, "luid", &out->luid) &&
           u64(i + 2, "index", &out->index);
  }

  bool bytes(size_t i, std::string_view name, std::string* out) const {
    const std::string_view token = fields_[i];
    out->clear();
    if (token == kEmptyBytes) return true;
    if (token.size() % 2 != 0) {
      return fail(name, fmt::format("odd number of hex digits ({})", token.size()));
    }
    out->reserve(token.size() / 2);
    for (size_t k = 0; k < token.size(); k += 2) {
      const int high = hex_value(token[k]);
      const int low = hex_value(token[k + 1]);
      if (high < 0 || low < 0) {
        const size_t bad = high < 0 ? k : k + 1;
        return fail(name, fmt::format("not a hex digit at offset {} (got '{}')", bad,
                                      shown(token.substr(bad, 1))));
      }
      out->push_back(static_cast<char>(high << 4 | low));
    }
    return true;
  }

  bool keyword(size_t i, std::string_view expected) const {
    if (fields_[i] == expected) return true;
    return fail(expected, fmt::format("expected '{}' (got '{}')", expected, shown(fields_[i])));
  }

 private:
  size_t line_;
  std::vector<std::string_view> fields_;
  ParseError* error_;
};

bool parse_jlist(const Record& r, Contents* c) {
  uint32_t dve = 0;
  if (!r.u32(1, "dve", &dve)) return false;
  if (c->elist.count(dve)) return r.fail("dve", fmt::format("DVE {} is on the elist", dve));
  if (!c->jlist.insert(dve).second) return r.fail("dve", fmt::format("duplicate DVE {}", dve));
  return true;
}

bool add_evicted(const Record& r, Contents* c, uint32_t victim, uint32_t caretaker) {
  if (c->jlist.count(victim)) {
    return r.fail("victim", fmt::format("DVE {} is on the jlist", victim));
  }
  if (!c->elist.emplace(victim, caretaker).second) {
    return r.fail("victim", fmt::format("DVE {} is already on the elist", victim));
  }
  c->elist_lines[victim] = r.line();
  return true;
}

bool parse_elist(const Record& r, Contents* c) {
  uint32_t victim = 0;
  uint32_t caretaker = 0;
  if (!r.u32(1, "victim", &victim) || !r.keyword(2, "caretaker") ||
      !r.u32(3, "caretaker", &caretaker)) {
    return false;
  }
  if (caretaker == victim) {
    return r.fail("caretaker", "is the victim itself (a released journal is a 'released' record)");
  }
  return add_evicted(r, c, victim, caretaker);
}

bool parse_released(const Record& r, Contents* c) {
  uint32_t victim = 0;
  return r.u32(1, "victim", &victim) && add_evicted(r, c, victim, victim);
}

bool parse_lease(const Record& r, Contents* c) {
  uint32_t dve = 0;
  uint64_t until = 0;
  if (!r.u32(1, "dve", &dve) || !r.u64(2, "until", &until)) return false;
  if (!c->leases.emplace(dve, until).second) {
    return r.fail("dve", fmt::format("duplicate lease of DVE {}", dve));
  }
  return true;
}

bool parse_owner(const Record& r, Contents* c) {
  OplockId id;
  uint32_t dve = 0;
  if (!r.oplock(1, &id) || !r.u32(4, "dve", &dve)) return false;
  if (!c->owners.emplace(id, dve).second) {
    return r.fail("guid", fmt::format("duplicate owner of {}", to_string(id)));
  }
  return true;
}

bool journal_kind(const Record& r, size_t i, OplockJournalRecord::Kind* out) {
  using Kind = OplockJournalRecord::Kind;
  for (Kind kind : {Kind::kAcquire, Kind::kRelease, Kind::kRecovered}) {
    if (r.field(i) != journal_kind_name(kind)) continue;
    *out = kind;
    return true;
  }
  return r.fail(
      "kind", fmt::format("expected acquire, release or recovered (got '{}')", shown(r.field(i))));
}

bool parse_ojournal(const Record& r, Contents* c) {
  uint32_t dve = 0;
  OplockJournalRecord record;
  if (!r.u32(1, "dve", &dve) || !journal_kind(r, 2, &record.kind) || !r.oplock(3, &record.oplock) ||
      !r.u64(6, "at", &record.at_ns)) {
    return false;
  }
  c->oplock_journals[dve].push_back(record);
  return true;
}

bool parse_task(const Record& r, Contents* c) {
  uint32_t dve = 0;
  TaskRecord task;
  if (!r.u32(1, "dve", &dve) || !r.u64(2, "task_id", &task.task_id) ||
      !r.u64(3, "progress", &task.progress) || !r.bytes(4, "kind", &task.kind) ||
      !r.bytes(5, "params", &task.params)) {
    return false;
  }
  const uint64_t id = task.task_id;
  if (!c->tasks[dve].emplace(id, std::move(task)).second) {
    return r.fail("task_id", fmt::format("duplicate task {} of DVE {}", id, dve));
  }
  return true;
}

bool parse_meta(const Record& r, Contents* c) {
  OplockId id;
  MetadataRecord record;
  if (!r.oplock(1, &id) || !r.u64(4, "version", &record.version) ||
      !r.bytes(5, "bytes", &record.bytes)) {
    return false;
  }
  if (record.version == 0) return r.fail("version", "must be at least 1 (got '0')");
  if (!c->metadata.emplace(id, std::move(record)).second) {
    return r.fail("guid", fmt::format("duplicate metadata record {}", to_string(id)));
  }
  return true;
}

bool parse_writes(const Record& r, Contents* c) {
  if (c->have_writes) return r.fail("count", "duplicate 'writes' record");
  c->have_writes = true;
  return r.u64(1, "count", &c->writes);
}

struct RecordKind {
  std::string_view name;
  size_t fields;  // the kind included
  bool (*parse)(const Record&, Contents*);
};

// One record a line, its fields separated by spaces; an oplock is three
// fields (guid, luid number, index), bytes are hex ("-" when empty).
constexpr RecordKind kRecordKinds[] = {
    {"jlist", 2, parse_jlist},        // jlist <dve>
    {"elist", 4, parse_elist},        // elist <victim> caretaker <dve>
    {"released", 2, parse_released},  // released <victim>
    {"lease", 3, parse_lease},        // lease <dve> <until_ns>
    {"owner", 5, parse_owner},        // owner <oplock> <dve>
    {"ojournal", 7, parse_ojournal},  // ojournal <dve> <kind> <oplock> <at_ns>
    {"task", 6, parse_task},          // task <dve> <id> <progress> <kind> <params>
    {"meta", 6, parse_meta},          // meta <oplock> <version> <bytes>
    {"writes", 2, parse_writes},      // writes <count>
};

bool parse_record(size_t line_number, std::string_view line, Contents* c, ParseError* error) {
  Record r(line_number, split_fields(line), error);
  if (r.count() == 0) return true;  // a blank line
  for (const RecordKind& kind : kRecordKinds) {
    if (kind.name != r.kind()) continue;
    if (r.count() != kind.fields) {
      return r.fail("", fmt::format("expected {} fields, got {}", kind.fields, r.count()));
    }
    return kind.parse(r, c);
  }
  error->line = line_number;
  error->field = "record";
  error->what = fmt::format("unknown record kind '{}'", shown(r.kind()));
  return false;
}

// A caretaker is online, or a booting DVE that reclaimed its own journal:
// evicting a caretaker hands its charges to its evictor, so chains of
// caretakers never form.
bool check_caretakers(const Contents& c, ParseError* error) {
  for (const auto& [victim, line] : c.elist_lines) {
    const uint32_t caretaker = c.elist.at(victim);
    const auto it = c.elist.find(caretaker);
    if (caretaker == victim || it == c.elist.end() || is_released(*it)) continue;
    error->line = line;
    error->field = "elist.caretaker";
    error->what = fmt::format("DVE {} is itself evicted", caretaker);
    return false;
  }
  return true;
}

bool parse(std::string_view text, Contents* c, ParseError* error) {
  size_t line_number = 0;
  size_t pos = 0;
  while (pos < text.size() || line_number == 0) {
    ++line_number;
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line_number == 1) {
      if (line == kHeader) continue;
      *error = {1, "header", fmt::format("expected '{}' (got '{}')", kHeader, shown(line))};
      return false;
    }
    if (!parse_record(line_number, line, c, error)) return false;
  }
  return check_caretakers(*c, error);
}

}  // namespace

// ---------------------------------------------------------------- membership

bool Storehouse::join(uint32_t dve) {
  if (evicted(dve)) return false;
  jlist_.insert(dve);
  return true;
}

std::optional<Storehouse::Eviction> Storehouse::evict(uint32_t victim, uint32_t by) {
  if (victim == by || evicted(by)) return std::nullopt;
  if (auto it = elist_.find(victim); it != elist_.end()) {
    return Eviction{false, journal_holder(victim).value_or(it->second)};
  }
  // Cascading: the journals the victim held for others pass to its evictor.
  for (auto& entry : elist_) {
    if (entry.second == victim) entry.second = by;
  }
  elist_[victim] = by;
  jlist_.erase(victim);
  return Eviction{true, by};
}

std::optional<uint32_t> Storehouse::journal_holder(uint32_t dve) const {
  uint32_t at = dve;
  // evict() and reclaim_journal() keep the chain one step long; a longer one,
  // or a cycle, could only come from a hand-edited file.
  for (size_t step = 0; step <= elist_.size(); ++step) {
    const auto it = elist_.find(at);
    if (it == elist_.end() || is_released(*it)) return at;
    at = it->second;
  }
  return std::nullopt;
}

std::vector<uint32_t> Storehouse::journals_held_by(uint32_t dve) const {
  std::vector<uint32_t> held;
  for (const auto& entry : elist_) {
    if (!is_released(entry) && journal_holder(entry.first) == dve) held.push_back(entry.first);
  }
  return held;
}

void Storehouse::release_journal(uint32_t victim, uint32_t by) {
  const auto it = elist_.find(victim);
  if (it == elist_.end() || is_released(*it) || journal_holder(victim) != by) return;
  it->second = victim;
}

void Storehouse::reclaim_journal(uint32_t dve) {
  const auto it = elist_.find(dve);
  if (it == elist_.end() || is_released(*it)) return;
  const std::optional<uint32_t> holder = journal_holder(dve);
  it->second = dve;
  if (!holder || *holder == dve) return;
  // `dve` cannot evict() while it is on the elist itself, so this is the
  // eviction of the holder done by hand, cascading the same way.
  for (auto& entry : elist_) {
    if (entry.second == *holder) entry.second = dve;
  }
  elist_[*holder] = dve;
  jlist_.erase(*holder);
}

bool Storehouse::rejoin(uint32_t dve) {
  if (const auto it = elist_.find(dve); it != elist_.end()) {
    if (!is_released(*it)) return false;
    elist_.erase(it);
  }
  jlist_.insert(dve);
  return true;
}

// ---------------------------------------------------------------- leases

bool Storehouse::renew_lease(uint32_t dve, uint64_t until_ns) {
  if (evicted(dve)) return false;
  leases_[dve] = until_ns;
  return true;
}

uint64_t Storehouse::lease_until(uint32_t dve) const {
  const auto it = leases_.find(dve);
  return it == leases_.end() ? 0 : it->second;
}

uint64_t Storehouse::evicted_lease_end() const {
  uint64_t end = 0;
  for (const auto& [victim, caretaker] : elist_)
    end = std::max(end, lease_until(victim));
  return end;
}

// ---------------------------------------------------------------- owner records

std::optional<uint32_t> Storehouse::owner(const OplockId& id) const {
  const auto it = owners_.find(id);
  if (it == owners_.end()) return std::nullopt;
  return it->second;
}

void Storehouse::set_owner(const OplockId& id, std::optional<uint32_t> dve) {
  if (dve) {
    owners_[id] = *dve;
  } else {
    owners_.erase(id);
  }
}

std::vector<OplockId> Storehouse::owned_by(uint32_t dve) const {
  std::vector<OplockId> owned;
  for (const auto& [id, owner] : owners_) {
    if (owner == dve) owned.push_back(id);
  }
  return owned;
}

// ---------------------------------------------------------------- journals

void Storehouse::journal_oplock(uint32_t dve, const OplockJournalRecord& record) {
  oplock_journals_[dve].push_back(record);
}

const std::vector<OplockJournalRecord>& Storehouse::oplock_journal(uint32_t dve) const {
  static const std::vector<OplockJournalRecord> kEmpty;
  const auto it = oplock_journals_.find(dve);
  return it == oplock_journals_.end() ? kEmpty : it->second;
}

bool Storehouse::record_task(uint32_t dve, const TaskRecord& task) {
  if (evicted(dve)) return false;
  tasks_[dve][task.task_id] = task;
  return true;
}

void Storehouse::end_task(uint32_t dve, uint64_t task_id) {
  const auto it = tasks_.find(dve);
  if (it == tasks_.end()) return;
  it->second.erase(task_id);
  if (it->second.empty()) tasks_.erase(it);
}

std::vector<TaskRecord> Storehouse::tasks(uint32_t dve) const {
  std::vector<TaskRecord> out;
  const auto it = tasks_.find(dve);
  if (it == tasks_.end()) return out;
  for (const auto& entry : it->second)
    out.push_back(entry.second);
  return out;
}

void Storehouse::adopt_tasks(uint32_t from, uint32_t to) {
  if (from == to) return;
  const auto it = tasks_.find(from);
  if (it == tasks_.end()) return;
  auto moved = std::move(it->second);
  tasks_.erase(it);
  auto& mine = tasks_[to];
  for (auto& [id, task] : moved)
    mine.insert_or_assign(id, std::move(task));
}

// ---------------------------------------------------------------- metadata

const MetadataRecord* Storehouse::read(const OplockId& id) const {
  const auto it = metadata_.find(id);
  return it == metadata_.end() ? nullptr : &it->second;
}

uint64_t Storehouse::version(const OplockId& id) const {
  const MetadataRecord* record = read(id);
  return record ? record->version : 0;
}

void Storehouse::write(const OplockId& id, std::string bytes) {
  MetadataRecord& record = metadata_[id];
  ++record.version;
  record.bytes = std::move(bytes);
  ++writes_;
}

// ---------------------------------------------------------------- saving and loading

std::string Storehouse::serialize() const {
  std::string out = fmt::format("{}\n", kHeader);
  auto line = [&out](const std::string& text) {
    out += text;
    out += '\n';
  };
  for (uint32_t dve : jlist_)
    line(fmt::format("jlist {}", dve));
  for (const auto& entry : elist_) {
    if (is_released(entry)) {
      line(fmt::format("released {}", entry.first));
    } else {
      line(fmt::format("elist {} caretaker {}", entry.first, entry.second));
    }
  }
  for (const auto& [dve, until] : leases_)
    line(fmt::format("lease {} {}", dve, until));
  for (const auto& [id, dve] : owners_)
    line(fmt::format("owner {} {}", oplock_fields(id), dve));
  for (const auto& [dve, journal] : oplock_journals_) {
    for (const OplockJournalRecord& r : journal) {
      line(fmt::format("ojournal {} {} {} {}", dve, journal_kind_name(r.kind),
                       oplock_fields(r.oplock), r.at_ns));
    }
  }
  for (const auto& [dve, tasks] : tasks_) {
    for (const auto& [id, t] : tasks) {
      line(fmt::format("task {} {} {} {} {}", dve, id, t.progress, hex(t.kind), hex(t.params)));
    }
  }
  for (const auto& [id, r] : metadata_) {
    line(fmt::format("meta {} {} {}", oplock_fields(id), r.version, hex(r.bytes)));
  }
  line(fmt::format("writes {}", writes_));
  return out;
}

bool Storehouse::deserialize(const std::string& text, std::string* error) {
  Contents c;
  ParseError e;
  if (!parse(text, &c, &e)) {
    if (error) *error = fmt::format("line {}: field '{}': {}", e.line, e.field, e.what);
    return false;
  }
  jlist_ = std::move(c.jlist);
  elist_ = std::move(c.elist);
  leases_ = std::move(c.leases);
  owners_ = std::move(c.owners);
  oplock_journals_ = std::move(c.oplock_journals);
  tasks_ = std::move(c.tasks);
  metadata_ = std::move(c.metadata);
  writes_ = c.writes;
  return true;
}

bool Storehouse::save(const std::string& path, std::string* error) const {
  auto fail = [&](int err) {
    if (error) *error = fmt::format("{}: {}", path, std::strerror(err));
    return false;
  };
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) return fail(errno);
  const std::string text = serialize();
  const bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  const int write_errno = errno;
  if (std::fclose(file) != 0) return fail(errno);
  if (!written) return fail(write_errno);
  return true;
}

bool Storehouse::load(const std::string& path, std::string* error) {
  auto fail = [&](int err) {
    if (error) *error = fmt::format("{}: {}", path, std::strerror(err));
    return false;
  };
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) return fail(errno);
  std::string text;
  char buffer[1 << 16];
  size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, file)) > 0)
    text.append(buffer, got);
  const bool read_error = std::ferror(file) != 0;
  const int read_errno = errno;
  std::fclose(file);
  if (read_error) return fail(read_errno);
  Storehouse loaded;
  std::string parse_error;
  if (!loaded.deserialize(text, &parse_error)) {
    // "line N: field ..." becomes "<path>:N: field ...".
    constexpr std::string_view kLine = "line ";
    if (error)
      *error = fmt::format("{}:{}", path, std::string_view(parse_error).substr(kLine.size()));
    return false;
  }
  *this = std::move(loaded);
  return true;
}

}  // namespace splitpath::cp::cluster
