#include "dialer/engine/curve.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace outpace {
namespace {

bool z85_key(const std::string& s) {
    static const std::string alphabet =
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
    if (s.size() != 40) return false;
    for (char c : s)
        if (alphabet.find(c) == std::string::npos) return false;
    std::uint8_t bin[32];
    return zmq_z85_decode(bin, s.c_str()) != nullptr;
}

std::string trim(const std::string& s) {
    const auto a = s.find_first_not_of(" \t\r\n");
    if (a == std::string::npos) return "";
    return s.substr(a, s.find_last_not_of(" \t\r\n") - a + 1);
}

}  // namespace

std::string read_key_file(const std::string& path, std::string* error) {
    std::ifstream in(path);
    if (!in) {
        *error = path + ": cannot read the key file";
        return "";
    }
    for (std::string line; std::getline(in, line);) {
        line = trim(line);
        if (line.empty() || line[0] == '#') continue;
        if (!z85_key(line)) {
            *error = path + ": not a CURVE key (40 Z85 characters; `outpace keygen` makes them)";
            return "";
        }
        return line;
    }
    *error = path + ": no key in the file";
    return "";
}

bool read_authorized_keys(const std::string& path, std::map<std::string, AuthorizedKey>* keys,
                          std::string* error) {
    std::ifstream in(path);
    if (!in) {
        *error = path + ": cannot read the authorized keys";
        return false;
    }
    int n = 0;
    for (std::string line; std::getline(in, line);) {
        ++n;
        line = trim(line);
        if (line.empty() || line[0] == '#') continue;
        const auto key = line.substr(0, line.find_first_of(" \t"));  // a comment may follow
        if (!z85_key(key)) {
            *error = path + ":" + std::to_string(n) + ": not a public key (40 Z85 characters)";
            return false;
        }
        // "agents=a1,a2" (or "agents=*") after the key: the agent ids this key's desktop may log
        // in as. Other words are a comment.
        AuthorizedKey k;
        std::istringstream words(line.substr(key.size()));
        for (std::string w; words >> w;) {
            if (w.rfind("agents=", 0) != 0) continue;
            std::istringstream ids(w.substr(7));
            for (std::string id; std::getline(ids, id, ',');)
                if (!id.empty()) k.agents.insert(id);
        }
        (*keys)[key] = std::move(k);
    }
    return true;
}

CurveGuard::CurveGuard(zmq::context_t& context, const CurveConfig& config)
    : config_(config), handler_(context, zmq::socket_type::rep) {
    handler_.set(zmq::sockopt::linger, 0);
    handler_.bind("inproc://zeromq.zap.01");
}

void CurveGuard::protect(zmq::socket_t& socket) const {
    socket.set(zmq::sockopt::curve_server, true);
    socket.set(zmq::sockopt::curve_secretkey, config_.secret_key);
    socket.set(zmq::sockopt::zap_domain, "outpace");
}

void CurveGuard::serve() {
    for (int i = 0; i < 64; ++i) {
        // ZAP 1.0 (RFC 27): version, request id, domain, address, identity, mechanism,
        // credentials (the client's 32-byte public key for CURVE).
        std::vector<zmq::message_t> frames;
        try {
            zmq::message_t m;
            if (!handler_.recv(m, zmq::recv_flags::dontwait)) return;
            frames.push_back(std::move(m));
            while (handler_.get(zmq::sockopt::rcvmore)) {
                zmq::message_t more;
                if (!handler_.recv(more, zmq::recv_flags::dontwait)) break;
                frames.push_back(std::move(more));
            }
        } catch (const zmq::error_t&) {
            return;
        }
        bool ok = false;
        std::string user;  // the key, as the connection's User-Id: desktops are known by it
        if (frames.size() >= 7 && frames[5].to_string() == "CURVE" && frames[6].size() == 32) {
            char z85[41];
            if (zmq_z85_encode(z85, static_cast<const std::uint8_t*>(frames[6].data()), 32)) {
                ok = config_.authorized.count(z85) > 0;
                if (ok) user = z85;
            }
        }
        if (!ok) ++refused_;
        const std::string id = frames.size() >= 2 ? frames[1].to_string() : "";
        const std::string reply[] = {
            "1.0", id, ok ? "200" : "400", ok ? "OK" : "key not authorized", user, ""};
        try {
            for (std::size_t f = 0; f < 6; ++f)
                handler_.send(zmq::buffer(reply[f]),
                              f < 5 ? zmq::send_flags::sndmore : zmq::send_flags::none);
        } catch (const zmq::error_t&) {
        }
    }
}

void bind_private(zmq::socket_t& socket, const std::string& endpoint) {
    if (endpoint.rfind("ipc://", 0) != 0) {
        socket.bind(endpoint);
        return;
    }
    // The umask covers the moment between the socket file's creation and the chmod.
    const mode_t old = ::umask(007);
    try {
        socket.bind(endpoint);
    } catch (...) {
        ::umask(old);
        throw;
    }
    ::umask(old);
    const std::string path = endpoint.substr(6);
    if (!path.empty() && path[0] != '@') ::chmod(path.c_str(), 0660);  // '@': abstract, no file
}

bool read_client_keys(const std::string& server_public_file, const std::string& secret_file,
                      ClientKeys* keys, std::string* error) {
    keys->server_public = read_key_file(server_public_file, error);
    if (keys->server_public.empty()) return false;
    keys->secret = read_key_file(secret_file, error);
    return !keys->secret.empty();
}

bool curve_client(zmq::socket_t& socket, const ClientKeys& keys, std::string* error) {
    const std::string& server_public = keys.server_public;
    const std::string& secret = keys.secret;
    if (!z85_key(server_public) || !z85_key(secret)) {
        *error = "CURVE keys must be 40 Z85 characters";
        return false;
    }
    char pub[41];
    if (zmq_curve_public(pub, secret.c_str()) != 0) {
        *error = "cannot derive the public key from the secret key";
        return false;
    }
    socket.set(zmq::sockopt::curve_serverkey, server_public);
    socket.set(zmq::sockopt::curve_publickey, std::string(pub));
    socket.set(zmq::sockopt::curve_secretkey, secret);
    return true;
}

}  // namespace outpace
