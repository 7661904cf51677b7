#include "tools/sim/sim_options.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <cstdio>
#include <string_view>
#include <system_error>
#include <utility>

#include "core/error.hpp"
#include "core/numbers.hpp"
#include "core/text.hpp"

namespace cbtrade::sim {

namespace {

[[noreturn]] void bad_value(std::string_view opt, std::string_view value, std::string_view accepted) {
    throw UsageError(std::string(opt) + ": " + quote_for_message(value) + " is invalid: expected " +
                     std::string(accepted));
}

// Counts and seconds are range-checked like configuration values (core/numbers.hpp): "inf" or
// 1e300 seconds never reach a duration conversion.
template <class Parse>
auto as_sim_usage_error(Parse&& parse) {
    try {
        return parse();
    } catch (const cbtrade::UsageError& e) {
        throw UsageError(e.what());
    }
}

std::uint64_t to_u64(std::string_view opt, std::string_view v) {
    return static_cast<std::uint64_t>(
        as_sim_usage_error([&] { return int_flag(opt, v, 0, 1'000'000'000'000'000, "an integer from 0 to 10^15"); }));
}

std::int64_t to_i64(std::string_view opt, std::string_view v) {
    return as_sim_usage_error([&] {
        return int_flag(opt, v, -1'000'000'000'000'000, 1'000'000'000'000'000, "an integer of at most 15 digits");
    });
}

double to_nonneg_double(std::string_view opt, std::string_view v) {
    return as_sim_usage_error([&] { return number_flag(opt, v, 0, 1e9, false, "a number from 0 to 1e9"); });
}

void parse_pace(SimOptions& o, std::string_view v) {
    if (v == "realtime") {
        o.pace_max = false;
        o.pace_factor = 1.0;
        return;
    }
    if (v == "max") {
        o.pace_max = true;
        return;
    }
    std::string_view n = v;
    if (!n.empty() && (n.front() == 'x' || n.front() == 'X')) n.remove_prefix(1);
    double f = 0;
    auto [ptr, ec] = std::from_chars(n.data(), n.data() + n.size(), f);
    if (n.empty() || ec != std::errc{} || ptr != n.data() + n.size() || !(f > 0))
        bad_value("--pace", v, "realtime, max or xN with N > 0 (e.g. x10, x0.5)");
    o.pace_max = false;
    o.pace_factor = f;
}

}  // namespace

std::string sim_usage() {
    return R"(usage: cbtrade-sim [options]
Loopback Coinbase Advanced Trade simulator: market-data WebSocket (ticker, market_trades and
heartbeats) and REST, over TLS. Each candle is four ticks (open, low/high in path order, close)
and four trades at those prices whose sizes sum to the candle's volume exactly (units of 1e-8).
First stdout line: "listening 127.0.0.1:<port>". Stats on stderr at exit, incl.
"sent_trades=<t> trade_price_cents_sum=<p> trade_size_units=<u>" and "sent_ticks=<n> price_cents_sum=<s>".

listening and TLS
  --port N                  TCP port on 127.0.0.1 (default 0: pick a free one)
  --plain                   serve ws:// without TLS (debugging)
  --cert FILE --key FILE    use this PEM certificate chain and key instead of a generated test CA
  --ca-out FILE             write the CA certificate PEM (the chain file with --cert) for clients
  --cert-host NAME          issue the server certificate for NAME only (hostname-verification tests)

market data
  --csv FILE                replay these candles (default: synthetic random walk)
  --loop                    restart the CSV at its end (default: close connections and exit)
  --feed-from T             the WebSocket replays the CSV from its first candle at or after T (UNIX
                            seconds); REST candles still serve every row (warm-up tests)
  --seed N                  synthetic market seed (default 1; product k uses seed+k)
  --start-price P           synthetic start price (default 42000)
  --step-sec S              synthetic candle length (default 60)
  --start-time T            synthetic start, UNIX seconds (default: now, whole minute)
  --pace realtime|xN|max    real time, N times faster, or as fast as the client reads (default realtime)
  --timestamps market|wall  ticker envelope timestamps from the market clock or the wall clock (default
                            market); market_trades envelopes always carry their newest trade's time
  --heartbeat-counter-as-string  send heartbeat_counter as "N" instead of N

limits
  --messages N              stop after N quotes in all (one ticker object and/or one trade per product
                            and step), send close frames, exit
  --exit-after-sec S        exit after S seconds
  --subscribe-timeout-sec S disconnect clients that do not subscribe within S s (default 5, 0: never)

faults ("after M" counts ticker messages on that connection)
  --drop-after N            drop the next WebSocket connection after N ticker messages (repeatable:
                            one value per connection, in order)
  --drops K                 repeat the last --drop-after value for K connections in all
  --skip-seq-every N        every N messages, skip one sequence number
  --stall-after M --stall-sec S   send nothing for S seconds after M ticker messages
  --bad-frame-after M       after M ticker messages send a frame with reserved bits set, then disconnect
  --bad-json-after M        after M ticker messages send one text frame of malformed JSON
  --bad-price-after M       after M ticker messages send one with prices 1e300, 1e-300 and a 60-digit number
  --fault-once              stall/bad-frame/bad-json on the first WebSocket connection only
  --refuse-upgrade          answer WebSocket upgrades with HTTP 403

REST (/api/v3/brokerage: time, key_permissions, accounts, products, candles, orders, fills)
  --api-key NAME=FILE       accept JWTs of key NAME verified with the PEM key in FILE (public or private;
                            EC P-256 -> ES256, Ed25519 -> EdDSA); repeatable. Without one, every private
                            endpoint answers 401. JWTs on WebSocket subscribes are checked too.
  --clock-offset-sec S      the exchange clock is S seconds ahead of this machine (negative: behind)
  --usd-balance X           USD balance (default 100000)
  --base-balance X          balance of every product's base currency (default 1)
  --extra-accounts N        N more empty accounts, to make list-accounts page (default 0)
  --fee-bps B               fee on each market order, basis points of its value (default 60)
  --trading-disabled        products say trading_disabled: true and orders are refused
  --cancel-only             products say cancel_only: true and new orders are refused
  --no-trade-scope          keys lack the trade permission: /key_permissions says can_trade false and
                            orders get 403 "Missing required scopes"
  --no-rate-limit           do not answer 429 beyond 10 public / 30 private requests per second
  --rest-fault ROUTE:KIND[:N]  the next N requests (default 1) to ROUTE get KIND; repeatable.
                            ROUTE: any time permissions accounts product candles orders order list_orders
                            fills
                            KIND: 401 403 429 (HTML body) 500 503 timeout (never answered) drop (connection
                            closed after the request was read) insufficient (success:false INSUFFICIENT_FUND).
                            On orders, 500 503 timeout drop happen after the order was placed.
                            At run time: POST /sim/fault?spec=ROUTE:KIND[:N] adds one (tests).
  POST /sim/fault?spec=ws:KIND[:N]  at run time, the next market step of a live WebSocket session
                            gets KIND (N times, one per step): drop (connection closed), gap (a sequence
                            number skipped), bad_frame (reserved bits, then closed), bad_json, bad_price,
                            tls_error (a garbage record on the raw connection, then closed), or
                            ws:stall:SEC (nothing sent for SEC seconds, heartbeats included);
                            spec=clear drops every fault not yet applied
  Stats at exit add "rest_requests=<n> rest_orders=<n> rest_order_repeats=<n> rest_unauthorized=<n>" and
  "duplicate_orders=<n> orders_while_unknown=<n>": create-order requests that reuse a known
  client_order_id for another order (product, side or size), and ones with a new client_order_id sent
  while an earlier order's answer was withheld (timeout, drop, 500, 503 after placing) and not since
  learnt (an answered resend of its client_order_id, or a look-up of it).

  --quiet                   no event log on stderr (stats are still printed)
  --help
)";
}

SimOptions::RestFault parse_rest_fault(std::string_view v) {
    constexpr std::string_view opt = "--rest-fault";
    SimOptions::RestFault f;
    const auto c1 = v.find(':');
    const auto c2 = c1 == std::string_view::npos ? c1 : v.find(':', c1 + 1);
    if (c1 == std::string_view::npos) bad_value(opt, v, "ROUTE:KIND[:N]");
    f.route = std::string(v.substr(0, c1));
    f.kind = std::string(v.substr(c1 + 1, c2 == std::string_view::npos ? std::string_view::npos : c2 - c1 - 1));
    if (c2 != std::string_view::npos) f.count = to_u64(opt, v.substr(c2 + 1));
    static constexpr std::string_view routes[] = {"any",     "time",   "permissions", "accounts",    "product",
                                                  "candles", "orders", "order",       "list_orders", "fills"};
    static constexpr std::string_view kinds[] = {"401", "403", "429", "500", "503", "timeout", "drop", "insufficient"};
    if (std::find(std::begin(routes), std::end(routes), f.route) == std::end(routes))
        bad_value(opt, v, "a ROUTE of any time permissions accounts product candles orders order list_orders fills");
    if (std::find(std::begin(kinds), std::end(kinds), f.kind) == std::end(kinds))
        bad_value(opt, v, "a KIND of 401 403 429 500 503 timeout drop insufficient");
    return f;
}

namespace {
constexpr std::pair<std::string_view, SimOptions::WsFault::Kind> ws_fault_kinds[] = {
    {"drop", SimOptions::WsFault::Kind::drop},           {"gap", SimOptions::WsFault::Kind::gap},
    {"stall", SimOptions::WsFault::Kind::stall},         {"bad_frame", SimOptions::WsFault::Kind::bad_frame},
    {"bad_json", SimOptions::WsFault::Kind::bad_json},   {"bad_price", SimOptions::WsFault::Kind::bad_price},
    {"tls_error", SimOptions::WsFault::Kind::tls_error},
};
}  // namespace

std::string_view ws_fault_name(SimOptions::WsFault::Kind kind) noexcept {
    for (const auto& [name, k] : ws_fault_kinds)
        if (k == kind) return name;
    return "?";
}

std::vector<SimOptions::WsFault> parse_ws_fault(std::string_view v) {
    constexpr std::string_view opt = "ws fault";
    constexpr std::string_view accepted =
        "ws:KIND[:N] with KIND drop gap bad_frame bad_json bad_price tls_error (N times, 1..1000) or ws:stall:SEC "
        "(0 < SEC <= 600)";
    if (!v.starts_with("ws:")) bad_value(opt, v, accepted);
    const std::string_view rest = v.substr(3);
    const auto colon = rest.find(':');
    const std::string_view kind_text = rest.substr(0, colon);
    const std::string_view n_text = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    const auto* found = std::find_if(std::begin(ws_fault_kinds), std::end(ws_fault_kinds),
                                     [&](const auto& k) { return k.first == kind_text; });
    if (found == std::end(ws_fault_kinds)) bad_value(opt, v, accepted);
    SimOptions::WsFault f;
    f.kind = found->second;
    if (f.kind == SimOptions::WsFault::Kind::stall) {
        if (n_text.empty()) bad_value(opt, v, accepted);
        f.stall_sec = to_nonneg_double(opt, n_text);
        if (!(f.stall_sec > 0) || f.stall_sec > 600) bad_value(opt, v, accepted);
        return {f};
    }
    std::uint64_t n = 1;
    if (colon != std::string_view::npos) n = to_u64(opt, n_text);
    if (n < 1 || n > 1000) bad_value(opt, v, accepted);
    return std::vector<SimOptions::WsFault>(n, f);
}

std::optional<SimOptions> parse_sim_options(int argc, char** argv) {
    SimOptions o;
    std::optional<std::uint64_t> drops;
    for (int i = 1; i < argc; ++i) {
        const std::string_view opt = argv[i];
        auto value = [&]() -> std::string_view {
            if (i + 1 >= argc) throw UsageError("missing value for " + std::string(opt));
            return argv[++i];
        };
        if (opt == "--help" || opt == "-h") {
            std::fputs(sim_usage().c_str(), stdout);
            return std::nullopt;
        } else if (opt == "--port") {
            const auto v = value();
            const auto p = to_u64(opt, v);
            if (p > 65535) bad_value(opt, v, "0..65535");
            o.port = static_cast<std::uint16_t>(p);
        } else if (opt == "--plain") {
            o.plain = true;
        } else if (opt == "--cert") {
            o.cert_file = value();
        } else if (opt == "--key") {
            o.key_file = value();
        } else if (opt == "--ca-out") {
            o.ca_out = value();
        } else if (opt == "--cert-host") {
            o.cert_host = value();
            if (o.cert_host.empty()) bad_value(opt, o.cert_host, "a host name");
        } else if (opt == "--csv") {
            o.csv_file = value();
        } else if (opt == "--loop") {
            o.loop = true;
        } else if (opt == "--seed") {
            o.seed = to_u64(opt, value());
        } else if (opt == "--start-price") {
            const auto v = value();
            o.start_price = to_nonneg_double(opt, v);
            if (!(o.start_price >= 0.01)) bad_value(opt, v, "a price >= 0.01");
        } else if (opt == "--step-sec") {
            const auto v = value();
            o.step_sec = to_i64(opt, v);
            if (o.step_sec <= 0) bad_value(opt, v, "a positive number of seconds");
        } else if (opt == "--start-time") {
            o.start_time_s = to_i64(opt, value());
        } else if (opt == "--pace") {
            parse_pace(o, value());
        } else if (opt == "--timestamps") {
            const auto v = value();
            if (v == "market") o.timestamps = TimestampSource::market;
            else if (v == "wall") o.timestamps = TimestampSource::wall;
            else bad_value(opt, v, "market or wall");
        } else if (opt == "--heartbeat-counter-as-string") {
            o.heartbeat_counter_as_string = true;
        } else if (opt == "--messages") {
            o.max_ticks = to_u64(opt, value());
        } else if (opt == "--exit-after-sec") {
            o.exit_after_sec = to_nonneg_double(opt, value());
        } else if (opt == "--subscribe-timeout-sec") {
            o.subscribe_timeout_sec = to_nonneg_double(opt, value());
        } else if (opt == "--drop-after") {
            o.drop_after.push_back(to_u64(opt, value()));
        } else if (opt == "--drops") {
            drops = to_u64(opt, value());
        } else if (opt == "--skip-seq-every") {
            o.skip_seq_every = to_u64(opt, value());
        } else if (opt == "--stall-after") {
            o.stall_after = to_u64(opt, value());
        } else if (opt == "--stall-sec") {
            o.stall_sec = to_nonneg_double(opt, value());
        } else if (opt == "--bad-frame-after") {
            o.bad_frame_after = to_u64(opt, value());
        } else if (opt == "--bad-json-after") {
            o.bad_json_after = to_u64(opt, value());
        } else if (opt == "--bad-price-after") {
            o.bad_price_after = to_u64(opt, value());
        } else if (opt == "--fault-once") {
            o.fault_once = true;
        } else if (opt == "--refuse-upgrade") {
            o.refuse_upgrade = true;
        } else if (opt == "--api-key") {
            const auto v = value();
            const auto eq = v.find('=');
            if (eq == std::string_view::npos || eq == 0 || eq + 1 == v.size())
                bad_value(opt, v, "NAME=FILE (the key name and a PEM file)");
            o.api_keys.emplace_back(std::string(v.substr(0, eq)), std::string(v.substr(eq + 1)));
        } else if (opt == "--clock-offset-sec") {
            o.clock_offset_sec = to_i64(opt, value());
        } else if (opt == "--usd-balance") {
            o.usd_balance = to_nonneg_double(opt, value());
        } else if (opt == "--base-balance") {
            o.base_balance = to_nonneg_double(opt, value());
        } else if (opt == "--extra-accounts") {
            const auto v = value();
            o.extra_accounts = to_u64(opt, v);
            if (o.extra_accounts > 100000) bad_value(opt, v, "at most 100000");
        } else if (opt == "--fee-bps") {
            const auto v = value();
            o.fee_bps = to_nonneg_double(opt, v);
            if (o.fee_bps > 1000) bad_value(opt, v, "0..1000");
        } else if (opt == "--trading-disabled") {
            o.trading_disabled = true;
        } else if (opt == "--cancel-only") {
            o.cancel_only = true;
        } else if (opt == "--no-trade-scope") {
            o.no_trade_scope = true;
        } else if (opt == "--no-rate-limit") {
            o.rate_limit = false;
        } else if (opt == "--rest-fault") {
            o.rest_faults.push_back(parse_rest_fault(value()));
        } else if (opt == "--feed-from") {
            o.feed_from_s = static_cast<std::int64_t>(to_u64(opt, value()));
        } else if (opt == "--quiet") {
            o.quiet = true;
        } else {
            throw UsageError("unknown option '" + std::string(opt) + "' (see --help)");
        }
    }
    if (o.cert_file.empty() != o.key_file.empty()) throw UsageError("--cert and --key go together");
    if (!o.cert_file.empty() && !o.cert_host.empty()) throw UsageError("--cert-host cannot be used with --cert");
    if (o.plain && (!o.cert_file.empty() || !o.cert_host.empty()))
        throw UsageError("--plain cannot be used with --cert or --cert-host");
    if (o.stall_after && o.stall_sec <= 0) throw UsageError("--stall-after needs --stall-sec S with S > 0");
    if (drops) {
        if (o.drop_after.empty()) throw UsageError("--drops needs --drop-after N");
        const std::uint64_t last = o.drop_after.back();
        o.drop_after.resize(*drops, last);
    }
    return o;
}

}  // namespace cbtrade::sim
