#include "tools/sim/session.hpp"
#include "tools/sim/session_impl.hpp"

namespace cbtrade::sim {

void spawn_plain_connection(boost::asio::ip::tcp::socket socket, SimContext& ctx) {
    namespace asio = boost::asio;
    ++ctx.stats.tcp_connections;
    std::string peer = detail::endpoint_text(socket);
    auto executor = socket.get_executor();
    asio::co_spawn(executor, detail::serve_http(boost::beast::tcp_stream(std::move(socket)), ctx, std::move(peer)),
                   asio::detached);
}

}  // namespace cbtrade::sim
