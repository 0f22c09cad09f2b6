// The soname "libcrypto.so" for civetweb's dlopen (see ssl_shim.cc): every symbol comes from the
// real libcrypto.so.3 this library depends on.
#include <openssl/crypto.h>

extern "C" const char* outpace_crypto_shim_version() {
    return OpenSSL_version(OPENSSL_VERSION);
}
