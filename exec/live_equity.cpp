// Live equity from the exchange's accounts. See live_equity.hpp.
#include "exec/live_equity.hpp"

#include <cstdio>
#include <exception>
#include <utility>

namespace cbtrade {

namespace {
constexpr std::int64_t ms = 1'000'000;
constexpr std::int64_t failure_line_interval_ns = 60'000 * ms;
constexpr std::int64_t in_flight_retry_ns = 250 * ms;
}  // namespace

AccountHoldings holdings_of(const std::vector<rest::Account>& accounts, std::string_view product_id) {
    const std::size_t dash = product_id.find('-');
    const std::string_view base = product_id.substr(0, dash);
    const std::string_view quote = dash == std::string_view::npos ? std::string_view{} : product_id.substr(dash + 1);
    AccountHoldings h;
    for (const rest::Account& a : accounts) {
        if (a.currency == quote) {
            h.has_quote = true;
            h.quote_available += a.available.value;
            h.quote_hold += a.hold.value;
        } else if (a.currency == base) {
            h.has_base = true;
            h.base_available += a.available.value;
            h.base_hold += a.hold.value;
        }
    }
    return h;
}

LiveEquityRefresher::LiveEquityRefresher(rest::ExchangeAccess& access, std::string product_id, std::int64_t period_ns,
                                         LiveFunds& funds, BotMetrics& metrics)
    : access_(access), product_id_(std::move(product_id)), period_ns_(period_ns), funds_(funds), metrics_(metrics) {}

void LiveEquityRefresher::attach(const std::atomic<std::uint64_t>& settled, const std::atomic<bool>& order_in_flight,
                                 const std::atomic<bool>& base_short) noexcept {
    settled_ = &settled;
    order_in_flight_ = &order_in_flight;
    base_short_ = &base_short;
}

std::string LiveEquityRefresher::start(std::int64_t now_ns, AccountHoldings& out) {
    const auto r = access_.accounts();
    if (!r.ok()) return "list accounts through " + std::string(access_.describe()) + ": " + r.error.message;
    out = holdings_of(*r.value, product_id_);
    if (!out.has_quote)
        return "the account lists no " + product_id_.substr(product_id_.find('-') + 1) + " account (" +
               std::to_string(r.value->size()) + " accounts listed)";
    funds_.publish(
        AccountFunds{out.quote_available, out.base_total(), settled_ ? settled_->load(std::memory_order_relaxed) : 0});
    last_ok_ns_ = now_ns;
    next_ns_ = now_ns + period_ns_;
    metrics_.live_equity_refreshes.inc();
    refreshes_.store(refreshes_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return {};
}

std::size_t LiveEquityRefresher::poll(std::int64_t now_ns) noexcept {
    if (last_ok_ns_ != 0) metrics_.live_equity_age_seconds.set(static_cast<double>(now_ns - last_ok_ns_) / 1e9);
    if (now_ns < next_ns_) return 0;
    // The balances move while an order is out: ask once it has settled.
    if (order_in_flight_ != nullptr && order_in_flight_->load(std::memory_order_relaxed)) {
        next_ns_ = now_ns + in_flight_retry_ns;
        return 0;
    }
    try {
        refresh(now_ns);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cbtrade live: live equity: %s (continuing)\n", e.what());
        next_ns_ = now_ns + period_ns_;
    }
    return 1;
}

void LiveEquityRefresher::refresh(std::int64_t now_ns) {
    const std::uint64_t tag = settled_ ? settled_->load(std::memory_order_relaxed) : 0;
    const auto r = access_.accounts();
    next_ns_ = now_ns + period_ns_;
    std::string error;
    AccountHoldings h;
    if (!r.ok()) {
        error = r.error.message;
    } else {
        h = holdings_of(*r.value, product_id_);
        if (!h.has_quote) error = "the account lists no " + product_id_.substr(product_id_.find('-') + 1) + " account";
    }
    if (!error.empty()) {
        metrics_.live_equity_refresh_failures.inc();
        failures_.store(failures_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        ++failure_run_;
        if (failure_run_ == 1 || now_ns >= next_failure_line_ns_) {
            std::fprintf(stderr,
                         "cbtrade live: live equity: refresh failed (%llu in a row): %s; sizing keeps the balances "
                         "read %.0f s ago\n",
                         static_cast<unsigned long long>(failure_run_), error.c_str(),
                         static_cast<double>(now_ns - last_ok_ns_) / 1e9);
            next_failure_line_ns_ = now_ns + failure_line_interval_ns;
        }
        return;
    }
    funds_.publish(AccountFunds{h.quote_available, h.base_total(), tag});
    metrics_.live_equity_refreshes.inc();
    refreshes_.store(refreshes_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    last_ok_ns_ = now_ns;
    metrics_.live_equity_age_seconds.set(0);
    if (failure_run_ > 0)
        std::fprintf(stderr, "cbtrade live: live equity: refreshed again after %llu failed refreshes\n",
                     static_cast<unsigned long long>(failure_run_));
    failure_run_ = 0;
    const bool short_now = base_short_ != nullptr && base_short_->load(std::memory_order_relaxed);
    if (short_now && !base_short_said_)
        std::fprintf(stderr,
                     "cbtrade live: live equity: WARNING: the account holds less %s than the daemon's position "
                     "(moved elsewhere?): its exit will be refused until the base is back\n",
                     product_id_.substr(0, product_id_.find('-')).c_str());
    base_short_said_ = short_now;
}

}  // namespace cbtrade
