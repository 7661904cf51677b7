// Coinbase Advanced Trade market-data decoder: one complete WebSocket text message in, Ticks and a
// small result out. Parses with simdjson On-Demand straight from the caller's receive buffer (no
// copy) and never allocates after construction, never throws, never locks: it runs on the feed
// thread for every message. simdjson stays inside coinbase_decoder.cpp (pimpl), so this header
// pulls in no JSON library (DESIGN.md section 1).
//
// Wire shapes: /work/shared/coinbase-api.md section 1. What is decoded:
//   ticker, ticker_batch  -> one Tick per valid ticker record, in every event of the message
//   market_trades         -> one Trade per valid trade record, in every event of the message, sorted
//                            oldest first (the wire sends newest first, coinbase-api.md 1.4)
//   heartbeats            -> DecodeResult::heartbeat_counter (string or integer on the wire)
//   subscriptions         -> channel kind only (the ack)
//   {"type":"error",...}  -> channel kind error and DecodeResult::error_message
//   anything else         -> counted as unknown_channel and ignored
// Bad records are counted by reason and skipped; they never become a Tick or a Trade.
#pragma once

#include "core/records.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cbtrade {

// Bytes the caller must keep readable (and owned) after the message: simdjson reads in 64-byte
// blocks. Equal to simdjson::SIMDJSON_PADDING (checked in the .cpp).
inline constexpr std::size_t coinbase_decoder_padding = 64;

// Ticker frames are < 2 KB (coinbase-api.md 1.8); this bounds the parser's one-time allocation.
inline constexpr std::size_t coinbase_default_max_message_bytes = 64 * 1024;

// At most this many Trades come out of one market_trades message; valid trades beyond it are
// counted (trades_over_cap) and dropped. A snapshot carries the recent trades (tens) and an update
// the matches since the last message; the smallest trade record is ~110 bytes, so a message of
// coinbase_default_max_message_bytes holds fewer than 600. The feed stages this many Trades.
inline constexpr std::size_t coinbase_max_trades_per_message = 512;

// A trade whose own `time` is later than the envelope `timestamp` (the moment the server sent it) by
// more than this is refused (trade_bad_time): a match cannot happen after it was reported, and a
// minute covers any clock difference between the matching engine and the WebSocket servers.
inline constexpr std::int64_t coinbase_trade_future_tolerance_ns = 60'000'000'000;

enum class DecodeStatus : std::uint8_t {
    ok,                    // message understood (it may still have had skipped records)
    malformed_json,        // syntax error, or the wrong container shape (root, events, tickers)
    missing_field,         // a required field absent or of the wrong JSON type
    bad_timestamp,         // ticker or market_trades message whose envelope timestamp is not RFC 3339
    bad_sequence,          // sequence_num present but not an unsigned 64-bit JSON integer
    message_too_large,     // longer than max_message_bytes: not parsed
    insufficient_padding,  // caller bug: capacity - length < coinbase_decoder_padding
    output_full,           // more valid ticks (or trades) than the output span (or the per-message cap)
                           // holds; the extra were dropped and counted
};

enum class ChannelKind : std::uint8_t {
    none,  // not determined (the message failed before the channel was read)
    ticker,
    ticker_batch,
    market_trades,
    heartbeats,
    subscriptions,
    error,    // top-level {"type":"error","message":...}
    unknown,  // any other channel or top-level type; ignored
};

struct [[nodiscard]] DecodeResult {
    DecodeStatus status = DecodeStatus::ok;
    ChannelKind channel = ChannelKind::none;
    bool has_sequence = false;  // the envelope carried an unsigned integer sequence_num
    bool has_heartbeat_counter = false;
    bool snapshot = false;              // a ticker or market_trades event of type "snapshot" (even one without records)
    std::uint32_t ticks_emitted = 0;    // out[0, ticks_emitted) are valid; 0 unless status is ok/output_full
    std::uint32_t trades_emitted = 0;   // trades[0, trades_emitted) are valid; 0 unless status is ok/output_full
    std::uint32_t records_skipped = 0;  // ticker and trade records counted and skipped (bad price, unknown product...)
    std::uint64_t sequence_num = 0;     // reported even when the message failed later, for gap tracking
    std::uint64_t heartbeat_counter = 0;
    std::string_view error_message;  // for ChannelKind::error; valid until the next decode()

    [[nodiscard]] bool ok() const noexcept { return status == DecodeStatus::ok; }
};

// Plain counters, written only by the feed thread. The metrics owner exports them; reading them from
// another thread needs that owner's snapshot scheme (they are deliberately not atomics: no lock
// prefix on the hot path).
struct DecoderCounters {
    std::uint64_t messages = 0;           // decode() calls
    std::uint64_t ticks = 0;              // Ticks emitted
    std::uint64_t malformed_json = 0;     // messages
    std::uint64_t missing_field = 0;      // messages or records lacking a required field
    std::uint64_t bad_timestamp = 0;      // ticker messages with an unparsable envelope timestamp
    std::uint64_t bad_sequence = 0;       // messages whose sequence_num is not an unsigned 64-bit integer
    std::uint64_t bad_price = 0;          // records: price or best_* not a number string in the sane range
    std::uint64_t unknown_product = 0;    // records for a product not in the list
    std::uint64_t empty_ticker = 0;       // records with product_id "" (seen on ticker_batch)
    std::uint64_t unknown_channel = 0;    // messages of other channels or top-level types
    std::uint64_t error_messages = 0;     // {"type":"error"} messages
    std::uint64_t heartbeats = 0;         // heartbeat events with a counter
    std::uint64_t subscription_acks = 0;  // subscriptions messages
    std::uint64_t oversized = 0;          // messages longer than max_message_bytes
    std::uint64_t output_full = 0;        // ticks dropped because the output span was full

    // market_trades. A refused trade is counted once, under the first reason found (checked in
    // this order: product, trade_id, price, size, time); missing fields count under missing_field.
    std::uint64_t trades = 0;           // Trades emitted
    std::uint64_t trade_bad_id = 0;     // trade_id not a decimal integer (string) or unsigned JSON integer
    std::uint64_t trade_bad_price = 0;  // price not a decimal string inside core/records.hpp sane_price
    std::uint64_t trade_bad_size = 0;   // size not a decimal string inside core/records.hpp sane_size
    std::uint64_t trade_bad_time = 0;   // time not RFC 3339, or after the envelope timestamp + tolerance
    std::uint64_t trades_over_cap = 0;  // valid trades dropped: beyond coinbase_max_trades_per_message
                                        // or the caller's trade span
};

class CoinbaseDecoder {
public:
    // products: the product ids to emit Ticks for; Tick::product_index is the position in this list.
    // Allocates the parser for max_message_bytes once. Throws std::invalid_argument on an empty or
    // duplicate product list or more than 65535 products, std::bad_alloc if the parser cannot
    // allocate (cold path: start-up).
    explicit CoinbaseDecoder(std::span<const std::string_view> products,
                             std::size_t max_message_bytes = coinbase_default_max_message_bytes);
    ~CoinbaseDecoder();
    CoinbaseDecoder(const CoinbaseDecoder&) = delete;
    CoinbaseDecoder& operator=(const CoinbaseDecoder&) = delete;
    CoinbaseDecoder(CoinbaseDecoder&&) noexcept;
    CoinbaseDecoder& operator=(CoinbaseDecoder&&) noexcept;

    // Decodes message[0, length). message[length, capacity) must be readable and at least
    // coinbase_decoder_padding bytes long; the buffer is only read. Ticks go to ticks[0, n) and
    // Trades to trades[0, m), receive_tsc stamped on each. Only ticks[0, result.ticks_emitted) and
    // trades[0, result.trades_emitted) are meaningful afterwards. The trades of one message come
    // out sorted by (exchange_time_ns, trade_id).
    DecodeResult decode(const char* message, std::size_t length, std::size_t capacity, std::uint64_t receive_tsc,
                        std::span<Tick> ticks, std::span<Trade> trades) noexcept;
    // Ticks only: the trades of a market_trades message are counted as trades_over_cap.
    DecodeResult decode(const char* message, std::size_t length, std::size_t capacity, std::uint64_t receive_tsc,
                        std::span<Tick> ticks) noexcept {
        return decode(message, length, capacity, receive_tsc, ticks, {});
    }

    [[nodiscard]] std::optional<std::uint16_t> product_index(std::string_view product_id) const noexcept;
    [[nodiscard]] std::string_view product_id(std::uint16_t index) const noexcept { return products_[index]; }
    [[nodiscard]] std::size_t product_count() const noexcept { return products_.size(); }
    [[nodiscard]] std::size_t max_message_bytes() const noexcept { return max_message_bytes_; }
    [[nodiscard]] const DecoderCounters& counters() const noexcept { return counters_; }

private:
    struct Impl;  // the simdjson parser and the per-message walk, defined in the .cpp
    std::unique_ptr<Impl> impl_;
    std::vector<std::string> products_;
    std::size_t max_message_bytes_;
    DecoderCounters counters_{};
};

}  // namespace cbtrade
