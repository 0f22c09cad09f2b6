#include "campaigns/importer.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <future>
#include <unordered_map>
#include <unordered_set>

#include "campaigns/calling_hours.h"
#include "campaigns/csv.h"
#include "campaigns/phone.h"
#include "campaigns/text_encoding.h"

namespace outpace {
namespace {

constexpr std::size_t kChunk = 16384;

// Text from the list quoted in a message: a 50 MB "header" is not echoed whole.
std::string quoted(const std::string& s, std::size_t max = 60) {
    if (s.size() <= max) return "'" + s + "'";
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 start
    return "'" + s.substr(0, cut) + "…' (" + std::to_string(s.size()) + " bytes)";
}

std::string join_row(const std::vector<std::string>& fields) {
    std::string out;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i) out += ',';
        out += csv_field(fields[i]);
    }
    return out;
}

struct Row {
    CsvRecord rec;
    NormalizedPhone phone;  // the contact's key: its first valid number
    // A list with several phone columns: the row's valid numbers in column order, and what was
    // wrong with the others (the row is kept when one number is valid).
    std::vector<ContactNumber> numbers;
    std::vector<std::string> regions;  // of each of `numbers`
    std::string dropped;
    std::size_t dropped_count = 0;
    std::string zones;
    std::string reject;  // reason class: empty when the row is good
    std::string detail;
};

// Per-row work that needs no store: number and time zone. Runs on worker threads.
class RowChecker {
  public:
    // `phone_cols`: the number's column, or the columns of several numbers in dialling order
    // (`labels`: their names).
    RowChecker(const Campaign& c, std::vector<std::size_t> phone_cols,
               std::vector<std::string> labels, std::size_t tz_col, std::size_t columns)
        : c_(c),
          phone_cols_(std::move(phone_cols)),
          labels_(std::move(labels)),
          tz_col_(tz_col),
          columns_(columns),
          phones_(c.default_region) {}

    void check(Row& r) {
        if (!r.rec.error.empty()) return reject(r, "malformed CSV", r.rec.error);
        if (r.rec.fields.size() != columns_)
            return reject(r, "wrong number of fields",
                          "has " + std::to_string(r.rec.fields.size()) +
                              " fields, the header has " + std::to_string(columns_));
        if (phone_cols_.size() == 1) {
            const std::string& raw = r.rec.fields[phone_cols_[0]];
            if (raw.find_first_not_of(" \t") == std::string::npos)
                return reject(r, "no phone number", "phone column is empty");
            r.phone = phones_.normalize(raw);
            if (!r.phone.ok())
                return reject(r, "invalid phone number", quoted(raw) + ": " + r.phone.error);
        } else if (!several(r)) {
            return;
        }
        std::string column = tz_col_ < r.rec.fields.size() ? r.rec.fields[tz_col_] : std::string();
        if (!column.empty() && !zones_.get(column))
            return reject(r, "unknown time zone",
                          "time zone column " + quoted(column) + " is not an IANA zone");
        // Every zone any of the person's numbers may ring in: calling hours must hold in each.
        std::string from_number = zones_for_number(r.phone.e164, r.phone.region);
        for (std::size_t i = 1; i < r.numbers.size() && !from_number.empty(); ++i) {
            const auto more = zones_for_number(r.numbers[i].e164, r.regions[i]);
            if (more.empty())
                from_number.clear();  // one number says nothing: the column decides
            else
                add_zones(from_number, more);
        }
        switch (c_.timezone_policy) {
            case TimezonePolicy::number_then_column:
                r.zones = !from_number.empty() ? from_number : column;
                break;
            case TimezonePolicy::column_then_number:
                r.zones = !column.empty() ? column : from_number;
                break;
            case TimezonePolicy::column:
                r.zones = column;
                break;
            case TimezonePolicy::campaign:
                break;
        }
        if (r.zones.empty()) r.zones = c_.default_timezone;
        if (r.zones.empty())
            return reject(r, "unknown callee time zone",
                          "cannot tell the callee's time zone from " + r.phone.e164 +
                              "; add a time-zone column or timezone.default");
    }

  private:
    // The row's numbers from the list's phone columns: blank ones skipped, invalid ones noted
    // (the contact keeps the others), repeats dropped. False when none is valid.
    bool several(Row& r) {
        for (std::size_t i = 0; i < phone_cols_.size(); ++i) {
            const std::string& raw = r.rec.fields[phone_cols_[i]];
            if (raw.find_first_not_of(" \t") == std::string::npos) continue;
            auto p = phones_.normalize(raw);
            if (!p.ok()) {
                r.dropped += (r.dropped.empty() ? "" : "; ") + labels_[i] + " " + quoted(raw) +
                             ": " + p.error;
                ++r.dropped_count;
                continue;
            }
            bool repeat = false;
            for (const auto& n : r.numbers) repeat = repeat || n.e164 == p.e164;
            if (repeat) continue;
            if (r.numbers.empty()) r.phone = p;
            r.numbers.push_back({p.e164, labels_[i], false});
            r.regions.push_back(p.region);
        }
        if (!r.numbers.empty()) return true;
        if (r.dropped.empty())
            reject(r, "no phone number", "every phone column is empty");
        else
            reject(r, "invalid phone number", r.dropped);
        return false;
    }
    static void reject(Row& r, std::string why, std::string detail) {
        r.reject = std::move(why);
        r.detail = std::move(detail);
    }
    const Campaign& c_;
    std::vector<std::size_t> phone_cols_;
    std::vector<std::string> labels_;
    std::size_t tz_col_, columns_;
    PhoneNormalizer phones_;
    ZoneCache zones_;
};

}  // namespace

bool dnc_line_number(std::string& line) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    if (auto comma = line.find(','); comma != std::string::npos) line.resize(comma);
    std::erase(line, '"');
    return line.find_first_not_of(" \t\r") != std::string::npos;
}

namespace {

class StoreSink final : public ImportSink {
  public:
    explicit StoreSink(Store& store) : store_(store) {}
    Status save_campaign(const std::string& name, const StoredCampaign& c) override {
        return store_.save_campaign(name, c);
    }
    Status add_dnc(const std::string& scope, const std::vector<std::string>& phones,
                   const std::string& source) override {
        return store_.change_dnc(false, scope, phones, source, 0, true);
    }
    Status add_contacts(const Campaign& campaign, const std::vector<Contact>& contacts,
                        std::vector<Verdict>& verdicts) override {
        // The importer read this very store, in this process: its checks stand.
        auto batch = store_.batch();
        for (const auto& c : contacts) batch.add_contact(campaign.name, c);
        verdicts.assign(contacts.size(), Verdict::stored);
        // Import is idempotent, so a crash mid-list is repaired by importing again: the rows
        // skip the write-ahead log (half the bytes written) and finish() flushes them to table
        // files before success is reported.
        return store_.write_unlogged(batch);
    }
    Status finish() override { return store_.flush(); }

  private:
    Store& store_;
};

// A DNC file of the campaign's, one number a line, into `scope` through the sink.
bool load_dnc_file(ImportSink& sink, const std::string& scope, const std::string& path,
                   const std::string& default_region, std::size_t& loaded, std::string* error) {
    std::ifstream in(path);
    if (!in) {
        if (error) *error = "cannot read DNC file " + path;
        return false;
    }
    PhoneNormalizer normalizer(default_region);
    std::vector<std::string> phones;
    auto send = [&] {
        auto st = sink.add_dnc(scope, phones, path);
        if (!st.ok() && error) *error = st.error;
        loaded += st.ok() ? phones.size() : 0;
        phones.clear();
        return st.ok();
    };
    std::string line;
    while (std::getline(in, line)) {
        if (!dnc_line_number(line)) continue;
        auto p = normalizer.normalize(line);
        if (!p.ok()) continue;  // a header line such as "phone" is not a number either
        phones.push_back(p.e164);
        if (phones.size() == 5'000 && !send()) return false;
    }
    return phones.empty() || send();
}

}  // namespace

bool import_contacts(Store& store, const Campaign& campaign, const std::string& yaml_text,
                     const std::string& list_path, const ImportOptions& options,
                     ImportSummary& summary, std::string* error) {
    StoreSink sink(store);
    return import_contacts(store, sink, campaign, yaml_text, list_path, options, summary, error);
}

bool import_contacts(const Store& store, ImportSink& sink, const Campaign& campaign,
                     const std::string& yaml_text, const std::string& list_path,
                     const ImportOptions& options, ImportSummary& summary, std::string* error) {
    const auto t0 = std::chrono::steady_clock::now();
    summary.encoding = options.encoding.empty() ? "auto" : options.encoding;
    if (summary.encoding == "auto") {
        const auto detected = detect_list_encoding(list_path, error);
        if (!detected) return false;
        summary.encoding = detected->encoding;
        summary.encoding_note = detected->note;
    }
    auto decoder = TextDecoder::open(summary.encoding, error);
    if (!decoder) return false;
    // Every field to UTF-8; false (and the row rejected) when one cannot be decoded.
    auto decode = [&](CsvRecord& rec, std::string* why) {
        std::string out;
        for (std::size_t i = 0; i < rec.fields.size(); ++i) {
            if (!decoder->to_utf8(rec.fields[i], out)) {
                if (why)
                    *why = "field " + std::to_string(i + 1) + " is not valid " + summary.encoding;
                return false;
            }
            rec.fields[i].swap(out);
        }
        return true;
    };
    CsvReader csv(list_path);
    if (!csv.is_open()) {
        if (error) *error = "cannot read " + list_path;
        return false;
    }
    CsvRecord header;
    if (!csv.next(header) || !header.error.empty()) {
        if (error) *error = list_path + ": the first row must name the columns";
        return false;
    }
    if (std::string why; !decode(header, &why)) {
        if (error) *error = list_path + ":" + std::to_string(header.line) + ": the header's " + why;
        return false;
    }
    for (auto& h : header.fields)
        h.erase(h.find_last_not_of(" \t") + 1), h.erase(0, h.find_first_not_of(" \t"));
    std::unordered_map<std::string, std::size_t> column_of;
    for (std::size_t i = 0; i < header.fields.size(); ++i) {
        auto [it, fresh] = column_of.emplace(header.fields[i], i);
        if (fresh) continue;
        if (error)
            *error = list_path + ":" + std::to_string(header.line) + ": the column " +
                     quoted(header.fields[i]) + " appears twice (columns " +
                     std::to_string(it->second + 1) + " and " + std::to_string(i + 1) +
                     "): name each column once";
        return false;
    }
    // The number's column, or the columns of a person's several numbers (list.phones).
    std::vector<std::string> phone_names = {options.phone_column};
    if (options.phone_column.empty())
        phone_names = campaign.phone_columns.empty()
                          ? std::vector<std::string>{campaign.phone_column}
                          : campaign.phone_columns;
    auto col = [&](const std::string& name) {
        return static_cast<std::size_t>(
            std::find(header.fields.begin(), header.fields.end(), name) - header.fields.begin());
    };
    std::vector<std::size_t> phone_cols;
    for (const auto& name : phone_names) {
        phone_cols.push_back(col(name));
        if (phone_cols.back() != header.fields.size()) continue;
        if (error)
            *error = list_path + ":" + std::to_string(header.line) + ": no column named '" + name +
                     "' (columns: " + quoted(join_row(header.fields), 200) + "); set " +
                     (campaign.phone_columns.empty() ? "list.phone_column" : "list.phones") +
                     " or --phone-column";
        return false;
    }
    const bool several_numbers = phone_cols.size() > 1;
    const std::size_t tz_col = col(campaign.timezone_column);

    if (auto st = sink.save_campaign(campaign.name, {campaign.source_path, yaml_text, "import"});
        !st.ok()) {
        if (error) *error = st.error;
        return false;
    }
    for (const auto& f : campaign.dnc_files)
        if (!load_dnc_file(sink, campaign.name, campaign.resolve_path(f), campaign.default_region,
                           summary.dnc_loaded, error))
            return false;

    summary.rejects_path =
        options.rejects_path.empty() ? list_path + ".rejects.csv" : options.rejects_path;
    std::ofstream rejects(summary.rejects_path, std::ios::trunc);
    if (!rejects && options.rejects_path.empty()) {
        // A list in a folder this user cannot write (a shared drop folder, another user's
        // home): the reject file goes to the working folder instead, and the summary says where.
        const std::string beside = summary.rejects_path;
        summary.rejects_path = list_path.substr(list_path.rfind('/') + 1) + ".rejects.csv";
        rejects.open(summary.rejects_path, std::ios::trunc);
        char cwd[4096];
        if (rejects)
            summary.rejects_note = "cannot write " + beside + "; rejects written to " +
                                   (::getcwd(cwd, sizeof cwd) ? std::string(cwd) + "/" : "") +
                                   summary.rejects_path;
    }
    if (!rejects) {
        if (error)
            *error = "cannot write the reject file " + summary.rejects_path +
                     (options.rejects_path.empty()
                          ? " (nor beside the list): name a writable one with --rejects FILE"
                          : "");
        return false;
    }
    rejects << "line,reason,detail,row\n";

    // Two stages overlap: this thread reads and checks chunk N+1 (CSV, number, zone) while a
    // second thread deduplicates and writes chunk N. The memtable inserts of the writer and the
    // parsing cost about the same, so two cores keep both busy.
    RowChecker checker(campaign, phone_cols, phone_names, tz_col, header.fields.size());
    std::unordered_map<std::string, std::size_t>
        first_line;  // E.164 -> line, for duplicates in the file
    Status write_status;
    const bool had_contacts = store.has_contacts(campaign.name);
    // Lists up to a few million numbers are checked in memory; larger ones by batched lookups.
    const auto dnc_in_memory = store.dnc_numbers(campaign.name, campaign.client, 5'000'000);
    auto reject_row = [&](const Row& r) {
        ++summary.rejected;
        ++summary.reject_reasons[r.reject];
        rejects << r.rec.line << ',' << csv_field(r.reject) << ',' << csv_field(r.detail) << ','
                << csv_field(join_row(r.rec.fields)) << '\n';
    };

    auto write_chunk = [&](std::vector<Row> rows, bool last) {
        if (!write_status.ok()) return;
        std::vector<std::string> phones, numbers;  // keys; every number of the good rows
        for (const auto& r : rows) {
            if (!r.reject.empty()) continue;
            phones.push_back(r.phone.e164);
            if (r.numbers.empty()) numbers.push_back(r.phone.e164);
            for (const auto& n : r.numbers) numbers.push_back(n.e164);
        }
        std::vector<bool> number_dnc, on_dnc, known;
        if (dnc_in_memory) {
            for (const auto& p : numbers) number_dnc.push_back(dnc_in_memory->count(p) > 0);
        } else {
            number_dnc = store.dnc_many(campaign.name, campaign.client, numbers);
        }
        // A row is on the do-not-call list when every number of it is (the hopper skips any
        // one that is when it comes to dial).
        for (std::size_t i = 0, k = 0; i < rows.size(); ++i) {
            if (!rows[i].reject.empty()) continue;
            const std::size_t n = std::max<std::size_t>(1, rows[i].numbers.size());
            bool all = true;
            for (std::size_t m = 0; m < n; ++m) all = all && number_dnc[k + m];
            on_dnc.push_back(all);
            k += n;
        }
        // A campaign's first import cannot meet stored contacts; duplicates within the file are
        // caught by first_line.
        known = had_contacts ? store.contacts_exist(campaign.name, phones)
                             : std::vector<bool>(phones.size());
        std::vector<Contact> fresh_contacts;
        std::vector<std::size_t> row_of;  // index into rows of each of fresh_contacts
        std::size_t j = 0;                // index into phones / on_dnc / known
        for (std::size_t i = 0; i < rows.size(); ++i) {
            auto& r = rows[i];
            ++summary.rows;
            bool present = false;
            if (r.reject.empty()) {
                const std::size_t at = j++;
                auto [it, fresh] = first_line.emplace(r.phone.e164, r.rec.line);
                if (!fresh) {
                    r.reject = "duplicate in list";
                    r.detail = r.phone.e164 + " already on line " + std::to_string(it->second);
                } else if (on_dnc[at]) {
                    r.reject = "on do-not-call list";
                    r.detail = r.phone.e164;
                }
                present = known[at];
            }
            if (!r.reject.empty()) {
                reject_row(r);
                continue;
            }
            if (present) {
                ++summary.already_present;
                continue;
            }
            if (r.dropped_count) {
                // The contact is kept with its other numbers; the bad ones are reported.
                summary.numbers_dropped += r.dropped_count;
                rejects << r.rec.line << ',' << csv_field("invalid number dropped") << ','
                        << csv_field(r.dropped) << ',' << csv_field(join_row(r.rec.fields)) << '\n';
            }
            Contact c;
            c.phone = r.phone.e164;
            c.zones = r.zones;
            c.source = list_path;
            c.line = static_cast<std::uint32_t>(r.rec.line);
            if (several_numbers) c.numbers = std::move(r.numbers);
            for (std::size_t f = 0; f < header.fields.size(); ++f)
                if (std::find(phone_cols.begin(), phone_cols.end(), f) == phone_cols.end())
                    c.fields.emplace_back(header.fields[f], r.rec.fields[f]);
            fresh_contacts.push_back(std::move(c));
            row_of.push_back(i);
        }
        std::vector<ImportSink::Verdict> verdicts;
        if (!fresh_contacts.empty())
            write_status = sink.add_contacts(campaign, fresh_contacts, verdicts);
        for (std::size_t k = 0; k < verdicts.size(); ++k) {
            switch (verdicts[k]) {
                case ImportSink::Verdict::stored:
                    ++summary.imported;
                    break;
                case ImportSink::Verdict::present:
                    ++summary.already_present;
                    break;
                case ImportSink::Verdict::dnc: {
                    auto& r = rows[row_of[k]];
                    r.reject = "on do-not-call list";
                    r.detail = r.phone.e164;
                    reject_row(r);
                    break;
                }
            }
        }
        if (last && write_status.ok()) write_status = sink.finish();
    };

    std::future<void> writer;
    bool eof = false;
    while (!eof && write_status.ok()) {
        std::vector<Row> rows;
        rows.reserve(kChunk);
        while (rows.size() < kChunk) {
            Row r;
            if (!csv.next(r.rec)) {
                eof = true;
                break;
            }
            if (r.rec.error.empty() && !decode(r.rec, &r.detail))
                r.reject = "cannot decode text";
            else
                checker.check(r);
            rows.push_back(std::move(r));
        }
        if (writer.valid()) writer.get();
        if (!write_status.ok()) break;
        writer = std::async(std::launch::async, write_chunk, std::move(rows), eof);
        if (options.progress) options.progress(csv.bytes_read(), csv.file_size());
    }
    if (writer.valid()) writer.get();
    if (!write_status.ok()) {
        if (error) *error = write_status.error;
        return false;
    }
    rejects.flush();
    if (!rejects) {
        if (error) *error = "writing the reject file " + summary.rejects_path + " failed";
        return false;
    }
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return true;
}

}  // namespace outpace
