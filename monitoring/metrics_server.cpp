#include "monitoring/metrics_server.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <atomic>
#include <list>
#include <optional>
#include <thread>
#include <utility>

namespace cbtrade {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t header_limit = 8 * 1024;
constexpr std::size_t body_limit = 4 * 1024;
constexpr std::string_view content_type_metrics = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view content_type_text = "text/plain; charset=utf-8";

}  // namespace

namespace {
class Session;
}

struct MetricsServer::Impl {
    Impl(const MetricsRegistry& r, MetricsServerOptions o) : registry(r), opts(std::move(o)) {}

    const MetricsRegistry& registry;
    MetricsServerOptions opts;
    std::size_t open_connections = 0;  // server thread only
    std::list<Session*> idle;          // server thread only: connections waiting for a request, oldest first
    // writer: the server thread; reader: any thread (tests, diagnostics). Relaxed: a plain count.
    std::atomic<std::uint64_t> idle_dropped{0};
    std::uint16_t bound_port = 0;
    asio::io_context ioc{1};
    tcp::acceptor acceptor{ioc};
    asio::steady_timer accept_retry{ioc};
    std::thread thread;

    void accept();
    // Closes the connection idle the longest; false when none is idle.
    bool drop_oldest_idle();
    [[nodiscard]] http::response<http::string_body> respond(const http::request<http::string_body>& req) const;
};

namespace {

// One connection: wait for a request (idle: long deadline, cheap, first to go when the server is
// full), read it whole within the short request deadline, answer it, repeat while kept alive.
class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket&& socket, MetricsServer::Impl& server) : stream_(std::move(socket)), server_(server) {
        ++server_.open_connections;
    }
    ~Session() {
        leave_idle();
        --server_.open_connections;
    }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    void run() { wait_for_request(); }

    // Called by the server on the oldest idle connection: its pending read ends and it goes away.
    void drop() {
        leave_idle();
        close();
    }

private:
    void wait_for_request() {
        if (buffer_.size() > 0) return read_request();  // a pipelined request is already here
        server_.idle.push_back(this);
        idle_pos_ = std::prev(server_.idle.end());
        stream_.expires_after(server_.opts.idle_timeout);
        stream_.async_read_some(buffer_.prepare(first_read_bytes),
                                [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                    self->leave_idle();
                                    if (ec) return self->close();
                                    self->buffer_.commit(n);
                                    self->read_request();
                                });
    }

    void read_request() {
        parser_.emplace();
        parser_->header_limit(header_limit);
        parser_->body_limit(body_limit);
        stream_.expires_after(server_.opts.request_timeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (ec) return close();  // timeout, client gone, or a malformed / oversized request
        res_ = server_.respond(parser_->get());
        stream_.expires_after(server_.opts.request_timeout);
        http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code wec, std::size_t) {
            if (wec || !self->res_.keep_alive()) return self->close();
            self->wait_for_request();
        });
    }

    void leave_idle() {
        if (!idle_pos_) return;
        server_.idle.erase(*idle_pos_);
        idle_pos_.reset();
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream_.close();
    }

    static constexpr std::size_t first_read_bytes = 512;

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_{header_limit};
    std::optional<http::request_parser<http::string_body>> parser_;
    http::response<http::string_body> res_;
    MetricsServer::Impl& server_;
    std::optional<std::list<Session*>::iterator> idle_pos_;
};

}  // namespace

bool MetricsServer::Impl::drop_oldest_idle() {
    if (idle.empty()) return false;
    Session* oldest = idle.front();
    oldest->drop();  // closes the socket now: the descriptor is free for the newcomer
    idle_dropped.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void MetricsServer::Impl::accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted) return;
        if (ec) {
            // Out of file descriptors: make room by dropping the oldest idle connection and accept
            // again at once; otherwise try again a little later instead of spinning.
            const bool out_of_files =
                ec == asio::error::no_descriptors || ec == beast::error_code(ENFILE, boost::system::system_category());
            if (out_of_files && drop_oldest_idle()) return accept();
            accept_retry.expires_after(std::chrono::milliseconds(100));
            accept_retry.async_wait([this](beast::error_code tec) {
                if (!tec) accept();
            });
            return;
        }
        if (open_connections >= opts.max_connections && !drop_oldest_idle()) {
            beast::error_code ignored;
            socket.close(ignored);  // full of requests in progress: refuse at once rather than queue
        } else {
            std::make_shared<Session>(std::move(socket), *this)->run();
        }
        accept();
    });
}

http::response<http::string_body> MetricsServer::Impl::respond(const http::request<http::string_body>& req) const {
    http::response<http::string_body> res;
    res.version(req.version());
    res.keep_alive(req.keep_alive());
    res.set(http::field::server, "cbtrade");
    res.set(http::field::content_type, content_type_text);

    std::string_view target = req.target();
    target = target.substr(0, target.find('?'));
    if (req.method() != http::verb::get) {
        res.result(http::status::method_not_allowed);
        res.set(http::field::allow, "GET");
        res.body() = "method not allowed\n";
    } else if (target == "/metrics") {
        res.result(http::status::ok);
        res.set(http::field::content_type, content_type_metrics);
        res.body().reserve(16 * 1024);
        registry.render_prometheus(res.body());
    } else if (target == "/healthz") {
        res.result(http::status::ok);
        res.body() = "ok\n";
    } else if (target == "/readyz") {
        const std::string reason = opts.readiness ? opts.readiness() : std::string();
        if (reason.empty()) {
            res.result(http::status::ok);
            res.body() = "ready\n";
        } else {
            res.result(http::status::service_unavailable);
            res.body() = "not ready: " + reason + "\n";
        }
    } else {
        res.result(http::status::not_found);
        res.body() = "not found\n";
    }
    res.prepare_payload();
    return res;
}

std::function<std::string()> readiness_of(const ReadyState& state) {
    return [&state] { return std::string(state.reason()); };
}

MetricsServer::MetricsServer(const MetricsRegistry& registry, MetricsServerOptions options)
    : impl_(std::make_unique<Impl>(registry, std::move(options))) {}

MetricsServer::~MetricsServer() {
    stop();
}

std::uint16_t MetricsServer::port() const noexcept {
    return impl_->bound_port;
}

std::uint64_t MetricsServer::idle_dropped() const noexcept {
    return impl_->idle_dropped.load(std::memory_order_relaxed);
}

std::string MetricsServer::start() {
    Impl& s = *impl_;
    const std::string where = s.opts.address + ":" + std::to_string(s.opts.port);
    if (s.thread.joinable()) return "metrics server on " + where + " already started";
    beast::error_code ec;
    tcp::resolver resolver(s.ioc);
    const auto endpoints = resolver.resolve(s.opts.address, std::to_string(s.opts.port),
                                            tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || endpoints.empty())
        return "cannot listen on " + where + ": cannot resolve the address" + (ec ? ": " + ec.message() : "");
    const tcp::endpoint ep = endpoints.begin()->endpoint();
    auto fail = [&](const char* what) {
        beast::error_code ignored;
        s.acceptor.close(ignored);
        return "cannot listen on " + where + ": " + what + ": " + ec.message();
    };
    if (s.acceptor.open(ep.protocol(), ec); ec) return fail("socket");
    if (s.acceptor.set_option(asio::socket_base::reuse_address(true), ec); ec) return fail("SO_REUSEADDR");
    if (s.acceptor.bind(ep, ec); ec) return fail("bind");
    if (s.acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) return fail("listen");
    s.bound_port = s.acceptor.local_endpoint(ec).port();

    s.accept();
    s.thread = std::thread([&s] {
        ::pthread_setname_np(::pthread_self(), "cbtrade-metrics");
        // Linux nice values are per thread: this lowers only the server thread. Not SCHED_IDLE: on
        // a busy small machine that could starve scrapes past Prometheus's timeout.
        (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), s.opts.nice);
        s.ioc.run();
    });
    return {};
}

void MetricsServer::stop() noexcept {
    Impl& s = *impl_;
    if (!s.thread.joinable()) return;
    s.ioc.stop();
    s.thread.join();
    beast::error_code ignored;
    s.acceptor.close(ignored);
}

}  // namespace cbtrade
