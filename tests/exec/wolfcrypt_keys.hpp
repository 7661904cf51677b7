// Throwaway CDP-style API keys made at run time with wolfCrypt, for programs that link wolfSSL
// (benchmarks). Test programs that check tokens use tests/exec/openssl_keys.hpp instead: OpenSSL
// is the independent implementation there, and the two libraries' headers cannot meet. No key is
// ever stored: each call makes a new one.
#pragma once

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>

#include <array>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/base64.hpp"

namespace cbtrade::test {

// A new P-256 key as SEC1 PEM (what JwtSigner reads for ES256).
inline std::string make_p256_sec1_pem() {
    WC_RNG rng;
    ecc_key key;
    std::array<byte, 256> der{};
    if (wc_InitRng(&rng) != 0) throw std::runtime_error("wolfCrypt RNG init failed");
    const bool made = wc_ecc_init(&key) == 0 && wc_ecc_make_key_ex(&rng, 32, &key, ECC_SECP256R1) == 0;
    const int n = made ? wc_EccKeyToDer(&key, der.data(), static_cast<word32>(der.size())) : -1;
    wc_ecc_free(&key);
    wc_FreeRng(&rng);
    if (n <= 0) throw std::runtime_error("wolfCrypt P-256 key generation failed");
    constexpr std::string_view label = "EC PRIVATE KEY";
    const std::string body = base64_encode(std::span<const std::uint8_t>(der.data(), static_cast<std::size_t>(n)));
    return "-----BEGIN " + std::string(label) + "-----\n" + body + "\n-----END " + std::string(label) + "-----\n";
}

// A new Ed25519 key: 32 random bytes are a seed, in Coinbase's base64 form.
inline std::string make_ed25519_seed_base64() {
    WC_RNG rng;
    std::array<std::uint8_t, 32> seed{};
    if (wc_InitRng(&rng) != 0) throw std::runtime_error("wolfCrypt RNG init failed");
    const int rc = wc_RNG_GenerateBlock(&rng, seed.data(), static_cast<word32>(seed.size()));
    wc_FreeRng(&rng);
    if (rc != 0) throw std::runtime_error("wolfCrypt RNG failed");
    return base64_encode(std::span<const std::uint8_t>(seed));
}

}  // namespace cbtrade::test
