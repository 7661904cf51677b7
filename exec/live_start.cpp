// Start-up checks for real orders. See live_start.hpp.
#include "exec/live_start.hpp"

#include <algorithm>
#include <cstdio>

#include "core/error.hpp"
#include "core/text.hpp"
#include "exec/bridge_client.hpp"

namespace cbtrade {

namespace {

std::string fmt(const char* format, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}

std::string seconds_text(std::int64_t ms) {
    return fmt("%+.1f s", static_cast<double>(ms) / 1000.0);
}

// A REST failure at start-up: the key or product is at fault (exit 2) or the exchange could not be
// asked (exit 1).
[[noreturn]] void fail(const rest::RestError& e, const std::string& what) {
    switch (e.kind) {
        case rest::RestErrorKind::unauthorized:
        case rest::RestErrorKind::forbidden:
        case rest::RestErrorKind::not_found:
        case rest::RestErrorKind::bad_request:
        case rest::RestErrorKind::invalid_order:
            throw ConfigError("DRY_RUN=false: " + what + ": " + e.message + "; refusing to send real orders");
        default:
            throw RunError("DRY_RUN=false: " + what + ": " + e.message +
                           " (the start-up checks for real orders could not run; check COINBASE_API_BASE and the "
                           "network)");
    }
}

// Shared by both paths: the product must take market orders now (else exit 2); its increments and
// minimums size the orders; the statement's product, limits and account lines.
void product_and_statement(LiveStart& out, const Config& c, const rest::RestResult<rest::Product>& product,
                           const rest::RestResult<std::vector<rest::Account>>& accounts) {
    if (!product.ok()) fail(product.error, "PRODUCT_ID=" + c.product_id);
    const rest::Product& p = *product.value;
    if (!p.market_orders_allowed())
        throw ConfigError("DRY_RUN=false: PRODUCT_ID=" + c.product_id + " cannot take market orders now: " +
                          p.market_orders_refusal() + "; refusing to send real orders");
    out.product = p;
    out.trader = TraderParams::from(c);
    out.trader.base_increment = p.base_increment.value();
    out.trader.order_min_usd = std::max(c.order_min_usd, p.quote_min_size.value);

    // The accounts, for the statement (a failure here is no reason to refuse: orders say the rest).
    std::string balances;
    const std::string base = c.product_id.substr(0, c.product_id.find('-'));
    const std::string quote = c.product_id.substr(c.product_id.find('-') + 1);
    if (accounts.ok()) {
        for (const auto& a : *accounts.value)
            if (a.currency == quote || a.currency == base)
                balances += (balances.empty() ? "" : ", ") + a.currency + " " + a.available.text + " available";
        if (balances.empty()) balances = "no " + quote + " or " + base + " account";
    } else {
        balances = "accounts not read: " + accounts.error.message;
    }

    const double entry_usd = c.usd_equity * c.risk_per_trade_pct / 100;
    out.lines.push_back(p.product_id + " " + p.status + ": BUY by quote_size on " + p.quote_increment_text +
                        ", at least " + fmt("%.2f", out.trader.order_min_usd) + " " + quote + " (ORDER_MIN_USD " +
                        fmt("%g", c.order_min_usd) + ", quote_min_size " + p.quote_min_size.text +
                        "); SELL by base_size on " + p.base_increment_text + ", at least " + p.base_min_size.text);
    const std::string entries = c.use_live_equity
                                    ? "entries of RISK_PER_TRADE_PCT " + fmt("%g", c.risk_per_trade_pct) +
                                          "% of the live equity (USE_LIVE_EQUITY=true, below)"
                                    : "entries of " + fmt("%.2f", entry_usd) + " " + quote + " (USD_EQUITY " +
                                          fmt("%g", c.usd_equity) + " x RISK_PER_TRADE_PCT " +
                                          fmt("%g", c.risk_per_trade_pct) + "%)";
    out.lines.push_back("limits: " + entries + ", one position at a time, long only; no entry after a " +
                        fmt("%g", c.max_daily_loss_pct) + "% daily loss; stop " + fmt("%g", c.stop_loss_pct) +
                        "%, take " + fmt("%g", c.take_profit_pct) + "%");
    out.lines.push_back("account: " + balances + " (holdings the daemon did not buy are never sold by it)");
    if (!c.use_live_equity && entry_usd < out.trader.order_min_usd)
        out.lines.push_back("warning: an entry of " + fmt("%.2f", entry_usd) + " " + quote + " is below the minimum " +
                            fmt("%.2f", out.trader.order_min_usd) + ": no entry will be taken (raise USD_EQUITY or " +
                            "RISK_PER_TRADE_PCT)");
}

void refuse_shorts(const Config& c) {
    if (!c.long_only)
        throw ConfigError(
            "LONG_ONLY=false with DRY_RUN=false: Coinbase spot orders cannot open a short (the daemon would sell "
            "base currency it does not hold); set LONG_ONLY=true, or DRY_RUN=true to paper-trade shorts");
}

}  // namespace

LiveStart check_live_start(rest::RestClient& client, const Config& c, const std::string& key_name,
                           const std::string& key_kind) {
    LiveStart out;
    refuse_shorts(c);

    // The clock: pre-signed order JWTs carry this machine's time.
    const auto skew = client.clock_skew();
    if (!skew.ok()) fail(skew.error, "the exchange clock");
    out.clock_skew_ms = skew.value->skew_ms;
    const std::int64_t magnitude = out.clock_skew_ms < 0 ? -out.clock_skew_ms : out.clock_skew_ms;
    if (magnitude > live_max_clock_skew_ms)
        throw ConfigError("DRY_RUN=false: the exchange clock is " + seconds_text(out.clock_skew_ms) +
                          " from this machine's, beyond the 30 s real orders allow (order JWTs are signed ahead and "
                          "valid for 120 s from this machine's time); synchronise the clock (NTP)");

    // The key: it must be accepted and allowed to trade.
    const auto permissions = client.key_permissions();
    if (!permissions.ok()) fail(permissions.error, "the API key " + quote_for_message(key_name, 128));
    if (!permissions.value->can_trade)
        throw ConfigError("DRY_RUN=false: the API key " + quote_for_message(key_name, 128) +
                          " cannot trade (key_permissions: can_trade is false); create a key with the trade "
                          "permission, or set DRY_RUN=true to paper-trade");

    const auto product = client.product(c.product_id);
    const auto accounts = client.all_accounts();
    out.lines.push_back("REAL ORDERS: DRY_RUN=false: market orders on " + c.product_id + " will be sent to " +
                        quote_for_message(c.coinbase_api_base, 128) + " with API key " +
                        quote_for_message(key_name, 128) + " (" + key_kind + ")");
    out.lines.push_back("key may trade (can_view " + std::string(permissions.value->can_view ? "true" : "false") +
                        ", can_trade true); exchange clock " + seconds_text(out.clock_skew_ms) +
                        " from this machine's");
    product_and_statement(out, c, product, accounts);
    return out;
}

LiveStart check_bridge_live_start(rest::BridgeClient& bridge, const Config& c) {
    LiveStart out;
    refuse_shorts(c);
    const std::string& where = bridge.options().describe;
    const auto health = bridge.health();
    if (!health.ok())
        throw ConfigError("DRY_RUN=false through the " + where + ": GET /health failed: " + health.error.message +
                          "; refusing to send real orders (start the bridge, or check BRIDGE_URL)");
    const auto product = bridge.product(c.product_id);
    if (!product.ok() &&
        (product.error.kind == rest::RestErrorKind::network || product.error.kind == rest::RestErrorKind::timeout))
        throw ConfigError("DRY_RUN=false through the " + where + ": the product could not be read: " +
                          product.error.message + "; refusing to send real orders");
    const auto accounts = bridge.all_accounts();
    out.lines.push_back("REAL ORDERS: DRY_RUN=false: market orders on " + c.product_id + " will be sent through the " +
                        where +
                        ", which holds the API key (this process has none); each order crosses the bridge and is "
                        "sent from the order desk thread, not the low-latency exec path");
    out.lines.push_back("bridge health " + health.value->status);
    product_and_statement(out, c, product, accounts);
    return out;
}

}  // namespace cbtrade
