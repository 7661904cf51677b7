#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "tools/sim/session.hpp"
#include "tools/sim/session_impl.hpp"

namespace cbtrade::sim {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

asio::awaitable<void> tls_handshake_then_serve(TlsStream stream, SimContext& ctx, std::string peer) {
    boost::system::error_code ec;
    beast::get_lowest_layer(stream).expires_after(detail::ws_handshake_timeout);
    co_await stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
        ctx.log("TLS handshake failed from " + peer + ": " + ec.message());
        co_return;
    }
    beast::get_lowest_layer(stream).expires_never();
    co_await detail::serve_http(std::move(stream), ctx, std::move(peer));
}

}  // namespace

void spawn_tls_connection(asio::ip::tcp::socket socket, asio::ssl::context& tls, SimContext& ctx) {
    ++ctx.stats.tcp_connections;
    std::string peer = detail::endpoint_text(socket);
    auto executor = socket.get_executor();
    asio::co_spawn(executor,
                   tls_handshake_then_serve(TlsStream(beast::tcp_stream(std::move(socket)), tls), ctx, std::move(peer)),
                   asio::detached);
}

}  // namespace cbtrade::sim
