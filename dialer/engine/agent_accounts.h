// The agents a floor has: who may log in, as what, with which credentials. Loaded from the YAML
// file the engine config names (`agents.accounts`; docs/agents.md), checked with FILE:LINE:COL
// errors like campaigns, and reloaded by `outpace ctl reload-agents` without dropping calls.
// Passwords are never stored: a softphone's as its digest HA1, a desktop's as an Argon2id hash
// (libsodium's crypto_pwhash_str).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "campaigns/diagnostics.h"

namespace outpace {

enum class AgentRole { agent, supervisor };
// SRTP on the softphone's calls: `auto` when it registered over TLS (else plain RTP),
// `required` (its softphone must register over TLS; no call is placed to it otherwise), `off`
// (plain RTP even over TLS: a phone that signals over TLS but has no SRTP).
enum class AgentSrtp { automatic, required, off };
const char* to_string(AgentRole r);

struct AgentAccount {
    std::string id, name;
    AgentRole role = AgentRole::agent;
    std::string sip_ha1;           // MD5(id:realm:password): the softphone registers with it
    std::string desktop_password;  // crypto_pwhash_str (Argon2id): the desktop logs in with it
    std::vector<std::string> campaigns, skills;  // empty campaigns = every campaign
    std::string phone;  // a fixed sip:USER@IP:PORT (an auto-answer device) instead of registering
    AgentSrtp srtp = AgentSrtp::automatic;
};

struct AgentDirectory {
    std::string source_path;
    std::string realm = "outpace";  // the SIP digest realm the HA1s were made for
    std::map<std::string, AgentAccount> accounts;
    const AgentAccount* find(const std::string& id) const;
};

struct AgentDirectoryLoad {
    std::optional<AgentDirectory> directory;
    Diagnostics errors;
};

AgentDirectoryLoad load_agent_directory(const std::string& path);
AgentDirectoryLoad load_agent_directory_text(const std::string& text,
                                             const std::string& display_name);

// Argon2id at libsodium's "interactive" cost (about 60 ms and 64 MiB on this class of machine:
// the engine checks it off its loop).
std::string hash_desktop_password(const std::string& password);
bool check_desktop_password(const std::string& hash, const std::string& password);

// An agent id as a SIP user part and a desktop name: 1-64 of A-Z a-z 0-9 . _ -
bool valid_agent_id(const std::string& id);

}  // namespace outpace
