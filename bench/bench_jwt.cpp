// The cost of a REST order on the sending side (issue 11 item 8), with whichever wolfSSL the build
// links (the flavour is printed in the context):
//   - one complete CDP JWT (header and claims JSON, base64url, signature) with an ES256 key and
//     with an Ed25519 key: exec/jwt's rest_jwt(), what every private request pays, and what the
//     ops thread pays per pre-signed order token;
//   - a complete create-order request (request line, Host, Authorization with a JWT signed in
//     advance, Content-Type, Accept, User-Agent, Content-Length, the JSON body) built into a reused
//     send buffer: what the exec thread pays once a signed token is at hand.
// Keys are made at start with wolfCrypt (throwaway). Results and commands: README.md.
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>

#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "bench/percentiles.hpp"
#include "core/base64.hpp"
#include "exec/jwt.hpp"
#include "exec/rest_messages.hpp"
#include "io/http.hpp"
#include "io/tls_info.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
using namespace cbtrade;

constexpr std::string_view key_name =
    "organizations/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d/apiKeys/9f8e7d6c-5b4a-3928-1716-050403020100";
constexpr std::string_view host = "api.coinbase.com";
constexpr std::string_view orders_path = "/api/v3/brokerage/orders";

// A throwaway P-256 key as SEC1 PEM, made with wolfCrypt.
std::string make_p256_pem() {
    WC_RNG rng;
    ecc_key key;
    std::array<byte, 256> der{};
    if (wc_InitRng(&rng) != 0 || wc_ecc_init(&key) != 0 || wc_ecc_make_key_ex(&rng, 32, &key, ECC_SECP256R1) != 0)
        return {};
    const int n = wc_EccKeyToDer(&key, der.data(), static_cast<word32>(der.size()));
    wc_ecc_free(&key);
    wc_FreeRng(&rng);
    if (n <= 0) return {};
    const std::string body = base64_encode(std::span<const std::uint8_t>(der.data(), static_cast<std::size_t>(n)));
    return "-----BEGIN EC PRIVATE KEY-----\n" + body + "\n-----END EC PRIVATE KEY-----\n";
}

// A throwaway Ed25519 key: 32 random bytes are a seed, given as Coinbase's base64 form.
std::string make_ed25519_seed() {
    WC_RNG rng;
    std::array<std::uint8_t, 32> seed{};
    if (wc_InitRng(&rng) != 0 || wc_RNG_GenerateBlock(&rng, seed.data(), static_cast<word32>(seed.size())) != 0)
        return {};
    wc_FreeRng(&rng);
    return base64_encode(std::span<const std::uint8_t>(seed));
}

void bm_jwt(benchmark::State& state, bool es256) {
    const std::string key = es256 ? make_p256_pem() : make_ed25519_seed();
    std::optional<JwtSigner> signer;
    try {
        signer.emplace(std::string(key_name), key, "benchmark key");
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
        return;
    }
    bench::LatencySamples samples;
    std::int64_t now_s = 1'736'949'787;
    for (auto _ : state) {
        const auto start = clock_type::now();
        // As RestClient::send_once does it: the Authorization value, signed for this request.
        std::string token = "Bearer " + signer->rest_jwt("POST", host, orders_path, now_s);
        samples.add(clock_type::now() - start, 1);
        benchmark::DoNotOptimize(token.data());
        ++now_s;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.SetLabel(std::string(jwt_alg_name(signer->algorithm())));
    samples.report(state);
}

void bm_jwt_es256(benchmark::State& state) {
    bm_jwt(state, true);
}
void bm_jwt_eddsa(benchmark::State& state) {
    bm_jwt(state, false);
}

// Headers + body + pre-signed JWT into a send buffer reserved once: no signing, no allocation.
void bm_create_order_request(benchmark::State& state) {
    JwtSigner signer(std::string(key_name), make_ed25519_seed(), "benchmark key");
    const std::string authorization = "Bearer " + signer.rest_jwt("POST", host, orders_path, 1'736'949'787);
    const rest::MarketOrder order{"0d6b5c2e-7f3a-4c1e-9a55-3e2b8c1f0a77", "BTC-USD", Side::buy, "25.37"};
    std::string body;
    std::string tx;
    body.reserve(512);
    tx.reserve(4096);
    const io::HttpHeaderView headers[] = {{"Authorization", authorization},
                                          {"Content-Type", "application/json"},
                                          {"Accept", "application/json"},
                                          {"User-Agent", "cbtrade/0.1.0"}};
    bench::LatencySamples samples;
    constexpr std::size_t batch = 16;
    for (auto _ : state) {
        const auto start = clock_type::now();
        for (std::size_t i = 0; i < batch; ++i) {
            body.clear();
            rest::append_create_order_body(body, order);
            tx.clear();
            const io::HttpWriteStatus s =
                io::write_http_request(io::HttpRequest{"POST", orders_path, host, headers, body}, tx);
            benchmark::DoNotOptimize(s);
            benchmark::DoNotOptimize(tx.data());
        }
        samples.add(clock_type::now() - start, batch);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
    state.counters["request_bytes"] = static_cast<double>(tx.size());
    samples.report(state);
}

}  // namespace

BENCHMARK(bm_jwt_es256);
BENCHMARK(bm_jwt_eddsa);
BENCHMARK(bm_create_order_request);

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    if (wolfCrypt_Init() != 0) return 1;
    benchmark::AddCustomContext("wolfssl", describe(tls_info()));
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    wolfCrypt_Cleanup();
    return 0;
}
