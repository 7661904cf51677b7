// The conventional baseline client: see beast_baseline_client.hpp.
#include "bench/beast_baseline_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json.hpp>
#include <boost/json/src.hpp>  // Boost.JSON header-only: Debian ships no compiled library for it
#include <openssl/ssl.h>

#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "core/cpu.hpp"
#include "core/rfc3339.hpp"

namespace cbtrade::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

// The TCP socket under OpenSSL, stamping read_tsc() when each blocking read returns: the baseline's
// counterpart of our io_uring completion TSC (the moment user space has the bytes). Nothing else
// differs from a plain tcp::socket; the asynchronous forms pass through unstamped (unused here).
class StampedSocket {
public:
    using executor_type = tcp::socket::executor_type;
    using lowest_layer_type = tcp::socket::lowest_layer_type;

    explicit StampedSocket(asio::io_context& io) : socket_(io) {}
    executor_type get_executor() noexcept { return socket_.get_executor(); }
    lowest_layer_type& lowest_layer() noexcept { return socket_.lowest_layer(); }
    const lowest_layer_type& lowest_layer() const noexcept { return socket_.lowest_layer(); }
    tcp::socket& socket() noexcept { return socket_; }
    [[nodiscard]] std::uint64_t last_read_tsc() const noexcept { return last_read_tsc_; }

    template <class Buffers>
    std::size_t read_some(const Buffers& b) {
        const std::size_t n = socket_.read_some(b);
        last_read_tsc_ = read_tsc();
        return n;
    }
    template <class Buffers>
    std::size_t read_some(const Buffers& b, boost::system::error_code& ec) {
        const std::size_t n = socket_.read_some(b, ec);
        last_read_tsc_ = read_tsc();
        return n;
    }
    template <class Buffers>
    std::size_t write_some(const Buffers& b) {
        return socket_.write_some(b);
    }
    template <class Buffers>
    std::size_t write_some(const Buffers& b, boost::system::error_code& ec) {
        return socket_.write_some(b, ec);
    }
    template <class Buffers, class Token>
    auto async_read_some(const Buffers& b, Token&& token) {
        return socket_.async_read_some(b, std::forward<Token>(token));
    }
    template <class Buffers, class Token>
    auto async_write_some(const Buffers& b, Token&& token) {
        return socket_.async_write_some(b, std::forward<Token>(token));
    }

private:
    tcp::socket socket_;
    std::uint64_t last_read_tsc_ = 0;
};

// The WebSocket closing handshake's TCP part, found by Beast through argument-dependent lookup.
void teardown(beast::role_type role, StampedSocket& s, beast::error_code& ec) {
    beast::websocket::teardown(role, s.socket(), ec);
}
template <class Handler>
void async_teardown(beast::role_type role, StampedSocket& s, Handler&& handler) {
    beast::websocket::async_teardown(role, s.socket(), std::forward<Handler>(handler));
}

}  // namespace

struct BeastBaselineFeed::Impl {
    asio::io_context io;
    asio::ssl::context tls{asio::ssl::context::tls_client};
    // Made once the context is configured: an SSL object copies the context's settings when created.
    std::optional<websocket::stream<asio::ssl::stream<StampedSocket>>> ws;
    beast::flat_buffer buffer;
};

BeastBaselineFeed::BeastBaselineFeed(const std::string& host, std::uint16_t port, const std::string& ca_file)
    : impl_(std::make_unique<Impl>()) {
    Impl& m = *impl_;
    m.tls.set_verify_mode(asio::ssl::verify_peer);
    m.tls.load_verify_file(ca_file);
    // The suite our feed uses against the same server, so both decrypt with AES-128-GCM.
    SSL_CTX_set_ciphersuites(m.tls.native_handle(), "TLS_AES_128_GCM_SHA256");
    SSL_CTX_set_min_proto_version(m.tls.native_handle(), TLS1_3_VERSION);
    m.ws.emplace(m.io, m.tls);
    auto& ws = *m.ws;
    tcp::resolver resolver(m.io);
    tcp::socket& socket = ws.next_layer().next_layer().socket();
    asio::connect(socket, resolver.resolve(host, std::to_string(port)));
    socket.set_option(tcp::no_delay(true));
    if (!SSL_set_tlsext_host_name(ws.next_layer().native_handle(), host.c_str()))
        throw std::runtime_error("baseline: cannot set SNI");
    ws.next_layer().set_verify_callback(asio::ssl::host_name_verification(host));
    ws.next_layer().handshake(asio::ssl::stream_base::client);
    ws.handshake(host + ":" + std::to_string(port), "/");
}

BeastBaselineFeed::~BeastBaselineFeed() = default;

std::vector<BaselineTrade> BeastBaselineFeed::read_trades() {
    Impl& m = *impl_;
    m.buffer.clear();
    boost::system::error_code ec;
    m.ws->read(m.buffer, ec);
    if (ec) throw std::runtime_error("baseline read: " + ec.message());
    const std::uint64_t receive_tsc = m.ws->next_layer().next_layer().last_read_tsc();
    const std::string text = beast::buffers_to_string(m.buffer.data());
    std::vector<BaselineTrade> trades;
    const json::value doc = json::parse(text, ec);
    if (ec || !doc.is_object()) return trades;
    const json::object& root = doc.as_object();
    const json::value* channel = root.if_contains("channel");
    if (channel == nullptr || !channel->is_string() || channel->as_string() != "market_trades") return trades;
    const std::uint64_t seq = root.at("sequence_num").to_number<std::uint64_t>();
    for (const json::value& event : root.at("events").as_array()) {
        for (const json::value& t : event.at("trades").as_array()) {
            const json::object& o = t.as_object();
            BaselineTrade trade;
            trade.price = std::strtod(o.at("price").as_string().c_str(), nullptr);
            trade.size = std::strtod(o.at("size").as_string().c_str(), nullptr);
            trade.trade_id = std::stoull(std::string(o.at("trade_id").as_string()));
            const json::string& time = o.at("time").as_string();
            trade.exchange_time_ns = parse_rfc3339_ns({time.data(), time.size()}).value_or(0);
            trade.sequence_num = seq;
            trade.receive_tsc = receive_tsc;
            trades.push_back(trade);
        }
    }
    return trades;
}

}  // namespace cbtrade::bench
