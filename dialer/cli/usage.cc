// Usage errors that help: the word the parser did not know, and the nearest one it does.
#include <algorithm>
#include <string>
#include <vector>

#include "dialer/cli/commands.h"

namespace outpace::cli {
namespace {

std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = up;
        }
    }
    return row[b.size()];
}

// The candidate nearest to `word`, when near enough to be a slip (two edits, fewer for short
// words), else "".
std::string nearest(const std::string& word, const std::vector<std::string>& candidates) {
    std::string best;
    std::size_t best_d = std::min<std::size_t>(2, std::max<std::size_t>(1, word.size() / 3)) + 1;
    for (const auto& c : candidates) {
        const auto d = edit_distance(word, c);
        // A prefix is a slip too ("rep" for "report").
        if (d < best_d || (best.empty() && word.size() >= 3 && c.starts_with(word)))
            best = c, best_d = std::min(d, best_d);
    }
    return best;
}

// "outpace dnc", as typed.
std::string command_path(CLI::App* at) {
    std::string out;
    for (CLI::App* a = at; a; a = a->get_parent())
        out = a->get_name() + (out.empty() ? "" : " " + out);
    return out;
}

bool known_option(CLI::App* at, const std::string& name) {
    for (CLI::App* a = at; a; a = a->get_parent())
        for (const CLI::Option* o : a->get_options())
            if (o->check_name(name)) return true;
    return false;
}

}  // namespace

std::string did_you_mean(CLI::App& app, int argc, char** argv) {
    CLI::App* at = &app;
    for (int i = 1; i < argc; ++i) {
        const std::string word = argv[i];
        if (word == "--") break;
        if (word.size() > 1 && word[0] == '-') {
            const std::string name = word.substr(0, word.find('='));
            if (known_option(at, name)) continue;
            std::vector<std::string> names;
            for (const CLI::Option* o : at->get_options()) {
                for (const auto& l : o->get_lnames()) names.push_back("--" + l);
                for (const auto& s : o->get_snames()) names.push_back("-" + s);
            }
            const auto n = nearest(name, names);
            return "\n'" + name + "' is not an option of '" + command_path(at) + "'" +
                   (n.empty() ? "" : "; did you mean '" + n + "'?");
        }
        const auto subs = at->get_subcommands([](CLI::App*) { return true; });
        if (subs.empty()) continue;  // an option's value or a positional
        std::vector<std::string> names;
        CLI::App* next = nullptr;
        for (CLI::App* s : subs) {
            names.push_back(s->get_name());
            if (s->get_name() == word) next = s;
        }
        if (next) {
            at = next;
            continue;
        }
        const auto n = nearest(word, names);
        std::string out = "\n'" + word + "' is not a command of '" + command_path(at) + "'" +
                          (n.empty() ? "" : "; did you mean '" + n + "'?");
        std::sort(names.begin(), names.end());
        out += "\nCommands here:";
        for (const auto& s : names) out += " " + s;
        return out;
    }
    return "";
}

}  // namespace outpace::cli
