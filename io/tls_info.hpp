// Which wolfSSL the build linked and whether AES-NI is in play, for `cbtrade --version`, start-up
// and the build-info metric. The two builds (meson option `wolfssl`, docs/wolfssl.md) differ ~16x in
// AES-GCM record decryption and ~4x in ECDSA P-256 signing, so an operator must be able to tell.
#pragma once

#include <string>

namespace cbtrade {

struct TlsInfo {
    std::string version;       // of the linked library, e.g. "5.5.4"
    std::string flavour;       // "accelerated" (static AES-NI/asm build) or "system" (libwolfssl-dev)
    bool aesni_built = false;  // the library was compiled with WOLFSSL_AESNI
    bool aesni_cpu = false;    // this CPU has AES-NI and PCLMULQDQ (wolfSSL checks this at run time too)
};

[[nodiscard]] TlsInfo tls_info();

// One line, e.g. "wolfSSL 5.5.4 (accelerated; AES-NI built, CPU has it)".
[[nodiscard]] std::string describe(const TlsInfo& info);

// The cipher list to hand wolfSSL for a TLS_CIPHERS value: itself, or for "auto" the TLS 1.3 and
// 1.2 AEAD suites ordered by what bench_crypto measured for this build: AES-128-GCM first when the
// library has AES-NI and the CPU too (124 ns vs 585 ns per 300-byte record), ChaCha20-Poly1305
// first otherwise (1.08 us vs 1.98 us with software AES).
[[nodiscard]] std::string resolve_cipher_list(const std::string& configured, const TlsInfo& info);

}  // namespace cbtrade
