// Reads a YAML document a person wrote, collecting every error with its FILE:LINE:COL instead
// of stopping at the first: unknown keys (with "did you mean"), duplicate keys, numbers, durations
// with units, choices, lists and files that must exist. Shared by campaign files and the engine's
// config.
#pragma once

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "campaigns/diagnostics.h"
#include "campaigns/duration.h"

namespace outpace {

inline std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

inline std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
    return out;
}

// Campaign files, engine configs and scenarios are a few KiB. A bigger file is a mistake (or an
// attack: yaml-cpp needs ~50 bytes of memory per byte of a flow list), refused before parsing.
inline constexpr std::size_t kMaxYamlBytes = 1 << 20;
inline constexpr int kMaxYamlDepth = 2000;  // yaml-cpp's own DepthGuard limit

// Parses one YAML document; nullopt with the reason in `errors` (FILE:LINE:COL where known).
inline std::optional<YAML::Node> load_yaml_document(const std::string& text,
                                                    const std::string& display_name,
                                                    Diagnostics& errors) {
    if (text.size() > kMaxYamlBytes) {
        errors.push_back({display_name, 0, 0,
                          "the file has " + std::to_string(text.size()) +
                              " bytes; a YAML file here may have at most " +
                              std::to_string(kMaxYamlBytes) + " (1 MiB)"});
        return std::nullopt;
    }
    try {
        return YAML::Load(text);
    } catch (const YAML::DeepRecursion& e) {
        errors.push_back({display_name, e.mark.line + 1, e.mark.column + 1,
                          "lists or mappings nested more than " + std::to_string(kMaxYamlDepth) +
                              " levels deep"});
    } catch (const YAML::Exception& e) {
        errors.push_back({display_name, e.mark.line + 1, e.mark.column + 1, e.msg});
    }
    return std::nullopt;
}

// The errors in file order (a reader finds them section by section).
inline void sort_by_position(Diagnostics& errors) {
    std::sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) {
        return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
}

// A config file read whole and given to `load_text(text, path, its folder)`, whose result type
// `Load` has `errors`; a file that cannot be read is one error naming it.
template <typename Load, typename LoadText>
Load load_yaml_file(const std::string& path, const LoadText& load_text) {
    std::ifstream in(path);
    if (!in) {
        Load out;
        out.errors.push_back({path, 0, 0, "cannot read the file"});
        return out;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    const auto parent = std::filesystem::path(path).parent_path().string();
    return load_text(ss.str(), path, parent.empty() ? "." : parent);
}

// Walks the YAML tree, collecting every error with its position instead of stopping at the first.
class YamlReader {
  public:
    using KeyTree = std::map<std::string, std::vector<std::string>>;
    // `keys`: the keys allowed in each section (by dotted path, "" for the top level); `enums`:
    // the values allowed for each enumerated key (by full path); `document`: what the top level
    // is called in messages ("the campaign").
    YamlReader(std::string file, std::string base_dir, const KeyTree& keys, const KeyTree& enums,
               std::string document)
        : file_(std::move(file)),
          base_(std::move(base_dir)),
          keys_(keys),
          enums_(enums),
          document_(std::move(document)) {}

    Diagnostics errors;

    // An error at a 0-based line and column (from a YAML::Exception's mark).
    void error_at(int line, int column, const std::string& msg) {
        errors.push_back({file_, line + 1, column + 1, msg});
    }

    void error(const YAML::Node& at, const std::string& msg) {
        YAML::Mark m = at.Mark();
        if (m.is_null())
            errors.push_back({file_, 0, 0, msg});
        else
            errors.push_back({file_, m.line + 1, m.column + 1, msg});
    }

    // Checks a section is a map whose keys are all known. Returns false when it is not a map.
    bool section(const YAML::Node& node, const std::string& path) {
        if (!node.IsMap()) {
            error(node, (path.empty() ? document_ : "'" + path + "'") +
                            " must be a mapping of keys to values");
            return false;
        }
        const auto& allowed = keys_.at(path);
        std::set<std::string> seen;
        for (const auto& kv : node) {
            if (!kv.first.IsScalar()) {
                // YAML allows a list or a map as a key; nothing here has one.
                error(kv.first, "a key must be a plain word, not a list or a mapping");
                continue;
            }
            const std::string key = kv.first.Scalar();
            if (!seen.insert(key).second) {
                error(kv.first, "duplicate key '" + key + "'");
                continue;
            }
            if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
            std::string where = path.empty() ? "at the top level" : "in '" + path + "'";
            std::string msg = "unknown key '" + key + "' " + where;
            std::string best;
            std::size_t best_d = 3;
            for (const auto& a : allowed) {
                std::size_t d = edit_distance(key, a);
                if (d < best_d) best_d = d, best = a;
            }
            if (!best.empty())
                msg += " (did you mean '" + best + "'?)";
            else
                msg += " (allowed: " + join(allowed) + ")";
            error(kv.first, msg);
        }
        return true;
    }

    std::optional<std::string> scalar(const YAML::Node& n, const std::string& what) {
        if (!n.IsScalar()) {
            error(n, "'" + what + "' must be a single value");
            return std::nullopt;
        }
        return n.Scalar();
    }

    void string(const YAML::Node& map, const char* key, const std::string& path, std::string& out) {
        if (auto n = map[key]) {
            if (auto s = scalar(n, path + key)) out = *s;
        }
    }

    void boolean(const YAML::Node& map, const char* key, const std::string& path, bool& out) {
        if (auto n = map[key]) {
            bool v;
            if (n.IsScalar() && YAML::convert<bool>::decode(n, v))
                out = v;
            else
                error(n, "'" + path + key + "' must be true or false");
        }
    }

    template <typename Int>
    void integer(const YAML::Node& map, const char* key, const std::string& path, Int& out,
                 long long min, long long max) {
        auto n = map[key];
        if (!n) return;
        long long v = 0;
        const std::string s = n.IsScalar() ? n.Scalar() : std::string();
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (s.empty() || ec != std::errc() || p != s.data() + s.size()) {
            error(n, "'" + path + key + "' must be a whole number");
        } else if (v < min || v > max) {
            error(n, "'" + path + key + "' must be between " + std::to_string(min) + " and " +
                         std::to_string(max) + ", not " + s);
        } else {
            out = static_cast<Int>(v);
        }
    }

    void number(const YAML::Node& map, const char* key, const std::string& path, double& out,
                double min, double max, bool percent_ok = false) {
        auto n = map[key];
        if (!n) return;
        std::string s = n.IsScalar() ? n.Scalar() : std::string();
        double scale = 1;
        if (percent_ok && !s.empty() && s.back() == '%') s.pop_back(), scale = 0.01;
        char* end = nullptr;
        double v = s.empty() ? 0 : std::strtod(s.c_str(), &end);
        if (s.empty() || end != s.c_str() + s.size()) {
            error(n, "'" + path + key + "' must be a number" + (percent_ok ? " (0.03 or 3%)" : ""));
            return;
        }
        v *= scale;
        if (v < min || v > max) {
            std::ostringstream m;
            m << "'" << path << key << "' must be between " << min << " and " << max << ", not "
              << n.Scalar();
            error(n, m.str());
            return;
        }
        out = v;
    }

    // Durations need units; `min`/`max` are the legal or sensible bounds, named in the message.
    void duration(const YAML::Node& map, const char* key, const std::string& path, Millis& out,
                  Millis min, Millis max, const char* why_min = nullptr) {
        auto n = map[key];
        if (!n) return;
        auto s = scalar(n, path + key);
        if (!s) return;
        auto d = parse_duration(*s);
        if (!d) {
            error(n, "'" + path + key +
                         "' must be a duration with a unit, like 20s, 15m, 2h or 30d; got '" + *s +
                         "'");
            return;
        }
        if (*d < min) {
            error(n, "'" + path + key + "' must be at least " + format_duration(min) +
                         (why_min ? std::string(" (") + why_min + ")" : std::string()) + "; got " +
                         *s);
            return;
        }
        if (*d > max) {
            error(n,
                  "'" + path + key + "' must be at most " + format_duration(max) + "; got " + *s);
            return;
        }
        out = *d;
    }

    template <typename Enum>
    void choice(const YAML::Node& map, const char* key, const std::string& path, Enum& out) {
        auto n = map[key];
        if (!n) return;
        auto s = scalar(n, path + key);
        if (!s) return;
        const auto& values = enums_.at(path + key);
        auto it = std::find(values.begin(), values.end(), *s);
        if (it == values.end()) {
            error(n, "'" + path + key + "' must be one of " + join(values, " | ") + "; got '" + *s +
                         "'");
            return;
        }
        out = static_cast<Enum>(it - values.begin());
    }

    std::vector<std::string> string_list(const YAML::Node& map, const char* key,
                                         const std::string& path) {
        std::vector<std::string> out;
        auto n = map[key];
        if (!n) return out;
        if (n.IsScalar()) return {n.Scalar()};
        if (!n.IsSequence()) {
            error(n, "'" + path + key + "' must be a list");
            return out;
        }
        for (const auto& item : n)
            if (auto s = scalar(item, path + key + "[]")) out.push_back(*s);
        return out;
    }

    // A file named in the campaign; it must exist so that a call never reaches a missing prompt.
    void file(const YAML::Node& map, const char* key, const std::string& path, std::string& out) {
        auto n = map[key];
        if (!n) return;
        auto s = scalar(n, path + key);
        if (!s) return;
        check_file(n, *s, path + key);
        out = *s;
    }

    // Reports, exports and `contacts next` read a stored campaign wherever they run: the files it
    // names (prompts, DNC lists) are the engine's and the importer's business, not theirs.
    void skip_file_checks() { check_files_ = false; }

    void check_file(const YAML::Node& at, const std::string& p, const std::string& what) {
        if (!check_files_) return;
        namespace fs = std::filesystem;
        fs::path full = fs::path(p).is_absolute() ? fs::path(p) : fs::path(base_) / p;
        std::error_code ec;
        if (!fs::is_regular_file(full, ec))
            error(at, "'" + what + "': file not found: " + full.string());
    }

  private:
    std::string file_;
    std::string base_;
    const KeyTree& keys_;
    const KeyTree& enums_;
    std::string document_;
    bool check_files_ = true;
};

}  // namespace outpace
