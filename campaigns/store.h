// The store: contacts, attempts (the ledger), campaign definitions and do-not-call lists in
// RocksDB. This header is the whole contract; key layouts live in store_keys.h.
//
// Column families and keys (all integers big-endian so keys sort by value):
//   contacts  campaign \0 phone                              -> Contact
//   due       campaign \0 zones \0 next_eligible(8) phone    -> ""   (pending contacts only)
//   attempts  campaign \0 id(8)                              -> Attempt
//   inflight  id(8)                                          -> campaign
//   dnc       scope \0 phone                                 -> \x01 added_at(8) source (or, from
//             before times were kept, source alone); scope "*" = every campaign,
//             "client:NAME" = every campaign of that client, else a campaign's name
//   meta      "campaign/" name -> path \0 yaml;  "zones/" campaign \0 zones -> "";
//             "dnc-scope/" scope -> "";  "seq/attempt";  "pacing/" campaign -> the pacer's
//             state; "agenttime/", "number/", "callback/" (see store.cc)
// The due index is grouped by time zone so the hopper skips whole zones that are outside calling
// hours instead of scanning past their contacts.
#pragma once

#include "campaigns/status.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "campaigns/records.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
class Iterator;
}  // namespace rocksdb

namespace outpace {

struct StoredCampaign {
    std::string path;
    std::string yaml;
    std::string saved_by;       // "import" or "engine" (empty: stored before this was kept)
    std::int64_t saved_at = 0;  // unix seconds
};

// One number on one do-not-call list, with where it came from and when (a regulator or a court
// may ask). Scope "*" is the global list, "client:NAME" a client's (every campaign with
// `client: NAME` obeys it); any other scope is a campaign's name (names never hold ':').
struct DncEntry {
    std::string scope, phone, source;
    std::int64_t added_at = 0;  // unix seconds; 0 for entries stored before times were kept
};
// A scope as people write it: "global", "client:NAME" or "campaign:NAME".
std::string dnc_scope_label(const std::string& scope);
// The stored scope of a client's list.
std::string client_dnc_scope(const std::string& client);

// One entry of the due index.
struct DueEntry {
    std::string zones;
    std::int64_t next_eligible = 0;
    std::string phone;
};

class Store {
  public:
    // Opens (creating if needed) the store in `dir`. Only one process may hold it.
    static std::unique_ptr<Store> open(const std::string& dir, std::string* error);
    // Opens an existing store for reading, beside the process that holds it (a running engine):
    // no lock taken, nothing created or written in `dir`, so it also works on a read-only copy.
    // What it sees is the store as of the call. Refuses a folder that holds no store. Only the
    // read functions may be used on it.
    static std::unique_ptr<Store> open_reader(const std::string& dir, std::string* error);
    // After a failed write (a full disk) RocksDB refuses every write until it recovers: this
    // asks it to, and works once space has returned.
    Status resume();
    // Bytes free on the store's filesystem for this process (0 when unknown).
    std::uint64_t free_bytes() const;
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    // A set of writes applied atomically. put_contact keeps the due index in step: pass the
    // contact as it was stored (or nullptr when new) and as it is now.
    class Batch {
      public:
        Batch();
        ~Batch();
        Batch(Batch&&) noexcept;
        Batch& operator=(Batch&&) noexcept;
        void put_contact(const std::string& campaign, const Contact* before, const Contact& after);
        // Deletes a contact (as it is stored) with its due entry and callback; its attempts stay.
        void remove_contact(const std::string& campaign, const Contact& before);
        // A contact new to the campaign, with its zone group (recorded once per batch).
        void add_contact(const std::string& campaign, const Contact& c);
        void put_attempt(const Attempt& a);
        // `added_at`: unix seconds (0 = now).
        void add_dnc(const std::string& scope, const std::string& phone, const std::string& source,
                     std::int64_t added_at = 0);
        void remove_dnc(const std::string& scope, const std::string& phone);
        void put_zone_group(const std::string& campaign, const std::string& zones);
        std::size_t count() const;

      private:
        friend class Store;
        std::unique_ptr<rocksdb::WriteBatch> wb_;
        Store* store_ = nullptr;
        std::string dnc_scope_;  // the last scope this batch recorded as known
        std::unordered_set<std::string> zone_groups_;  // the zone groups this batch recorded
    };
    Batch batch();
    // `sync` waits for the write-ahead log to reach the disk: use it for what must survive a crash.
    Status write(Batch& b, bool sync);
    // Adds `phones` (E.164) to the `scope` list with `source` and `added_at` (0 = now), or with
    // `remove` takes them off, in one batch.
    Status change_dnc(bool remove, const std::string& scope, const std::vector<std::string>& phones,
                      const std::string& source, std::int64_t added_at, bool sync);
    // Writes without the write-ahead log, for bulk loads that are redone whole after a crash
    // (imports are idempotent). Call flush() before reporting the load as done.
    Status write_unlogged(Batch& b);
    // Persists everything written so far to table files.
    Status flush();
    // Compacts every column family now and waits (a benchmark's steady store to read, without
    // a freshly loaded store's compactions running under the measurement).
    Status compact();

    Status save_campaign(const std::string& name, const StoredCampaign& c);
    // What a campaign's pacer learned, as its bytes (the engine's to encode), written by the
    // engine as it runs and read back at its next start.
    Status save_pacing(const std::string& campaign, const std::string& bytes);
    std::optional<std::string> load_pacing(const std::string& campaign) const;
    std::optional<StoredCampaign> load_campaign(const std::string& name) const;
    std::vector<std::string> campaigns() const;

    std::optional<Contact> contact(const std::string& campaign, const std::string& phone) const;
    // The contact whose key, or one of whose numbers (a list's other phone columns), is `e164`.
    std::optional<Contact> contact_by_number(const std::string& campaign,
                                             const std::string& e164) const;
    // Looks up several contacts at once; missing ones come back as nullopt.
    std::vector<std::optional<Contact>> contacts(const std::string& campaign,
                                                 const std::vector<std::string>& phones) const;
    // Batched lookups (one MultiGet instead of a lookup per number): which numbers are stored
    // contacts of the campaign, and which are on its or the global ("*") do-not-call list.
    std::vector<bool> contacts_exist(const std::string& campaign,
                                     const std::vector<std::string>& phones) const;
    // `client`: the campaign's client (Campaign::client), whose list counts too; "" for none.
    std::vector<bool> dnc_many(const std::string& campaign, const std::string& client,
                               const std::vector<std::string>& phones) const;
    // True when the campaign has at least one contact.
    bool has_contacts(const std::string& campaign) const;
    // The campaign's contacts still to be dialled (its due index: pending, not on a call now),
    // counted up to `limit`. One pass over the index: call it off the engine's loop.
    std::size_t pending_contacts(const std::string& campaign, std::size_t limit) const;
    // The numbers on the campaign's and the global DNC lists, or nullopt when there are more
    // than `limit` (then ask dnc_many instead of holding them all in memory).
    std::optional<std::unordered_set<std::string>> dnc_numbers(const std::string& campaign,
                                                               const std::string& client,
                                                               std::size_t limit) const;
    // Every list `phone` is on (global first), with source and time.
    std::vector<DncEntry> dnc_lookup(const std::string& phone) const;
    // Every entry of one list, in number order.
    void for_each_dnc(const std::string& scope,
                      const std::function<void(const DncEntry&)>& f) const;
    void for_each_contact(const std::string& campaign,
                          const std::function<void(const Contact&)>& f) const;

    std::optional<Attempt> attempt(const std::string& campaign, std::uint64_t id) const;
    void for_each_attempt(const std::string& campaign,
                          const std::function<void(const Attempt&)>& f) const;
    // The same pass cut into `parts` ranges of attempt ids, each read on its own thread:
    // f(part, attempt) is called from `parts` threads at once (each part in id order), so it may
    // touch only what belongs to its part. A reader's report over millions of attempts uses
    // every core.
    void for_each_attempt_split(const std::string& campaign, std::size_t parts,
                                const std::function<void(std::size_t, const Attempt&)>& f) const;
    // The campaign's most recent attempts, newest first: at most `limit`, none started before
    // `since_ms`. f returns false to stop early.
    void for_each_recent_attempt(const std::string& campaign, std::size_t limit,
                                 std::int64_t since_ms,
                                 const std::function<bool(const Attempt&)>& f) const;
    // Attempts recorded but never completed, across campaigns (what a crash leaves behind).
    std::vector<Attempt> in_flight_attempts() const;
    // What the store holds in memory, in bytes (RocksDB's own accounting): memtables written
    // and not flushed yet (up to 4 x 16 MiB per column family), the block cache of data read
    // (at most 256 MiB), and the table readers' indexes and filters.
    struct Memory {
        std::uint64_t memtables = 0, block_cache = 0, table_readers = 0;
    };
    Memory memory() const;
    // True while RocksDB is behind with its flushes (memtables queued, writes slowed or
    // stopped): bulk work should wait, so that the ledger's writes never stall behind it.
    bool busy_flushing() const;
    // Reserves `n` consecutive attempt ids; the reservation is written with the next batch.
    std::uint64_t reserve_attempt_ids(Batch& b, std::uint64_t n);

    std::vector<std::string> zone_groups(const std::string& campaign) const;

    // Agents' time (the occupancy's denominator): per campaign, agent and UTC hour, the time
    // logged in and working (ready, reserved, talking, wrap-up) and the time paused.
    struct AgentTime {
        std::string campaign, agent;
        std::int64_t hour_ms = 0;  // the hour's start, unix milliseconds
        std::int64_t staffed_ms = 0, paused_ms = 0;
    };
    // Adds each to what the store holds for its campaign, agent and hour (one write).
    Status add_agent_time(const std::vector<AgentTime>& deltas, bool sync);
    // The hours starting in [from_ms, to_ms), in hour order.
    void for_each_agent_time(const std::string& campaign, std::int64_t from_ms, std::int64_t to_ms,
                             const std::function<void(const AgentTime&)>& f) const;

    // The personal callbacks `agent` asked for in `campaign` and not yet dialled (at most 1,000).
    struct PersonalCallback {
        std::string phone;
        std::int64_t at = 0;  // unix seconds
    };
    std::vector<PersonalCallback> personal_callbacks(const std::string& campaign,
                                                     const std::string& agent) const;
    // Walks the due index of one zone group in time order, entries with next_eligible <= up_to.
    class DueCursor {
      public:
        ~DueCursor();
        bool valid() const { return valid_; }
        const DueEntry& entry() const { return entry_; }
        void next();

      private:
        friend class Store;
        DueCursor() = default;
        void load();
        std::unique_ptr<rocksdb::Iterator> it_;
        std::string prefix_;
        std::int64_t up_to_ = 0;
        DueEntry entry_;
        bool valid_ = false;
    };
    std::unique_ptr<DueCursor> due_cursor(const std::string& campaign, const std::string& zones,
                                          std::int64_t up_to) const;

  private:
    Store() = default;
    friend class Batch;
    std::unique_ptr<rocksdb::DB> db_;
    std::vector<rocksdb::ColumnFamilyHandle*> cf_;
    std::string dir_;
    std::string secondary_dir_;  // a reader's own scratch folder (removed with it)
    std::uint64_t next_attempt_id_ = 1;
};

}  // namespace outpace
