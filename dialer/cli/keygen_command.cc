// `outpace keygen NAME`: a CurveZMQ key pair for the engine or a client, as two files: NAME.key
// (the secret key, readable by its owner only) and NAME.pub (the public key, to hand out or to
// list in the engine's authorized_keys).
#include <sys/stat.h>
#include <zmq.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "dialer/cli/commands.h"

namespace outpace::cli {

void add_keygen_command(CLI::App& app, int& exit_code) {
    auto name = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand(
        "keygen", "Make a CurveZMQ key pair: NAME.key (secret) and NAME.pub (public)");
    cmd->add_option("name", *name, "Path and name of the two files, without extension")->required();
    cmd->callback([name, &exit_code] {
        char pub[41], sec[41];
        if (zmq_curve_keypair(pub, sec) != 0) {
            std::cerr << "outpace keygen: this ZeroMQ has no CURVE support\n";
            exit_code = 1;
            return;
        }
        const std::string key = *name + ".key", public_file = *name + ".pub";
        for (const auto& f : {key, public_file}) {
            struct stat st {};
            if (::stat(f.c_str(), &st) == 0) {
                std::cerr << "outpace keygen: " << f << " exists; not overwriting it\n";
                exit_code = 1;
                return;
            }
        }
        const mode_t old = ::umask(077);
        std::ofstream(key) << "# CurveZMQ secret key (keep it private); public key: " << pub << "\n"
                           << sec << "\n";
        ::umask(old);
        std::ofstream(public_file) << pub << "\n";
        std::cout << "wrote " << key << " (secret) and " << public_file << " (public: " << pub
                  << ")\n";
    });
}

}  // namespace outpace::cli
