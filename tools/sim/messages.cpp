#include "tools/sim/messages.hpp"

#include <cstdio>
#include <ctime>

namespace cbtrade::sim {

namespace {

void append_u64(std::string& out, std::uint64_t v) {
    out += std::to_string(v);
}

void append_envelope_head(std::string& out, std::string_view channel, std::int64_t timestamp_us,
                          std::uint64_t sequence_num) {
    out += R"({"channel":")";
    out += channel;
    out += R"(","client_id":"","timestamp":")";
    out += format_rfc3339_us(timestamp_us);
    out += R"(","sequence_num":)";
    append_u64(out, sequence_num);
    out += R"(,"events":[)";
}

void append_name(std::string& out, std::string_view name) {
    out += ",\"";
    out += name;
    out += "\":\"";
}

void append_cents_field(std::string& out, std::string_view name, std::int64_t cents) {
    append_name(out, name);
    append_cents(out, cents);
    out += '"';
}

void append_decimal_field(std::string& out, std::string_view name, double value, int digits) {
    append_name(out, name);
    append_decimal(out, value, digits);
    out += '"';
}

// All values are JSON strings, as on the wire (section 1.4).
void append_ticker(std::string& out, const ProductQuote& pq) {
    const TickerQuote& q = pq.quote;
    out += R"({"type":"ticker","product_id":)";
    append_json_string(out, pq.product_id);
    append_cents_field(out, "price", q.price_cents);
    append_decimal_field(out, "volume_24_h", q.volume_24_h, 8);
    append_cents_field(out, "low_24_h", q.low_24_h_cents);
    append_cents_field(out, "high_24_h", q.high_24_h_cents);
    append_cents_field(out, "low_52_w", q.low_52_w_cents);
    append_cents_field(out, "high_52_w", q.high_52_w_cents);
    append_decimal_field(out, "price_percent_chg_24_h", q.price_percent_chg_24_h, 8);
    append_cents_field(out, "best_bid", q.best_bid_cents);
    append_decimal_field(out, "best_bid_quantity", q.best_bid_quantity, 8);
    append_cents_field(out, "best_ask", q.best_ask_cents);
    append_decimal_field(out, "best_ask_quantity", q.best_ask_quantity, 8);
    out += '}';
}

void append_trade(std::string& out, const ProductTrade& pt) {
    const TradePrint& t = pt.trade;
    out += R"({"trade_id":")";
    append_u64(out, t.trade_id);
    out += R"(","product_id":)";
    append_json_string(out, pt.product_id);
    append_cents_field(out, "price", t.price_cents);
    append_name(out, "size");
    append_size_units(out, t.size_units);
    out += '"';
    append_name(out, "side");
    out += t.buy ? "BUY" : "SELL";
    out += '"';
    append_name(out, "time");
    out += format_rfc3339_us(t.time_us);
    out += "\"}";
}

void append_product_list(std::string& out, std::string_view channel, const std::vector<std::string>& products) {
    out += '"';
    out += channel;
    out += R"(":[)";
    bool first = true;
    for (const auto& p : products) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, p);
    }
    out += ']';
}

// A small JSON reader, enough for client control messages: one object, known fields typed,
// everything else skipped. Depth is bounded so hostile input cannot exhaust the stack.
class Reader {
public:
    explicit Reader(std::string_view s) : s_(s) {}

    [[nodiscard]] bool at_end() {
        skip_ws();
        return i_ == s_.size();
    }

    [[nodiscard]] bool consume(char c) {
        skip_ws();
        if (i_ < s_.size() && s_[i_] == c) {
            ++i_;
            return true;
        }
        return false;
    }

    [[nodiscard]] char peek() {
        skip_ws();
        return i_ < s_.size() ? s_[i_] : '\0';
    }

    [[nodiscard]] bool string(std::string& out) {
        out.clear();
        if (!consume('"')) return false;
        while (i_ < s_.size()) {
            const char c = s_[i_++];
            if (c == '"') return true;
            if (static_cast<unsigned char>(c) < 0x20) return false;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (i_ >= s_.size()) return false;
            switch (const char e = s_[i_++]) {
                case '"':
                case '\\':
                case '/':
                    out += e;
                    break;
                case 'b':
                    out += '\b';
                    break;
                case 'f':
                    out += '\f';
                    break;
                case 'n':
                    out += '\n';
                    break;
                case 'r':
                    out += '\r';
                    break;
                case 't':
                    out += '\t';
                    break;
                case 'u': {
                    std::uint32_t cp = 0;
                    if (!hex4(cp)) return false;
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        std::uint32_t lo = 0;
                        if (i_ + 1 >= s_.size() || s_[i_] != '\\' || s_[i_ + 1] != 'u') return false;
                        i_ += 2;
                        if (!hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                        return false;
                    }
                    append_utf8(out, cp);
                    break;
                }
                default:
                    return false;
            }
        }
        return false;
    }

    [[nodiscard]] bool skip_value(int depth = 0) {
        if (depth > 64) return false;
        const char c = peek();
        std::string scratch;
        if (c == '"') return string(scratch);
        if (c == '{') {
            ++i_;
            if (consume('}')) return true;
            do {
                if (!string(scratch) || !consume(':') || !skip_value(depth + 1)) return false;
            } while (consume(','));
            return consume('}');
        }
        if (c == '[') {
            ++i_;
            if (consume(']')) return true;
            do {
                if (!skip_value(depth + 1)) return false;
            } while (consume(','));
            return consume(']');
        }
        for (std::string_view lit : {"true", "false", "null"}) {
            if (s_.substr(i_, lit.size()) == lit) {
                i_ += lit.size();
                return true;
            }
        }
        return number();
    }

private:
    void skip_ws() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
    }

    [[nodiscard]] bool hex4(std::uint32_t& out) {
        if (i_ + 4 > s_.size()) return false;
        out = 0;
        for (int k = 0; k < 4; ++k) {
            const char h = s_[i_++];
            out <<= 4;
            if (h >= '0' && h <= '9') out |= static_cast<std::uint32_t>(h - '0');
            else if (h >= 'a' && h <= 'f') out |= static_cast<std::uint32_t>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F') out |= static_cast<std::uint32_t>(h - 'A' + 10);
            else return false;
        }
        return true;
    }

    static void append_utf8(std::string& out, std::uint32_t cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    // JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    [[nodiscard]] bool number() {
        const auto digit = [&] { return i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9'; };
        if (i_ < s_.size() && s_[i_] == '-') ++i_;
        if (!digit()) return false;
        if (s_[i_] == '0') ++i_;
        else
            while (digit()) ++i_;
        if (i_ < s_.size() && s_[i_] == '.') {
            ++i_;
            if (!digit()) return false;
            while (digit()) ++i_;
        }
        if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
            ++i_;
            if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
            if (!digit()) return false;
            while (digit()) ++i_;
        }
        return true;
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

}  // namespace

std::string ticker_message(std::uint64_t sequence_num, std::int64_t timestamp_us, bool snapshot,
                           std::span<const ProductQuote> quotes) {
    std::string out;
    out.reserve(160 + 420 * quotes.size());
    append_envelope_head(out, "ticker", timestamp_us, sequence_num);
    out += snapshot ? R"({"type":"snapshot","tickers":[)" : R"({"type":"update","tickers":[)";
    bool first = true;
    for (const auto& pq : quotes) {
        if (!first) out += ',';
        first = false;
        append_ticker(out, pq);
    }
    out += "]}]}";
    return out;
}

std::string market_trades_message(std::uint64_t sequence_num, std::int64_t timestamp_us, bool snapshot,
                                  std::span<const ProductTrade> trades) {
    std::string out;
    out.reserve(160 + 170 * trades.size());
    append_envelope_head(out, "market_trades", timestamp_us, sequence_num);
    out += snapshot ? R"({"type":"snapshot","trades":[)" : R"({"type":"update","trades":[)";
    for (std::size_t i = trades.size(); i-- > 0;) {
        append_trade(out, trades[i]);
        if (i != 0) out += ',';
    }
    out += "]}]}";
    return out;
}

std::string heartbeat_message(std::uint64_t sequence_num, std::int64_t now_us, std::uint64_t counter,
                              bool counter_as_string, double uptime_s) {
    std::string out;
    out.reserve(256);
    append_envelope_head(out, "heartbeats", now_us, sequence_num);
    // Go's time.String(): "2023-06-23 20:31:56.121961769 +0000 UTC m=+91717.525857105".
    std::string ts = format_rfc3339_us(now_us);  // 2023-06-23T20:31:56.121961Z
    ts[10] = ' ';
    ts.pop_back();
    char mono[48];
    std::snprintf(mono, sizeof mono, " +0000 UTC m=+%.9f", uptime_s);
    out += R"({"current_time":")";
    out += ts;
    out += mono;
    out += R"(","heartbeat_counter":)";
    if (counter_as_string) out += '"';
    append_u64(out, counter);
    if (counter_as_string) out += '"';
    out += "}]}";
    return out;
}

std::string subscriptions_message(std::uint64_t sequence_num, std::int64_t now_us,
                                  const std::vector<std::string>& ticker_products,
                                  const std::vector<std::string>& trade_products, bool heartbeats) {
    std::string out;
    out.reserve(160 + 16 * (ticker_products.size() + trade_products.size()));
    append_envelope_head(out, "subscriptions", now_us, sequence_num);
    out += R"({"subscriptions":{)";
    bool first = true;
    auto separate = [&] {
        if (!first) out += ',';
        first = false;
    };
    if (!ticker_products.empty()) {
        separate();
        append_product_list(out, "ticker", ticker_products);
    }
    if (!trade_products.empty()) {
        separate();
        append_product_list(out, "market_trades", trade_products);
    }
    if (heartbeats) {
        separate();
        out += R"("heartbeats":[])";
    }
    out += "}}]}";
    return out;
}

std::string error_message(std::string_view text) {
    std::string out = R"({"type":"error","message":)";
    append_json_string(out, text);
    out += '}';
    return out;
}

std::optional<ClientRequest> parse_client_request(std::string_view json) {
    Reader r(json);
    ClientRequest req;
    if (!r.consume('{')) return std::nullopt;
    if (!r.consume('}')) {
        std::string key;
        do {
            if (!r.string(key) || !r.consume(':')) return std::nullopt;
            if (key == "type" || key == "channel") {
                if (!r.string(key == "type" ? req.type : req.channel)) return std::nullopt;
            } else if (key == "product_ids") {
                req.product_ids.clear();
                if (!r.consume('[')) return std::nullopt;
                if (!r.consume(']')) {
                    std::string id;
                    do {
                        if (!r.string(id)) return std::nullopt;
                        req.product_ids.push_back(id);
                    } while (r.consume(','));
                    if (!r.consume(']')) return std::nullopt;
                }
            } else if (key == "jwt") {
                if (!r.string(req.jwt)) return std::nullopt;
                req.has_jwt = !req.jwt.empty();
            } else if (!r.skip_value()) {
                return std::nullopt;
            }
        } while (r.consume(','));
        if (!r.consume('}')) return std::nullopt;
    }
    if (!r.at_end()) return std::nullopt;
    return req;
}

}  // namespace cbtrade::sim
