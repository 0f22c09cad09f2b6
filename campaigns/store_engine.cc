// What the engine keeps in the store about its own running: agents' time by hour (the report's
// occupancy) and each campaign's pacer state (warm start). Both in the meta column family; the
// engine is their one writer.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <map>

#include "campaigns/store.h"
#include "campaigns/store_keys.h"

namespace outpace {

using namespace store_keys;

Status Store::add_agent_time(const std::vector<AgentTime>& deltas, bool sync) {
    rocksdb::WriteBatch wb;
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> sums;
    for (const AgentTime& d : deltas) {
        if (d.hour_ms < 0) continue;
        auto& sum = sums[agent_time_key(d.campaign, d.hour_ms, d.agent)];
        sum.first += d.staffed_ms;
        sum.second += d.paused_ms;
    }
    for (auto& [key, sum] : sums) {
        // The engine is the one writer: nothing changes the value between this read and write.
        std::string v;
        if (db_->Get({}, cf_[kMeta], key, &v).ok() && v.size() == 16) {
            sum.first += static_cast<std::int64_t>(get_be64(v.data()));
            sum.second += static_cast<std::int64_t>(get_be64(v.data() + 8));
        }
        v.clear();
        put_be64(v, static_cast<std::uint64_t>(std::max<std::int64_t>(sum.first, 0)));
        put_be64(v, static_cast<std::uint64_t>(std::max<std::int64_t>(sum.second, 0)));
        wb.Put(cf_[kMeta], key, v);
    }
    if (sums.empty()) return {};
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    auto st = db_->Write(wo, &wb);
    if (!st.ok()) return store_error(st, dir_, "store write failed");
    return {};
}

void Store::for_each_agent_time(const std::string& campaign, std::int64_t from_ms,
                                std::int64_t to_ms,
                                const std::function<void(const AgentTime&)>& f) const {
    const std::string prefix = agent_time_prefix(campaign);
    const std::string end = prefix_end(prefix);
    rocksdb::ReadOptions ro;
    rocksdb::Slice upper(end);
    ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_[kMeta]));
    // Keys are in hour order: start at the range's first hour, not at the campaign's first.
    std::string from = prefix;
    put_be64(from, static_cast<std::uint64_t>(std::max<std::int64_t>(from_ms, 0)));
    AgentTime t;
    t.campaign = campaign;
    for (it->Seek(from); it->Valid(); it->Next()) {
        const rocksdb::Slice k = it->key(), v = it->value();
        if (k.size() < prefix.size() + 8 || v.size() != 16) continue;
        t.hour_ms = static_cast<std::int64_t>(get_be64(k.data() + prefix.size()));
        if (t.hour_ms >= to_ms) break;
        if (t.hour_ms < from_ms) continue;
        t.agent.assign(k.data() + prefix.size() + 8, k.size() - prefix.size() - 8);
        t.staffed_ms = static_cast<std::int64_t>(get_be64(v.data()));
        t.paused_ms = static_cast<std::int64_t>(get_be64(v.data() + 8));
        f(t);
    }
}

Status Store::save_pacing(const std::string& campaign, const std::string& bytes) {
    // Not synced: a crash may lose the last few seconds of learning, never an outcome.
    auto st = db_->Put({}, cf_[kMeta], "pacing/" + campaign, bytes);
    if (!st.ok()) return store_error(st, dir_, "store write failed");
    return {};
}

std::optional<std::string> Store::load_pacing(const std::string& campaign) const {
    std::string v;
    if (!db_->Get({}, cf_[kMeta], "pacing/" + campaign, &v).ok()) return std::nullopt;
    return v;
}

}  // namespace outpace
