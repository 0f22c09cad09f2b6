#include "dialer/engine/agent_accounts.h"

#include <sodium.h>

#include <fstream>
#include <set>
#include <sstream>

#include "campaigns/yaml_reader.h"
#include "dialer/engine/agent_phone.h"
#include "dialer/sip/digest.h"

namespace outpace {
namespace {

const YamlReader::KeyTree& keys() {
    static const YamlReader::KeyTree k = {
        {"", {"realm", "agents"}},
        {"agents[]",
         {"id", "name", "role", "sip_ha1", "desktop_password", "campaigns", "skills", "phone",
          "srtp"}},
    };
    return k;
}

const YamlReader::KeyTree& enums() {
    static const YamlReader::KeyTree e = {{"agents[].role", {"agent", "supervisor"}},
                                          {"agents[].srtp", {"auto", "required", "off"}}};
    return e;
}

void read_account(YamlReader& r, const YAML::Node& n, AgentDirectory& d) {
    if (!r.section(n, "agents[]")) return;
    AgentAccount a;
    r.string(n, "id", "agents[].", a.id);
    if (a.id.empty()) return r.error(n, "an agent needs an 'id'");
    if (!valid_agent_id(a.id))
        return r.error(n["id"], "'agents[].id' '" + a.id +
                                    "' must be 1-64 letters, digits, '.', '_' or '-' (it is the "
                                    "softphone's SIP user name)");
    if (d.accounts.count(a.id)) return r.error(n["id"], "two agents have the id '" + a.id + "'");
    r.string(n, "name", "agents[].", a.name);
    r.choice(n, "role", "agents[].", a.role);
    r.choice(n, "srtp", "agents[].", a.srtp);
    r.string(n, "sip_ha1", "agents[].", a.sip_ha1);
    if (!a.sip_ha1.empty() && !sip::is_ha1(a.sip_ha1))
        r.error(n["sip_ha1"],
                "'agents[].sip_ha1' must be 32 lowercase hex digits, MD5(id:realm:password); "
                "`outpace agent-passwd` writes it");
    r.string(n, "desktop_password", "agents[].", a.desktop_password);
    if (!a.desktop_password.empty() && a.desktop_password.rfind("$argon2id$", 0) != 0)
        r.error(n["desktop_password"],
                "'agents[].desktop_password' must be an Argon2id hash ($argon2id$...), never the "
                "password itself; `outpace agent-passwd` writes it");
    if (a.desktop_password.empty())
        r.error(n, "agent '" + a.id +
                       "' needs a 'desktop_password' (its desktop logs in with it); `outpace "
                       "agent-passwd` writes one");
    a.campaigns = r.string_list(n, "campaigns", "agents[].");
    a.skills = r.string_list(n, "skills", "agents[].");
    r.string(n, "phone", "agents[].", a.phone);
    if (!a.phone.empty() && !sip_uri_host(a.phone))
        r.error(n["phone"], "'agents[].phone' must be sip:USER@IP:PORT (an auto-answer device)");
    if (a.phone.empty() && a.sip_ha1.empty())
        r.error(n, "agent '" + a.id +
                       "' needs 'sip_ha1' (its softphone registers) or 'phone' (a fixed "
                       "auto-answer device)");
    d.accounts.emplace(a.id, std::move(a));
}

}  // namespace

const char* to_string(AgentRole r) {
    return r == AgentRole::supervisor ? "supervisor" : "agent";
}

bool valid_agent_id(const std::string& id) {
    if (id.empty() || id.size() > 64) return false;
    for (unsigned char c : id)
        if (!std::isalnum(c) && c != '.' && c != '_' && c != '-') return false;
    return true;
}

const AgentAccount* AgentDirectory::find(const std::string& id) const {
    auto it = accounts.find(id);
    return it == accounts.end() ? nullptr : &it->second;
}

AgentDirectoryLoad load_agent_directory_text(const std::string& text,
                                             const std::string& display_name) {
    AgentDirectoryLoad out;
    YamlReader r(display_name, ".", keys(), enums(), "the agents file");
    const auto document = load_yaml_document(text, display_name, out.errors);
    if (!document) return out;
    const YAML::Node& root = *document;
    AgentDirectory d;
    d.source_path = display_name;
    try {
        if (r.section(root, "")) {
            r.string(root, "realm", "", d.realm);
            if (d.realm.empty() || d.realm.find('"') != std::string::npos)
                r.error(root["realm"], "'realm' must be a non-empty name without quotes");
            auto list = root["agents"];
            if (!list)
                r.error(root, "no 'agents' list");
            else if (!list.IsSequence())
                r.error(list, "'agents' must be a list");
            else
                for (const auto& n : list) read_account(r, n, d);
        }
    } catch (const YAML::Exception& e) {
        r.error_at(e.mark.line, e.mark.column, e.msg);
    }
    out.errors = r.errors;
    sort_by_position(out.errors);
    if (out.errors.empty()) out.directory = std::move(d);
    return out;
}

AgentDirectoryLoad load_agent_directory(const std::string& path) {
    return load_yaml_file<AgentDirectoryLoad>(
        path, [](const std::string& text, const std::string& name, const std::string&) {
            return load_agent_directory_text(text, name);
        });
}

std::string hash_desktop_password(const std::string& password) {
    if (sodium_init() < 0) return "";
    char out[crypto_pwhash_STRBYTES] = {};
    if (crypto_pwhash_str_alg(
            out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
            crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return "";
    return out;
}

bool check_desktop_password(const std::string& hash, const std::string& password) {
    if (sodium_init() < 0 || hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
    return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

}  // namespace outpace
