// A blocking plain-HTTP rest::HttpTransport over Boost.Beast (asynchronous operations run one at a
// time, so that timeouts apply), for tests against cbtrade-sim on
// loopback (the production transport is io/'s HTTP client over io_uring and TLS). One keep-alive
// connection; after any failure it is closed, so a late answer can never be read as the next one's.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <chrono>
#include <optional>
#include <string>

#include "exec/rest_client.hpp"

namespace cbtrade::test {

class BeastTransport final : public rest::HttpTransport {
public:
    BeastTransport(std::string host, std::uint16_t port) : host_(std::move(host)), port_(port) {}

    rest::TransportResult exchange(const rest::TransportRequest& r) override {
        namespace beast = boost::beast;
        namespace http = beast::http;
        using rest::TransportFailure;
        const auto timeout = std::chrono::milliseconds(r.timeout_ms);
        const std::string where = host_ + ":" + std::to_string(port_) + ": ";
        if (!stream_) {
            stream_.emplace(io_);
            boost::system::error_code ec;
            stream_->expires_after(timeout);
            stream_->async_connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address(host_), port_),
                                   [&ec](boost::system::error_code e) { ec = e; });
            run();
            if (ec) {
                stream_.reset();
                return {std::nullopt, TransportFailure::not_sent, where + "connect: " + ec.message()};
            }
        }
        http::request<http::string_body> req{http::string_to_verb(std::string(r.method)), std::string(r.target), 11};
        req.set(http::field::host, host_ + ":" + std::to_string(port_));
        for (const auto& h : r.headers) req.set(std::string(h.name), std::string(h.value));
        req.body() = std::string(r.body);
        req.keep_alive(true);
        req.prepare_payload();
        boost::system::error_code ec;
        stream_->expires_after(timeout);
        http::async_write(*stream_, req, [&ec](boost::system::error_code e, std::size_t) { ec = e; });
        run();
        if (ec) {
            stream_.reset();
            return {std::nullopt, TransportFailure::no_answer, where + "send: " + ec.message()};
        }
        http::response_parser<http::string_body> parser;
        parser.body_limit(4 * 1024 * 1024);
        buffer_.clear();
        stream_->expires_after(timeout);
        http::async_read(*stream_, buffer_, parser, [&ec](boost::system::error_code e, std::size_t) { ec = e; });
        run();
        if (ec) {
            stream_.reset();
            const bool timed_out = ec == beast::error::timeout;
            return {std::nullopt, timed_out ? TransportFailure::timeout : TransportFailure::no_answer,
                    where + (timed_out ? "no answer before the timeout" : "receive: " + ec.message())};
        }
        auto res = parser.release();
        rest::TransportResponse out;
        out.status = static_cast<int>(res.result_int());
        out.content_type = std::string(res[http::field::content_type]);
        if (res.count(http::field::retry_after)) out.retry_after = std::string(res[http::field::retry_after]);
        out.body = std::move(res.body());
        if (!res.keep_alive()) stream_.reset();
        ++answered;
        return {std::move(out), TransportFailure::none, {}};
    }

    int answered = 0;

private:
    // Beast's stream timeouts apply to asynchronous operations only: run each one to completion.
    void run() {
        io_.restart();
        io_.run();
    }

    std::string host_;
    std::uint16_t port_;
    boost::asio::io_context io_;
    std::optional<boost::beast::tcp_stream> stream_;
    boost::beast::flat_buffer buffer_;
};

}  // namespace cbtrade::test
