// pipeline/feed_stage: the Coinbase feed as the pipeline's source stage (DESIGN.md section 2). Each
// poll() drives the feed (io_uring, TLS, WebSocket, decoders) and turns what it decoded into ring A
// events: every trade and tick, a status event whenever freshness, reconnects, gaps or staleness
// change, and a clock event every 100 ms so quiet markets still close candles. The loop, the feed
// and its start() belong to the caller (cold set-up, errors reported before any thread starts).
#pragma once

#include <array>
#include <cstdint>

#include "core/bot_metrics.hpp"
#include "core/cpu.hpp"
#include "core/spsc_ring.hpp"
#include "feeds/coinbase_feed.hpp"
#include "io/uring_loop.hpp"
#include "pipeline/pipeline.hpp"

namespace cbtrade {

class FeedStage final : public SourceStage {
public:
    FeedStage(io::UringLoop& loop, CoinbaseFeed& feed, MarketRing& out, BotMetrics& metrics, const TscClock& clock);

    std::string_view name() const noexcept override { return "feed"; }
    std::size_t poll(std::int64_t now_ns) noexcept override;
    bool wait_for_work(std::int64_t timeout_ns) noexcept override;
    void begin_stop(std::int64_t now_ns) noexcept override;
    bool drained(std::int64_t now_ns) const noexcept override;

    std::int64_t last_message_ns() const noexcept override { return feed_.last_message_ns(); }
    bool fresh() const noexcept override { return feed_.fresh(); }
    std::string_view phase() const noexcept override { return to_string(feed_.phase()); }
    std::uint64_t reconnects() const noexcept override { return feed_.counters().reconnects.value(); }
    std::uint64_t gaps() const noexcept override { return feed_.counters().gaps.value(); }
    std::uint64_t ticks() const noexcept override { return feed_.counters().ticks.value(); }
    std::uint64_t trades() const noexcept override { return feed_.counters().trades.value(); }
    bool next_error(std::string& out) override;
    [[nodiscard]] bool failed() const noexcept { return feed_.failed(); }

private:
    void push(MarketEvent& e) noexcept;

    io::UringLoop& loop_;
    CoinbaseFeed& feed_;
    MarketRing& out_;
    BotMetrics& metrics_;
    const TscClock& clock_;
    std::array<Tick, 128> ticks_{};
    std::array<Trade, 256> trades_{};
    FeedStatus last_status_{};
    bool lost_ = false;
    bool stopping_ = false;
    std::int64_t stop_deadline_ns_ = 0;
    std::int64_t next_clock_ns_ = 0;
    // The feed's error text goes to the ops thread by ring (feed thread only reads last_error());
    // copied when a failure counter moves, so a steady state costs one compare per poll.
    struct ErrorText {
        std::array<char, 248> text;
    };
    SpscRing<ErrorText, 16> errors_;
    std::uint64_t failures_seen_ = 0;
    // Totals already added to the refusal and connect-failure metrics (the feed's own counters are
    // cumulative; the metrics get the increase).
    std::uint64_t connect_failures_seen_ = 0;
    std::uint64_t messages_refused_seen_ = 0;
    std::uint64_t records_refused_seen_ = 0;
};

}  // namespace cbtrade
