// tools/sim/: the connection and WebSocket session template behind session.hpp, instantiated for
// beast::tcp_stream (session_plain.cpp) and beast::ssl_stream<beast::tcp_stream> (session_tls.cpp).
//
// One connection is two coroutines on the single io_context thread: the writer owns everything
// sent (acks, snapshots, paced updates, heartbeats, faults) and is the only one that writes, the
// reader parses client requests and hands results to the writer through the outbox, waking it by
// cancelling its timer.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tools/sim/messages.hpp"
#include "tools/sim/rest_exchange.hpp"
#include "tools/sim/sim_context.hpp"

namespace cbtrade::sim::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using asio::awaitable;
using steady = std::chrono::steady_clock;

inline constexpr auto http_read_timeout = std::chrono::seconds(10);
inline constexpr auto ws_handshake_timeout = std::chrono::seconds(5);
inline constexpr auto heartbeat_period = std::chrono::seconds(1);
inline constexpr std::size_t max_client_message = 64 * 1024;

[[nodiscard]] inline std::int64_t wall_now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

[[nodiscard]] inline std::string endpoint_text(const asio::ip::tcp::socket& s) {
    boost::system::error_code ec;
    const auto ep = s.remote_endpoint(ec);
    if (ec) return "?";
    return ep.address().to_string() + ":" + std::to_string(ep.port());
}

template <class Stream>
class WsSession final : public SessionWaker, public std::enable_shared_from_this<WsSession<Stream>> {
public:
    WsSession(Stream&& stream, SimContext& ctx, std::string peer)
        : ws_(std::move(stream)), timer_(ws_.get_executor()), ctx_(ctx), peer_(std::move(peer)) {}

    ~WsSession() { ctx_.sessions.erase(this); }

    WsSession(const WsSession&) = delete;
    WsSession& operator=(const WsSession&) = delete;

    void wake() override { timer_.cancel(); }

    // Completes the upgrade for req, then serves the session until it ends. req lives in this
    // coroutine's frame, which outlives the awaited run_impl that reads it.
    static awaitable<void> run(std::shared_ptr<WsSession> self, HttpRequest req) {
        co_await self->run_impl(req);
        self->ctx_.sessions.erase(self.get());
        self->ctx_.session_ended();
    }

private:
    struct Outgoing {
        bool is_ack;       // a subscriptions ack, built when sent (it carries a sequence number)
        std::string text;  // otherwise an error message, sent as is
    };

    awaitable<void> run_impl(const HttpRequest& req) {
        websocket::stream_base::timeout t{};
        t.handshake_timeout = ws_handshake_timeout;
        t.idle_timeout = websocket::stream_base::none();
        t.keep_alive_pings = false;
        ws_.set_option(t);
        ws_.set_option(websocket::stream_base::decorator(
            [](websocket::response_type& res) { res.set(http::field::server, "cbtrade-sim"); }));
        ws_.read_message_max(max_client_message);

        boost::system::error_code ec;
        co_await ws_.async_accept(req, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            ctx_.log("websocket accept failed from " + peer_ + ": " + ec.message());
            co_return;
        }
        index_ = ctx_.next_ws_index++;
        ++ctx_.stats.ws_sessions;
        const auto& o = ctx_.options;
        if (index_ < o.drop_after.size()) drop_after_ = o.drop_after[index_];
        faults_ = !o.fault_once || index_ == 0;
        ctx_.sessions.insert(this);
        ctx_.log("session " + std::to_string(index_) + " open from " + peer_);

        asio::co_spawn(ws_.get_executor(), read_loop(this->shared_from_this()), asio::detached);
        co_await write_loop();
        if (!peer_gone_) close_socket();  // ends the reader too
        ctx_.log("session " + std::to_string(index_) + " ended: " + end_reason_ + " (sent " +
                 std::to_string(ticks_on_connection_) + " ticker messages)");
    }

    // ---- reading -------------------------------------------------------------------------------

    static awaitable<void> read_loop(std::shared_ptr<WsSession> self) {
        beast::flat_buffer buf;
        for (;;) {
            boost::system::error_code ec;
            buf.clear();
            co_await self->ws_.async_read(buf, asio::redirect_error(asio::use_awaitable, ec));
            if (ec) {
                self->peer_gone_ = true;
                if (self->end_reason_.empty()) self->end_reason_ = "client: " + ec.message();
                self->wake();
                co_return;
            }
            if (!self->ws_.got_text()) continue;
            self->handle_request(beast::buffers_to_string(buf.data()));
            self->wake();
        }
    }

    void reply_error(const std::string& text) {
        ++ctx_.stats.client_errors;
        outbox_.push_back(Outgoing{false, error_message(text)});
    }

    void handle_request(const std::string& text) {
        const auto req = parse_client_request(text);
        if (!req) {
            reply_error("failure to parse json");
            return;
        }
        const bool subscribe = req->type == "subscribe";
        if (!subscribe && req->type != "unsubscribe") {
            reply_error("unknown message type '" + req->type + "'");
            return;
        }
        // A jwt is optional on public channels, but one that is sent must be valid (the simulator
        // checks it when it was given --api-key).
        if (req->has_jwt) {
            if (const std::string why = ctx_.rest->check_ws_jwt(req->jwt); !why.empty()) {
                ctx_.log("session " + std::to_string(index_) + ": " + req->type + " " + req->channel +
                         " refused: JWT " + why);
                reply_error("authentication failure");
                return;
            }
            ++ctx_.stats.ws_jwts;
        }
        if (req->channel == "heartbeats") {
            if (subscribe && !heartbeats_) next_heartbeat_ = steady::now() + heartbeat_period;
            heartbeats_ = subscribe;
        } else if (req->channel == "ticker") {
            if (!apply_products(*req, subscribe, products_, snapshot_pending_)) return;
        } else if (req->channel == "market_trades") {
            if (!apply_products(*req, subscribe, trade_products_, trade_snapshot_pending_)) return;
        } else if (req->channel == "user" || req->channel == "futures_balance_summary") {
            reply_error(req->has_jwt ? "channel '" + req->channel + "' is not simulated" : "authentication failure");
            return;
        } else {
            reply_error("channel '" + req->channel + "' is not simulated (ticker, market_trades and heartbeats are)");
            return;
        }
        if (subscribe) subscribed_ = true;
        ctx_.log("session " + std::to_string(index_) + ": " + req->type + " " + req->channel);
        outbox_.push_back(Outgoing{true, {}});
    }

    // A ticker or market_trades (un)subscription: `products` is the channel's list, `pending` its
    // products still owed a snapshot.
    bool apply_products(const ClientRequest& req, bool subscribe, std::vector<std::string>& products,
                        std::vector<std::string>& pending) {
        if (!subscribe) {
            if (req.product_ids.empty()) {
                products.clear();
                pending.clear();
            }
            for (const auto& id : req.product_ids) {
                std::erase(products, id);
                std::erase(pending, id);
            }
            return true;
        }
        if (req.product_ids.empty()) {
            reply_error(req.channel + " subscription needs product_ids");
            return false;
        }
        for (const auto& id : req.product_ids) {
            const bool valid = !id.empty() && id.size() <= 32 && std::all_of(id.begin(), id.end(), [](char c) {
                return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
            });
            if (!valid) {
                reply_error("invalid product_id '" + id + "'");
                return false;
            }
        }
        for (const auto& id : req.product_ids) {
            if (std::find(products.begin(), products.end(), id) != products.end()) continue;
            products.push_back(id);
            pending.push_back(id);
        }
        return true;
    }

    // Every product with a ticker or market_trades subscription: each gets one quote per step.
    [[nodiscard]] std::vector<std::string> market_products() const {
        std::vector<std::string> all = products_;
        for (const auto& id : trade_products_)
            if (std::find(all.begin(), all.end(), id) == all.end()) all.push_back(id);
        return all;
    }

    [[nodiscard]] static bool contains(const std::vector<std::string>& list, const std::string& id) {
        return std::find(list.begin(), list.end(), id) != list.end();
    }

    // ---- writing -------------------------------------------------------------------------------

    std::uint64_t take_sequence_num() {
        const std::uint64_t s = seq_++;
        const auto every = ctx_.options.skip_seq_every;
        if (every != 0 && (s + 1 - skipped_) % every == 0) {
            ++seq_;
            ++skipped_;
            ++ctx_.stats.seq_skips;
        }
        return s;
    }

    // Messages are taken by value: the coroutine frame owns them while the write is suspended.
    // (Results of co_await are stored in locals before testing them: g++ 12 miscompiles
    // `if (!co_await f())`.)
    awaitable<bool> send(std::string text) {
        boost::system::error_code ec;
        ws_.text(true);
        co_await ws_.async_write(asio::buffer(text), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            peer_gone_ = true;
            if (end_reason_.empty()) end_reason_ = "write failed: " + ec.message();
            co_return false;
        }
        co_return true;
    }

    awaitable<bool> send_data(std::string text) {
        const bool ok = co_await send(std::move(text));
        if (!ok) co_return false;
        ++ctx_.stats.messages;
        co_return true;
    }

    // One step of the market: a quote for each product, sent as one market_trades update (to the
    // products with a market_trades subscription) and then one ticker message (to those with a
    // ticker subscription; `snapshot` marks it as their snapshot). Trades first: a client that has
    // the step's tick also has its trade, so counts taken at a tick limit match the sim's exactly.
    // False when the connection failed. Products whose feed has ended are left out; when every feed
    // has ended the run stops.
    awaitable<bool> send_step(std::vector<std::string> products, bool snapshot) {
        const std::uint64_t budget = ctx_.tick_budget_left();
        if (budget == 0) {
            ctx_.request_stop("--messages reached");
            co_return true;
        }
        std::vector<ProductQuote> quotes;
        for (const auto& id : products) {
            if (quotes.size() >= budget) break;
            if (auto q = ctx_.feed(id).next()) quotes.push_back(ProductQuote{id, *q});
        }
        if (quotes.empty()) {
            ctx_.request_stop("end of market data");
            co_return true;
        }
        ctx_.ticks_reserved += quotes.size();
        ctx_.market_time_us = quotes.back().quote.time_us;  // not a max: a --loop replay starts over
        std::vector<ProductQuote> tickers;
        std::vector<ProductTrade> trades;
        for (const auto& q : quotes) {
            const std::string id(q.product_id);
            if (contains(products_, id)) tickers.push_back(q);
            if (contains(trade_products_, id)) trades.push_back(ProductTrade{q.product_id, q.quote.trade});
        }
        if (!trades.empty()) {
            const bool ok = co_await send_trades(std::move(trades), false);
            if (!ok) co_return false;
        }
        if (!tickers.empty()) {
            const std::int64_t ts =
                ctx_.options.timestamps == TimestampSource::market ? tickers.front().quote.time_us : wall_now_us();
            std::string msg = ticker_message(take_sequence_num(), ts, snapshot, tickers);
            const bool ok = co_await send_data(std::move(msg));
            if (!ok) co_return false;
            ctx_.stats.sent_ticks += tickers.size();
            for (const auto& q : tickers) ctx_.stats.price_cents_sum += q.quote.price_cents;
        }
        ++ticks_on_connection_;
        co_return true;
    }

    // One market_trades message. Its envelope carries the newest trade's market time whatever
    // --timestamps says (a trade is never reported before it happened; the client refuses trades
    // timed after their envelope), or the wall clock for a snapshot without trades.
    awaitable<bool> send_trades(std::vector<ProductTrade> trades, bool snapshot) {
        std::int64_t ts = trades.empty() ? wall_now_us() : trades.front().trade.time_us;
        for (const auto& t : trades) ts = std::max(ts, t.trade.time_us);
        std::string msg = market_trades_message(take_sequence_num(), ts, snapshot, trades);
        const bool ok = co_await send_data(std::move(msg));
        if (!ok) co_return false;
        ctx_.stats.sent_trades += trades.size();
        for (const auto& t : trades) {
            ctx_.stats.trade_price_cents_sum += t.trade.price_cents;
            ctx_.stats.trade_size_units += t.trade.size_units;
        }
        co_return true;
    }

    // The market_trades snapshot of newly subscribed products: their recent trades (already sent on
    // an earlier connection, or to another client: a client skips the ones it has by trade_id).
    awaitable<bool> send_trade_snapshot(std::vector<std::string> ids) {
        std::vector<ProductTrade> recent;
        for (const auto& id : ids) {  // `ids` lives in this coroutine's frame: the views stay valid
            for (const TradePrint& t : ctx_.feed(id).recent_trades()) recent.push_back(ProductTrade{id, t});
        }
        std::stable_sort(recent.begin(), recent.end(), [](const ProductTrade& a, const ProductTrade& b) {
            return a.trade.time_us < b.trade.time_us;
        });
        co_return co_await send_trades(std::move(recent), true);
    }

    void drop_now(const std::string& reason) {
        end_reason_ = reason;
        close_socket();
    }

    void close_socket() {
        auto& sock = beast::get_lowest_layer(ws_).socket();
        boost::system::error_code ec;
        sock.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
        sock.close(ec);
    }

    awaitable<void> close_normally(websocket::close_code code, const std::string& reason) {
        end_reason_ = reason;
        boost::system::error_code ec;
        co_await ws_.async_close(websocket::close_reason(code, reason), asio::redirect_error(asio::use_awaitable, ec));
        if (ec && ec != websocket::error::closed) drop_now(reason + " (close: " + ec.message() + ")");
    }

    // Waits until deadline or a wake(); for waits that must last (stall), loop on the deadline.
    awaitable<void> wait_until(steady::time_point deadline) {
        timer_.expires_at(deadline);
        boost::system::error_code ec;
        co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }

    // A frame with RSV1-3 set (no extension was negotiated, so the client must fail the connection).
    awaitable<void> send_bad_frame() {
        static constexpr char payload[] = R"({"channel":"ticker","bad":"rsv bits"})";
        std::string frame;
        frame += static_cast<char>(0xF1);  // FIN, RSV1, RSV2, RSV3, opcode text
        frame += static_cast<char>(sizeof payload - 1);
        frame.append(payload, sizeof payload - 1);
        boost::system::error_code ec;
        co_await asio::async_write(ws_.next_layer(), asio::buffer(frame),
                                   asio::redirect_error(asio::use_awaitable, ec));
        ++ctx_.stats.bad_frames;
        ctx_.log("session " + std::to_string(index_) + ": sent a frame with reserved bits set");
        // Let the client see it and fail the connection, then make sure it is gone.
        const auto give_up = steady::now() + std::chrono::seconds(2);
        while (!peer_gone_ && steady::now() < give_up) {
            co_await wait_until(give_up);
        }
        drop_now("bad frame sent");
    }

    // Before each ticker message: the faults due after ticks_on_connection_ messages. Returns false
    // when the session is over.
    awaitable<bool> inject_faults() {
        const auto& o = ctx_.options;
        const std::uint64_t n = ticks_on_connection_;
        if (drop_after_ && n >= *drop_after_) {
            ++ctx_.stats.drops;
            ctx_.log("session " + std::to_string(index_) + ": dropping after " + std::to_string(n) +
                     " ticker messages");
            drop_now("dropped (--drop-after)");
            co_return false;
        }
        if (!faults_) co_return true;
        if (o.bad_frame_after && n >= *o.bad_frame_after) {
            co_await send_bad_frame();
            co_return false;
        }
        if (o.bad_json_after && !bad_json_done_ && n >= *o.bad_json_after) {
            bad_json_done_ = true;
            const bool ok = co_await send_bad_json();
            if (!ok) co_return false;
        }
        if (o.bad_price_after && !bad_price_done_ && n >= *o.bad_price_after) {
            bad_price_done_ = true;
            const bool ok = co_await send_bad_price();
            if (!ok) co_return false;
        }
        if (o.stall_after && !stall_done_ && n >= *o.stall_after) {
            stall_done_ = true;
            co_await stall(o.stall_sec);
        }
        if (!ctx_.ws_faults.empty() && !peer_gone_) {
            const SimOptions::WsFault f = ctx_.ws_faults.front();
            ctx_.ws_faults.pop_front();
            const bool go_on = co_await apply_ws_fault(f);
            if (!go_on) co_return false;
        }
        co_return !peer_gone_;
    }

    awaitable<bool> send_bad_json() {
        ++ctx_.stats.bad_json;
        ctx_.log("session " + std::to_string(index_) + ": sending malformed JSON");
        const std::string bad =
            R"({"channel":"ticker","client_id":"","timestamp":"2025-01-15T14:03:07.418236Z","sequence_num":)" +
            std::to_string(seq_) + R"(,"events":[{"type":"update","tickers":[{"type":"ticker","price":)";
        co_return co_await send(bad);
    }

    // Well-formed JSON whose prices parse but are not prices: refused records, not ticks.
    awaitable<bool> send_bad_price() {
        ++ctx_.stats.bad_prices;
        ctx_.log("session " + std::to_string(index_) + ": sending a ticker message with absurd prices");
        std::string bad =
            R"({"channel":"ticker","client_id":"","timestamp":"2025-01-15T14:03:07.418236Z","sequence_num":)" +
            std::to_string(take_sequence_num()) + R"(,"events":[{"type":"update","tickers":[)";
        const char* const prices[] = {"1e300", "1e-300",
                                      "100000000000000000000000000000000000000000000000000000000000"};
        for (const char* price : prices) {
            if (bad.back() == '}') bad += ',';
            bad += R"({"type":"ticker","product_id":")" +
                   (products_.empty() ? std::string("BTC-USD") : products_.front()) + R"(","price":")" + price +
                   R"("})";
        }
        bad += "]}]}";
        co_return co_await send(bad);
    }

    awaitable<void> stall(double seconds) {
        ++ctx_.stats.stalls;
        ctx_.log("session " + std::to_string(index_) + ": stalling " + std::to_string(seconds) + " s");
        const auto until =
            steady::now() + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(seconds));
        while (!peer_gone_ && !ctx_.stopping && steady::now() < until) {
            co_await wait_until(until);
        }
        // Heartbeats missed during the stall are skipped, not sent in a burst.
        next_heartbeat_ = steady::now() + heartbeat_period;
        next_tick_ = steady::now();
    }

    // Bytes that are no record of the session's protocol, written under it on the raw connection (a
    // TLS application-data header with a garbage body: the client's record check fails; on --plain a
    // frame of a reserved opcode), then the connection is closed without a close_notify.
    awaitable<void> send_tls_garbage() {
        static constexpr unsigned char garbage[] = {0x17, 0x03, 0x03, 0x00, 0x20, 0xde, 0xad, 0xbe, 0xef, 0x00,
                                                    0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa,
                                                    0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01, 0x02, 0x03, 0x04, 0x05,
                                                    0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c};
        boost::system::error_code ec;
        co_await asio::async_write(beast::get_lowest_layer(ws_).socket(), asio::buffer(garbage),
                                   asio::redirect_error(asio::use_awaitable, ec));
        ++ctx_.stats.tls_errors;
        ctx_.log("session " + std::to_string(index_) + ": wrote a garbage record under the session and closed");
        drop_now("garbage record sent (ws:tls_error)");
    }

    // One run-time fault (POST /sim/fault?spec=ws:...). false when the session is over.
    awaitable<bool> apply_ws_fault(SimOptions::WsFault f) {
        using Kind = SimOptions::WsFault::Kind;
        ++ctx_.stats.ws_faults;
        switch (f.kind) {
            case Kind::drop:
                ++ctx_.stats.drops;
                ctx_.log("session " + std::to_string(index_) + ": dropping (ws:drop)");
                drop_now("dropped (ws:drop)");
                co_return false;
            case Kind::gap:
                ++seq_;  // the next message's sequence number skips one
                ++ctx_.stats.seq_skips;
                ctx_.log("session " + std::to_string(index_) + ": skipping a sequence number (ws:gap)");
                co_return true;
            case Kind::stall:
                co_await stall(f.stall_sec);
                co_return !peer_gone_;
            case Kind::bad_frame:
                co_await send_bad_frame();
                co_return false;
            case Kind::bad_json: {
                const bool ok = co_await send_bad_json();
                co_return ok;
            }
            case Kind::bad_price: {
                const bool ok = co_await send_bad_price();
                co_return ok;
            }
            case Kind::tls_error:
                co_await send_tls_garbage();
                co_return false;
        }
        co_return true;
    }

    awaitable<void> write_loop() {
        const auto& o = ctx_.options;
        const auto opened = steady::now();
        const auto subscribe_deadline = opened + std::chrono::duration_cast<steady::duration>(
                                                     std::chrono::duration<double>(o.subscribe_timeout_sec));
        const auto tick_interval = std::chrono::microseconds(ctx_.tick_interval_us());
        next_tick_ = opened;
        for (;;) {
            if (peer_gone_) co_return;
            if (!outbox_.empty()) {
                Outgoing out = std::move(outbox_.front());
                outbox_.pop_front();
                bool ok = false;
                if (out.is_ack) {
                    std::string msg = subscriptions_message(take_sequence_num(), wall_now_us(), products_,
                                                            trade_products_, heartbeats_);
                    ok = co_await send_data(std::move(msg));
                } else {
                    ok = co_await send(std::move(out.text));
                }
                if (!ok) co_return;
                continue;
            }
            if (ctx_.stopping) {
                co_await close_normally(websocket::close_code::normal, "simulator stopping");
                co_return;
            }
            const auto now = steady::now();
            if (!subscribed_ && o.subscribe_timeout_sec > 0 && now >= subscribe_deadline) {
                ++ctx_.stats.subscribe_timeouts;
                co_await close_normally(websocket::close_code::policy_error, "no subscribe within timeout");
                co_return;
            }
            if (heartbeats_ && now >= next_heartbeat_) {
                ++heartbeat_counter_;
                const double uptime = std::chrono::duration<double>(now - ctx_.started).count();
                std::string msg = heartbeat_message(take_sequence_num(), wall_now_us(), heartbeat_counter_,
                                                    o.heartbeat_counter_as_string, uptime);
                const bool ok = co_await send_data(std::move(msg));
                if (!ok) co_return;
                ++ctx_.stats.heartbeats;
                next_heartbeat_ += heartbeat_period;
                if (next_heartbeat_ <= now) next_heartbeat_ = now + heartbeat_period;
                continue;
            }
            if (!trade_snapshot_pending_.empty()) {
                std::vector<std::string> ids = std::exchange(trade_snapshot_pending_, {});
                const bool ok = co_await send_trade_snapshot(std::move(ids));
                if (!ok) co_return;
                continue;
            }
            if (const std::vector<std::string> market = market_products(); !market.empty()) {
                const bool go_on = co_await inject_faults();
                if (!go_on) co_return;
                if (!snapshot_pending_.empty()) {
                    std::vector<std::string> ids = std::exchange(snapshot_pending_, {});
                    const bool ok = co_await send_step(std::move(ids), true);
                    if (!ok) co_return;
                    next_tick_ = steady::now() + tick_interval;
                    continue;
                }
                if (o.pace_max || steady::now() >= next_tick_) {
                    const bool ok = co_await send_step(market, false);
                    if (!ok) co_return;
                    next_tick_ += tick_interval;
                    // A slow reader does not earn a burst afterwards.
                    if (const auto t = steady::now(); next_tick_ < t - tick_interval) next_tick_ = t;
                    continue;
                }
            }
            auto deadline = steady::time_point::max();
            if (!subscribed_ && o.subscribe_timeout_sec > 0) deadline = std::min(deadline, subscribe_deadline);
            if (heartbeats_) deadline = std::min(deadline, next_heartbeat_);
            if (!products_.empty() || !trade_products_.empty()) deadline = std::min(deadline, next_tick_);
            co_await wait_until(deadline);
        }
    }

    websocket::stream<Stream> ws_;
    asio::steady_timer timer_;
    SimContext& ctx_;
    std::string peer_;
    std::string end_reason_;
    std::uint64_t index_ = 0;
    std::optional<std::uint64_t> drop_after_;
    bool faults_ = true;

    // Shared between the coroutines (same thread).
    std::deque<Outgoing> outbox_;
    std::vector<std::string> products_;                // ticker subscriptions, in order
    std::vector<std::string> snapshot_pending_;        // subscribed, snapshot not yet sent
    std::vector<std::string> trade_products_;          // market_trades subscriptions, in order
    std::vector<std::string> trade_snapshot_pending_;  // subscribed, trades snapshot not yet sent
    bool heartbeats_ = false;
    bool subscribed_ = false;
    bool peer_gone_ = false;

    // Writer only.
    std::uint64_t seq_ = 0;
    std::uint64_t skipped_ = 0;
    std::uint64_t ticks_on_connection_ = 0;
    std::uint64_t heartbeat_counter_ = 0;
    steady::time_point next_heartbeat_{};
    steady::time_point next_tick_{};
    bool bad_json_done_ = false;
    bool bad_price_done_ = false;
    bool stall_done_ = false;
};

// HTTP on an established (and, for TLS, handshaken) stream: routes requests until the client
// closes or asks for a WebSocket, which then takes the stream over.
template <class Stream>
awaitable<void> serve_http(Stream stream, SimContext& ctx, std::string peer) {
    constexpr bool is_tls = !std::is_same_v<Stream, beast::tcp_stream>;
    beast::flat_buffer buf;
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(max_client_message);
        boost::system::error_code ec;
        beast::get_lowest_layer(stream).expires_after(http_read_timeout);
        co_await http::async_read(stream, buf, parser, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
        HttpRequest req = parser.release();
        if (websocket::is_upgrade(req)) {
            if (ctx.options.refuse_upgrade) {
                ++ctx.stats.refused_upgrades;
                ctx.log("refusing WebSocket upgrade from " + peer);
                auto res = json_response(req, http::status::forbidden,
                                         json_error_body("PERMISSION_DENIED", "upgrade refused (--refuse-upgrade)"));
                res.keep_alive(false);
                co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
                break;
            }
            beast::get_lowest_layer(stream).expires_never();
            auto session = std::make_shared<WsSession<Stream>>(std::move(stream), ctx, std::move(peer));
            co_await WsSession<Stream>::run(session, std::move(req));
            co_return;
        }
        SimReply reply = ctx.router.handle(req);
        if (reply.action == ReplyAction::drop) {
            // The request was read (and acted on); the client sees the connection die.
            beast::get_lowest_layer(stream).socket().close(ec);
            co_return;
        }
        if (reply.action == ReplyAction::no_answer) {
            // Nothing is written; the next read waits until the client gives up and closes.
            continue;
        }
        const bool keep_alive = reply.response.keep_alive();
        beast::get_lowest_layer(stream).expires_after(http_read_timeout);
        co_await http::async_write(stream, reply.response, asio::redirect_error(asio::use_awaitable, ec));
        if (ec || !keep_alive) break;
    }
    boost::system::error_code ec;
    if constexpr (is_tls) {
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
        co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
    }
    beast::get_lowest_layer(stream).socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
}

}  // namespace cbtrade::sim::detail
