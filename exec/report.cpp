#include "exec/report.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "core/json_writer.hpp"
#include "core/rfc3339.hpp"
#include "core/strategy.hpp"

namespace cbtrade {

namespace {

std::string num(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string u64(std::uint64_t v) {
    return std::to_string(v);
}

std::string escape_html(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

struct Row {
    const char* label;
    std::string value;
};

}  // namespace

std::string report_text(const BacktestReport& r) {
    const double cps = r.replay_seconds > 0 ? static_cast<double>(r.candles_traded) / r.replay_seconds : 0;
    const auto& c = r.counters;
    const Row rows[] = {
        {"product", r.product_id + " " + r.granularity + ", model " + r.model_mode},
        {"candles", std::to_string(r.candles_total) + " (fit " + std::to_string(r.candles_fit) + ", traded " +
                        std::to_string(r.candles_traded) + ")"},
        {"traded period", format_rfc3339_s(r.trade_start_time_s) + " .. " + format_rfc3339_s(r.last_time_s)},
        {"trades", std::to_string(r.trades) + " round trips, " + std::to_string(r.wins) + " won"},
        {"win rate", num(r.win_rate_pct, 2) + " %"},
        {"total return", num(r.total_return_pct, 4) + " %  (" + num(r.start_equity_usd, 2) + " -> " +
                             num(r.final_equity_usd, 2) + " USD)"},
        {"buy and hold", num(r.buy_and_hold_return_pct, 4) + " %"},
        {"max drawdown", num(r.max_drawdown_pct, 4) + " %"},
        {"sharpe (annualised)", num(r.sharpe, 3)},
        {"fees paid", num(r.fees_usd, 2) + " USD"},
        {"exposure", num(r.exposure_pct, 2) + " % of traded candles"},
        {"decisions", "buy " + u64(r.decisions[1]) + ", sell " + u64(r.decisions[2]) + ", flat " + u64(r.decisions[0])},
        {"orders", "BUY " + u64(r.orders_buy) + ", SELL " + u64(r.orders_sell)},
        {"exits", "signal " + u64(c.signal_exits) + ", stop loss " + u64(c.stop_losses) + ", take profit " +
                      u64(c.take_profits)},
        {"entries skipped", "below ORDER_MIN_USD " + u64(c.blocked_below_min) + ", breaker " + u64(c.blocked_breaker) +
                                ", LONG_ONLY " + u64(c.blocked_long_only)},
        {"breaker trips", u64(c.breaker_trips)},
        {"walk-forward fits", std::to_string(r.walk_forward_fits)},
        {"replay speed", num(cps, 0) + " candles/s (" + num(r.replay_seconds * 1e3, 1) + " ms)"},
    };
    std::string out = "cbtrade backtest\n";
    for (const auto& row : rows) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "  %-20s ", row.label);
        out += buf;
        out += row.value;
        out += '\n';
    }
    return out;
}

std::string report_json(const BacktestReport& r) {
    const auto& c = r.counters;
    std::string j;
    JsonWriter w(j, 2);
    w.begin_object();
    w.member("product_id", r.product_id).member("granularity", r.granularity).member("model_mode", r.model_mode);
    w.member("candles_total", r.candles_total).member("candles_fit", r.candles_fit);
    w.member("candles_traded", r.candles_traded);
    w.member("first_time", format_rfc3339_s(r.first_time_s));
    w.member("trade_start_time", format_rfc3339_s(r.trade_start_time_s));
    w.member("last_time", format_rfc3339_s(r.last_time_s));
    w.member("model_converged", r.model_converged).member("walk_forward_fits", r.walk_forward_fits);
    w.key("start_equity_usd").fixed(r.start_equity_usd, 6);
    w.key("final_equity_usd").fixed(r.final_equity_usd, 6);
    w.key("total_return_pct").fixed(r.total_return_pct, 6);
    w.key("buy_and_hold_return_pct").fixed(r.buy_and_hold_return_pct, 6);
    w.key("max_drawdown_pct").fixed(r.max_drawdown_pct, 6);
    w.key("sharpe").fixed(r.sharpe, 6);
    w.key("fees_usd").fixed(r.fees_usd, 6);
    w.key("exposure_pct").fixed(r.exposure_pct, 6);
    w.member("trades", r.trades).member("wins", r.wins);
    w.key("win_rate_pct").fixed(r.win_rate_pct, 6);
    w.key("decisions").begin_object();
    w.member("buy", r.decisions[1]).member("sell", r.decisions[2]).member("flat", r.decisions[0]).end_object();
    w.key("orders").begin_object().member("BUY", r.orders_buy).member("SELL", r.orders_sell).end_object();
    w.key("exits").begin_object();
    w.member("signal", c.signal_exits).member("stop_loss", c.stop_losses).member("take_profit", c.take_profits);
    w.end_object();
    w.key("entries_skipped").begin_object();
    w.member("below_min", c.blocked_below_min).member("breaker", c.blocked_breaker);
    w.member("long_only", c.blocked_long_only).member("market_data", c.blocked_market_data).end_object();
    w.member("breaker_trips", c.breaker_trips);
    w.key("fills").begin_array();
    for (const Fill& f : r.fills) {
        w.begin_object().member("time", format_rfc3339_s(f.time_s)).member("side", side_name(f.side));
        w.member("reason", reason_name(f.reason));
        w.key("qty").fixed(f.qty, 8).key("price").fixed(f.price, 6).key("fee_usd").fixed(f.fee_usd, 6);
        w.end_object();
    }
    w.end_array();
    w.end_object();
    j += '\n';
    return j;
}

std::string report_html(const BacktestReport& r) {
    constexpr double width = 1000, price_h = 320, equity_h = 200, pad = 40;
    std::int64_t t0 = r.curve.empty() ? 0 : r.curve.front().time_s;
    std::int64_t t1 = r.curve.empty() ? 1 : r.curve.back().time_s;
    if (t1 <= t0) t1 = t0 + 1;
    double pmin = 1e300, pmax = -1e300, emin = 1e300, emax = -1e300;
    for (const auto& p : r.curve) {
        pmin = std::min(pmin, p.price);
        pmax = std::max(pmax, p.price);
        emin = std::min(emin, p.equity_usd);
        emax = std::max(emax, p.equity_usd);
    }
    for (const auto& f : r.fills) {
        pmin = std::min(pmin, f.price);
        pmax = std::max(pmax, f.price);
    }
    if (!(pmax > pmin)) pmax = pmin + 1;
    if (!(emax > emin)) emax = emin + 1;
    auto x_of = [&](std::int64_t t) {
        return pad + (width - 2 * pad) * static_cast<double>(t - t0) / static_cast<double>(t1 - t0);
    };
    auto y_of = [](double v, double lo, double hi, double h) { return h - pad - (h - 2 * pad) * (v - lo) / (hi - lo); };
    auto polyline = [&](bool equity, double lo, double hi, double h, const char* colour) {
        std::string s = "<polyline fill=\"none\" stroke=\"" + std::string(colour) + "\" stroke-width=\"1.2\" points=\"";
        for (const auto& p : r.curve) {
            s += num(x_of(p.time_s), 1) + "," + num(y_of(equity ? p.equity_usd : p.price, lo, hi, h), 1) + " ";
        }
        return s + "\"/>\n";
    };
    auto axis_labels = [&](double lo, double hi, double h, int decimals) {
        return "<text x=\"2\" y=\"" + num(pad, 0) + "\" font-size=\"11\">" + num(hi, decimals) +
               "</text><text x=\"2\" y=\"" + num(h - pad, 0) + "\" font-size=\"11\">" + num(lo, decimals) +
               "</text><text x=\"" + num(pad, 0) + "\" y=\"" + num(h - 8, 0) + "\" font-size=\"11\">" +
               format_rfc3339_s(t0) + "</text><text x=\"" + num(width - pad - 150, 0) + "\" y=\"" + num(h - 8, 0) +
               "\" font-size=\"11\">" + format_rfc3339_s(t1) + "</text>\n";
    };

    std::string h = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>cbtrade backtest " +
                    escape_html(r.product_id) +
                    "</title>\n<style>body{font-family:sans-serif;margin:20px;color:#222}"
                    "pre{background:#f6f6f6;padding:10px}svg{background:#fff;border:1px solid #ddd}</style>"
                    "</head><body>\n<h1>cbtrade backtest: " +
                    escape_html(r.product_id) + " " + escape_html(r.granularity) + "</h1>\n<pre>" +
                    escape_html(report_text(r)) + "</pre>\n";
    h += "<h2>Price and trades</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(width, 0) +
         "\" height=\"" + num(price_h, 0) + "\" id=\"price\">\n";
    h += axis_labels(pmin, pmax, price_h, 2);
    h += polyline(false, pmin, pmax, price_h, "#555");
    for (const auto& f : r.fills) {
        const double x = x_of(f.time_s), y = y_of(f.price, pmin, pmax, price_h);
        const bool buy = f.side == Side::buy;
        const char* colour = f.reason == OrderReason::stop_loss     ? "#d97706"
                             : f.reason == OrderReason::take_profit ? "#2563eb"
                             : buy                                  ? "#16a34a"
                                                                    : "#dc2626";
        const double dy = buy ? 6 : -6;
        h += "<polygon class=\"" + std::string(buy ? "buy" : "sell") + "\" fill=\"" + colour + "\" points=\"" +
             num(x, 1) + "," + num(y, 1) + " " + num(x - 4, 1) + "," + num(y + dy, 1) + " " + num(x + 4, 1) + "," +
             num(y + dy, 1) + "\"><title>" + std::string(side_name(f.side)) + " " + std::string(reason_name(f.reason)) +
             " @ " + num(f.price, 2) + " " + format_rfc3339_s(f.time_s) + "</title></polygon>\n";
    }
    h += "</svg>\n<p>Markers: green buy entry or cover, red sell, orange stop loss, blue take profit.</p>\n";
    h += "<h2>Equity (USD)</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(width, 0) + "\" height=\"" +
         num(equity_h, 0) + "\" id=\"equity\">\n";
    h += axis_labels(emin, emax, equity_h, 2);
    h += polyline(true, emin, emax, equity_h, "#7c3aed");
    h += "</svg>\n</body></html>\n";
    return h;
}

}  // namespace cbtrade
