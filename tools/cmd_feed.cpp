// cbtrade feed: the live feed stage on its own. Connects to COINBASE_WS_URL (TLS verified against
// the system CA bundle or TLS_CA_FILE), subscribes to heartbeats, ticker and market_trades for
// COINBASE_WS_PRODUCTS, and prints one line per decoded tick and per trade, or with --summary one
// line per second. On exit it prints a totals line on stderr that integration tests compare with
// cbtrade-sim's "sent_ticks=<n> price_cents_sum=<s> sent_trades=<t> trade_size_units=<u> ...":
//   feed: ticks=<n> price_cents_sum=<s> trades=<t> trade_price_cents_sum=<p> trade_size_units=<u> gaps=<g> ...
// (trade_size_units: the sum of the sizes in units of 1e-8, each size rounded to that unit.)
// Ticker records refused for a price or size outside the sane range show as refused_bad_price.
#include <unistd.h>  // environ

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/candle_builder.hpp"
#include "core/config.hpp"
#include "core/cpu.hpp"
#include "core/error.hpp"
#include "core/file_write.hpp"
#include "core/numbers.hpp"
#include "core/text.hpp"
#include "exec/api_key.hpp"
#include "feeds/coinbase_feed.hpp"
#include "io/uring_loop.hpp"
#include "io/tls_info.hpp"
#include "tools/commands.hpp"
#include "tools/ws_jwt_source.hpp"

namespace {

using namespace cbtrade;

volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int) {
    stop_requested = 1;
}

constexpr double max_duration_sec = 31'536'000;  // a year: the end time stays far inside int64 ns

constexpr const char* feed_usage =
    "usage: cbtrade feed [--summary] [--candles] [--max-ticks N] [--max-trades M] [--duration-sec S]\n"
    "                    [--env-file FILE]...\n"
    "  connect to COINBASE_WS_URL, subscribe to heartbeats, ticker and market_trades for\n"
    "  COINBASE_WS_PRODUCTS and print each decoded tick (product price bid ask seq exchange_time_ns)\n"
    "  and each trade ('trade' product price size id side exchange_time_ns), or with --summary one\n"
    "  line per second (ticks/s, trades, gaps, feed age, reconnects, connect failures). Stops once N\n"
    "  ticks and M trades arrived (either limit alone when only one is given), after S seconds, or on\n"
    "  SIGINT/SIGTERM; then prints the totals on stderr. --candles: also build GRANULARITY candles\n"
    "  from the trades (core/candle_builder.hpp; the clock is the newest exchange time seen, grace\n"
    "  2 s) and print each closed one ('candle' product start_s open high low close volume).\n";

void print_tick(const CoinbaseFeed& feed, const Tick& t) {
    char price[32], bid[32], ask[32];
    *std::to_chars(price, price + sizeof price - 1, t.price).ptr = '\0';
    *std::to_chars(bid, bid + sizeof bid - 1, t.best_bid).ptr = '\0';
    *std::to_chars(ask, ask + sizeof ask - 1, t.best_ask).ptr = '\0';
    const std::string_view product = feed.decoder().product_id(t.product_index);
    std::printf("%.*s %s bid=%s ask=%s seq=%llu time_ns=%lld%s\n", static_cast<int>(product.size()), product.data(),
                price, bid, ask, static_cast<unsigned long long>(t.sequence_num),
                static_cast<long long>(t.exchange_time_ns), (t.flags & tick_flag_snapshot) != 0 ? " snapshot" : "");
}

void print_trade(const CoinbaseFeed& feed, const Trade& t) {
    char price[32], size[32];
    *std::to_chars(price, price + sizeof price - 1, t.price).ptr = '\0';
    *std::to_chars(size, size + sizeof size - 1, t.size).ptr = '\0';
    const std::string_view product = feed.decoder().product_id(t.product_index);
    const char* side = t.taker_side == 1 ? "BUY" : t.taker_side == 2 ? "SELL" : "?";
    std::printf("trade %.*s %s size=%s id=%llu side=%s time_ns=%lld%s\n", static_cast<int>(product.size()),
                product.data(), price, size, static_cast<unsigned long long>(t.trade_id), side,
                static_cast<long long>(t.exchange_time_ns), (t.flags & trade_flag_snapshot) != 0 ? " snapshot" : "");
}

void print_candle(std::string_view product, const Candle& c) {
    char values[5][32];
    const double v[5] = {c.open, c.high, c.low, c.close, c.volume};
    for (int i = 0; i < 5; ++i) *std::to_chars(values[i], values[i] + sizeof values[i] - 1, v[i]).ptr = '\0';
    std::printf("candle %.*s %lld %s %s %s %s %s\n", static_cast<int>(product.size()), product.data(),
                static_cast<long long>(c.time_s), values[0], values[1], values[2], values[3], values[4]);
}

int run(int argc, char** argv) {
    std::vector<std::string> env_files;
    bool summary = false;
    bool candles = false;
    std::uint64_t max_ticks = 0;
    std::uint64_t max_trades = 0;
    double duration_sec = 0;
    for (int i = 2; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&]() -> std::string_view {
            if (i + 1 >= argc) throw UsageError(std::string(arg) + " needs a value");
            return argv[++i];
        };
        if (arg == "--summary") {
            summary = true;
        } else if (arg == "--candles") {
            candles = true;
        } else if (arg == "--max-ticks") {
            // Range-checked like configuration values (core/numbers.hpp); 0 means no limit.
            max_ticks = static_cast<std::uint64_t>(
                int_flag(arg, value(), 0, 1'000'000'000'000'000, "a tick count from 0 (no limit) to 10^15"));
        } else if (arg == "--max-trades") {
            max_trades = static_cast<std::uint64_t>(
                int_flag(arg, value(), 0, 1'000'000'000'000'000, "a trade count from 0 (no limit) to 10^15"));
        } else if (arg == "--duration-sec") {
            // "inf" or 1e300 would reach a float-to-integer conversion: refused, exit 2.
            duration_sec =
                number_flag(arg, value(), 0, max_duration_sec, true, "seconds above 0 and at most 31536000 (one year)");
        } else if (arg == "--env-file") {
            env_files.emplace_back(value());
        } else if (arg == "--help" || arg == "-h") {
            std::fputs(feed_usage, stdout);
            return 0;
        } else {
            throw UsageError("unknown option " + std::string(arg));
        }
    }

    const LoadedConfig lc = load_config(env_files, environ);
    for (const auto& w : lc.warnings) std::fprintf(stderr, "cbtrade: warning: %s\n", w.c_str());

    io::UringLoop loop;
    if (const int rc = loop.init(256); rc < 0) {
        std::fprintf(stderr, "cbtrade feed: %s\n", io::uring_unavailable_message(rc).c_str());
        return 1;
    }
    // With credentials every subscribe message carries a fresh JWT (coinbase-api.md 1.2: optional
    // for public channels, recommended "for the most reliable connection").
    std::optional<JwtSigner> signer = jwt_signer_from(lc.config);
    std::optional<SignerWsJwtSource> jwt_source;
    FeedOptions feed_options = feed_options_from(lc.config);
    if (signer) {
        jwt_source.emplace(*signer);
        feed_options.jwt_source = &*jwt_source;
        std::fprintf(stderr, "cbtrade feed: authenticated subscriptions with key %s (%s, %s)\n",
                     quote_for_message(signer->key_name(), 128).c_str(),
                     std::string(jwt_alg_name(signer->algorithm())).c_str(), signer->key_description().c_str());
    }
    CoinbaseFeed feed(loop, std::move(feed_options));
    std::string error;
    if (feed.start(error) < 0) {
        std::fprintf(stderr, "cbtrade feed: %s\n", error.c_str());
        return 1;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::fprintf(stderr, "cbtrade feed: connecting to %s with %s\n", feed.url().authority().c_str(),
                 feed.url().tls() ? describe(tls_info()).c_str() : "no TLS (plaintext ws:// to a loopback host)");

    std::vector<Tick> ticks(256);
    std::vector<Trade> trades(coinbase_max_trades_per_message);
    // One candle builder per product; the clock is the newest exchange time any message carried.
    constexpr std::int64_t candle_grace_ns = 2'000'000'000;
    std::vector<CandleBuilder> builders;
    if (candles) {
        for (std::size_t i = 0; i < feed.decoder().product_count(); ++i)
            builders.emplace_back(granularity_seconds(lc.config.granularity), candle_grace_ns);
    }
    std::vector<Candle> closed(64);
    std::int64_t exchange_now_ns = 0;
    std::uint64_t total_candles = 0;
    auto take_candles = [&](std::size_t product, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
            ++total_candles;
            if (!summary) print_candle(feed.decoder().product_id(static_cast<std::uint16_t>(product)), closed[i]);
        }
    };
    std::uint64_t total_ticks = 0, total_trades = 0;
    long long price_cents_sum = 0, trade_price_cents_sum = 0, trade_size_units = 0;
    // Done once every limit given is reached.
    auto limits_reached = [&] {
        if (max_ticks == 0 && max_trades == 0) return false;
        return (max_ticks == 0 || total_ticks >= max_ticks) && (max_trades == 0 || total_trades >= max_trades);
    };
    const std::int64_t start = now_ns();
    const std::int64_t end = duration_sec > 0 ? start + static_cast<std::int64_t>(duration_sec * 1e9) : 0;
    std::int64_t next_summary = start + 1'000'000'000;
    std::uint64_t ticks_at_last_summary = 0;
    int exit_code = 0;
    const char* last_printed_error = nullptr;
    std::string last_error_text;

    while (stop_requested == 0) {
        const std::int64_t now = now_ns();
        if (end != 0 && now >= end) break;
        FeedOutput out{ticks, trades};
        const std::size_t n = feed.poll(now, out);
        for (std::size_t i = 0; i < out.tick_count; ++i) {
            const Tick& t = ticks[i];
            if (max_ticks != 0 && total_ticks >= max_ticks) break;
            ++total_ticks;
            price_cents_sum += std::llround(t.price * 100.0);
            exchange_now_ns = std::max(exchange_now_ns, t.exchange_time_ns);
            if (!summary) print_tick(feed, t);
        }
        for (std::size_t i = 0; i < out.trade_count; ++i) {
            const Trade& t = trades[i];
            if (max_trades != 0 && total_trades >= max_trades) break;
            ++total_trades;
            trade_price_cents_sum += std::llround(t.price * 100.0);
            trade_size_units += std::llround(t.size * 1e8);
            exchange_now_ns = std::max(exchange_now_ns, t.exchange_time_ns);
            if (!summary) print_trade(feed, t);
            if (candles) take_candles(t.product_index, builders[t.product_index].on_trade(t, closed));
        }
        for (std::size_t p = 0; p < builders.size(); ++p) take_candles(p, builders[p].on_time(exchange_now_ns, closed));
        if (feed.last_error()[0] != '\0' && last_error_text != feed.last_error()) {
            last_error_text = feed.last_error();
            last_printed_error = last_error_text.c_str();
            std::fprintf(stderr, "cbtrade feed: %s\n", last_printed_error);
        }
        if (feed.failed()) {
            exit_code = 1;
            break;
        }
        if (limits_reached()) break;
        if (summary && now >= next_summary) {
            const std::int64_t last = feed.last_message_ns();
            const FeedCounters& c = feed.counters();
            std::printf(
                "ticks/s=%llu ticks=%llu trades=%llu gaps=%llu feed_age_ms=%lld reconnects=%llu connect_failures=%llu "
                "stale_events=%llu fresh=%d phase=%s\n",
                static_cast<unsigned long long>(total_ticks - ticks_at_last_summary),
                static_cast<unsigned long long>(total_ticks), static_cast<unsigned long long>(total_trades),
                static_cast<unsigned long long>(c.gaps.value()),
                last == 0 ? -1LL : static_cast<long long>((now - last) / 1'000'000),
                static_cast<unsigned long long>(c.reconnects.value()),
                static_cast<unsigned long long>(c.connect_failures.value()),
                static_cast<unsigned long long>(c.stale_events.value()), feed.fresh() ? 1 : 0,
                to_string(feed.phase()).data());
            std::fflush(stdout);
            ticks_at_last_summary = total_ticks;
            next_summary += 1'000'000'000;
        }
        // Nothing decoded: sleep in io_uring until something arrives (at most 1 ms, so the backoff
        // and staleness clocks keep running). A pinned daemon spins on poll() instead.
        if (n == 0) (void)loop.wait(1'000'000);
    }
    feed.stop();
    for (int i = 0; i < 50 && feed.phase() != CoinbaseFeed::Phase::idle; ++i) (void)loop.wait(1'000'000);
    for (int i = 0; i < 20; ++i) (void)loop.wait(1'000'000);  // let the close frame leave
    // Ticks printed to a full disk or a closed pipe are lost: exit 1 (after the totals line).
    std::string output_error;
    try {
        flush_or_throw(stdout, "standard output");
    } catch (const RunError& e) {
        output_error = e.what();
        exit_code = 1;
    }

    const FeedCounters& c = feed.counters();
    // Refused ticker records (a price or size outside the sane range, a missing field) leave their
    // message "ok" and so are not decode_errors: shown on their own (issue 9 items 5, 9).
    const DecoderCounters& d = feed.decoder_counters();
    const std::uint64_t trades_refused = d.trade_bad_id + d.trade_bad_price + d.trade_bad_size + d.trade_bad_time;
    std::fprintf(
        stderr,
        "feed: ticks=%llu price_cents_sum=%lld trades=%llu trade_price_cents_sum=%lld trade_size_units=%lld "
        "trades_refused=%llu trades_over_cap=%llu candles=%llu gaps=%llu messages_missed=%llu reconnects=%llu "
        "stale_events=%llu decode_errors=%llu refused_bad_price=%llu refused_missing_field=%llu "
        "bad_sequence=%llu frames=%llu bytes=%llu heartbeats=%llu connect_failures=%llu\n",
        static_cast<unsigned long long>(total_ticks), price_cents_sum, static_cast<unsigned long long>(total_trades),
        trade_price_cents_sum, trade_size_units, static_cast<unsigned long long>(trades_refused),
        static_cast<unsigned long long>(d.trades_over_cap), static_cast<unsigned long long>(total_candles),
        static_cast<unsigned long long>(c.gaps.value()), static_cast<unsigned long long>(c.messages_missed.value()),
        static_cast<unsigned long long>(c.reconnects.value()), static_cast<unsigned long long>(c.stale_events.value()),
        static_cast<unsigned long long>(c.decode_errors.value()), static_cast<unsigned long long>(d.bad_price),
        static_cast<unsigned long long>(d.missing_field), static_cast<unsigned long long>(d.bad_sequence),
        static_cast<unsigned long long>(c.frames.value()), static_cast<unsigned long long>(c.bytes.value()),
        static_cast<unsigned long long>(c.heartbeats.value()),
        static_cast<unsigned long long>(c.connect_failures.value()));
    if (!output_error.empty()) std::fprintf(stderr, "cbtrade feed: error: %s\n", output_error.c_str());
    return exit_code;
}

}  // namespace

int cmd_feed(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "cbtrade feed: %s\n%s", e.what(), feed_usage);
        return 2;
    } catch (const ConfigError& e) {
        std::fprintf(stderr, "cbtrade: config error: %s\n", e.what());
        return 2;
    } catch (const Error& e) {
        std::fprintf(stderr, "cbtrade feed: error: %s\n", e.what());
        return static_cast<int>(e.exit_code());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cbtrade feed: error: %s\n", e.what());
        return 1;
    }
}
