// The global storehouse (figure 25B): the metadata every DVE of the cluster
// shares and that survives any DVE's crash. Membership (jlist under jlock, the
// eviction list elist under elock, each evicted DVE's caretaker), the DVEs'
// leases, the owner records of non-volatile oplocks, each DVE's oplock journal
// and task journal, and the metadata chunks (Rmap chunks, redirect tables,
// storage descriptors, age lists) as versioned records.
//
// jlock and elock are the storehouse's own atomic operations (the
// specification allows another mechanism than oplocks for them). It can be
// saved to a file and loaded again, so a run can stop and resume.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cp/cluster/oplock_id.h"

namespace splitpath::cp::cluster {

struct OplockJournalRecord {
  enum class Kind : uint8_t { kAcquire, kRelease, kRecovered };
  Kind kind = Kind::kAcquire;
  OplockId oplock;
  uint64_t at_ns = 0;
};

// A task in progress (a migration, a resync) recorded in its DVE's task
// journal so the DVE that inherits the journal can finish it.
struct TaskRecord {
  uint64_t task_id = 0;
  std::string kind;    // "migration", ...
  std::string params;  // the task's own encoding
  uint64_t progress = 0;
};

struct MetadataRecord {
  uint64_t version = 0;
  std::string bytes;
};

class Storehouse {
 public:
  // --- membership (jlist under jlock) ---
  // Boot: adds `dve` to the jlist (no-op if there). False while `dve` is
  // still on the elist: it must recover its journal first (boot steps 1-2).
  bool join(uint32_t dve);
  const std::set<uint32_t>& jlist() const { return jlist_; }

  // --- eviction (elist under elock) ---
  struct Eviction {
    bool first = false;      // this caller evicted it and is its caretaker
    uint32_t caretaker = 0;  // whoever holds its journals now
  };
  // Puts `victim` on the elist and off the jlist; the first caller becomes
  // caretaker of the victim's journals and of every journal the victim was
  // caretaker of (a cascading eviction). An evicted caller cannot evict.
  std::optional<Eviction> evict(uint32_t victim, uint32_t by);
  bool evicted(uint32_t dve) const { return elist_.count(dve) != 0; }
  // The DVE holding `dve`'s journals: itself when online, else its caretaker
  // (or its caretaker's caretaker...).
  std::optional<uint32_t> journal_holder(uint32_t dve) const;
  // The journals `dve` holds for others.
  std::vector<uint32_t> journals_held_by(uint32_t dve) const;
  // The caretaker is done with `victim`'s journal: `victim` may boot again.
  void release_journal(uint32_t victim, uint32_t by);
  // Boot step 2: `dve`'s journal holder died too. `dve` takes its journal
  // back and evicts the holder, becoming caretaker of the holder's journals.
  void reclaim_journal(uint32_t dve);
  // Boot step 7: `dve` leaves the elist, its journal is its own again. False
  // while another DVE still holds it.
  bool rejoin(uint32_t dve);

  // --- leases: a DVE whose lease ran out has fenced itself ---
  // Renews `dve`'s lease to `until_ns`; refused to an evicted DVE.
  bool renew_lease(uint32_t dve, uint64_t until_ns);
  uint64_t lease_until(uint32_t dve) const;
  // When the lease of the last evicted DVE runs out: until then an evicted
  // DVE may not have fenced itself yet.
  uint64_t evicted_lease_end() const;

  // --- owner records of non-volatile oplocks ---
  std::optional<uint32_t> owner(const OplockId& id) const;
  void set_owner(const OplockId& id, std::optional<uint32_t> dve);
  std::vector<OplockId> owned_by(uint32_t dve) const;

  // --- per-DVE journals ---
  void journal_oplock(uint32_t dve, const OplockJournalRecord& record);
  const std::vector<OplockJournalRecord>& oplock_journal(uint32_t dve) const;
  // Adds or updates by task_id. Refused (false) to an evicted DVE: its
  // journal is its caretaker's to replay, and a task recorded after the
  // replay would be orphaned (or replayed twice when the DVE reclaims it).
  bool record_task(uint32_t dve, const TaskRecord& task);
  void end_task(uint32_t dve, uint64_t task_id);
  std::vector<TaskRecord> tasks(uint32_t dve) const;
  // Moves `from`'s tasks to `to`'s journal (a survivor taking them over).
  void adopt_tasks(uint32_t from, uint32_t to);

  // --- metadata records (one per oplock's chunk of metadata) ---
  const MetadataRecord* read(const OplockId& id) const;
  uint64_t version(const OplockId& id) const;
  void write(const OplockId& id, std::string bytes);  // version + 1
  uint64_t writes() const { return writes_; }

  // --- saving and loading ---
  std::string serialize() const;
  // Replaces the contents with `text`; on error names the line and field in
  // `error` and leaves the storehouse unchanged.
  bool deserialize(const std::string& text, std::string* error);
  bool save(const std::string& path, std::string* error) const;
  bool load(const std::string& path, std::string* error);

 private:
  std::set<uint32_t> jlist_;
  std::map<uint32_t, uint32_t> elist_;  // victim -> caretaker
  std::map<uint32_t, uint64_t> leases_;
  std::map<OplockId, uint32_t> owners_;
  std::map<uint32_t, std::vector<OplockJournalRecord>> oplock_journals_;
  std::map<uint32_t, std::map<uint64_t, TaskRecord>> tasks_;
  std::map<OplockId, MetadataRecord> metadata_;
  uint64_t writes_ = 0;
};

}  // namespace splitpath::cp::cluster
