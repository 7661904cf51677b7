// The HTTP/1.1 server. See http_server.hpp.
#include "io/http_server.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <atomic>
#include <exception>
#include <list>
#include <optional>
#include <thread>
#include <utility>

namespace cbtrade::io {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
class Session;
}

struct HttpServer::Impl {
    Impl(HttpHandler h, HttpServerOptions o) : handler(std::move(h)), opts(std::move(o)) {}

    HttpHandler handler;
    HttpServerOptions opts;
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
    Session(tcp::socket&& socket, HttpServer::Impl& server)
        : stream_(std::move(socket)), buffer_(server.opts.header_limit + server.opts.body_limit), server_(server) {
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
        parser_->header_limit(static_cast<std::uint32_t>(server_.opts.header_limit));
        parser_->body_limit(server_.opts.body_limit);
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
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http::response<http::string_body> res_;
    HttpServer::Impl& server_;
    std::optional<std::list<Session*>::iterator> idle_pos_;
};

}  // namespace

bool HttpServer::Impl::drop_oldest_idle() {
    if (idle.empty()) return false;
    Session* oldest = idle.front();
    oldest->drop();  // closes the socket now: the descriptor is free for the newcomer
    idle_dropped.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void HttpServer::Impl::accept() {
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

http::response<http::string_body> HttpServer::Impl::respond(const http::request<http::string_body>& req) const {
    HttpServerRequest r;
    r.method = std::string_view(req.method_string().data(), req.method_string().size());
    r.target = std::string_view(req.target().data(), req.target().size());
    if (const auto ct = req.find(http::field::content_type); ct != req.end())
        r.content_type = std::string_view(ct->value().data(), ct->value().size());
    r.body = req.body();
    HttpServerResponse answer;
    try {
        answer = handler(r);
    } catch (const std::exception&) {
        // A handler must answer every request; out of memory is the only expected way here.
        answer = HttpServerResponse{500, "text/plain; charset=utf-8", "internal error\n", {}};
    }
    http::response<http::string_body> res;
    res.version(req.version());
    res.keep_alive(req.keep_alive());
    res.result(answer.status);
    res.set(http::field::server, "cbtrade");
    res.set(http::field::content_type, answer.content_type);
    if (!answer.allow.empty()) res.set(http::field::allow, answer.allow);
    res.body() = std::move(answer.body);
    res.prepare_payload();
    return res;
}

HttpServer::HttpServer(HttpHandler handler, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(handler), std::move(options))) {}

HttpServer::~HttpServer() {
    stop();
}

std::uint16_t HttpServer::port() const noexcept {
    return impl_->bound_port;
}

std::uint64_t HttpServer::idle_dropped() const noexcept {
    return impl_->idle_dropped.load(std::memory_order_relaxed);
}

std::string HttpServer::start() {
    Impl& s = *impl_;
    const std::string where = s.opts.address + ":" + std::to_string(s.opts.port);
    if (s.thread.joinable()) return "HTTP server on " + where + " already started";
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
        ::pthread_setname_np(::pthread_self(), s.opts.thread_name.substr(0, 15).c_str());
        // Linux nice values are per thread: this lowers only the server thread. Not SCHED_IDLE: on
        // a busy small machine that could starve scrapes past Prometheus's timeout.
        (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), s.opts.nice);
        s.ioc.run();
    });
    return {};
}

void HttpServer::stop() noexcept {
    Impl& s = *impl_;
    if (!s.thread.joinable()) return;
    s.ioc.stop();
    s.thread.join();
    beast::error_code ignored;
    s.acceptor.close(ignored);
}

}  // namespace cbtrade::io
