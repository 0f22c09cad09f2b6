// Contact import: a CSV list into the store, with every rejected row accounted for.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "campaigns/campaign.h"
#include "campaigns/store.h"

namespace outpace {

struct ImportOptions {
    std::string phone_column;  // empty = the campaign's list.phone_column (or list.phones)
    std::string rejects_path;  // empty = LIST.rejects.csv beside the list
    // The list's character encoding: empty or "auto" = UTF-8 when the file is (BOM or not),
    // else windows-1252; or any name ICU knows. The store keeps UTF-8 only: a row with bytes
    // that have no character in the encoding is rejected ("cannot decode text").
    std::string encoding;
    // Called now and then with (bytes read, file size) for a progress display.
    std::function<void(std::size_t, std::size_t)> progress;
};

struct ImportSummary {
    std::size_t rows = 0;             // data rows read (header excluded)
    std::size_t imported = 0;         // new contacts stored
    std::size_t already_present = 0;  // in the store from an earlier import (left as they were)
    std::size_t rejected = 0;         // written to the reject file
    // Invalid numbers left out of contacts kept with their other numbers (list.phones); each
    // row with one is in the reject file too, as "invalid number dropped".
    std::size_t numbers_dropped = 0;
    std::map<std::string, std::size_t> reject_reasons;  // reason class -> rows
    std::size_t dnc_loaded = 0;  // numbers loaded from the campaign's DNC files
    std::string rejects_path;
    std::string rejects_note;   // set when the reject file could not go beside the list
    std::string encoding;       // the one the list was read as
    std::string encoding_note;  // why, when "auto" did not find UTF-8
    double seconds = 0;
};

// Where an import's writes go: the store itself, or (while an engine holds the store, as its
// one writer) that engine, through its control socket.
class ImportSink {
  public:
    virtual ~ImportSink() = default;
    virtual Status save_campaign(const std::string& name, const StoredCampaign& c) = 0;
    virtual Status add_dnc(const std::string& scope, const std::vector<std::string>& phones,
                           const std::string& source) = 0;
    // What became of each contact handed to add_contacts.
    enum class Verdict : std::uint8_t { stored, present, dnc };
    // Stores new contacts of `campaign` (with their zone groups). The sink has the last word:
    // a contact stored meanwhile (an agent dialled the number by hand) is left as it is, and a
    // number put on a do-not-call list (the campaign's, its client's or the global one)
    // meanwhile is not stored. One verdict per contact.
    virtual Status add_contacts(const Campaign& campaign, const std::vector<Contact>& contacts,
                                std::vector<Verdict>& verdicts) = 0;
    // Makes everything written durable.
    virtual Status finish() = 0;
};

// Loads the campaign's DNC files into the store, then imports the list. The campaign definition
// is saved in the store so later commands can find it by name. Returns false with `error` set
// when the list cannot be read at all (no header, no phone column, store failure); bad rows are
// never an error, they are rejected and counted.
bool import_contacts(Store& store, const Campaign& campaign, const std::string& yaml_text,
                     const std::string& list_path, const ImportOptions& options,
                     ImportSummary& summary, std::string* error);
// The same, reading `reader` (a store opened beside a running engine) and writing to `sink`.
bool import_contacts(const Store& reader, ImportSink& sink, const Campaign& campaign,
                     const std::string& yaml_text, const std::string& list_path,
                     const ImportOptions& options, ImportSummary& summary, std::string* error);

// One line of a DNC file cut down to its number: '#' starts a comment, a CSV line keeps its first
// field, quotes go. False when nothing is left (a blank or comment line).
bool dnc_line_number(std::string& line);

}  // namespace outpace
