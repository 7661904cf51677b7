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
#include <string>

#include "core/rfc3339.hpp"
#include <optional>
#include <stdexcept>

namespace cbtrade::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;

struct BeastBaselineFeed::Impl {
    asio::io_context io;
    asio::ssl::context tls{asio::ssl::context::tls_client};
    // Made once the context is configured: an SSL object copies the context's settings when created.
    std::optional<websocket::stream<beast::ssl_stream<tcp::socket>>> ws;
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
    asio::connect(beast::get_lowest_layer(ws), resolver.resolve(host, std::to_string(port)));
    beast::get_lowest_layer(ws).set_option(tcp::no_delay(true));
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
            trades.push_back(trade);
        }
    }
    return trades;
}

}  // namespace cbtrade::bench
