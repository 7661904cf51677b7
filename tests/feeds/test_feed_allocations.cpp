// The feed's receive path, ciphertext to Tick and Trade (TLS record decryption, WebSocket framing,
// decoding of ticker and market_trades messages), makes no heap allocation per message after warm-up. A counting malloc sees every allocation in
// the process; the server side encrypts outside the counted window.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "feeds/coinbase_decoder.hpp"
#include "feeds/ws_frame.hpp"
#include "io/tls_client.hpp"
#include "io/tls_info.hpp"
#include "tests/feeds/ticker_messages.hpp"
#include "tests/io/memory_pipe.hpp"
#include "tests/io/test_pki.hpp"
#include "tests/sanitizer_build.hpp"

namespace {
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

// Counts malloc itself, not only operator new: wolfSSL allocates with malloc (XMALLOC), and
// libstdc++'s operator new ends in malloc too. The definitions here interpose glibc's for the whole
// process. Under ASan the sanitizer owns malloc: no interposition there (the test skips).
// They keep glibc's declarations, parameter names included, and forward to glibc's own entry points
// (__libc_*): names reserved for the implementation, which is what is being reached here.
#if !CBTRADE_TEST_ASAN
// NOLINTBEGIN(bugprone-reserved-identifier)
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* malloc(std::size_t __size) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return __libc_malloc(__size);
}
void* calloc(std::size_t __nmemb, std::size_t __size) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return __libc_calloc(__nmemb, __size);
}
void* realloc(void* __ptr, std::size_t __size) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return __libc_realloc(__ptr, __size);
}
}
// NOLINTEND(bugprone-reserved-identifier)
#endif

namespace cbtrade {
namespace {

std::string ticker_frame(std::uint64_t seq, double price) {
    return testing::server_frame(testing::ticker_json(seq, false, price));
}

TEST(FeedReceivePath, no_heap_allocation_per_message_after_warm_up) {
#if CBTRADE_TEST_ASAN
    GTEST_SKIP() << "ASan replaces the allocator; the release build runs this test";
#endif
    if (tls_info().flavour != "accelerated")
        GTEST_SKIP() << "Debian's libwolfssl is built without LARGE_STATIC_BUFFERS and mallocs once per received "
                        "record; the accelerated build (the default) is not";
    const testing::TestPki pki = testing::make_test_pki();
    ASSERT_TRUE(pki.ok()) << pki.error;
    testing::MemoryPipe pipe(1 << 20);
    io::TlsContext server_ctx, client_ctx;
    std::string error;
    ASSERT_EQ(server_ctx.init_server(pki.server_pem, pki.server_key, error), 0) << error;
    ASSERT_EQ(client_ctx.init_client({pki.ca_pem, resolve_cipher_list("auto", tls_info())}, error), 0) << error;
    io::TlsSession server, client;
    ASSERT_EQ(server.start(server_ctx, pipe.b(), ""), 0);
    ASSERT_EQ(client.start(client_ctx, pipe.a(), "localhost"), 0);
    int c = -EAGAIN, s = -EAGAIN;
    for (int i = 0; i < 50 && (c != 0 || s != 0); ++i) {
        c = client.handshake();
        s = server.handshake();
    }
    ASSERT_EQ(c, 0) << client.error();
    ASSERT_EQ(s, 0);

    ws::FrameParser parser;
    const std::string_view products[] = {"BTC-USD"};
    CoinbaseDecoder decoder(products);
    std::vector<Tick> ticks(64);
    std::vector<Trade> trades(coinbase_max_trades_per_message);
    std::vector<std::byte> plain(16384);
    std::vector<std::string> frames;
    // Ticker and market_trades interleaved, as on one subscribed connection: 25 of each, 1 to 4
    // trades per trades message (61 trades per batch).
    for (std::uint64_t i = 0; i < 25; ++i) {
        frames.push_back(ticker_frame(2 * i, 42000.0 + static_cast<double>(i)));
        frames.push_back(testing::server_frame(testing::market_trades_json(
            2 * i + 1, 1000 + 10 * i, static_cast<int>(i % 4) + 1, 42000.0 + static_cast<double>(i))));
    }

    std::uint64_t seq_base = 0, decoded = 0, decoded_trades = 0, counted_allocations = 0;
    auto batch = [&](bool count) {
        for (const auto& f : frames)
            ASSERT_GT(server.write({reinterpret_cast<const std::byte*>(f.data()), f.size()}), 0);
        const std::uint64_t before = g_allocations.load();
        for (long n; (n = client.read(plain)) > 0;) {
            std::span<const char> in(reinterpret_cast<const char*>(plain.data()), static_cast<std::size_t>(n));
            while (!in.empty()) {
                const ws::FrameParseResult r = parser.parse(in);
                in = in.subspan(r.consumed);
                if (r.event.kind == ws::FrameEventKind::text) {
                    const DecodeResult d = decoder.decode(r.event.data, r.event.size,
                                                          r.event.size + ws::message_padding_bytes, 0, ticks, trades);
                    decoded += d.ticks_emitted;
                    decoded_trades += d.trades_emitted;
                }
            }
        }
        if (count) counted_allocations += g_allocations.load() - before;
        seq_base += frames.size();
    };
    for (int i = 0; i < 4; ++i) batch(false);  // warm-up
    const std::uint64_t warm = decoded, warm_trades = decoded_trades;
    for (int i = 0; i < 200; ++i) batch(true);  // 10,000 messages
    EXPECT_EQ(decoded - warm, 5000u) << "every ticker message decoded";
    EXPECT_EQ(decoded_trades - warm_trades, 12200u) << "every trade decoded";
    EXPECT_EQ(counted_allocations, 0u) << "heap allocations on the receive path over 10,000 messages";
}

}  // namespace
}  // namespace cbtrade
