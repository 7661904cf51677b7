// The Coinbase feed stage. See coinbase_feed.hpp.
#include "feeds/coinbase_feed.hpp"

#include "io/tls_info.hpp"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "core/config.hpp"
#include "core/json_writer.hpp"

namespace cbtrade {

namespace {

constexpr std::size_t rx_buffer_bytes = 16 * 1024;  // one TLS record
constexpr std::size_t min_tick_room = 32;           // stop reading messages when less room is left

std::vector<std::string_view> views_of(const std::vector<std::string>& v) {
    return {v.begin(), v.end()};
}

std::vector<std::string> checked_products(std::vector<std::string> products) {
    if (products.empty()) throw std::invalid_argument("COINBASE_WS_PRODUCTS: no product to subscribe to");
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
      stream_(loop),
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
      random_(SplitMix64::entropy_seed()) {}

CoinbaseFeed::~CoinbaseFeed() = default;

void CoinbaseFeed::set_error(const char* fmt, ...) noexcept {
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(last_error_, sizeof last_error_, fmt, args);
    va_end(args);
}

int CoinbaseFeed::start(std::string& error) {
    if (!loop_.ready()) {
        error = "feed: the io_uring loop is not initialised";
        return -EINVAL;
    }
    io::UrlResult parsed = io::parse_url(options_.url);
    if (!parsed) {
        error = "COINBASE_WS_URL: " + parsed.error;
        return -EINVAL;
    }
    if (!parsed.url->websocket() || !parsed.url->tls()) {
        error = "COINBASE_WS_URL: the feed needs a wss:// URL";
        return -EINVAL;
    }
    url_ = std::move(*parsed.url);
    if (const int rc = io::resolve_tcp(url_.host, url_.port, address_, error); rc < 0) {
        error = "COINBASE_WS_URL: " + error;
        return rc;
    }
    if (const int rc = tls_context_.init_client({options_.ca_file, options_.ciphers}, error); rc < 0) return rc;
    if (const int rc = stream_.init(); rc < 0) {
        error = "feed: cannot allocate receive buffers: " + std::string(std::strerror(-rc));
        return rc;
    }
    started_ = true;
    set_phase(Phase::backoff);
    phase_deadline_ns_ = 0;  // connect on the first poll
    return 0;
}

std::uint64_t CoinbaseFeed::random() noexcept {
    // Jitter only needs to de-synchronise clients, not to be unpredictable.
    return random_.next();
}

std::int64_t CoinbaseFeed::next_backoff_ns() noexcept {
    // Capped exponential with "equal jitter": half the delay fixed, half random.
    const std::uint32_t shift = backoff_attempt_ < 20 ? backoff_attempt_ : 20;
    std::uint64_t delay_ms = static_cast<std::uint64_t>(options_.backoff_initial_ms) << shift;
    if (delay_ms > options_.backoff_max_ms) delay_ms = options_.backoff_max_ms;
    if (backoff_attempt_ < 64) ++backoff_attempt_;
    const std::uint64_t half = delay_ms / 2;
    const std::uint64_t jitter = half == 0 ? 0 : random() % (half + 1);
    return static_cast<std::int64_t>((half + jitter) * 1'000'000);
}

void CoinbaseFeed::begin_connect(std::int64_t now_ns) noexcept {
    rx_pos_ = rx_len_ = 0;
    sequence_.reset_connection();
    const int rc = stream_.start_connect(address_, options_.connect_timeout_ms);
    if (rc < 0) {
        set_error("connect to %s:%u: %s", url_.host.c_str(), url_.port, std::strerror(-rc));
        lose_connection(now_ns, true);
        return;
    }
    set_phase(Phase::connecting);
}

void CoinbaseFeed::lose_connection(std::int64_t now_ns, bool count_failure) noexcept {
    fresh_.store(false, std::memory_order_relaxed);
    if (count_failure) counters_.connect_failures.add();
    tls_.reset();
    ws_.on_transport_closed();
    stream_.close();
    rx_pos_ = rx_len_ = 0;
    phase_deadline_ns_ = now_ns + next_backoff_ns();
    set_phase(Phase::closing);
}

void CoinbaseFeed::stop() noexcept {
    const Phase p = phase();
    if (p == Phase::live || p == Phase::upgrading) {
        (void)ws_.close(ws::CloseCode::normal, "bye");
        pump_output();
    }
    fresh_.store(false, std::memory_order_relaxed);
    tls_.reset();  // queues close_notify
    // Cold path: let the close frame and close_notify leave before the socket goes (bounded).
    for (int i = 0; i < 100 && stream_.state() == io::TcpStream::State::open && !stream_.tx_idle(); ++i)
        (void)loop_.wait(1'000'000);
    stream_.close();
    set_phase(Phase::idle);
}

void CoinbaseFeed::send_subscriptions(std::int64_t now_ns) {
    // One channel per message (coinbase-api.md 1.2); heartbeats first so the link stays open even
    // when the ticker is quiet.
    for (const char* channel : {"heartbeats", "ticker"}) {
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
            set_error("subscribe to %s: the WebSocket output buffer is full", channel);
            lose_connection(now_ns, true);
            return;
        }
    }
    pump_output();
}

void CoinbaseFeed::pump_output() noexcept {
    for (int guard = 0; guard < 64; ++guard) {
        const std::span<const char> out = ws_.pending_output();
        if (out.empty() || tls_.state() != io::TlsSession::State::open) return;
        const long n = tls_.write({reinterpret_cast<const std::byte*>(out.data()), out.size()});
        if (n <= 0) return;  // -EAGAIN: the send buffers are full; a failure shows on the next read
        ws_.consume_output(static_cast<std::size_t>(n));
    }
}

void CoinbaseFeed::handle_text(std::int64_t now_ns, const ws::SessionEvent& ev, std::span<Tick> out,
                               std::size_t& n) noexcept {
    counters_.frames.add();
    last_message_ns_.store(now_ns, std::memory_order_relaxed);
    // The frame parser assembles every message at the start of a buffer with padding room after it.
    const DecodeResult r =
        decoder_.decode(ev.data, ev.size, ev.size + ws::message_padding_bytes, rx_tsc_, out.subspan(n));
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
        set_error("server error on %s: %.*s", url_.host.c_str(), static_cast<int>(r.error_message.size()),
                  r.error_message.data());
    }
    if (r.ticks_emitted > 0) {
        const Tick* first = out.data() + n;
        n += r.ticks_emitted;
        counters_.ticks.add(r.ticks_emitted);
        if (!fresh_.load(std::memory_order_relaxed) && (first->flags & tick_flag_snapshot) != 0) {
            fresh_.store(true, std::memory_order_relaxed);
            backoff_attempt_ = 0;  // a healthy session: the next drop starts the backoff afresh
        }
    }
}

std::size_t CoinbaseFeed::pump_input(std::int64_t now_ns, std::span<Tick> out) noexcept {
    std::size_t n = 0;
    for (;;) {
        if (rx_pos_ == rx_len_) {
            // Nothing new to decrypt: skip wolfSSL_read, whose WANT_READ path formats an error
            // string (snprintf, ~150 ns) on every call in this wolfSSL build.
            if (stream_.rx_peek().empty() && stream_.rx_status() == 0 && tls_.pending() == 0) break;
            // The completion that brought the oldest unread ciphertext is where this data's latency starts.
            const std::uint64_t front = stream_.rx_front_tsc();
            const long r = tls_.read({rx_buf_.get(), rx_buffer_bytes});
            if (r == -EAGAIN) break;
            if (r < 0) {
                set_error("%s", tls_.error()[0] != '\0' ? tls_.error() : "connection lost");
                lose_connection(now_ns, false);
                return n;
            }
            rx_tsc_ = front != 0 ? front : stream_.last_rx_tsc();
            rx_pos_ = 0;
            rx_len_ = static_cast<std::size_t>(r);
            counters_.bytes.add(static_cast<std::uint64_t>(r));
        }
        while (rx_pos_ < rx_len_) {
            if (out.size() - n < min_tick_room) return n;  // the rest waits for the next poll
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
                    if (phase() != Phase::live) return n;
                    break;
                case ws::SessionEventKind::handshake_failed:
                    set_error("WebSocket upgrade at %s:%u%s refused: %s (HTTP %u)", url_.host.c_str(), url_.port,
                              url_.target.c_str(), ws::to_string(ev.handshake).data(), ws_.handshake_status_code());
                    lose_connection(now_ns, true);
                    return n;
                case ws::SessionEventKind::text:
                    handle_text(now_ns, ev, out, n);
                    break;
                case ws::SessionEventKind::ping:
                case ws::SessionEventKind::pong:
                    last_message_ns_.store(now_ns, std::memory_order_relaxed);
                    break;
                case ws::SessionEventKind::close_received:
                case ws::SessionEventKind::closed:
                    set_error("server closed the WebSocket (code %u)", static_cast<unsigned>(ev.close_code));
                    pump_output();  // the close echo
                    lose_connection(now_ns, false);
                    return n;
                case ws::SessionEventKind::protocol_error:
                    counters_.decode_errors.add();
                    set_error("WebSocket protocol error from %s: %s", url_.host.c_str(),
                              ws::to_string(ev.error).data());
                    pump_output();
                    lose_connection(now_ns, false);
                    return n;
            }
        }
    }
    return n;
}

std::size_t CoinbaseFeed::poll(std::int64_t now_ns, std::span<Tick> out) noexcept {
    if (!started_) return 0;
    (void)loop_.poll();
    std::size_t n = 0;
    switch (phase()) {
        case Phase::idle:
        case Phase::failed:
            return 0;
        case Phase::closing:
            if (!stream_.idle()) return 0;
            set_phase(Phase::backoff);
            [[fallthrough]];
        case Phase::backoff:
            if (now_ns >= phase_deadline_ns_) begin_connect(now_ns);
            return 0;
        case Phase::connecting:
            if (stream_.state() != io::TcpStream::State::open) {
                if (stream_.state() != io::TcpStream::State::connecting) {
                    const int err = stream_.connect_result() != 0 ? stream_.connect_result() : -ECONNABORTED;
                    set_error("connect to %s:%u: %s", url_.host.c_str(), url_.port, std::strerror(-err));
                    lose_connection(now_ns, true);
                }
                return 0;
            }
            if (tls_.start(tls_context_, stream_, url_.host) < 0) {
                set_error("%s", tls_.error());
                lose_connection(now_ns, true);
                return 0;
            }
            phase_deadline_ns_ = now_ns + static_cast<std::int64_t>(options_.handshake_timeout_ms) * 1'000'000;
            set_phase(Phase::tls);
            [[fallthrough]];
        case Phase::tls: {
            const int rc = tls_.handshake();
            (void)loop_.poll();  // send what the handshake wrote
            if (rc == -EAGAIN) {
                if (stream_.rx_status() != 0 || now_ns > phase_deadline_ns_) {
                    set_error(
                        "TLS to %s: %s", url_.host.c_str(),
                        stream_.rx_status() != 0 ? "connection closed during the handshake" : "handshake timed out");
                    lose_connection(now_ns, true);
                }
                return 0;
            }
            if (rc < 0) {
                set_error("%s", tls_.error());
                if (rc == -EKEYREJECTED) {  // a refused certificate does not get better by retrying
                    lose_connection(now_ns, true);
                    set_phase(Phase::failed);
                    return 0;
                }
                lose_connection(now_ns, true);
                return 0;
            }
            // TLS is up: ask for the upgrade. The request allocates (once per connection).
            ws::UpgradeRequest req;
            req.host = url_.host_header();
            req.target = url_.target;
            for (std::size_t i = 0; i < req.key_nonce.size(); i += 8) {
                const std::uint64_t r = random();
                std::memcpy(req.key_nonce.data() + i, &r, std::min<std::size_t>(8, req.key_nonce.size() - i));
            }
            req.extra_headers.push_back({"User-Agent", "cbtrade/0.1"});
            try {
                if (ws_.connect(req) != ws::SendStatus::queued) throw std::runtime_error("output full");
            } catch (const std::exception& e) {
                set_error("WebSocket upgrade request for %s: %s", url_.host.c_str(), e.what());
                lose_connection(now_ns, true);
                set_phase(Phase::failed);
                return 0;
            }
            pump_output();
            set_phase(Phase::upgrading);
            return 0;
        }
        case Phase::upgrading:
            n = pump_input(now_ns, out);
            if (phase() == Phase::upgrading && now_ns > phase_deadline_ns_) {
                set_error("WebSocket upgrade at %s timed out", url_.host.c_str());
                lose_connection(now_ns, true);
            }
            break;
        case Phase::live:
            n = pump_input(now_ns, out);
            if (phase() == Phase::live &&
                now_ns - last_message_ns_.load(std::memory_order_relaxed) > options_.stale_sec * 1'000'000'000) {
                counters_.stale_events.add();
                set_error("feed stale: no message from %s for more than %lld s", url_.host.c_str(),
                          static_cast<long long>(options_.stale_sec));
                lose_connection(now_ns, false);
            }
            break;
    }
    pump_output();
    const std::uint64_t wire = stream_.bytes_received();
    if (wire > wire_bytes_seen_) {
        counters_.wire_bytes.add(wire - wire_bytes_seen_);
        wire_bytes_seen_ = wire;
    }
    return n;
}

}  // namespace cbtrade
