// The cost of a REST order on the sending side (issue 11 item 8, issue 12 item 10), with whichever
// wolfSSL the build links (the flavour is printed in the context):
//   - one complete CDP JWT (header and claims JSON, base64url, signature) with an ES256 key and
//     with an Ed25519 key: exec/jwt's rest_jwt(), what every private request pays, and what the
//     ops thread pays per pre-signed order token;
//   - a complete create-order request (request line, Host, Authorization with a JWT signed in
//     advance, Content-Type, Accept, User-Agent, Content-Length, the JSON body) built into a reused
//     send buffer: what the exec thread pays once a signed token is at hand;
//   - decision to order bytes in the kernel (bm_decision_to_kernel): the daemon's exec stage
//     (pipeline/exec_stage.hpp) takes a record carrying a buy or sell Decision off ring B, the
//     trader sizes the order, the Coinbase broker (exec/live_orders.hpp) takes a pre-signed JWT from
//     the pool, writes the request, encrypts it (TLS 1.3, AES-128-GCM with the accelerated build)
//     on its warm keep-alive connection and submits it to io_uring; p50_ns.. stop at the
//     io_uring_enter that hands the bytes to the kernel (UringLoop::last_submit_tsc), and
//     syscall_returned_p50_ns.. when that call returns (on loopback the kernel delivers the segment
//     to the receiving socket inside it, which a NIC would not). Against a TLS exchange on loopback
//     in this process that answers every order; each order is settled (untimed) before the next.
//     Beside it, bm_decision_to_kernel_signing: the same with the JWT signed in the timed path
//     (what the pool avoids), for each key type. hot_allocations counts heap allocations on the
//     timing thread in the timed path (tests/pipeline/counting_malloc.hpp).
//   - bm_journal_intent_durable: what the order journal (exec/journal.hpp) adds before a live order
//     may be sent: an order_intent record staged, then written and fdatasync'ed through io_uring
//     (the exec stage's polling, spun here as the exec thread does) until durable() says so. On the
//     filesystem of CBTRADE_BENCH_JOURNAL_DIR (default: a new directory under the working
//     directory, where JOURNAL_DIR's default lives); tmpfs would show no disk at all.
// Keys are made at start with wolfCrypt (tests/exec/wolfcrypt_keys.hpp, throwaway). Results and
// commands: README.md.

#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <sys/prctl.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "bench/loopback_feed_server.hpp"  // bench_pki()
#include "bench/percentiles.hpp"
#include "core/base64.hpp"
#include "core/bot_metrics.hpp"
#include "core/metrics.hpp"
#include "exec/journal.hpp"
#include "exec/jwt.hpp"
#include "exec/live_orders.hpp"
#include "exec/rest_messages.hpp"
#include "io/http.hpp"
#include "io/tls_info.hpp"
#include "io/url.hpp"
#include "pipeline/exec_stage.hpp"
#include "tests/exec/wolfcrypt_keys.hpp"  // throwaway keys, made at start
#include "tests/io/loopback_server.hpp"
#include "tests/pipeline/counting_malloc.hpp"  // this program's malloc

namespace {

using clock_type = std::chrono::steady_clock;
using namespace cbtrade;

constexpr std::string_view key_name =
    "organizations/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d/apiKeys/9f8e7d6c-5b4a-3928-1716-050403020100";
constexpr std::string_view host = "api.coinbase.com";
constexpr std::string_view orders_path = "/api/v3/brokerage/orders";

void bm_jwt(benchmark::State& state, bool es256) {
    const std::string key = es256 ? test::make_p256_sec1_pem() : test::make_ed25519_seed_base64();
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
    JwtSigner signer(std::string(key_name), test::make_ed25519_seed_base64(), "benchmark key");
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

// ---- decision to order bytes in the kernel ---------------------------------------------------------

std::string http_answer(std::string_view body) {
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + std::string(body);
}

// The exec stage with the Coinbase broker on a warm TLS connection to a loopback exchange.
struct LiveOrderRig {
    explicit LiveOrderRig(bool es256) : metrics(registry, BuildInfo{}), clock(TscClock::calibrate()) {
        const auto& pki = bench::bench_pki();
        if (!pki.ok()) throw std::runtime_error("test PKI: " + pki.error);
        if (loop.init() < 0) throw std::runtime_error("io_uring unavailable");
        std::string error;
        if (server_tls.init_server(pki.server_pem, pki.server_key, error) < 0) throw std::runtime_error(error);
        server = std::make_unique<testing::LoopbackServer>(&server_tls);
        server->run([](testing::ServerConnection& c, int) {
            const std::string created = http_answer(
                R"({"success":true,"failure_reason":"UNKNOWN_FAILURE_REASON","order_id":"o-1","success_response":{"order_id":"o-1"}})");
            const std::string time = http_answer(R"({"epochMillis":"1"})");
            for (std::string r; !(r = c.read_http_request(10'000)).empty();)
                if (!c.send(r.starts_with("GET") ? time : created)) return;
        });
        const io::UrlResult url =
            io::parse_url("https://localhost:" + std::to_string(server->port()) + "/api/v3/brokerage");
        io::HttpClientOptions ho;
        ho.ca_file = pki.ca_pem;
        http = std::make_unique<io::HttpClient>(loop, *url.url, ho);
        if (http->init(error) < 0) throw std::runtime_error(error);
        signer.emplace(std::string(key_name), es256 ? test::make_p256_sec1_pem() : test::make_ed25519_seed_base64(),
                       "benchmark key");
        CoinbaseBrokerOptions bo;
        bo.product.product_id = "BTC-USD";
        bo.product.base_increment = *DecimalIncrement::parse("0.00000001");
        bo.product.quote_increment = *DecimalIncrement::parse("0.01");
        bo.product.base_min_size = 1e-8;
        bo.product.quote_min_size = 1;
        broker = std::make_unique<CoinbaseBroker>(*http, tokens, tickets, settlements, bo, 1, 2);
        Config c;
        c.order_min_usd = 1;
        stage = std::make_unique<ExecStage>(c, *ring, nullptr, metrics, clock, halted, broker.get());
        refill = std::make_unique<TokenRefill>(tokens, *signer, "localhost", "/api/v3/brokerage/orders");
        (void)refill->poll(now_ns());
        // Warm: the keep-alive GET opens the connection.
        for (int i = 0; i < 1'000'000 && !(http->connected() && !http->busy()); ++i) {
            (void)stage->poll(now_ns());
            (void)loop.wait(10'000);
        }
        if (!http->connected()) throw std::runtime_error("the loopback exchange did not answer");
    }
    ~LiveOrderRig() { http->close(); }

    // One order: a record with a buy (flat) or sell (long) decision. Returns the ns from the exec
    // stage holding it to the io_uring_enter that hands the request to the kernel, and to that call's
    // return (the kernel's loopback send, the receiving side's TCP processing included).
    // `sign_inline`: the JWT is signed in that time.
    struct Times {
        double to_kernel_ns;
        double to_return_ns;
    };
    Times order(bool sign_inline, bool count_allocations = false) {
        const bool buy = stage->trader().position_qty() == 0;
        PriceRecord r{};
        r.exchange_time_ns = (1'700'000'000LL + ++seq) * 1'000'000'000;
        r.price = 42'000.17;
        r.flags = price_flag_has_decision | price_flag_data_ok;
        r.decision =
            Decision{r.exchange_time_ns / 1'000'000'000, r.price, 0.6, 1.0, buy ? Signal::buy : Signal::sell, 0};
        if (!ring->try_push(r)) throw std::runtime_error("ring B full");
        const std::int64_t unix_s = wall_ns() / 1'000'000'000;
        testing::alloc::counting.store(count_allocations);
        const std::uint64_t start = read_tsc();
        if (sign_inline) {
            // What the order would cost if its JWT were signed here (the broker then takes a pooled
            // one of the same size: the rest of the path is the same).
            std::string token = signer->rest_jwt("POST", "localhost", "/api/v3/brokerage/orders", unix_s);
            benchmark::DoNotOptimize(token.data());
        }
        (void)stage->poll(now_ns());
        const std::uint64_t end = read_tsc();
        testing::alloc::counting.store(false);
        const std::uint64_t handed = loop.last_submit_tsc();
        if (handed < start || handed > end) throw std::runtime_error("the order was not submitted in the timed call");
        if (!broker->busy()) throw std::runtime_error("no order was sent");
        // Untimed: the answer, the desk's settlement (the fill asked for), the next token.
        OrderTicket t;
        while (!tickets.try_pop(t)) {
            (void)stage->poll(now_ns());
            (void)loop.wait(10'000);
        }
        if (t.first != FirstAttempt::answered || t.status != 200)
            throw std::runtime_error("an order was not answered on the warm connection");
        OrderSettlement s{};
        std::memcpy(s.client_order_id, t.client_order_id, sizeof s.client_order_id);
        const double qty = buy ? std::floor(t.request.qty * 1e8) / 1e8 : t.request.qty;
        s.outcome.fill = Fill{t.request.time_s, qty, r.price, 0.01, t.request.side, t.request.reason};
        (void)settlements.try_push(s);
        while (broker->busy()) (void)stage->poll(now_ns());
        (void)refill->poll(now_ns());
        return Times{static_cast<double>(clock.to_ns(handed, start)), static_cast<double>(clock.to_ns(end, start))};
    }

    MetricsRegistry registry;
    BotMetrics metrics;
    TscClock clock;
    io::UringLoop loop;
    io::TlsContext server_tls;
    std::unique_ptr<testing::LoopbackServer> server;
    std::unique_ptr<io::HttpClient> http;
    std::optional<JwtSigner> signer;
    TokenPool tokens;
    OrderTicketRing tickets;
    OrderSettlementRing settlements;
    std::unique_ptr<CoinbaseBroker> broker;
    std::unique_ptr<PriceRing> ring = std::make_unique<PriceRing>();
    std::atomic<bool> halted{false};
    std::unique_ptr<ExecStage> stage;
    std::unique_ptr<TokenRefill> refill;
    std::int64_t seq = 0;
};

void bm_decision_to_kernel(benchmark::State& state, bool sign_inline, bool es256) {
    std::unique_ptr<LiveOrderRig> rig;
    try {
        rig = std::make_unique<LiveOrderRig>(es256);
        for (int i = 0; i < 200; ++i) (void)rig->order(sign_inline);  // warm-up
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
        return;
    }
    bench::LatencySamples samples;
    bench::LatencySamples returned;
    const std::uint64_t connections = rig->http->connections_opened();
    ::prctl(PR_SET_NAME, "cbt-bench-exec");
    testing::alloc::reset();
    testing::alloc::this_thread_kind = testing::alloc::ThreadKind::unknown;
    for (auto _ : state) {
        const LiveOrderRig::Times t = rig->order(sign_inline, true);
        samples.add_ns(t.to_kernel_ns);
        returned.add_ns(t.to_return_ns);
    }
    const std::uint64_t allocations = testing::alloc::hot_allocations.load();
    ::prctl(PR_SET_NAME, "bench");
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.SetLabel(sign_inline ? std::string("signing inline, ") + (es256 ? "ES256" : "EdDSA") : "pre-signed pool");
    state.counters["allocations_per_order"] =
        static_cast<double>(allocations) / static_cast<double>(state.iterations());
    state.counters["reconnects"] = static_cast<double>(rig->http->connections_opened() - connections);
    samples.report(state);
    returned.report(state, "syscall_returned_");
}

void bm_decision_to_kernel_pool(benchmark::State& state) {
    bm_decision_to_kernel(state, false, false);
}
void bm_decision_to_kernel_signing_es256(benchmark::State& state) {
    bm_decision_to_kernel(state, true, true);
}
void bm_decision_to_kernel_signing_eddsa(benchmark::State& state) {
    bm_decision_to_kernel(state, true, false);
}

void bm_journal_intent_durable(benchmark::State& state) {
    const char* base = std::getenv("CBTRADE_BENCH_JOURNAL_DIR");
    std::string tmpl = std::string(base != nullptr ? base : ".") + "/bench_journal_XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
        state.SkipWithError("cannot make a journal directory");
        return;
    }
    const std::string dir = tmpl;
    io::UringLoop loop;
    if (loop.init(64) < 0) {
        state.SkipWithError("io_uring unavailable");
        return;
    }
    TraderParams params;
    const journal::Recovered none = journal::recover(dir, "BTC-USD", params);
    journal::Writer w(loop);
    w.open(dir, none, "BTC-USD", Trader(params, 1000).books(), 1'700'000'000);
    bench::LatencySamples samples(static_cast<std::size_t>(state.max_iterations));
    journal::OrderIntent intent;
    std::memcpy(intent.client_order_id.data(), "00000000-0000-4000-8000-000000000000", 36);
    intent.live = 1;
    intent.qty = 0.001;
    intent.ref_price = 40000;
    for (auto _ : state) {
        const auto t0 = clock_type::now();
        if (!w.intent(intent)) {
            state.SkipWithError("the journal refused a record");
            break;
        }
        const std::uint64_t target = w.sync();
        while (!w.durable(target) && w.failed() == 0) {
            w.pump();
            (void)loop.poll();
        }
        samples.add(clock_type::now() - t0, 1);
        ++intent.time_s;
    }
    if (w.failed() != 0) state.SkipWithError("the journal file failed");
    (void)w.close();
    std::filesystem::remove_all(dir);
    samples.report(state);
}

}  // namespace

BENCHMARK(bm_journal_intent_durable)->Iterations(3000)->UseRealTime();
BENCHMARK(bm_jwt_es256);
BENCHMARK(bm_jwt_eddsa);
BENCHMARK(bm_create_order_request);
BENCHMARK(bm_decision_to_kernel_pool)->Iterations(20000)->UseRealTime();
BENCHMARK(bm_decision_to_kernel_signing_es256)->Iterations(5000)->UseRealTime();
BENCHMARK(bm_decision_to_kernel_signing_eddsa)->Iterations(5000)->UseRealTime();

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
