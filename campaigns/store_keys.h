// The store's column families and key layouts, shared by the files that implement Store
// (store.cc: contacts, attempts, DNC, campaigns; store_engine.cc: what the engine keeps about its
// own running). Not part of the store's contract: only those files include it.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <cstdint>
#include <string>

#include "campaigns/records.h"
#include "campaigns/status.h"

namespace outpace::store_keys {

enum Cf { kDefault, kContacts, kDue, kAttempts, kInflight, kDnc, kMeta, kCfCount };
inline const char* const kCfNames[] = {"default",  "contacts", "due", "attempts",
                                       "inflight", "dnc",      "meta"};

inline void put_be64(std::string& s, std::uint64_t v) {
    for (int i = 7; i >= 0; --i) s += static_cast<char>((v >> (i * 8)) & 0xff);
}
inline std::uint64_t get_be64(const char* p) {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
}
// Times are stored offset so that negative values (never expected) still sort correctly.
inline std::uint64_t time_key(std::int64_t t) {
    return static_cast<std::uint64_t>(t) ^ (1ULL << 63);
}
inline std::int64_t time_from_key(std::uint64_t k) {
    return static_cast<std::int64_t>(k ^ (1ULL << 63));
}

inline std::string contact_key(const std::string& campaign, const std::string& phone) {
    std::string k = campaign;
    k += '\0';
    k += phone;
    return k;
}
inline std::string due_prefix(const std::string& campaign, const std::string& zones) {
    std::string k = campaign;
    k += '\0';
    k += zones;
    k += '\0';
    return k;
}
inline std::string due_key(const std::string& campaign, const Contact& c) {
    std::string k = due_prefix(campaign, c.zones);
    put_be64(k, time_key(c.next_eligible));
    k += c.phone;
    return k;
}
inline std::string attempt_key(const std::string& campaign, std::uint64_t id) {
    std::string k = campaign;
    k += '\0';
    put_be64(k, id);
    return k;
}
inline std::string id_key(std::uint64_t id) {
    std::string k;
    put_be64(k, id);
    return k;
}
inline const std::string kSeqKey = "seq/attempt";
inline const std::string kDncScopePrefix = "dnc-scope/";
inline constexpr char kDncTimed = '\x01';  // a DNC value that starts with its time

inline DncEntry decode_dnc(std::string scope, std::string phone, std::string_view v) {
    DncEntry e{std::move(scope), std::move(phone), {}, 0};
    if (v.size() >= 9 && v[0] == kDncTimed) {
        e.added_at = static_cast<std::int64_t>(get_be64(v.data() + 1));
        e.source = v.substr(9);
    } else {
        e.source = v;  // stored before times were kept
    }
    return e;
}
// Agents' time (meta): agenttime/CAMPAIGN\0HOUR(be64 ms)AGENT -> staffed ms (be64), paused ms
// (be64).
inline std::string agent_time_prefix(const std::string& campaign) {
    return "agenttime/" + campaign + '\0';
}
inline std::string agent_time_key(const std::string& campaign, std::int64_t hour_ms,
                                  const std::string& agent) {
    std::string k = agent_time_prefix(campaign);
    put_be64(k, static_cast<std::uint64_t>(hour_ms));
    return k += agent;
}
// A contact's other numbers (meta): number/CAMPAIGN\0E164 -> the contact's key.
inline std::string number_key(const std::string& campaign, const std::string& e164) {
    return "number/" + contact_key(campaign, e164);
}
// The numbers of `c` other than its key.
inline std::vector<std::string> other_numbers(const Contact& c) {
    std::vector<std::string> out;
    for (const auto& n : c.numbers)
        if (n.e164 != c.phone) out.push_back(n.e164);
    return out;
}
// Personal callbacks by agent (meta): callback/CAMPAIGN\0AGENT\0PHONE -> the time (be64).
inline std::string callback_prefix(const std::string& campaign, const std::string& agent) {
    return "callback/" + contact_key(campaign, agent) + '\0';
}
inline std::string callback_key(const std::string& campaign, const std::string& agent,
                                const std::string& phone) {
    return callback_prefix(campaign, agent) + phone;
}

// Upper bound of a prefix scan: the prefix with its last byte incremented.
inline std::string prefix_end(std::string p) {
    while (!p.empty() && static_cast<unsigned char>(p.back()) == 0xff) p.pop_back();
    if (!p.empty()) p.back() = static_cast<char>(static_cast<unsigned char>(p.back()) + 1);
    return p;
}

// A scan over a whole campaign (a report): its blocks are read once, so they would only push
// what the engine reads again (contacts due, recent attempts) out of the block cache, and the
// threads of a split scan would contend for the cache's locks; reading ahead saves a system call
// per block.
inline rocksdb::ReadOptions whole_scan() {
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    ro.readahead_size = 2 << 20;
    return ro;
}

template <typename F>
inline void scan_prefix(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const std::string& prefix,
                        F&& f, rocksdb::ReadOptions ro = {}) {
    std::string end = prefix_end(prefix);
    rocksdb::Slice upper(end);
    if (!end.empty()) ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, cf));
    for (it->Seek(prefix); it->Valid(); it->Next())
        if (!f(it->key(), it->value())) break;
}

// A RocksDB error as the store reports it: a full disk in words an operator acts on.
inline Status store_error(const rocksdb::Status& st, const std::string& dir,
                          const std::string& what) {
    Status out;
    out.io = true;
    out.no_space = st.IsNoSpace() || st.ToString().find("No space left") != std::string::npos;
    out.error =
        out.no_space ? "no space left on " + dir + " (" + what + ")" : what + ": " + st.ToString();
    return out;
}

}  // namespace outpace::store_keys
