// wolfCrypt costs that decide the TLS cipher and where orders are signed, with whichever wolfSSL
// the build links (meson option `wolfssl`; the flavour is printed in the run's context):
//   - decryption of one 300-byte TLS 1.3 record (a Coinbase ticker message) with AES-128-GCM and
//     with ChaCha20-Poly1305: the per-tick cost on the feed thread;
//   - ECDSA P-256 signing (Coinbase JWT, ES256) and Ed25519 signing: the per-order cost.
// Results and the reproducing command: docs/wolfssl.md.
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/chacha20_poly1305.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/sha256.h>
#include <wolfssl/wolfcrypt/wc_port.h>

#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "bench/percentiles.hpp"
#include "io/tls_info.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

inline constexpr std::size_t record_bytes = 300;
inline constexpr std::size_t tag_bytes = 16;
// TLS 1.3 additional data is the 5-byte record header.
inline constexpr std::array<std::uint8_t, 5> record_header = {0x17, 0x03, 0x03, 0x01, 0x3c};
// Symmetric decryptions take ~0.1-2 us: time them in batches (bench/percentiles.hpp).
inline constexpr std::size_t record_batch = 16;

template <std::size_t N>
std::array<std::uint8_t, N> pattern(std::uint8_t seed) {
    std::array<std::uint8_t, N> bytes{};
    for (std::size_t i = 0; i < N; ++i) bytes[i] = static_cast<std::uint8_t>(seed + 31 * i);
    return bytes;
}

void bm_aes128_gcm_decrypt_300(benchmark::State& state) {
    const auto key = pattern<16>(1);
    const auto iv = pattern<12>(2);
    const auto plain = pattern<record_bytes>(3);
    std::array<std::uint8_t, record_bytes> cipher{};
    std::array<std::uint8_t, record_bytes> out{};
    std::array<std::uint8_t, tag_bytes> tag{};

    Aes aes;
    if (wc_AesInit(&aes, nullptr, INVALID_DEVID) != 0 || wc_AesGcmSetKey(&aes, key.data(), key.size()) != 0 ||
        wc_AesGcmEncrypt(&aes, cipher.data(), plain.data(), record_bytes, iv.data(), iv.size(), tag.data(), tag.size(),
                         record_header.data(), record_header.size()) != 0) {
        state.SkipWithError("AES-GCM set-up failed");
        return;
    }
    cbtrade::bench::LatencySamples samples;
    for (auto _ : state) {
        const auto start = clock_type::now();
        for (std::size_t i = 0; i < record_batch; ++i) {
            const int rc = wc_AesGcmDecrypt(&aes, out.data(), cipher.data(), record_bytes, iv.data(), iv.size(),
                                            tag.data(), tag.size(), record_header.data(), record_header.size());
            benchmark::DoNotOptimize(rc);
        }
        samples.add(clock_type::now() - start, record_batch);
        benchmark::DoNotOptimize(out.data());
    }
    wc_AesFree(&aes);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * record_batch));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * record_batch * record_bytes));
    samples.report(state);
}

void bm_chacha20_poly1305_decrypt_300(benchmark::State& state) {
    const auto key = pattern<CHACHA20_POLY1305_AEAD_KEYSIZE>(4);
    const auto iv = pattern<CHACHA20_POLY1305_AEAD_IV_SIZE>(5);
    const auto plain = pattern<record_bytes>(6);
    std::array<std::uint8_t, record_bytes> cipher{};
    std::array<std::uint8_t, record_bytes> out{};
    std::array<std::uint8_t, CHACHA20_POLY1305_AEAD_AUTHTAG_SIZE> tag{};

    if (wc_ChaCha20Poly1305_Encrypt(key.data(), iv.data(), record_header.data(), record_header.size(), plain.data(),
                                    record_bytes, cipher.data(), tag.data()) != 0) {
        state.SkipWithError("ChaCha20-Poly1305 set-up failed");
        return;
    }
    cbtrade::bench::LatencySamples samples;
    for (auto _ : state) {
        const auto start = clock_type::now();
        for (std::size_t i = 0; i < record_batch; ++i) {
            const int rc =
                wc_ChaCha20Poly1305_Decrypt(key.data(), iv.data(), record_header.data(), record_header.size(),
                                            cipher.data(), record_bytes, tag.data(), out.data());
            benchmark::DoNotOptimize(rc);
        }
        samples.add(clock_type::now() - start, record_batch);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * record_batch));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * record_batch * record_bytes));
    samples.report(state);
}

void bm_ecdsa_p256_sign(benchmark::State& state) {
    WC_RNG rng;
    ecc_key key;
    if (wc_InitRng(&rng) != 0) {
        state.SkipWithError("RNG init failed");
        return;
    }
    if (wc_ecc_init(&key) != 0 || wc_ecc_make_key_ex(&rng, 32, &key, ECC_SECP256R1) != 0) {
        wc_FreeRng(&rng);
        state.SkipWithError("P-256 key generation failed");
        return;
    }
    // ES256 signs the SHA-256 of the JWT's header.payload.
    const auto hash = pattern<WC_SHA256_DIGEST_SIZE>(7);
    std::array<std::uint8_t, ECC_MAX_SIG_SIZE> sig{};
    cbtrade::bench::LatencySamples samples;
    for (auto _ : state) {
        word32 sig_len = static_cast<word32>(sig.size());
        const auto start = clock_type::now();
        const int rc =
            wc_ecc_sign_hash(hash.data(), static_cast<word32>(hash.size()), sig.data(), &sig_len, &rng, &key);
        samples.add(clock_type::now() - start, 1);
        if (rc != 0) {
            state.SkipWithError("wc_ecc_sign_hash failed");
            break;
        }
        benchmark::DoNotOptimize(sig.data());
    }
    wc_ecc_free(&key);
    wc_FreeRng(&rng);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    samples.report(state);
}

void bm_ed25519_sign(benchmark::State& state) {
    WC_RNG rng;
    ed25519_key key;
    if (wc_InitRng(&rng) != 0) {
        state.SkipWithError("RNG init failed");
        return;
    }
    if (wc_ed25519_init(&key) != 0 || wc_ed25519_make_key(&rng, ED25519_KEY_SIZE, &key) != 0) {
        wc_FreeRng(&rng);
        state.SkipWithError("Ed25519 key generation failed");
        return;
    }
    const auto message = pattern<200>(8);  // about a JWT's header.payload
    std::array<std::uint8_t, ED25519_SIG_SIZE> sig{};
    cbtrade::bench::LatencySamples samples;
    for (auto _ : state) {
        word32 sig_len = static_cast<word32>(sig.size());
        const auto start = clock_type::now();
        const int rc =
            wc_ed25519_sign_msg(message.data(), static_cast<word32>(message.size()), sig.data(), &sig_len, &key);
        samples.add(clock_type::now() - start, 1);
        if (rc != 0) {
            state.SkipWithError("wc_ed25519_sign_msg failed");
            break;
        }
        benchmark::DoNotOptimize(sig.data());
    }
    wc_ed25519_free(&key);
    wc_FreeRng(&rng);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    samples.report(state);
}

}  // namespace

BENCHMARK(bm_aes128_gcm_decrypt_300);
BENCHMARK(bm_chacha20_poly1305_decrypt_300);
BENCHMARK(bm_ecdsa_p256_sign);
BENCHMARK(bm_ed25519_sign);

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    if (wolfCrypt_Init() != 0) return 1;
    benchmark::AddCustomContext("wolfssl", cbtrade::describe(cbtrade::tls_info()));
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    wolfCrypt_Cleanup();
    return 0;
}
