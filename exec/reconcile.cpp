// A live start's reconciliation with the exchange. See reconcile.hpp.
#include "exec/reconcile.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "core/error.hpp"
#include "core/text.hpp"
#include "exec/live_orders.hpp"
#include "exec/rest_client.hpp"

namespace cbtrade {

namespace {

constexpr std::int64_t min_plausible_unix_s = 1'500'000'000;  // 2017: an intent older is no wall time

class RestReconcileVenue final : public ReconcileVenue {
public:
    explicit RestReconcileVenue(rest::RestClient& c) : client_(c) {}
    rest::RestResult<rest::OrdersPage> orders_page(std::string_view product_id, std::int64_t start_unix_s,
                                                   std::size_t limit, std::string_view cursor) override {
        return client_.orders_page(product_id, start_unix_s, limit, cursor);
    }
    rest::RestResult<std::vector<rest::Account>> accounts() override { return client_.all_accounts(); }

private:
    rest::RestClient& client_;
};

std::string id_text(const journal::OrderIntent& i) {
    return {i.client_order_id.data(), i.client_order_id.size()};
}

std::string number(double v, int digits) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

// Digits that show one increment (0.01 -> 2, 1e-8 -> 8).
int digits_of(double increment) {
    int d = 0;
    while (d < 12 && increment * std::pow(10.0, d) < 0.999999) ++d;
    return d;
}

// The exchange's order with this client_order_id among those created since `start_s`, or nullopt.
// Throws RunError for a REST failure or more than max_pages pages.
std::optional<rest::Order> find_order(ReconcileVenue& venue, const ReconcileProduct& product,
                                      std::string_view client_order_id, std::int64_t start_s,
                                      const ReconcileOptions& options) {
    std::string cursor;
    for (std::size_t page = 0; page < options.max_pages; ++page) {
        rest::RestResult<rest::OrdersPage> r =
            venue.orders_page(product.product_id, start_s, options.page_limit, cursor);
        if (!r.ok())
            throw RunError("reconciliation: list orders failed: " + r.error.message +
                           " (nothing was traded; a restart tries again)");
        for (rest::Order& o : r.value->orders)
            if (o.client_order_id == client_order_id) return std::move(o);
        if (!r.value->has_next) return std::nullopt;
        if (r.value->cursor == cursor)
            throw RunError("reconciliation: list orders: the cursor did not advance (nothing was traded)");
        cursor = std::move(r.value->cursor);
    }
    throw RunError("reconciliation: more than " + std::to_string(options.max_pages * options.page_limit) +
                   " orders of " + product.product_id + " since the journal's order: refusing to guess which is " +
                   std::string(client_order_id) + " (nothing was traded)");
}

}  // namespace

std::unique_ptr<ReconcileVenue> make_rest_reconcile_venue(rest::RestClient& client) {
    return std::make_unique<RestReconcileVenue>(client);
}

std::string_view finding_name(OrderFinding f) noexcept {
    switch (f) {
        case OrderFinding::filled:
            return "filled";
        case OrderFinding::nothing_filled:
            return "ended with nothing filled";
        case OrderFinding::not_found:
            return "not found";
        case OrderFinding::still_open:
            return "still open";
    }
    return "?";
}

bool Reconciliation::order_still_open() const noexcept {
    return std::any_of(orders.begin(), orders.end(),
                       [](const ReconciledOrder& o) { return o.finding == OrderFinding::still_open; });
}

journal::AccountRecord Reconciliation::account_record(std::int64_t time_s) const noexcept {
    journal::AccountRecord a;
    a.time_s = time_s;
    a.base_total = exchange.base;
    a.quote_total = exchange.quote;
    a.position_qty = books ? books->position_qty : 0;
    a.cash_usd = books ? books->cash_usd : 0;
    return a;
}

AccountTotals account_totals(const std::vector<rest::Account>& accounts, const ReconcileProduct& product) noexcept {
    AccountTotals t;
    for (const rest::Account& a : accounts) {
        if (a.currency == product.base) t.base += a.available.value + a.hold.value;
        if (a.currency == product.quote) t.quote += a.available.value + a.hold.value;
    }
    return t;
}

Reconciliation reconcile(ReconcileVenue& venue, rest::RestClock& clock, const journal::Recovered& recovered,
                         const TraderParams& params, const ReconcileProduct& product, const ReconcileOptions& options) {
    Reconciliation out;
    out.books = recovered.books;
    Trader trader(params, 0);
    if (out.books) trader.restore(*out.books);
    const int base_digits = digits_of(product.base_increment);
    const int quote_digits = digits_of(product.quote_increment);

    // Oldest first: fills are applied in the order the daemon sent them.
    std::vector<journal::OpenOrder> open = recovered.open_orders;
    std::sort(open.begin(), open.end(), [](const journal::OpenOrder& a, const journal::OpenOrder& b) {
        return a.intent.unix_ns < b.intent.unix_ns;
    });
    const std::int64_t now_s = clock.unix_s();
    for (const journal::OpenOrder& o : open) {
        ReconciledOrder r;
        r.intent = o.intent;
        const std::string id = id_text(o.intent);
        const OrderRequest request{o.intent.time_s, o.intent.qty, o.intent.ref_price, o.intent.side, o.intent.reason};
        // Listed from the intent's wall time less a margin (clock skew); a journal written before
        // intents carried the wall time: the last day.
        std::int64_t start_s = o.intent.unix_ns / 1'000'000'000 - options.lookback_s;
        if (o.intent.unix_ns / 1'000'000'000 < min_plausible_unix_s || start_s > now_s) start_s = now_s - 86'400;
        start_s = std::max<std::int64_t>(start_s, 0);

        std::optional<rest::Order> found = find_order(venue, product, id, start_s, options);
        if (!found) {
            // The exchange may not list an order placed a moment ago yet: once more after a pause.
            clock.sleep_ns(options.not_found_wait_ns);
            found = find_order(venue, product, id, start_s, options);
        }
        const std::int64_t deadline = clock.now_ns() + options.open_timeout_ns;
        while (found && !rest::is_terminal(found->status) && clock.now_ns() < deadline) {
            clock.sleep_ns(options.open_poll_ns);
            std::optional<rest::Order> again = find_order(venue, product, id, start_s, options);
            if (again) found = std::move(again);
        }
        const std::string what =
            std::string(side_name(o.intent.side)) + " " + std::string(reason_name(o.intent.reason)) + " " +
            std::string(o.intent.size.data(), o.intent.size_chars) + " (client_order_id " + id + ")";
        if (!found) {
            r.finding = OrderFinding::not_found;
            r.outcome.fill = Fill{request.time_s, 0, request.ref_price, 0, request.side, request.reason};
            r.outcome.error = OrderError::not_filled;
            out.lines.push_back("order " + what +
                                ": not found on the exchange: it never reached it; ended with nothing filled");
            if (o.filled_qty > 0)
                out.differences.push_back("order " + what + ": the journal holds a fill of " +
                                          number(o.filled_qty, base_digits) + " " + product.base +
                                          " but the exchange has no such order");
        } else if (!rest::is_terminal(found->status)) {
            r.finding = OrderFinding::still_open;
            r.order = found;
            out.lines.push_back("order " + what + ": still " + std::string(rest::to_string(found->status)) +
                                " on the exchange after " + std::to_string(options.open_timeout_ns / 1'000'000'000) +
                                " s (order_id " + found->order_id + ")");
            out.differences.push_back("order " + what + " is still " + std::string(rest::to_string(found->status)) +
                                      " on the exchange (order_id " + found->order_id +
                                      "): its outcome is unknown; restart once it has ended");
        } else {
            r.order = found;
            r.outcome = outcome_of(*found, request);
            const bool side_ok = found->side == o.intent.side;
            r.finding = r.outcome.fill.qty > 0 ? OrderFinding::filled : OrderFinding::nothing_filled;
            std::string line =
                "order " + what + ": " + std::string(rest::to_string(found->status)) + " on the exchange";
            if (r.outcome.fill.qty > 0)
                line += ", filled " + found->filled_size.text + " " + product.base + " for " +
                        found->filled_value.text + " " + product.quote + ", fees " + found->total_fees.text;
            line += " (order_id " + found->order_id + ")";
            if (!side_ok) {
                out.differences.push_back("order " + what + ": the exchange's order " + found->order_id + " is a " +
                                          std::string(side_name(found->side)) + ", the journal's a " +
                                          std::string(side_name(o.intent.side)));
            } else if (o.filled_qty > 0) {
                // Its fill was journaled before the crash (only its end was lost): in the books already.
                line += "; its fill is in the journal already";
                if (std::fabs(o.filled_qty - r.outcome.fill.qty) > product.base_increment)
                    out.differences.push_back("order " + what + ": the journal holds a fill of " +
                                              number(o.filled_qty, base_digits) + " " + product.base +
                                              ", the exchange filled " + found->filled_size.text);
            } else if (r.outcome.fill.qty > 0) {
                trader.on_fill(r.outcome.fill);
                r.fill_applied = true;
                line += "; fill applied to the books";
            }
            out.lines.push_back(line);
        }
        out.orders.push_back(std::move(r));
    }
    if (!out.orders.empty() && out.books) out.books = trader.books();

    // The balances: what the account holds against what the journal explains.
    rest::RestResult<std::vector<rest::Account>> accounts = venue.accounts();
    if (!accounts.ok())
        throw RunError("reconciliation: list accounts failed: " + accounts.error.message +
                       " (nothing was traded; a restart tries again)");
    out.exchange = account_totals(*accounts.value, product);
    const double position = out.books ? out.books->position_qty : 0;
    const double cash = out.books ? out.books->cash_usd : 0;
    // One increment, and float noise on large balances.
    const double base_tol = product.base_increment * (1 + 1e-6) + 1e-12 * std::fabs(out.exchange.base);
    const double quote_tol = product.quote_increment * (1 + 1e-6) + 1e-12 * std::fabs(out.exchange.quote);
    const std::string holds = "the exchange holds " + number(out.exchange.base, base_digits) + " " + product.base +
                              " and " + number(out.exchange.quote, quote_digits) + " " + product.quote;
    if (const std::optional<journal::AccountRecord>& a = recovered.account) {
        const double want_base = a->base_total + (position - a->position_qty);
        const double want_quote = a->quote_total + (cash - a->cash_usd);
        out.lines.push_back("balances: " + holds + "; the journal explains " + number(want_base, base_digits) + " " +
                            product.base + " and " + number(want_quote, quote_digits) + " " + product.quote +
                            " (the last live start's balances plus what this daemon's fills moved since)");
        if (std::fabs(out.exchange.base - want_base) > base_tol)
            out.differences.push_back(product.base + ": the journal says the account should hold " +
                                      number(want_base, base_digits) + " (" + number(a->base_total, base_digits) +
                                      " at the last live start, position " + number(a->position_qty, base_digits) +
                                      " then, " + number(position, base_digits) + " now); the exchange holds " +
                                      number(out.exchange.base, base_digits) + ": a difference of " +
                                      number(out.exchange.base - want_base, base_digits));
        if (options.compare_quote && std::fabs(out.exchange.quote - want_quote) > quote_tol)
            out.differences.push_back(product.quote + ": the journal says the account should hold " +
                                      number(want_quote, quote_digits) + " (" + number(a->quote_total, quote_digits) +
                                      " at the last live start, cash " + number(a->cash_usd, quote_digits) + " then, " +
                                      number(cash, quote_digits) + " now); the exchange holds " +
                                      number(out.exchange.quote, quote_digits) + ": a difference of " +
                                      number(out.exchange.quote - want_quote, quote_digits));
    } else {
        out.lines.push_back("balances: " + holds + "; no earlier live start in this journal: recorded as the baseline");
        if (position > 0 && out.exchange.base + base_tol < position)
            out.differences.push_back(product.base + ": the journal's position is " + number(position, base_digits) +
                                      " but the exchange holds only " + number(out.exchange.base, base_digits));
    }
    return out;
}

}  // namespace cbtrade
