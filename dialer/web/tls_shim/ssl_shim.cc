// Debian 12's civetweb (1.15) loads OpenSSL at run time by the names "libssl.so" and
// "libcrypto.so" and looks up SSL_get_peer_certificate, which OpenSSL 3 renamed: the pointer is
// null and the first HTTPS request crashes the process. The gateway loads this library (its
// soname is "libssl.so", so civetweb's dlopen finds it already loaded) before civetweb starts:
// it provides the old name and pulls in the real libssl.so.3 for everything else. It also spares
// a production host the libssl-dev package that the bare names would otherwise need.
#include <openssl/ssl.h>

#undef SSL_get_peer_certificate

extern "C" X509* SSL_get_peer_certificate(const SSL* s) {
    return SSL_get1_peer_certificate(s);
}
