#include "campaigns/store.h"
#include "campaigns/store_keys.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <sys/statvfs.h>

#include <algorithm>
#include <cassert>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <future>
#include <map>

namespace outpace {
using namespace store_keys;

Store::Batch::Batch() : wb_(std::make_unique<rocksdb::WriteBatch>()) {}
Store::Batch::~Batch() = default;
Store::Batch::Batch(Batch&&) noexcept = default;
Store::Batch& Store::Batch::operator=(Batch&&) noexcept = default;
std::size_t Store::Batch::count() const {
    return wb_->Count();
}

void Store::Batch::put_contact(const std::string& campaign, const Contact* before,
                               const Contact& after) {
    if (before && before->state == ContactState::pending)
        wb_->Delete(store_->cf_[kDue], due_key(campaign, *before));
    if (before && !before->callback_agent.empty())
        wb_->Delete(store_->cf_[kMeta],
                    callback_key(campaign, before->callback_agent, before->phone));
    wb_->Put(store_->cf_[kContacts], contact_key(campaign, after.phone), after.encode());
    if (const auto others = other_numbers(after); !before || other_numbers(*before) != others) {
        if (before)
            for (const auto& n : other_numbers(*before))
                wb_->Delete(store_->cf_[kMeta], number_key(campaign, n));
        for (const auto& n : others)
            wb_->Put(store_->cf_[kMeta], number_key(campaign, n), after.phone);
    }
    if (after.state == ContactState::pending)
        wb_->Put(store_->cf_[kDue], due_key(campaign, after), "");
    if (after.state == ContactState::pending && !after.callback_agent.empty()) {
        std::string at;
        put_be64(at, time_key(after.next_eligible));
        wb_->Put(store_->cf_[kMeta], callback_key(campaign, after.callback_agent, after.phone), at);
    }
}

void Store::Batch::add_contact(const std::string& campaign, const Contact& c) {
    if (zone_groups_.insert(c.zones).second) put_zone_group(campaign, c.zones);
    put_contact(campaign, nullptr, c);
}

void Store::Batch::remove_contact(const std::string& campaign, const Contact& before) {
    if (before.state == ContactState::pending)
        wb_->Delete(store_->cf_[kDue], due_key(campaign, before));
    if (!before.callback_agent.empty())
        wb_->Delete(store_->cf_[kMeta],
                    callback_key(campaign, before.callback_agent, before.phone));
    wb_->Delete(store_->cf_[kContacts], contact_key(campaign, before.phone));
    for (const auto& n : other_numbers(before))
        wb_->Delete(store_->cf_[kMeta], number_key(campaign, n));
}

void Store::Batch::put_attempt(const Attempt& a) {
    wb_->Put(store_->cf_[kAttempts], attempt_key(a.campaign, a.id), a.encode());
    if (a.in_flight())
        wb_->Put(store_->cf_[kInflight], id_key(a.id), a.campaign);
    else
        wb_->Delete(store_->cf_[kInflight], id_key(a.id));
}

void Store::Batch::add_dnc(const std::string& scope, const std::string& phone,
                           const std::string& source, std::int64_t added_at) {
    std::string v(1, kDncTimed);
    put_be64(v, static_cast<std::uint64_t>(added_at > 0 ? added_at : std::time(nullptr)));
    v += source;
    wb_->Put(store_->cf_[kDnc], contact_key(scope, phone), v);
    if (scope != dnc_scope_) {
        wb_->Put(store_->cf_[kMeta], kDncScopePrefix + scope, "");
        dnc_scope_ = scope;
    }
}

void Store::Batch::remove_dnc(const std::string& scope, const std::string& phone) {
    wb_->Delete(store_->cf_[kDnc], contact_key(scope, phone));
}

void Store::Batch::put_zone_group(const std::string& campaign, const std::string& zones) {
    wb_->Put(store_->cf_[kMeta], "zones/" + contact_key(campaign, zones), "");
}

namespace {

// RocksDB's own LOG file is written through a file writer that asserts (aborts the process) on
// the write after one that failed: a full disk killed `outpace run` and `outpace report` there.
// Warnings and errors go to stderr instead; nothing is written to the store's folder.
class StderrLogger final : public rocksdb::Logger {
  public:
    StderrLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
    using rocksdb::Logger::Logv;
    void Logv(const char* format, va_list ap) override {
        char line[1024];
        std::vsnprintf(line, sizeof line, format, ap);
        // Store::open says why in words (another process holds the store, a full disk).
        if (std::strstr(line, "DB::Open() failed")) return;
        // One line per message: RocksDB appends dumps (version edits) after a newline.
        std::fprintf(stderr, "outpace: store: %.*s\n", static_cast<int>(std::strcspn(line, "\n")),
                     line);
    }
};

}  // namespace

namespace {
struct OpenOptions {
    rocksdb::DBOptions db;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
};
OpenOptions open_options(bool writer) {
    rocksdb::Options options;
    options.info_log = std::make_shared<StderrLogger>();
    // No preallocated WAL blocks (17 MiB at a time): a full disk shows at the first write that
    // does not fit, so the engine stalls while the outcomes it holds are few, instead of some
    // 30,000 attempts later in the middle of a memtable flush.
    options.allow_fallocate = false;
    options.create_if_missing = writer;
    options.create_missing_column_families = writer;
    options.IncreaseParallelism(2);
    // A reader keeps every table file open: the writer may delete one it has compacted away,
    // and an open file stays readable (what RocksDB asks of a secondary instance).
    if (!writer) options.max_open_files = -1;
    rocksdb::BlockBasedTableOptions table;
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    table.block_cache = rocksdb::NewLRUCache((writer ? 256 : 64) << 20);
    rocksdb::ColumnFamilyOptions cfo(options);
    cfo.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    cfo.write_buffer_size = 16 << 20;
    cfo.max_write_buffer_number = 4;
    cfo.level0_slowdown_writes_trigger = 40;
    cfo.level0_stop_writes_trigger = 60;
    // Whole-key bloom filters in the memtable too: import asks "is this number known / on DNC?"
    // for every row, and the answer is nearly always no.
    cfo.memtable_whole_key_filtering = true;
    cfo.memtable_prefix_bloom_size_ratio = 0.05;
    OpenOptions out{rocksdb::DBOptions(options), {}};
    for (const char* name : kCfNames) out.cfs.emplace_back(name, cfo);
    return out;
}
}  // namespace

std::unique_ptr<Store> Store::open(const std::string& dir, std::string* error) {
    auto [options, cfs] = open_options(true);
    std::unique_ptr<Store> s(new Store());
    rocksdb::DB* db = nullptr;
    // RocksDB would log an error for a folder that does not exist yet before creating it.
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    auto st = rocksdb::DB::Open(options, dir, cfs, &s->cf_, &db);
    if (!st.ok()) {
        if (!error) return nullptr;
        if (st.IsIOError() && (st.ToString().find("While lock file") != std::string::npos ||
                               st.ToString().find("lock hold by") != std::string::npos))
            *error = "the store in " + dir +
                     " is in use by another process, most likely a running engine (one process "
                     "writes a store at a time; report, export and contacts next read beside it)";
        else
            *error = store_error(st, dir, "cannot open the store in " + dir).error;
        return nullptr;
    }
    s->db_.reset(db);
    s->dir_ = dir;
    std::string seq;
    if (s->db_->Get({}, s->cf_[kMeta], kSeqKey, &seq).ok() && seq.size() == 8)
        s->next_attempt_id_ = get_be64(seq.data());
    return s;
}

std::unique_ptr<Store> Store::open_reader(const std::string& dir, std::string* error) {
    std::error_code ec;
    if (!std::filesystem::exists(std::filesystem::path(dir) / "CURRENT", ec)) {
        if (error)
            *error = std::filesystem::is_directory(dir, ec)
                         ? "no store in " + dir + " (nothing has been imported there yet)"
                         : "no store in " + dir + ": no such folder";
        return nullptr;
    }
    auto [options, cfs] = open_options(false);
    std::unique_ptr<Store> s(new Store());
    // A secondary instance: it follows the writer's files without their lock, and writes
    // nothing in `dir`; its own scratch folder is private to this process.
    std::string scratch =
        (std::filesystem::temp_directory_path(ec) / "outpace-reader-XXXXXX").string();
    if (ec || !::mkdtemp(scratch.data())) {
        if (error) *error = "cannot make a scratch folder to read the store in " + dir;
        return nullptr;
    }
    s->secondary_dir_ = scratch;
    s->dir_ = dir;
    rocksdb::DB* db = nullptr;
    auto st = rocksdb::DB::OpenAsSecondary(options, dir, scratch, cfs, &s->cf_, &db);
    if (!st.ok()) {
        if (error) *error = store_error(st, dir, "cannot read the store in " + dir).error;
        return nullptr;  // ~Store removes the scratch folder
    }
    s->db_.reset(db);
    return s;
}

Store::~Store() {
    if (db_)
        for (auto* h : cf_) db_->DestroyColumnFamilyHandle(h);
    db_.reset();
    if (!secondary_dir_.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(secondary_dir_, ec);
    }
}

Store::Batch Store::batch() {
    Batch b;
    b.store_ = this;
    return b;
}

namespace {
Status apply(rocksdb::DB* db, rocksdb::WriteBatch* wb, const rocksdb::WriteOptions& wo,
             const std::string& dir) {
    auto st = db->Write(wo, wb);
    if (!st.ok()) return store_error(st, dir, "store write failed");
    wb->Clear();
    return {};
}
}  // namespace

Status Store::resume() {
    auto st = db_->Resume();
    if (!st.ok()) return store_error(st, dir_, "store still cannot write");
    return {};
}

std::uint64_t Store::free_bytes() const {
    struct statvfs v {};
    if (::statvfs(dir_.c_str(), &v) != 0) return 0;
    return static_cast<std::uint64_t>(v.f_bavail) * v.f_frsize;
}

Store::Memory Store::memory() const {
    Memory m;
    std::uint64_t v = 0;
    for (auto* cf : cf_) {
        if (db_->GetIntProperty(cf, "rocksdb.cur-size-all-mem-tables", &v)) m.memtables += v;
        if (db_->GetIntProperty(cf, "rocksdb.estimate-table-readers-mem", &v)) m.table_readers += v;
    }
    // One cache, shared by every column family.
    if (!cf_.empty() && db_->GetIntProperty(cf_[0], "rocksdb.block-cache-usage", &v))
        m.block_cache = v;
    return m;
}

Status Store::change_dnc(bool remove, const std::string& scope,
                         const std::vector<std::string>& phones, const std::string& source,
                         std::int64_t added_at, bool sync) {
    auto b = batch();
    for (const auto& p : phones) {
        if (remove)
            b.remove_dnc(scope, p);
        else
            b.add_dnc(scope, p, source, added_at);
    }
    return write(b, sync);
}

bool Store::busy_flushing() const {
    std::uint64_t v = 0;
    if (db_->GetIntProperty("rocksdb.actual-delayed-write-rate", &v) && v > 0) return true;
    if (db_->GetIntProperty("rocksdb.is-write-stopped", &v) && v > 0) return true;
    for (auto* cf : cf_)
        if (db_->GetIntProperty(cf, "rocksdb.num-immutable-mem-table", &v) && v >= 2) return true;
    return false;
}

Status Store::write(Batch& b, bool sync) {
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    return apply(db_.get(), b.wb_.get(), wo, dir_);
}

Status Store::write_unlogged(Batch& b) {
    rocksdb::WriteOptions wo;
    wo.disableWAL = true;
    return apply(db_.get(), b.wb_.get(), wo, dir_);
}

Status Store::flush() {
    rocksdb::FlushOptions fo;
    fo.wait = true;
    auto st = db_->Flush(fo, cf_);
    if (!st.ok()) return store_error(st, dir_, "store flush failed");
    return {};
}

Status Store::compact() {
    for (auto* cf : cf_)
        if (auto st = db_->CompactRange({}, cf, nullptr, nullptr); !st.ok())
            return store_error(st, dir_, "store compaction failed");
    return {};
}

Status Store::save_campaign(const std::string& name, const StoredCampaign& c) {
    // \x02 by \0 at \0 path \0 yaml; records from before (path \0 yaml) still read.
    std::string v(1, '\x02');
    v += c.saved_by;
    v += '\0';
    v += std::to_string(c.saved_at > 0 ? c.saved_at : std::time(nullptr));
    v += '\0';
    v += c.path;
    v += '\0';
    v += c.yaml;
    rocksdb::WriteOptions wo;
    wo.sync = true;
    auto st = db_->Put(wo, cf_[kMeta], "campaign/" + name, v);
    if (!st.ok()) return store_error(st, dir_, "store write failed");
    return {};
}

std::optional<StoredCampaign> Store::load_campaign(const std::string& name) const {
    std::string v;
    if (!db_->Get({}, cf_[kMeta], "campaign/" + name, &v).ok()) return std::nullopt;
    StoredCampaign c;
    std::string_view rest = v;
    auto take = [&](std::string& out) {
        const auto nul = rest.find('\0');
        if (nul == std::string_view::npos) return false;
        out = rest.substr(0, nul);
        rest.remove_prefix(nul + 1);
        return true;
    };
    if (!rest.empty() && rest[0] == '\x02') {
        rest.remove_prefix(1);
        std::string at;
        if (!take(c.saved_by) || !take(at)) return std::nullopt;
        c.saved_at = std::strtoll(at.c_str(), nullptr, 10);
    }
    if (!take(c.path)) return std::nullopt;
    c.yaml = rest;
    return c;
}

std::vector<std::string> Store::campaigns() const {
    std::vector<std::string> out;
    scan_prefix(db_.get(), cf_[kMeta], "campaign/",
                [&](const rocksdb::Slice& k, const rocksdb::Slice&) {
                    out.push_back(k.ToString().substr(9));
                    return true;
                });
    return out;
}

std::optional<Contact> Store::contact(const std::string& campaign, const std::string& phone) const {
    std::string v;
    if (!db_->Get({}, cf_[kContacts], contact_key(campaign, phone), &v).ok()) return std::nullopt;
    return Contact::decode(v);
}

std::optional<Contact> Store::contact_by_number(const std::string& campaign,
                                                const std::string& e164) const {
    if (auto c = contact(campaign, e164)) return c;
    std::string key;
    if (!db_->Get({}, cf_[kMeta], number_key(campaign, e164), &key).ok()) return std::nullopt;
    auto c = contact(campaign, key);
    // An entry left by a contact whose numbers changed since: only a number it has counts.
    if (!c || std::none_of(c->numbers.begin(), c->numbers.end(),
                           [&](const ContactNumber& n) { return n.e164 == e164; }))
        return std::nullopt;
    return c;
}

namespace {
// One batched lookup of scope \0 phone keys; calls f(i, value) for each key found.
template <typename F>
void multi_get(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const std::string& scope,
               const std::vector<std::string>& phones, F&& f) {
    std::vector<std::string> keys;
    keys.reserve(phones.size());
    for (const auto& p : phones) keys.push_back(contact_key(scope, p));
    std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
    std::vector<rocksdb::PinnableSlice> values(keys.size());
    std::vector<rocksdb::Status> statuses(keys.size());
    db->MultiGet({}, cf, keys.size(), slices.data(), values.data(), statuses.data());
    for (std::size_t i = 0; i < keys.size(); ++i)
        if (statuses[i].ok()) f(i, values[i].ToStringView());
}

std::vector<bool> exist_many(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                             const std::string& scope, const std::vector<std::string>& phones) {
    std::vector<bool> out(phones.size());
    multi_get(db, cf, scope, phones, [&](std::size_t i, std::string_view) { out[i] = true; });
    return out;
}
}  // namespace

std::vector<std::optional<Contact>> Store::contacts(const std::string& campaign,
                                                    const std::vector<std::string>& phones) const {
    std::vector<std::optional<Contact>> out(phones.size());
    multi_get(db_.get(), cf_[kContacts], campaign, phones,
              [&](std::size_t i, std::string_view v) { out[i] = Contact::decode(v); });
    return out;
}

std::vector<bool> Store::contacts_exist(const std::string& campaign,
                                        const std::vector<std::string>& phones) const {
    return exist_many(db_.get(), cf_[kContacts], campaign, phones);
}

std::string client_dnc_scope(const std::string& client) {
    return "client:" + client;
}

std::vector<bool> Store::dnc_many(const std::string& campaign, const std::string& client,
                                  const std::vector<std::string>& phones) const {
    auto mine = exist_many(db_.get(), cf_[kDnc], campaign, phones);
    auto global = exist_many(db_.get(), cf_[kDnc], "*", phones);
    for (std::size_t i = 0; i < mine.size(); ++i) mine[i] = mine[i] || global[i];
    if (!client.empty()) {
        auto theirs = exist_many(db_.get(), cf_[kDnc], client_dnc_scope(client), phones);
        for (std::size_t i = 0; i < mine.size(); ++i) mine[i] = mine[i] || theirs[i];
    }
    return mine;
}

std::string dnc_scope_label(const std::string& scope) {
    if (scope == "*") return "global";
    if (scope.starts_with("client:")) return scope;
    return "campaign:" + scope;
}

std::vector<DncEntry> Store::dnc_lookup(const std::string& phone) const {
    std::vector<std::string> scopes{"*"};
    scan_prefix(db_.get(), cf_[kMeta], kDncScopePrefix,
                [&](const rocksdb::Slice& k, const rocksdb::Slice&) {
                    std::string scope(k.data() + kDncScopePrefix.size(),
                                      k.size() - kDncScopePrefix.size());
                    if (scope != "*") scopes.push_back(std::move(scope));
                    return true;
                });
    // Scopes with entries from before the scope list was kept: the campaigns'.
    for (auto& c : campaigns())
        if (std::find(scopes.begin(), scopes.end(), c) == scopes.end()) scopes.push_back(c);
    std::vector<DncEntry> out;
    for (const auto& scope : scopes) {
        std::string v;
        if (db_->Get({}, cf_[kDnc], contact_key(scope, phone), &v).ok())
            out.push_back(decode_dnc(scope, phone, v));
    }
    return out;
}

void Store::for_each_dnc(const std::string& scope,
                         const std::function<void(const DncEntry&)>& f) const {
    const std::string prefix = scope + '\0';
    scan_prefix(
        db_.get(), cf_[kDnc], prefix, [&](const rocksdb::Slice& k, const rocksdb::Slice& v) {
            f(decode_dnc(scope, std::string(k.data() + prefix.size(), k.size() - prefix.size()),
                         v.ToStringView()));
            return true;
        });
}

std::size_t Store::pending_contacts(const std::string& campaign, std::size_t limit) const {
    std::size_t n = 0;
    scan_prefix(db_.get(), cf_[kDue], campaign + '\0',
                [&](const rocksdb::Slice&, const rocksdb::Slice&) { return ++n < limit; });
    return n;
}

bool Store::has_contacts(const std::string& campaign) const {
    bool any = false;
    scan_prefix(db_.get(), cf_[kContacts], campaign + '\0',
                [&](const rocksdb::Slice&, const rocksdb::Slice&) { return any = true, false; });
    return any;
}

std::optional<std::unordered_set<std::string>> Store::dnc_numbers(const std::string& campaign,
                                                                  const std::string& client,
                                                                  std::size_t limit) const {
    std::unordered_set<std::string> out;
    bool too_many = false;
    std::vector<std::string> scopes{campaign, "*"};
    if (!client.empty()) scopes.push_back(client_dnc_scope(client));
    for (const std::string& scope : scopes) {
        const std::string prefix = scope + '\0';
        scan_prefix(db_.get(), cf_[kDnc], prefix,
                    [&](const rocksdb::Slice& k, const rocksdb::Slice&) {
                        if (out.size() >= limit) return too_many = true, false;
                        out.emplace(k.data() + prefix.size(), k.size() - prefix.size());
                        return true;
                    });
    }
    if (too_many) return std::nullopt;
    return out;
}

void Store::for_each_contact(const std::string& campaign,
                             const std::function<void(const Contact&)>& f) const {
    scan_prefix(
        db_.get(), cf_[kContacts], campaign + '\0',
        [&](const rocksdb::Slice&, const rocksdb::Slice& v) {
            if (auto c = Contact::decode(v.ToStringView())) f(*c);
            return true;
        },
        whole_scan());
}

std::optional<Attempt> Store::attempt(const std::string& campaign, std::uint64_t id) const {
    std::string v;
    if (!db_->Get({}, cf_[kAttempts], attempt_key(campaign, id), &v).ok()) return std::nullopt;
    return Attempt::decode(v);
}

void Store::for_each_attempt(const std::string& campaign,
                             const std::function<void(const Attempt&)>& f) const {
    Attempt a;  // one record's buffers, reused for every attempt
    scan_prefix(
        db_.get(), cf_[kAttempts], campaign + '\0',
        [&](const rocksdb::Slice&, const rocksdb::Slice& v) {
            if (Attempt::decode(v.ToStringView(), a)) f(a);
            return true;
        },
        whole_scan());
}

void Store::for_each_attempt_split(
    const std::string& campaign, std::size_t parts,
    const std::function<void(std::size_t, const Attempt&)>& f) const {
    const std::string prefix = campaign + '\0';
    // The campaign's first and last attempt ids.
    std::uint64_t first = 0, last = 0;
    {
        rocksdb::ReadOptions ro;
        std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_[kAttempts]));
        it->Seek(prefix);
        if (!it->Valid() || !it->key().starts_with(prefix)) return;
        if (it->key().size() == prefix.size() + 8)
            first = get_be64(it->key().data() + prefix.size());
        it->SeekForPrev(prefix_end(prefix));
        if (it->Valid() && it->key().starts_with(prefix) && it->key().size() == prefix.size() + 8)
            last = get_be64(it->key().data() + prefix.size());
    }
    if (parts <= 1 || last <= first || last - first < parts * 1000) {
        for_each_attempt(campaign, [&](const Attempt& a) { f(0, a); });
        return;
    }
    auto range = [&](std::size_t part) {
        const std::uint64_t span = (last - first) / parts + 1;
        const std::string from = attempt_key(campaign, first + span * part);
        const std::string to = part + 1 == parts ? prefix_end(prefix)
                                                 : attempt_key(campaign, first + span * (part + 1));
        rocksdb::Slice upper(to);
        rocksdb::ReadOptions ro = whole_scan();
        ro.iterate_upper_bound = &upper;
        std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_[kAttempts]));
        Attempt a;
        for (it->Seek(from); it->Valid(); it->Next())
            if (Attempt::decode(it->value().ToStringView(), a)) f(part, a);
    };
    std::vector<std::future<void>> others;
    for (std::size_t p = 1; p < parts; ++p)
        others.push_back(std::async(std::launch::async, range, p));
    range(0);
    for (auto& o : others) o.get();
}

void Store::for_each_recent_attempt(const std::string& campaign, std::size_t limit,
                                    std::int64_t since_ms,
                                    const std::function<bool(const Attempt&)>& f) const {
    const std::string prefix = campaign + '\0';
    rocksdb::ReadOptions ro;
    rocksdb::Slice lower(prefix);
    ro.iterate_lower_bound = &lower;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_[kAttempts]));
    Attempt a;
    std::size_t n = 0;
    // Ids grow with time: the newest attempt is the last key of the campaign's range.
    for (it->SeekForPrev(prefix_end(prefix)); it->Valid() && n < limit; it->Prev()) {
        if (!it->key().starts_with(prefix)) break;
        if (!Attempt::decode(it->value().ToStringView(), a)) continue;
        if (a.started_ms < since_ms) break;
        ++n;
        if (!f(a)) break;
    }
}

std::vector<Attempt> Store::in_flight_attempts() const {
    std::vector<Attempt> out;
    scan_prefix(db_.get(), cf_[kInflight], "",
                [&](const rocksdb::Slice& k, const rocksdb::Slice& v) {
                    if (k.size() == 8)
                        if (auto a = attempt(v.ToString(), get_be64(k.data()))) out.push_back(*a);
                    return true;
                });
    return out;
}

std::uint64_t Store::reserve_attempt_ids(Batch& b, std::uint64_t n) {
    std::uint64_t first = next_attempt_id_;
    next_attempt_id_ += n;
    std::string v;
    put_be64(v, next_attempt_id_);
    b.wb_->Put(cf_[kMeta], kSeqKey, v);
    return first;
}

std::vector<Store::PersonalCallback> Store::personal_callbacks(const std::string& campaign,
                                                               const std::string& agent) const {
    std::vector<PersonalCallback> out;
    const std::string prefix = callback_prefix(campaign, agent);
    scan_prefix(
        db_.get(), cf_[kMeta], prefix, [&](const rocksdb::Slice& k, const rocksdb::Slice& v) {
            if (v.size() == 8)
                out.push_back({std::string(k.data() + prefix.size(), k.size() - prefix.size()),
                               time_from_key(get_be64(v.data()))});
            return out.size() < 1000;
        });
    return out;
}

std::vector<std::string> Store::zone_groups(const std::string& campaign) const {
    std::vector<std::string> out;
    const std::string prefix = "zones/" + campaign + '\0';
    scan_prefix(db_.get(), cf_[kMeta], prefix, [&](const rocksdb::Slice& k, const rocksdb::Slice&) {
        out.push_back(k.ToString().substr(prefix.size()));
        return true;
    });
    return out;
}

Store::DueCursor::~DueCursor() = default;

void Store::DueCursor::load() {
    valid_ = false;
    if (!it_->Valid()) return;
    rocksdb::Slice k = it_->key();
    if (k.size() < prefix_.size() + 8 || !k.starts_with(prefix_)) return;
    entry_.next_eligible = time_from_key(get_be64(k.data() + prefix_.size()));
    if (entry_.next_eligible > up_to_) return;
    entry_.phone.assign(k.data() + prefix_.size() + 8, k.size() - prefix_.size() - 8);
    valid_ = true;
}

void Store::DueCursor::next() {
    it_->Next();
    load();
}

std::unique_ptr<Store::DueCursor> Store::due_cursor(const std::string& campaign,
                                                    const std::string& zones,
                                                    std::int64_t up_to) const {
    std::unique_ptr<DueCursor> c(new DueCursor());
    c->prefix_ = due_prefix(campaign, zones);
    c->up_to_ = up_to;
    c->entry_.zones = zones;
    c->it_.reset(db_->NewIterator({}, cf_[kDue]));
    c->it_->Seek(c->prefix_);
    c->load();
    return c;
}

}  // namespace outpace
