// tools/sim/: one accepted TCP connection: optional TLS handshake, HTTP requests through the router,
// or a WebSocket upgrade into a market-data session. Plain and TLS variants live in separate
// translation units because Beast's templates compile slowly.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "tools/sim/sim_context.hpp"

namespace cbtrade::sim {

void spawn_plain_connection(boost::asio::ip::tcp::socket socket, SimContext& ctx);
void spawn_tls_connection(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& tls, SimContext& ctx);

}  // namespace cbtrade::sim
