// The Coinbase feed stage. See coinbase_feed.hpp.
#include "feeds/coinbase_feed.hpp"

#include "io/tls_info.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "core/config.hpp"
#include "core/json_writer.hpp"
#include "core/text.hpp"

namespace cbtrade {

namespace {

constexpr std::size_t rx_buffer_bytes = 16 * 1024;  // one TLS record
constexpr std::size_t min_tick_room = 32;           // stop reading messages when less room is left

std::vector<std::string_view> views_of(const std::vector<std::string>& v) {
    return {v.begin(), v.end()};
}

std::vector<std::string> checked_products(std::vector<std::string> products) {
    if (products.empty()) throw ConfigError("COINBASE_WS_PRODUCTS: no product to subscribe to");
    return products;
}

}  // namespace

std::string_view to_string(CoinbaseFeed::Phase phase) noexcept {
    switch (phase) {
        case CoinbaseFeed::Phase::idle:
            return "idle";
        case CoinbaseFeed::Phase::backoff:
            return "backoff";
        case CoinbaseFeed::Phase::connecting:
            return "connecting";
        case CoinbaseFeed::Phase::tls:
            return "tls";
        case CoinbaseFeed::Phase::upgrading:
            return "upgrading";
        case CoinbaseFeed::Phase::live:
            return "live";
        case CoinbaseFeed::Phase::closing:
            return "closing";
        case CoinbaseFeed::Phase::failed:
            return "failed";
    }
    return "?";
}

FeedOptions feed_options_from(const Config& config) {
    FeedOptions o;
    (void)io::parse_config_url("COINBASE_WS_URL", config.coinbase_ws_url, io::UrlKind::websocket);
    o.url = config.coinbase_ws_url;
    o.products =
        config.coinbase_ws_products.empty() ? std::vector<std::string>{config.product_id} : config.coinbase_ws_products;
    o.ca_file = config.tls_ca_file;
    o.ciphers = resolve_cipher_list(config.tls_ciphers, tls_info());
    o.stale_sec = config.coinbase_ws_stale_sec;
    return o;
}

CoinbaseFeed::CoinbaseFeed(io::UringLoop& loop, FeedOptions options)
    : loop_(loop),
      options_(std::move(options)),
      ws_([] {
          ws::SessionOptions so;
          so.max_message_bytes = coinbase_default_max_message_bytes;
          so.mask_seed = SplitMix64::entropy_seed();
          return so;
      }()),
      decoder_([this] {
          const auto products = checked_products(options_.products);
          const auto views = views_of(products);
          return CoinbaseDecoder(views);
      }()),
      rx_buf_(new std::byte[rx_buffer_bytes]),
      random_(SplitMix64::entropy_seed()),
      staged_trades_(new Trade[coinbase_max_trades_per_message]) {}

CoinbaseFeed::~CoinbaseFeed() = default;

int CoinbaseFeed::start(std::string& error) {
    if (!loop_.ready()) {
        error = "feed: the io_uring loop is not initialised";
        return -EINVAL;
    }
    io::UrlResult parsed = io::parse_url(options_.url);
    if (!parsed) throw ConfigError("COINBASE_WS_URL: " + parsed.error);
    if (!parsed.url->websocket()) throw ConfigError("COINBASE_WS_URL: the feed needs a wss:// URL");
    url_ = std::move(*parsed.url);
    io::ConnectionOptions co = io::ConnectionOptions::for_url(url_);
    co.ca_file = options_.ca_file;
    co.ciphers = options_.ciphers;
    co.connect_timeout_ms = options_.connect_timeout_ms;
    co.handshake_timeout_ms = options_.handshake_timeout_ms;
    co.backoff_initial_ms = options_.backoff_initial_ms;
    co.backoff_max_ms = options_.backoff_max_ms;
    conn_.emplace(loop_, std::move(co));
    if (const int rc = conn_->start(error); rc < 0) {
        error = "COINBASE_WS_URL: " + error;
        return rc;
    }
    conn_->open();  // the first attempt starts on the first poll
    started_ = true;
    set_phase(Phase::backoff);
    return 0;
}

void CoinbaseFeed::lose_connection(std::int64_t now_ns, bool count_failure) noexcept {
    fresh_.store(false, std::memory_order_relaxed);
    // A connection that never reached an open WebSocket is a failed connect, whatever ended it (a
    // server that completes TLS and hangs up must show somewhere).
    if (count_failure || phase() == Phase::upgrading) counters_.connect_failures.add();
    ws_.on_transport_closed();
    conn_->drop(now_ns, io::Connection::Retry::after_backoff);
    rx_pos_ = rx_len_ = 0;
    set_phase(Phase::closing);
}

void CoinbaseFeed::stop() noexcept {
    const Phase p = phase();
    if (p == Phase::live || p == Phase::upgrading) {
        (void)ws_.close(ws::CloseCode::normal, "bye");
        pump_output();
    }
    fresh_.store(false, std::memory_order_relaxed);
    if (conn_) conn_->close();  // close_notify, a bounded wait for it to leave, then the socket
    set_phase(Phase::idle);
}

void CoinbaseFeed::send_subscriptions(std::int64_t now_ns) {
    // One channel per message (coinbase-api.md 1.2); heartbeats first so the link stays open even
    // when the market is quiet. Three messages are well inside the 8 per second allowed.
    for (const char* channel : {"heartbeats", "ticker", "market_trades"}) {
        if (!options_.trades && std::strcmp(channel, "market_trades") == 0) continue;
        std::string msg;
        JsonWriter w(msg);
        w.begin_object().member("type", "subscribe").member("channel", channel);
        w.key("product_ids").begin_array();
        for (const auto& p : options_.products) w.string(p);
        w.end_array();
        if (options_.jwt_source != nullptr) {
            if (const std::string jwt = options_.jwt_source->ws_jwt(); !jwt.empty()) w.member("jwt", jwt);
        }
        w.end_object();
        if (ws_.send_text(msg) != ws::SendStatus::queued) {
            format_into(last_error_, "subscribe to %s: the WebSocket output buffer is full", channel);
            lose_connection(now_ns, true);
            return;
        }
    }
    pump_output();
}

void CoinbaseFeed::pump_output() noexcept {
    for (int guard = 0; guard < 64; ++guard) {
        const std::span<const char> out = ws_.pending_output();
        if (out.empty() || conn_->state() != io::Connection::State::open) return;
        const long n = conn_->write({reinterpret_cast<const std::byte*>(out.data()), out.size()});
        if (n <= 0) return;  // -EAGAIN: the send buffers are full; a failure shows on the next read
        ws_.consume_output(static_cast<std::size_t>(n));
    }
}

void CoinbaseFeed::update_freshness() noexcept {
    if (fresh_.load(std::memory_order_relaxed)) return;
    if (ticker_snapshot_seen_ && (trades_snapshot_seen_ || !options_.trades)) {
        fresh_.store(true, std::memory_order_relaxed);
        conn_->reset_backoff();  // a healthy session: the next drop starts the backoff afresh
    }
}

void CoinbaseFeed::drain_staged_trades(FeedOutput& out) noexcept {
    const std::size_t room = out.trades.size() - out.trade_count;
    const std::size_t n = std::min(room, staged_end_ - staged_begin_);
    if (n == 0) return;
    std::copy_n(staged_trades_.get() + staged_begin_, n, out.trades.data() + out.trade_count);
    out.trade_count += n;
    staged_begin_ += n;
    counters_.trades.add(n);
    if (staged_begin_ == staged_end_) staged_begin_ = staged_end_ = 0;
}

void CoinbaseFeed::handle_text(std::int64_t now_ns, const ws::SessionEvent& ev, FeedOutput& out) noexcept {
    counters_.frames.add();
    last_message_ns_.store(now_ns, std::memory_order_relaxed);
    // The frame parser assembles every message at the start of a buffer with padding room after it.
    // Trades go to the (empty: the caller checked) staging area, which holds a full message's cap.
    const DecodeResult r =
        decoder_.decode(ev.data, ev.size, ev.size + ws::message_padding_bytes, rx_tsc_,
                        out.ticks.subspan(out.tick_count), {staged_trades_.get(), coinbase_max_trades_per_message});
    if (r.has_sequence) {
        const std::uint64_t missed = sequence_.observe(r.sequence_num);
        if (missed > 0) {
            counters_.gaps.add();
            counters_.messages_missed.add(missed);
        }
    }
    if (r.status == DecodeStatus::output_full) counters_.output_full.add();
    else if (r.status != DecodeStatus::ok) counters_.decode_errors.add();
    if (r.has_heartbeat_counter) counters_.heartbeats.add();
    if (r.channel == ChannelKind::error) {
        counters_.error_messages.add();
        // The server's text is outside input: cut and escaped (a "\n" in it must not become two log lines).
        char quoted[160];
        (void)quote_for_message_into(quoted, r.error_message, 120);
        format_into(last_error_, "server error on %s: %s", url_.host.c_str(), quoted);
    }
    if (r.ticks_emitted > 0) {
        out.tick_count += r.ticks_emitted;
        counters_.ticks.add(r.ticks_emitted);
        // A ticker snapshot counts once it brought a price (an empty one says nothing about the book).
        if (r.snapshot) ticker_snapshot_seen_ = true;
    }
    if (r.channel == ChannelKind::market_trades && r.snapshot) trades_snapshot_seen_ = true;
    if (r.trades_emitted > 0) {
        staged_begin_ = 0;
        staged_end_ = r.trades_emitted;
        drain_staged_trades(out);
    }
    update_freshness();
}

void CoinbaseFeed::pump_input(std::int64_t now_ns, FeedOutput& out) noexcept {
    for (;;) {
        if (rx_pos_ == rx_len_) {
            // Nothing new to decrypt: skip wolfSSL_read, whose WANT_READ path formats an error
            // string (snprintf, ~150 ns) on every call in this wolfSSL build.
            if (!conn_->input_pending()) break;
            // The completion that brought the oldest unread ciphertext is where this data's latency starts.
            const std::uint64_t front = conn_->rx_front_tsc();
            const long r = conn_->read({rx_buf_.get(), rx_buffer_bytes});
            if (r == -EAGAIN) break;
            if (r < 0) {
                format_into(last_error_, "%s", conn_->error());
                lose_connection(now_ns, false);
                return;
            }
            rx_tsc_ = front != 0 ? front : conn_->last_rx_tsc();
            rx_pos_ = 0;
            rx_len_ = static_cast<std::size_t>(r);
            counters_.bytes.add(static_cast<std::uint64_t>(r));
        }
        while (rx_pos_ < rx_len_) {
            // The rest waits for the next poll while ticks have little room or trades are staged.
            if (out.ticks.size() - out.tick_count < min_tick_room || staged_end_ != staged_begin_) return;
            const auto input =
                std::span<const char>(reinterpret_cast<const char*>(rx_buf_.get()) + rx_pos_, rx_len_ - rx_pos_);
            const ws::SessionReceiveResult res = ws_.receive(input);
            rx_pos_ += res.consumed;
            const ws::SessionEvent& ev = res.event;
            switch (ev.kind) {
                case ws::SessionEventKind::need_more:
                case ws::SessionEventKind::binary:
                    break;
                case ws::SessionEventKind::opened:
                    set_phase(Phase::live);
                    if (++sessions_opened_ > 1) counters_.reconnects.add();
                    last_message_ns_.store(now_ns, std::memory_order_relaxed);
                    send_subscriptions(now_ns);
                    if (phase() != Phase::live) return;
                    break;
                case ws::SessionEventKind::handshake_failed:
                    format_into(last_error_, "WebSocket upgrade at %s:%u%s refused: %s (HTTP %u)", url_.host.c_str(),
                                url_.port, url_.target.c_str(), ws::to_string(ev.handshake).data(),
                                ws_.handshake_status_code());
                    lose_connection(now_ns, true);
                    return;
                case ws::SessionEventKind::text:
                    handle_text(now_ns, ev, out);
                    break;
                case ws::SessionEventKind::ping:
                case ws::SessionEventKind::pong:
                    last_message_ns_.store(now_ns, std::memory_order_relaxed);
                    break;
                case ws::SessionEventKind::close_received:
                case ws::SessionEventKind::closed:
                    format_into(last_error_, "server closed the WebSocket (code %u)",
                                static_cast<unsigned>(ev.close_code));
                    pump_output();  // the close echo
                    lose_connection(now_ns, false);
                    return;
                case ws::SessionEventKind::protocol_error:
                    counters_.decode_errors.add();
                    format_into(last_error_, "WebSocket protocol error from %s: %s", url_.host.c_str(),
                                ws::to_string(ev.error).data());
                    pump_output();
                    lose_connection(now_ns, false);
                    return;
            }
        }
    }
}

void CoinbaseFeed::begin_upgrade(std::int64_t now_ns) noexcept {
    rx_pos_ = rx_len_ = 0;
    sequence_.reset_connection();
    ticker_snapshot_seen_ = false;
    trades_snapshot_seen_ = false;
    // Ask for the upgrade. The request allocates (once per connection).
    ws::UpgradeRequest req;
    req.host = url_.host_header();
    req.target = url_.target;
    for (std::size_t i = 0; i < req.key_nonce.size(); i += 8) {
        const std::uint64_t r = random_.next();
        std::memcpy(req.key_nonce.data() + i, &r, std::min<std::size_t>(8, req.key_nonce.size() - i));
    }
    try {
        req.extra_headers.push_back({"User-Agent", "cbtrade/0.1"});
        if (ws_.connect(req) != ws::SendStatus::queued) throw std::runtime_error("output full");
    } catch (const std::exception& e) {
        format_into(last_error_, "WebSocket upgrade request for %s: %s", url_.host.c_str(), e.what());
        lose_connection(now_ns, true);
        set_phase(Phase::failed);
        return;
    }
    upgrade_deadline_ns_ = now_ns + static_cast<std::int64_t>(options_.handshake_timeout_ms) * 1'000'000;
    set_phase(Phase::upgrading);
    pump_output();
}

void CoinbaseFeed::advance_connection(std::int64_t now_ns) noexcept {
    switch (conn_->advance(now_ns)) {
        case io::Connection::Event::none:
            break;
        case io::Connection::Event::opened:
            begin_upgrade(now_ns);
            return;
        case io::Connection::Event::attempt_failed:
            counters_.connect_failures.add();
            format_into(last_error_, "%s", conn_->error());
            break;
        case io::Connection::Event::failed_for_good:
            counters_.connect_failures.add();
            format_into(last_error_, "%s", conn_->error());
            set_phase(Phase::failed);
            return;
    }
    switch (conn_->state()) {
        case io::Connection::State::waiting:
            set_phase(Phase::backoff);
            break;
        case io::Connection::State::connecting:
            set_phase(Phase::connecting);
            break;
        case io::Connection::State::handshaking:
            set_phase(Phase::tls);
            break;
        case io::Connection::State::closing:
            set_phase(Phase::closing);
            break;
        case io::Connection::State::idle:
        case io::Connection::State::open:
        case io::Connection::State::failed:
            break;
    }
}

std::size_t CoinbaseFeed::poll(std::int64_t now_ns, FeedOutput& out) noexcept {
    out.tick_count = 0;
    out.trade_count = 0;
    drain_staged_trades(out);  // what did not fit last time comes first
    if (started_) step(now_ns, out);
    return out.tick_count + out.trade_count;
}

std::size_t CoinbaseFeed::poll(std::int64_t now_ns, std::span<Tick> ticks) noexcept {
    FeedOutput out{ticks, {}};
    (void)poll(now_ns, out);
    if (staged_end_ != staged_begin_) {
        counters_.trades_discarded.add(staged_end_ - staged_begin_);
        staged_begin_ = staged_end_ = 0;
    }
    return out.tick_count;
}

void CoinbaseFeed::step(std::int64_t now_ns, FeedOutput& out) noexcept {
    (void)loop_.poll();
    switch (phase()) {
        case Phase::idle:
        case Phase::failed:
            return;
        case Phase::closing:
        case Phase::backoff:
        case Phase::connecting:
        case Phase::tls:
            advance_connection(now_ns);
            return;
        case Phase::upgrading:
            pump_input(now_ns, out);
            if (phase() == Phase::upgrading && now_ns > upgrade_deadline_ns_) {
                format_into(last_error_, "WebSocket upgrade at %s timed out", url_.host.c_str());
                lose_connection(now_ns, true);
            }
            break;
        case Phase::live:
            pump_input(now_ns, out);
            if (phase() == Phase::live &&
                now_ns - last_message_ns_.load(std::memory_order_relaxed) > options_.stale_sec * 1'000'000'000) {
                counters_.stale_events.add();
                format_into(last_error_, "feed stale: no message from %s for more than %lld s", url_.host.c_str(),
                            static_cast<long long>(options_.stale_sec));
                lose_connection(now_ns, false);
            }
            break;
    }
    pump_output();
    const std::uint64_t wire = conn_->bytes_received();
    if (wire > wire_bytes_seen_) {
        counters_.wire_bytes.add(wire - wire_bytes_seen_);
        wire_bytes_seen_ = wire;
    }
}

}  // namespace cbtrade
