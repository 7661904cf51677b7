// cbtrade-sim: a loopback Coinbase Advanced Trade exchange simulator for integration tests.
// Serves the market-data WebSocket (ticker, market_trades and heartbeats) over TLS with a test CA made
// at start, replays a candle CSV or a synthetic random walk at a chosen pace, and injects faults on
// demand. Output contract: the first stdout line is "listening 127.0.0.1:<port>"; at exit stderr
// ends with "sent_trades=<t> trade_price_cents_sum=<p> trade_size_units=<u>" and then
// "sent_ticks=<n> price_cents_sum=<s>".
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>

#include "core/file_read.hpp"
#include "feeds/csv_candles.hpp"
#include "tools/sim/rest_exchange.hpp"
#include "tools/sim/session.hpp"
#include "tools/sim/sim_context.hpp"
#include "tools/sim/sim_options.hpp"
#include "tools/sim/test_ca.hpp"

namespace {

namespace asio = boost::asio;
namespace sim = cbtrade::sim;
using tcp = asio::ip::tcp;

std::string read_file(const std::string& path) {
    cbtrade::FileContents f = cbtrade::read_whole_file(path, 1u << 20, "certificate file");
    if (!f.ok()) throw std::runtime_error(f.error);
    return std::move(f.contents);
}

// Written to a temporary name and renamed, so a reader never sees half a certificate.
void write_file_atomically(const std::string& path, const std::string& content) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw std::runtime_error(path + ": cannot write");
        out << content;
        out.flush();
        if (!out) throw std::runtime_error(path + ": write failed");
    }
    std::filesystem::rename(tmp, path);
}

void configure_tls(const sim::SimOptions& o, asio::ssl::context& tls) {
    tls.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                    asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                    asio::ssl::context::single_dh_use);
    std::string ca_pem;
    if (!o.cert_file.empty()) {
        tls.use_certificate_chain_file(o.cert_file);
        tls.use_private_key_file(o.key_file, asio::ssl::context::pem);
        ca_pem = read_file(o.cert_file);
    } else {
        const auto material = o.cert_host.empty() ? sim::make_test_tls({"localhost"}, {"127.0.0.1", "::1"})
                                                  : sim::make_test_tls({o.cert_host}, {});
        tls.use_certificate_chain(asio::buffer(material.server_cert_pem));
        tls.use_private_key(asio::buffer(material.server_key_pem), asio::ssl::context::pem);
        ca_pem = material.ca_cert_pem;
    }
    if (!o.ca_out.empty()) write_file_atomically(o.ca_out, ca_pem);
}

void print_stats(const sim::SimStats& s, const sim::RestStats& rest) {
    std::fprintf(
        stderr,
        "sim: connections=%llu ws_sessions=%llu messages=%llu heartbeats=%llu seq_skips=%llu drops=%llu "
        "stalls=%llu bad_frames=%llu bad_json=%llu bad_prices=%llu refused_upgrades=%llu subscribe_timeouts=%llu "
        "client_errors=%llu\n",
        static_cast<unsigned long long>(s.tcp_connections), static_cast<unsigned long long>(s.ws_sessions),
        static_cast<unsigned long long>(s.messages), static_cast<unsigned long long>(s.heartbeats),
        static_cast<unsigned long long>(s.seq_skips), static_cast<unsigned long long>(s.drops),
        static_cast<unsigned long long>(s.stalls), static_cast<unsigned long long>(s.bad_frames),
        static_cast<unsigned long long>(s.bad_json), static_cast<unsigned long long>(s.bad_prices),
        static_cast<unsigned long long>(s.refused_upgrades), static_cast<unsigned long long>(s.subscribe_timeouts),
        static_cast<unsigned long long>(s.client_errors));
    std::fprintf(stderr,
                 "rest_requests=%llu rest_orders=%llu rest_order_repeats=%llu rest_unauthorized=%llu "
                 "rest_rate_limited=%llu rest_faults=%llu ws_jwts=%llu ws_faults=%llu tls_errors=%llu\n",
                 static_cast<unsigned long long>(rest.requests), static_cast<unsigned long long>(rest.orders),
                 static_cast<unsigned long long>(rest.order_repeats),
                 static_cast<unsigned long long>(rest.unauthorized), static_cast<unsigned long long>(rest.rate_limited),
                 static_cast<unsigned long long>(rest.faults), static_cast<unsigned long long>(s.ws_jwts),
                 static_cast<unsigned long long>(s.ws_faults), static_cast<unsigned long long>(s.tls_errors));
    std::fprintf(stderr, "duplicate_orders=%llu orders_while_unknown=%llu\n",
                 static_cast<unsigned long long>(rest.duplicate_orders),
                 static_cast<unsigned long long>(rest.orders_while_unknown));
    std::fprintf(stderr, "sent_trades=%llu trade_price_cents_sum=%lld trade_size_units=%lld\n",
                 static_cast<unsigned long long>(s.sent_trades), static_cast<long long>(s.trade_price_cents_sum),
                 static_cast<long long>(s.trade_size_units));
    std::fprintf(stderr, "sent_ticks=%llu price_cents_sum=%lld\n", static_cast<unsigned long long>(s.sent_ticks),
                 static_cast<long long>(s.price_cents_sum));
    std::fflush(stderr);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, asio::ssl::context* tls, sim::SimContext& ctx) {
    for (;;) {
        boost::system::error_code ec;
        tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
            ctx.log("accept: " + ec.message());
            continue;
        }
        if (ctx.stopping) continue;  // closes the socket
        if (tls != nullptr) sim::spawn_tls_connection(std::move(socket), *tls, ctx);
        else sim::spawn_plain_connection(std::move(socket), ctx);
    }
}

int run(const sim::SimOptions& o) {
    std::shared_ptr<const std::vector<cbtrade::Candle>> candles;
    std::int64_t csv_step_s = 0;
    if (!o.csv_file.empty()) {
        auto csv = cbtrade::read_candles_csv(o.csv_file);
        if (csv.candles.empty()) throw std::runtime_error(o.csv_file + ": no candles");
        csv_step_s = csv.step_s;
        candles = std::make_shared<const std::vector<cbtrade::Candle>>(std::move(csv.candles));
    }

    // Declared before the io_context: coroutine frames destroyed with it still refer to these.
    sim::SimContext ctx(o, candles, csv_step_s);
    ctx.rest->load_keys();
    std::optional<asio::ssl::context> tls;
    if (!o.plain) {
        tls.emplace(asio::ssl::context::tls_server);
        configure_tls(o, *tls);
    }
    asio::io_context io(1);

    tcp::acceptor acceptor(io);
    const tcp::endpoint want(asio::ip::make_address_v4("127.0.0.1"), o.port);
    acceptor.open(want.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(want);
    acceptor.listen();
    const auto port = acceptor.local_endpoint().port();

    asio::signal_set signals(io, SIGINT, SIGTERM);
    asio::steady_timer exit_timer(io);
    asio::steady_timer hard_stop(io);

    ctx.on_idle = [&io] { io.stop(); };
    ctx.on_stop = [&] {
        boost::system::error_code ec;
        acceptor.close(ec);
        signals.cancel(ec);
        exit_timer.cancel();
        // Clients get a few seconds to finish the close handshake.
        hard_stop.expires_after(std::chrono::seconds(3));
        hard_stop.async_wait([&io](boost::system::error_code e) {
            if (!e) io.stop();
        });
    };
    signals.async_wait([&ctx](boost::system::error_code ec, int sig) {
        if (!ec) ctx.request_stop(sig == SIGINT ? "SIGINT" : "SIGTERM");
    });
    if (o.exit_after_sec) {
        exit_timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(*o.exit_after_sec)));
        exit_timer.async_wait([&ctx](boost::system::error_code ec) {
            if (!ec) ctx.request_stop("--exit-after-sec reached");
        });
    }
    asio::co_spawn(io, accept_loop(acceptor, tls ? &*tls : nullptr, ctx), asio::detached);

    std::printf("listening 127.0.0.1:%u\n", static_cast<unsigned>(port));
    std::fflush(stdout);
    std::string banner = o.plain ? "ws" : "wss";
    banner += "://127.0.0.1:" + std::to_string(port) + "/, ";
    banner += o.csv_file.empty() ? std::string("synthetic market") : "replaying " + o.csv_file;
    banner += ", pace ";
    if (o.pace_max) banner += "max";
    else banner += std::to_string(o.pace_factor) + "x";
    ctx.log(banner);

    io.run();
    print_stats(ctx.stats, ctx.rest->stats());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const auto options = sim::parse_sim_options(argc, argv);
        if (!options) return 0;
        return run(*options);
    } catch (const sim::UsageError& e) {
        std::fprintf(stderr, "cbtrade-sim: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cbtrade-sim: %s\n", e.what());
        return 1;
    }
}
