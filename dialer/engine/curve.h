// CurveZMQ for the engine's ZeroMQ sockets (agent desktops, events, control): when the config
// names a secret key, every socket is a CURVE server and a ZAP handler admits only the client
// public keys listed in the authorized-keys file. Clients (`outpace agent`, `outpace ctl`) need
// the engine's public key and a key pair of their own. Keys are Z85 text, as `outpace keygen`
// writes them.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include <zmq.hpp>

#include "dialer/engine/engine_config.h"

namespace outpace {

// A key file's key: the first line that is not a comment, checked to be 40 Z85 characters.
// Empty with `error` set when it is not.
std::string read_key_file(const std::string& path, std::string* error);
// One public key per line ('#' comments, blank lines ignored). False with `error` on a bad line.
// A key may be followed by "agents=ID,ID" (or "agents=*"): the agents a desktop holding it may log
// in as; without it, the key serves `outpace ctl` and event subscribers, and logs in no agent.
bool read_authorized_keys(const std::string& path, std::map<std::string, AuthorizedKey>* keys,
                          std::string* error);

// Answers ZeroMQ's authentication requests (ZAP) for the sockets of one context.
class CurveGuard {
  public:
    CurveGuard(zmq::context_t& context, const CurveConfig& config);
    // Makes `socket` a CURVE server (before bind).
    void protect(zmq::socket_t& socket) const;
    // Answers every request waiting now. Call it often (handshakes wait for the answer).
    void serve();
    long refused() const { return refused_; }

  private:
    const CurveConfig& config_;
    zmq::socket_t handler_;
    long refused_ = 0;
};

// Binds `socket` to `endpoint`. An ipc:// socket file is created 0660 (owner and group: the
// service's user and the operators' group), whatever the process's umask. Throws zmq::error_t
// like bind().
void bind_private(zmq::socket_t& socket, const std::string& endpoint);

// Client side: `socket` will authenticate to the server whose public key `keys` holds, with the
// client's own secret key (its public key is derived from it). False with `error` set.
bool curve_client(zmq::socket_t& socket, const ClientKeys& keys, std::string* error);
// Reads the two key files of a client (`--server-key`, `--key`). False with `error` set.
bool read_client_keys(const std::string& server_public_file, const std::string& secret_file,
                      ClientKeys* keys, std::string* error);

}  // namespace outpace
