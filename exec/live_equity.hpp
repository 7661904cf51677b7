// exec/live_equity: USE_LIVE_EQUITY=true (real orders only). Equity is what the exchange says the
// account holds, not USD_EQUITY: the quote currency available plus the base currency held at the
// current price. Read at start-up (cbtrade live states it, and any base the account holds that the
// daemon did not buy: counted in equity, never sold), then every LIVE_EQUITY_REFRESH_SEC on a
// low-priority thread of its own ("cbt-equity": a REST call may take seconds, and neither a hot
// thread nor the ops thread, which refills the order-JWT pool, may wait on it). Each refresh goes
// to the exec stage through LiveFunds (exec/live_funds.hpp), which applies it between orders; an
// applied refresh lifts the INSUFFICIENT_FUND entry block.
//
// A failed refresh is counted (bot_live_equity_refresh_failures_total) and said on stderr (the
// first of a run of failures, then once a minute, then the recovery); the last balances stay in
// force, their age in bot_live_equity_age_seconds. Equity never drops to zero for want of an answer.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/bot_metrics.hpp"
#include "core/stage_runner.hpp"
#include "exec/exchange_access.hpp"
#include "exec/live_funds.hpp"

namespace cbtrade {

// The balances of one product's two currencies in an account list (several accounts of one
// currency are added up).
struct AccountHoldings {
    double quote_available = 0;
    double quote_hold = 0;
    double base_available = 0;
    double base_hold = 0;
    bool has_quote = false;  // an account in the quote currency was listed
    bool has_base = false;
    [[nodiscard]] double base_total() const noexcept { return base_available + base_hold; }
    // Available quote plus all base at `price`.
    [[nodiscard]] double equity(double price) const noexcept { return quote_available + base_total() * price; }
};
[[nodiscard]] AccountHoldings holdings_of(const std::vector<rest::Account>& accounts, std::string_view product_id);

class LiveEquityRefresher final : public Stage {
public:
    // `access` is used from the refresher's own thread only once the pipeline runs.
    LiveEquityRefresher(rest::ExchangeAccess& access, std::string product_id, std::int64_t period_ns, LiveFunds& funds,
                        BotMetrics& metrics);

    // Cold, before the pipeline starts: the exec stage's settled-order count (the snapshot tag),
    // its order-in-flight flag (no refresh while an order is out), and its base-short flag.
    void attach(const std::atomic<std::uint64_t>& settled, const std::atomic<bool>& order_in_flight,
                const std::atomic<bool>& base_short) noexcept;
    // Cold (main thread), before the pipeline starts: the first read; published when it succeeds.
    // An error message (the REST error's) when it fails or the account has no quote currency.
    [[nodiscard]] std::string start(std::int64_t now_ns, AccountHoldings& out);

    std::string_view name() const noexcept override { return "equity"; }
    std::size_t poll(std::int64_t now_ns) noexcept override;

    [[nodiscard]] std::uint64_t refreshes() const noexcept { return refreshes_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t failures() const noexcept { return failures_.load(std::memory_order_relaxed); }

private:
    void refresh(std::int64_t now_ns);

    rest::ExchangeAccess& access_;
    std::string product_id_;
    std::int64_t period_ns_;
    LiveFunds& funds_;
    BotMetrics& metrics_;
    const std::atomic<std::uint64_t>* settled_ = nullptr;
    const std::atomic<bool>* order_in_flight_ = nullptr;
    const std::atomic<bool>* base_short_ = nullptr;
    std::int64_t next_ns_ = 0;
    std::int64_t last_ok_ns_ = 0;
    std::int64_t next_failure_line_ns_ = 0;
    std::uint64_t failure_run_ = 0;  // failures since the last success
    bool base_short_said_ = false;
    // writer: the refresher's thread; readers: tests, the summary. Relaxed: statistics.
    std::atomic<std::uint64_t> refreshes_{0};
    std::atomic<std::uint64_t> failures_{0};
};

}  // namespace cbtrade
