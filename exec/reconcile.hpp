// exec/reconcile: a live start's reconciliation with the exchange (issue 13 item 2, DESIGN.md
// section 5). Before `cbtrade live` with DRY_RUN=false trades, every order the journal holds no
// outcome for (an intent without an end: the daemon died between sending it and settling it) is
// looked up on the exchange by its client_order_id, and the account's balances are compared with
// what the journal explains.
//
//   order found, terminal      its fill (what the exchange filled: size, filled_value / size, fees)
//                              is applied to the books with the trader's own arithmetic, as a live
//                              settlement would; the caller journals ack, fill, books and end
//   found, not terminal        asked again every second, at most 30 s; still open: a difference
//                              (nothing is traded while an order may still fill)
//   not found                  asked once more after 2 s (a just-placed order may not be listed
//                              yet), then ended not_found: nothing filled
//   balances                   base and quote currency (available + on hold) against the last live
//                              start's balances (the journal's account record) plus what the books
//                              moved since, within one base / one quote increment. Without such a
//                              record (the first live start on this journal) the account must hold
//                              at least the books' position.
//
// A difference it cannot explain is never "fixed": no order is sent, no fill invented. It is
// reported (what the journal says, what the exchange says) and the daemon sends no order until an
// operator accepts it (cbtrade live --accept-reconciliation; README). A REST failure is a RunError:
// nothing is traded and a restart tries again. Cold, blocking; before the pipeline starts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exec/broker.hpp"
#include "exec/journal.hpp"
#include "exec/rest_messages.hpp"
#include "exec/trader.hpp"

namespace cbtrade {

namespace rest {
class RestClient;
class RestClock;
}  // namespace rest

// What reconciliation asks of the exchange: the REST client in the daemon, a fake in tests.
class ReconcileVenue {
public:
    virtual ~ReconcileVenue() = default;
    // One page of list orders (rest::RestClient::orders_page).
    [[nodiscard]] virtual rest::RestResult<rest::OrdersPage> orders_page(std::string_view product_id,
                                                                         std::int64_t start_unix_s, std::size_t limit,
                                                                         std::string_view cursor) = 0;
    [[nodiscard]] virtual rest::RestResult<std::vector<rest::Account>> accounts() = 0;
};
[[nodiscard]] std::unique_ptr<ReconcileVenue> make_rest_reconcile_venue(rest::RestClient& client);

struct ReconcileProduct {
    std::string product_id;  // "BTC-USD"
    std::string base;        // "BTC"
    std::string quote;       // "USD"
    double base_increment = 1e-8;
    double quote_increment = 0.01;
};

struct ReconcileOptions {
    std::int64_t lookback_s = 300;  // orders listed from the intent's wall time minus this (clock skew)
    std::size_t page_limit = rest::max_orders_per_page;
    std::size_t max_pages = 10;  // more orders than this since the intent: an error, not a guess
    std::int64_t not_found_wait_ns = 2'000'000'000;
    std::int64_t open_poll_ns = 1'000'000'000;
    std::int64_t open_timeout_ns = 30'000'000'000;
    // Compare the quote currency too. Off with USE_LIVE_EQUITY=true: there the trader's cash is
    // replaced by the exchange's at every refresh (the books' cash is then no running total of fills),
    // and the daemon takes the exchange's quote balance at start anyway; the base is always compared.
    bool compare_quote = true;
};

enum class OrderFinding : std::uint8_t {
    filled,          // terminal with something filled (in full or, IOC, in part)
    nothing_filled,  // terminal (cancelled, expired, failed) with nothing filled
    not_found,       // the exchange lists no order with this client_order_id
    still_open,      // not terminal within open_timeout_ns
};
[[nodiscard]] std::string_view finding_name(OrderFinding f) noexcept;

struct ReconciledOrder {
    journal::OrderIntent intent;
    OrderFinding finding = OrderFinding::not_found;
    std::optional<rest::Order> order;  // as the exchange lists it (found)
    OrderOutcome outcome;              // the order's fill (qty 0: nothing) and error, its order_id
    bool fill_applied = false;         // applied to the books now (false: none, or already journaled)
};

struct AccountTotals {
    double base = 0;   // available + hold
    double quote = 0;  // available + hold
};

struct Reconciliation {
    std::vector<ReconciledOrder> orders;
    std::optional<TraderBooks> books;      // the journal's books with the fills found applied
    AccountTotals exchange;                // what the account holds now
    std::vector<std::string> lines;        // what it found, one line each, for the operator
    std::vector<std::string> differences;  // what it cannot explain; empty: reconciled
    [[nodiscard]] bool clean() const noexcept { return differences.empty(); }
    [[nodiscard]] bool order_still_open() const noexcept;
    // The baseline the next start compares with: the exchange now and these books.
    [[nodiscard]] journal::AccountRecord account_record(std::int64_t time_s) const noexcept;
};

// Reconciles `recovered` (from journal::recover) with the exchange. `params`: the trader's (its
// arithmetic applies the fills). `clock` times the waits (tests script it). Throws RunError when
// the exchange cannot be asked (a REST failure, more than max_pages pages): nothing is decided.
[[nodiscard]] Reconciliation reconcile(ReconcileVenue& venue, rest::RestClock& clock,
                                       const journal::Recovered& recovered, const TraderParams& params,
                                       const ReconcileProduct& product, const ReconcileOptions& options = {});

// The base and quote totals of `accounts` (every account of that currency: available + hold).
[[nodiscard]] AccountTotals account_totals(const std::vector<rest::Account>& accounts,
                                           const ReconcileProduct& product) noexcept;

}  // namespace cbtrade
