// simdjson On-Demand walk of Coinbase market-data messages. Fields are visited in document order
// (one pass, no lookups by name) and only the ones a Tick needs are read; the rest are skipped by the
// iterator. String values are taken as raw bytes from the input buffer: prices and product ids never
// contain escapes, and a value that does simply fails to parse or to match, which is the right
// outcome for it. Only the error text is unescaped (into the parser's own buffer).
//
// Results are taken with error() + std::move(result).value_unsafe() bound to a reference, not with
// result.get(out): get() copies the 16-byte iterator just after it was stored piecewise, a
// store-forwarding stall on every field that cost ~55 ns of ~250 per ticker message (perf annotate,
// bench_ticker_decode).
#include "feeds/coinbase_decoder.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <unordered_set>
#include <utility>

#include "core/decimal.hpp"
#include "core/rfc3339.hpp"

namespace cbtrade {

namespace {

namespace od = simdjson::ondemand;

static_assert(coinbase_decoder_padding >= simdjson::SIMDJSON_PADDING);

// A field's value as seen on the wire, before any interpretation.
struct FieldText {
    enum class Kind : std::uint8_t { absent, string, not_string };
    Kind kind = Kind::absent;
    std::string_view text;  // the string's bytes between the quotes (kind == string)
};

// True if the key is exactly `quoted_name` (the name followed by its closing quote). One fixed-size
// memcmp, which the compiler turns into a couple of word compares; simdjson's unsafe_is_equal loops
// byte by byte. Reading sizeof(quoted_name) bytes from the key start is safe: the key lies inside the
// message and the caller guarantees 64 readable bytes after it (no key here is longer than 18).
template <std::size_t N>
[[gnu::always_inline]] inline bool key_is(const od::raw_json_string& key, const char (&quoted_name)[N]) noexcept {
    static_assert(N - 1 <= coinbase_decoder_padding);
    return std::memcmp(key.raw(), quoted_name, N - 1) == 0;
}

constexpr bool is_json_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// raw_json_token() is O(1) (it spans to the next structural character) and does not consume the
// value, so the object iterator still skips it normally afterwards.
[[gnu::always_inline]] inline FieldText read_text(od::value& value) noexcept {
    std::string_view token = value.raw_json_token();
    while (!token.empty() && is_json_space(token.back())) token.remove_suffix(1);
    if (token.size() < 2 || token.front() != '"' || token.back() != '"') return {FieldText::Kind::not_string, {}};
    return {FieldText::Kind::string, std::string_view(token.data() + 1, token.size() - 2)};
}

// Calls visit(key, value) for every field of `object`, in document order; malformed_json if the
// object is broken. Inlined, so each caller's dispatch on the key compiles as if written in the loop.
template <class Visit>
[[gnu::always_inline]] inline DecodeStatus for_each_field(od::object& object, Visit&& visit) noexcept {
    for (auto field_result : object) {
        if (field_result.error() != simdjson::SUCCESS) return DecodeStatus::malformed_json;
        od::field&& field = std::move(field_result).value_unsafe();
        visit(field.key(), field.value());
    }
    return DecodeStatus::ok;
}

std::optional<std::uint64_t> parse_unsigned(std::string_view text) noexcept {
    if (text.empty() || text.size() > decimal_max_chars) return std::nullopt;
    std::uint64_t value = 0;
    const char* const end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, value);
    if (error != std::errc{} || stop != end) return std::nullopt;
    return value;
}

ChannelKind classify_channel(std::string_view name) noexcept {
    if (name == "ticker") return ChannelKind::ticker;
    if (name == "ticker_batch") return ChannelKind::ticker_batch;
    if (name == "market_trades") return ChannelKind::market_trades;
    if (name == "heartbeats") return ChannelKind::heartbeats;
    if (name == "subscriptions") return ChannelKind::subscriptions;
    return ChannelKind::unknown;
}

bool is_ticker_channel(ChannelKind kind) noexcept {
    return kind == ChannelKind::ticker || kind == ChannelKind::ticker_batch;
}

// Channels whose events this decoder reads.
bool has_decoded_events(ChannelKind kind) noexcept {
    return is_ticker_channel(kind) || kind == ChannelKind::market_trades || kind == ChannelKind::heartbeats;
}

// The wire's ordering key for trades: oldest first, ties by id.
bool trade_before(const Trade& a, const Trade& b) noexcept {
    return a.exchange_time_ns != b.exchange_time_ns ? a.exchange_time_ns < b.exchange_time_ns : a.trade_id < b.trade_id;
}

// Outcome of one optional best_* pair member: absent (or "", as ticker_batch sends), valid, or bad.
enum class OptionalNumber : std::uint8_t { absent, valid, bad };

// A best_* price must be a sane price; a quantity 0 (an empty side) or a sane size (core/records.hpp).
[[gnu::always_inline]] inline OptionalNumber read_optional(const FieldText& field, bool is_quantity,
                                                           double& value) noexcept {
    if (field.kind == FieldText::Kind::absent || (field.kind == FieldText::Kind::string && field.text.empty()))
        return OptionalNumber::absent;
    if (field.kind != FieldText::Kind::string) return OptionalNumber::bad;
    const std::optional<double> parsed = parse_decimal(field.text);
    if (!parsed) return OptionalNumber::bad;
    if (is_quantity ? *parsed != 0.0 && !sane_size(*parsed) : !sane_price(*parsed)) return OptionalNumber::bad;
    value = *parsed;
    return OptionalNumber::valid;
}

}  // namespace

struct CoinbaseDecoder::Impl {
    explicit Impl(std::size_t max_message_bytes) : json(max_message_bytes) {
        if (json.allocate(max_message_bytes) != simdjson::SUCCESS) throw std::bad_alloc();
    }

    od::parser json;  // allocated once for max_message_bytes; iterate() then never allocates

    // Product ids by their first 8 bytes and length: one masked 8-byte compare settles "BTC-USD".
    struct ProductKey {
        std::uint64_t head;  // first min(size, 8) bytes, zero-filled
        std::size_t size;
    };
    std::vector<ProductKey> product_keys;

    static std::uint64_t head_of(const char* bytes, std::size_t size) noexcept {
        std::uint64_t head = 0;
        std::memcpy(&head, bytes, size < 8 ? size : 8);
        return head;
    }

    // Like CoinbaseDecoder::product_index, but `id` must lie in a padded message: it reads 8 bytes from
    // id.data() whatever id.size() is (one load instead of a call to memcmp).
    std::optional<std::uint16_t> find_product_in_message(std::string_view id) const noexcept {
        std::uint64_t loaded = 0;
        std::memcpy(&loaded, id.data(), 8);
        const std::uint64_t head = id.size() >= 8 ? loaded : loaded & ((std::uint64_t{1} << (8 * id.size())) - 1);
        for (std::size_t i = 0; i < product_keys.size(); ++i) {
            const ProductKey& key = product_keys[i];
            if (key.head != head || key.size != id.size()) continue;
            if (id.size() <= 8 || std::memcmp(owner->products_[i].data() + 8, id.data() + 8, id.size() - 8) == 0)
                return static_cast<std::uint16_t>(i);
        }
        return std::nullopt;
    }

    Rfc3339Parser timestamps;   // remembers the last date and second: most messages share them
    Rfc3339Parser trade_times;  // a second cache for the trades' own times, so neither evicts the other

    // Per-message state, reset by begin().
    CoinbaseDecoder* owner = nullptr;
    std::span<Tick> out;
    std::uint64_t receive_tsc = 0;
    std::uint32_t ticks = 0;
    std::uint32_t records_skipped = 0;
    std::uint32_t ticks_dropped = 0;  // valid ticks that did not fit in `out`
    std::span<Trade> trades_out;      // at most coinbase_max_trades_per_message long
    std::uint32_t trades = 0;
    std::uint32_t trades_dropped = 0;  // valid trades beyond trades_out
    std::uint8_t channel_flags = 0;
    bool heartbeat_seen = false;
    bool snapshot_seen = false;
    std::uint64_t heartbeat_counter = 0;

    void begin(CoinbaseDecoder& decoder, std::span<Tick> output, std::span<Trade> trade_output,
               std::uint64_t tsc) noexcept {
        owner = &decoder;
        out = output;
        trades_out = trade_output.first(std::min(trade_output.size(), coinbase_max_trades_per_message));
        receive_tsc = tsc;
        ticks = 0;
        records_skipped = 0;
        ticks_dropped = 0;
        trades = 0;
        trades_dropped = 0;
        channel_flags = 0;
        heartbeat_seen = false;
        snapshot_seen = false;
        heartbeat_counter = 0;
    }

    DecodeStatus decode_events(od::value& events_value, ChannelKind channel) noexcept {
        auto events_result = events_value.get_array();
        if (events_result.error() != simdjson::SUCCESS) return DecodeStatus::malformed_json;
        od::array&& events = std::move(events_result).value_unsafe();
        channel_flags = channel == ChannelKind::ticker_batch ? tick_flag_batch : std::uint8_t{0};
        for (auto event_result : events) {
            auto object_result = event_result.get_object();
            if (object_result.error() != simdjson::SUCCESS) return DecodeStatus::malformed_json;
            od::object&& event = std::move(object_result).value_unsafe();
            const DecodeStatus status = is_ticker_channel(channel)              ? decode_ticker_event(event)
                                        : channel == ChannelKind::market_trades ? decode_trades_event(event)
                                                                                : decode_heartbeat_event(event);
            if (status != DecodeStatus::ok) return status;
        }
        return DecodeStatus::ok;
    }

    // Counts a refused record under `reason`; the message goes on.
    DecodeStatus skip(std::uint64_t& reason) noexcept {
        ++reason;
        ++records_skipped;
        return DecodeStatus::ok;
    }

    // One event of a channel whose event holds an array of records (`tickers`, `trades`) and a
    // `type`: every record goes to decode_record, and `snapshot` says whether type was "snapshot".
    // "type" usually precedes the records, but nothing guarantees it, so the caller flags the
    // event's output once the whole event has been read.
    template <std::size_t N, class DecodeRecord>
    [[gnu::always_inline]] DecodeStatus decode_record_event(od::object& event, const char (&records_key)[N],
                                                            bool& snapshot, DecodeRecord&& decode_record) noexcept {
        snapshot = false;
        for (auto field_result : event) {
            if (field_result.error() != simdjson::SUCCESS) return DecodeStatus::malformed_json;
            od::field&& field = std::move(field_result).value_unsafe();
            const od::raw_json_string key = field.key();
            od::value& value = field.value();
            if (key_is(key, records_key)) {
                auto records_result = value.get_array();
                if (records_result.error() != simdjson::SUCCESS) return DecodeStatus::malformed_json;
                od::array&& records = std::move(records_result).value_unsafe();
                for (auto record_result : records) {
                    auto object_result = record_result.get_object();
                    if (object_result.error() != simdjson::SUCCESS) return DecodeStatus::malformed_json;
                    od::object&& record = std::move(object_result).value_unsafe();
                    const DecodeStatus status = decode_record(record);
                    if (status != DecodeStatus::ok) return status;
                }
            } else if (key_is(key, "type\"")) {
                const FieldText type = read_text(value);
                snapshot = type.kind == FieldText::Kind::string && type.text == "snapshot";
            }
        }
        return DecodeStatus::ok;
    }

    DecodeStatus decode_ticker_event(od::object& event) noexcept {
        const std::uint32_t first_tick = ticks;
        bool snapshot = false;
        const DecodeStatus status =
            decode_record_event(event, "tickers\"", snapshot, [this](od::object& r) { return decode_ticker(r); });
        if (status != DecodeStatus::ok) return status;
        snapshot_seen |= snapshot;
        if (snapshot) {
            for (std::uint32_t i = first_tick; i < ticks; ++i) out[i].flags |= tick_flag_snapshot;
        }
        return DecodeStatus::ok;
    }

    DecodeStatus decode_trades_event(od::object& event) noexcept {
        const std::uint32_t first_trade = trades;
        bool snapshot = false;
        const DecodeStatus status =
            decode_record_event(event, "trades\"", snapshot, [this](od::object& r) { return decode_trade(r); });
        if (status != DecodeStatus::ok) return status;
        snapshot_seen |= snapshot;
        if (snapshot) {
            for (std::uint32_t i = first_trade; i < trades; ++i) trades_out[i].flags |= trade_flag_snapshot;
        }
        return DecodeStatus::ok;
    }

    // Reads one ticker record; a bad record is counted and skipped, only broken JSON fails the message.
    DecodeStatus decode_ticker(od::object& ticker) noexcept {
        FieldText product_id, price, best_bid, best_bid_qty, best_ask, best_ask_qty;
        const DecodeStatus walk = for_each_field(ticker, [&](const od::raw_json_string& key, od::value& value) {
            // Dispatch on the first letter first: 7 of the 13 ticker keys start with neither.
            switch (key.raw()[0]) {
                case 'p':
                    if (key_is(key, "price\"")) price = read_text(value);
                    else if (key_is(key, "product_id\"")) product_id = read_text(value);
                    break;
                case 'b':
                    if (key_is(key, "best_bid\"")) best_bid = read_text(value);
                    else if (key_is(key, "best_ask\"")) best_ask = read_text(value);
                    else if (key_is(key, "best_bid_quantity\"")) best_bid_qty = read_text(value);
                    else if (key_is(key, "best_ask_quantity\"")) best_ask_qty = read_text(value);
                    break;
                default:
                    break;
            }
        });
        if (walk != DecodeStatus::ok) return walk;
        DecoderCounters& counters = owner->counters_;

        if (product_id.kind != FieldText::Kind::string) return skip(counters.missing_field);
        if (product_id.text.empty()) return skip(counters.empty_ticker);
        const std::optional<std::uint16_t> product = find_product_in_message(product_id.text);
        if (!product) return skip(counters.unknown_product);
        if (price.kind == FieldText::Kind::absent) return skip(counters.missing_field);
        // A JSON number where the wire has a string is refused, not guessed at: see the corpus README.
        if (price.kind != FieldText::Kind::string) return skip(counters.bad_price);
        const std::optional<double> last_price = parse_decimal(price.text);
        // 1e300, 1e-300 and 60-digit numbers parse but are not prices (issue 9 item 5).
        if (!last_price || !sane_price(*last_price)) return skip(counters.bad_price);

        double bid = 0.0, bid_qty = 0.0, ask = 0.0, ask_qty = 0.0;
        const OptionalNumber bid_state = read_optional(best_bid, false, bid);
        const OptionalNumber bid_qty_state = read_optional(best_bid_qty, true, bid_qty);
        const OptionalNumber ask_state = read_optional(best_ask, false, ask);
        const OptionalNumber ask_qty_state = read_optional(best_ask_qty, true, ask_qty);
        if (bid_state == OptionalNumber::bad || bid_qty_state == OptionalNumber::bad ||
            ask_state == OptionalNumber::bad || ask_qty_state == OptionalNumber::bad)
            return skip(counters.bad_price);

        if (ticks == out.size()) {
            ++counters.output_full;
            ++ticks_dropped;
            return DecodeStatus::ok;
        }
        std::uint8_t flags = channel_flags;
        // A side is usable only with its price; a missing quantity then reads as 0 (unknown size).
        if (bid_state == OptionalNumber::valid) flags |= tick_flag_has_best_bid;
        else bid_qty = 0.0;
        if (ask_state == OptionalNumber::valid) flags |= tick_flag_has_best_ask;
        else ask_qty = 0.0;

        Tick& tick = out[ticks++];
        tick.price = *last_price;
        tick.best_bid = bid;
        tick.best_ask = ask;
        tick.best_bid_qty = bid_qty;
        tick.best_ask_qty = ask_qty;
        tick.exchange_time_ns = 0;  // envelope fields are stamped once the whole message is read
        tick.receive_tsc = receive_tsc;
        tick.product_index = *product;
        tick.flags = flags;
        tick.sequence_num = 0;
        return DecodeStatus::ok;
    }

    // Reads one trade record; a bad record is counted and skipped, only broken JSON fails the message.
    DecodeStatus decode_trade(od::object& record) noexcept {
        FieldText product_id, trade_id, price, size, side, time;
        std::uint64_t trade_id_number = 0;
        bool trade_id_is_number = false;
        const DecodeStatus walk = for_each_field(record, [&](const od::raw_json_string& key, od::value& value) {
            switch (key.raw()[0]) {
                case 'p':
                    if (key_is(key, "price\"")) price = read_text(value);
                    else if (key_is(key, "product_id\"")) product_id = read_text(value);
                    break;
                case 's':
                    if (key_is(key, "size\"")) size = read_text(value);
                    else if (key_is(key, "side\"")) side = read_text(value);
                    break;
                case 't':
                    if (key_is(key, "trade_id\"")) {
                        trade_id = read_text(value);
                        // The wire shows a string ("635541194"); an unsigned JSON integer carries the
                        // same number and is accepted too (nothing else is).
                        if (trade_id.kind == FieldText::Kind::not_string)
                            trade_id_is_number = value.get_uint64().get(trade_id_number) == simdjson::SUCCESS;
                    } else if (key_is(key, "time\"")) {
                        time = read_text(value);
                    }
                    break;
                default:
                    break;
            }
        });
        if (walk != DecodeStatus::ok) return walk;
        DecoderCounters& counters = owner->counters_;

        if (product_id.kind != FieldText::Kind::string || product_id.text.empty()) return skip(counters.missing_field);
        const std::optional<std::uint16_t> product = find_product_in_message(product_id.text);
        if (!product) return skip(counters.unknown_product);

        if (trade_id.kind == FieldText::Kind::absent) return skip(counters.missing_field);
        if (trade_id.kind == FieldText::Kind::string) {
            const std::optional<std::uint64_t> parsed = parse_unsigned(trade_id.text);
            if (!parsed) return skip(counters.trade_bad_id);
            trade_id_number = *parsed;
        } else if (!trade_id_is_number) {
            return skip(counters.trade_bad_id);
        }

        if (price.kind == FieldText::Kind::absent) return skip(counters.missing_field);
        if (price.kind != FieldText::Kind::string) return skip(counters.trade_bad_price);
        const std::optional<double> trade_price = parse_decimal(price.text);
        if (!trade_price || !sane_price(*trade_price)) return skip(counters.trade_bad_price);

        if (size.kind == FieldText::Kind::absent) return skip(counters.missing_field);
        if (size.kind != FieldText::Kind::string) return skip(counters.trade_bad_size);
        const std::optional<double> trade_size = parse_decimal(size.text);
        if (!trade_size || !sane_size(*trade_size)) return skip(counters.trade_bad_size);

        if (time.kind == FieldText::Kind::absent) return skip(counters.missing_field);
        if (time.kind != FieldText::Kind::string) return skip(counters.trade_bad_time);
        const std::optional<std::int64_t> trade_time = trade_times.parse_ns(time.text);
        if (!trade_time) return skip(counters.trade_bad_time);

        if (trades == trades_out.size()) {
            ++counters.trades_over_cap;
            ++trades_dropped;
            return DecodeStatus::ok;
        }
        // Which party `side` names is UNVERIFIED (coinbase-api.md 1.4): kept as sent, never refused.
        std::uint8_t side_code = 0;
        if (side.kind == FieldText::Kind::string) {
            if (side.text == "BUY") side_code = 1;
            else if (side.text == "SELL") side_code = 2;
        }
        Trade& trade = trades_out[trades++];
        trade.price = *trade_price;
        trade.size = *trade_size;
        trade.exchange_time_ns = *trade_time;
        trade.receive_tsc = receive_tsc;
        trade.trade_id = trade_id_number;
        trade.product_index = *product;
        trade.taker_side = side_code;
        trade.flags = 0;
        return DecodeStatus::ok;
    }

    // After the envelope timestamp is known: drops trades timed after it (beyond the tolerance),
    // then puts the rest oldest first. The wire sends newest first, so a reversal is the usual
    // case; std::sort (no allocation) covers any other order.
    void finish_trades(std::int64_t envelope_ns) noexcept {
        std::uint32_t kept = 0;
        for (std::uint32_t i = 0; i < trades; ++i) {
            if (trades_out[i].exchange_time_ns - envelope_ns > coinbase_trade_future_tolerance_ns) {
                ++owner->counters_.trade_bad_time;
                ++records_skipped;
                continue;
            }
            if (kept != i) trades_out[kept] = trades_out[i];
            ++kept;
        }
        trades = kept;
        const auto first = trades_out.begin();
        const auto last = first + trades;
        if (std::is_sorted(first, last, trade_before)) return;
        std::reverse(first, last);
        if (!std::is_sorted(first, last, trade_before)) std::sort(first, last, trade_before);
    }

    DecodeStatus decode_heartbeat_event(od::object& event) noexcept {
        for (auto field_result : event) {
            if (field_result.error() != simdjson::SUCCESS) return DecodeStatus::malformed_json;
            od::field&& field = std::move(field_result).value_unsafe();
            if (!key_is(field.key(), "heartbeat_counter\"")) continue;  // current_time: not needed
            od::value& value = field.value();
            // The docs show a string, nautilus sees an integer: accept both (coinbase-api.md 1.4).
            const FieldText text = read_text(value);
            std::optional<std::uint64_t> counter;
            if (text.kind == FieldText::Kind::string) {
                counter = parse_unsigned(text.text);
            } else {
                std::uint64_t number = 0;
                if (value.get_uint64().get(number) == simdjson::SUCCESS) counter = number;
            }
            if (!counter) return DecodeStatus::missing_field;
            heartbeat_seen = true;
            heartbeat_counter = *counter;
            ++owner->counters_.heartbeats;
        }
        return DecodeStatus::ok;
    }
};

CoinbaseDecoder::CoinbaseDecoder(std::span<const std::string_view> products, std::size_t max_message_bytes)
    : impl_(std::make_unique<Impl>(max_message_bytes)), max_message_bytes_(max_message_bytes) {
    if (products.empty()) throw std::invalid_argument("CoinbaseDecoder: empty product list");
    if (products.size() > 65535) throw std::invalid_argument("CoinbaseDecoder: more than 65535 products");
    std::unordered_set<std::string_view> seen;
    for (const std::string_view product : products) {
        if (product.empty()) throw std::invalid_argument("CoinbaseDecoder: empty product id");
        if (!seen.insert(product).second)
            throw std::invalid_argument("CoinbaseDecoder: duplicate product id " + std::string(product));
        products_.emplace_back(product);
        impl_->product_keys.push_back({Impl::head_of(product.data(), product.size()), product.size()});
    }
}

CoinbaseDecoder::~CoinbaseDecoder() = default;
CoinbaseDecoder::CoinbaseDecoder(CoinbaseDecoder&&) noexcept = default;
CoinbaseDecoder& CoinbaseDecoder::operator=(CoinbaseDecoder&&) noexcept = default;

std::optional<std::uint16_t> CoinbaseDecoder::product_index(std::string_view product_id) const noexcept {
    // A daemon follows one to a few products: a linear scan beats hashing at that size.
    for (std::size_t i = 0; i < products_.size(); ++i) {
        if (products_[i] == product_id) return static_cast<std::uint16_t>(i);
    }
    return std::nullopt;
}

DecodeResult CoinbaseDecoder::decode(const char* message, std::size_t length, std::size_t capacity,
                                     std::uint64_t receive_tsc, std::span<Tick> ticks,
                                     std::span<Trade> trades) noexcept {
    DecodeResult result;
    ++counters_.messages;
    if (length > max_message_bytes_) {
        ++counters_.oversized;
        result.status = DecodeStatus::message_too_large;
        return result;
    }
    if (capacity < length || capacity - length < coinbase_decoder_padding) {
        result.status = DecodeStatus::insufficient_padding;
        return result;
    }

    Impl& impl = *impl_;
    impl.begin(*this, ticks, trades, receive_tsc);
    auto fail = [&](DecodeStatus status) {
        switch (status) {
            case DecodeStatus::malformed_json:
                ++counters_.malformed_json;
                break;
            case DecodeStatus::missing_field:
                ++counters_.missing_field;
                break;
            case DecodeStatus::bad_timestamp:
                ++counters_.bad_timestamp;
                break;
            case DecodeStatus::bad_sequence:
                ++counters_.bad_sequence;
                break;
            default:
                break;
        }
        result.status = status;
        result.ticks_emitted = 0;
        result.trades_emitted = 0;
        result.records_skipped = impl.records_skipped;
        return result;
    };

    // The length is within the capacity allocated at construction, so iterate() does not allocate.
    od::document document;
    if (impl.json.iterate(message, length, capacity).get(document) != simdjson::SUCCESS)
        return fail(DecodeStatus::malformed_json);
    auto root_result = document.get_object();
    if (root_result.error() != simdjson::SUCCESS) return fail(DecodeStatus::malformed_json);
    od::object&& root = std::move(root_result).value_unsafe();

    FieldText timestamp;
    std::string_view error_text;
    bool events_seen = false;
    bool events_before_channel = false;
    for (auto field_result : root) {
        if (field_result.error() != simdjson::SUCCESS) return fail(DecodeStatus::malformed_json);
        od::field&& field = std::move(field_result).value_unsafe();
        const od::raw_json_string key = field.key();
        od::value& value = field.value();
        switch (key.raw()[0]) {
            case 'c':
                if (key_is(key, "channel\"")) {
                    const FieldText channel = read_text(value);
                    if (channel.kind != FieldText::Kind::string) return fail(DecodeStatus::missing_field);
                    if (result.channel != ChannelKind::error) result.channel = classify_channel(channel.text);
                }
                break;
            case 't':
                if (key_is(key, "timestamp\"")) {
                    timestamp = read_text(value);
                } else if (key_is(key, "type\"")) {
                    // Control messages carry a top-level type instead of a channel (coinbase-api.md 1.7).
                    const FieldText type = read_text(value);
                    if (type.kind == FieldText::Kind::string && type.text == "error")
                        result.channel = ChannelKind::error;
                    else if (result.channel == ChannelKind::none) result.channel = ChannelKind::unknown;
                }
                break;
            case 's':
                if (key_is(key, "sequence_num\"")) {
                    // Only a JSON unsigned integer that fits 64 bits is a sequence number; -5, 1.5, "7"
                    // and 2^64 make the message a decode error instead of a silent sequence 0.
                    std::uint64_t sequence_num = 0;
                    if (value.get_uint64().get(sequence_num) != simdjson::SUCCESS)
                        return fail(DecodeStatus::bad_sequence);
                    result.sequence_num = sequence_num;
                    result.has_sequence = true;
                }
                break;
            case 'e':
                if (key_is(key, "events\"")) {
                    events_seen = true;
                    if (result.channel == ChannelKind::none) {
                        events_before_channel = true;  // decoded after the loop, once the channel is known
                    } else if (has_decoded_events(result.channel)) {
                        const DecodeStatus status = impl.decode_events(value, result.channel);
                        if (status != DecodeStatus::ok) return fail(status);
                    }
                }
                break;
            case 'm':
                if (key_is(key, "message\"")) {
                    if (value.get_string().get(error_text) != simdjson::SUCCESS) error_text = {};
                }
                break;
            default:
                break;
        }
    }
    // Anything after the root object ("{...}}" or "{...} x") is a broken message.
    if (document.current_location().error() == simdjson::SUCCESS) return fail(DecodeStatus::malformed_json);

    if (events_before_channel && has_decoded_events(result.channel)) {
        document.rewind();
        od::value events;
        if (document.find_field_unordered("events").get(events) != simdjson::SUCCESS)
            return fail(DecodeStatus::malformed_json);
        const DecodeStatus status = impl.decode_events(events, result.channel);
        if (status != DecodeStatus::ok) return fail(status);
    }

    result.records_skipped = impl.records_skipped;
    switch (result.channel) {
        case ChannelKind::none:
            return fail(DecodeStatus::missing_field);
        case ChannelKind::ticker:
        case ChannelKind::ticker_batch: {
            if (!events_seen || timestamp.kind != FieldText::Kind::string) return fail(DecodeStatus::missing_field);
            const std::optional<std::int64_t> exchange_time_ns = impl.timestamps.parse_ns(timestamp.text);
            if (!exchange_time_ns) return fail(DecodeStatus::bad_timestamp);
            for (std::uint32_t i = 0; i < impl.ticks; ++i) {
                ticks[i].exchange_time_ns = *exchange_time_ns;
                ticks[i].sequence_num = result.sequence_num & ((std::uint64_t{1} << tick_sequence_bits) - 1);
            }
            result.ticks_emitted = impl.ticks;
            result.snapshot = impl.snapshot_seen;
            counters_.ticks += impl.ticks;
            if (impl.ticks_dropped != 0) result.status = DecodeStatus::output_full;
            break;
        }
        case ChannelKind::market_trades: {
            if (!events_seen || timestamp.kind != FieldText::Kind::string) return fail(DecodeStatus::missing_field);
            const std::optional<std::int64_t> envelope_ns = impl.timestamps.parse_ns(timestamp.text);
            if (!envelope_ns) return fail(DecodeStatus::bad_timestamp);
            impl.finish_trades(*envelope_ns);
            result.records_skipped = impl.records_skipped;
            result.trades_emitted = impl.trades;
            result.snapshot = impl.snapshot_seen;
            counters_.trades += impl.trades;
            if (impl.trades_dropped != 0) result.status = DecodeStatus::output_full;
            break;
        }
        case ChannelKind::heartbeats:
            if (!impl.heartbeat_seen) return fail(DecodeStatus::missing_field);
            result.has_heartbeat_counter = true;
            result.heartbeat_counter = impl.heartbeat_counter;
            break;
        case ChannelKind::subscriptions:
            ++counters_.subscription_acks;
            break;
        case ChannelKind::error:
            ++counters_.error_messages;
            result.error_message = error_text;
            break;
        case ChannelKind::unknown:
            ++counters_.unknown_channel;
            break;
    }
    return result;
}

}  // namespace cbtrade
