#include "pipeline/feed_stage.hpp"

#include <cstring>

namespace cbtrade {

namespace {

constexpr std::int64_t clock_every_ns = 100'000'000;

// Adds to a metric what a cumulative counter gained since `seen` (which it then holds).
void add_increase(Counter& metric, std::uint64_t total, std::uint64_t& seen) noexcept {
    if (total > seen) metric.inc(total - seen);
    seen = total;
}

}  // namespace

FeedStage::FeedStage(io::UringLoop& loop, CoinbaseFeed& feed, MarketRing& out, BotMetrics& metrics,
                     const TscClock& clock)
    : loop_(loop), feed_(feed), out_(out), metrics_(metrics), clock_(clock) {}

void FeedStage::push(MarketEvent& e) noexcept {
    if (lost_) e.flags |= event_flag_lost_before;
    e.push_tsc = read_tsc();
    lost_ = !out_.try_push(e);  // refused: counted by the ring, flagged on the next event
}

std::size_t FeedStage::poll(std::int64_t now_ns) noexcept {
    FeedOutput out{ticks_, trades_};
    const std::size_t got = feed_.poll(now_ns, out);
    if (stopping_) return got;  // closing: nothing more goes downstream
    auto forward = [this](MarketEvent& e, std::uint64_t receive_tsc) {
        push(e);
        metrics_.stage_latency(StageLabel::decode).observe_ns(clock_.to_ns(e.push_tsc, receive_tsc));
    };
    for (std::size_t i = 0; i < out.tick_count; ++i) {
        MarketEvent e{};
        e.kind = EventKind::tick;
        e.tick = ticks_[i];
        forward(e, e.tick.receive_tsc);
    }
    if (out.tick_count) metrics_.ticks.inc(out.tick_count);
    for (std::size_t i = 0; i < out.trade_count; ++i) {
        MarketEvent e{};
        e.kind = EventKind::trade;
        e.trade = trades_[i];
        forward(e, e.trade.receive_tsc);
    }

    const FeedCounters& c = feed_.counters();
    const FeedStatus now{c.reconnects.value(), c.gaps.value(), c.stale_events.value(),
                         static_cast<std::uint8_t>(feed_.fresh() ? 1 : 0)};
    std::size_t work = got;
    if (now.reconnects != last_status_.reconnects || now.gaps != last_status_.gaps ||
        now.stale_events != last_status_.stale_events || now.fresh != last_status_.fresh) {
        if (now.gaps > last_status_.gaps) metrics_.feed_gaps.inc(now.gaps - last_status_.gaps);
        if (now.reconnects > last_status_.reconnects)
            metrics_.feed_reconnects.inc(now.reconnects - last_status_.reconnects);
        MarketEvent e{};
        e.kind = EventKind::status;
        e.status = now;
        push(e);
        last_status_ = now;
        ++work;
    }
    const std::uint64_t failures = c.connect_failures.value() + c.error_messages.value() + c.stale_events.value() +
                                   c.reconnects.value() + c.decode_errors.value();
    if (failures != failures_seen_) [[unlikely]] {
        failures_seen_ = failures;
        add_increase(metrics_.feed_connect_failures, c.connect_failures.value(), connect_failures_seen_);
        add_increase(metrics_.feed_messages_refused, c.decode_errors.value(), messages_refused_seen_);
        if (const char* text = feed_.last_error(); text[0] != '\0') {
            ErrorText t{};
            const std::size_t n = ::strnlen(text, t.text.size() - 1);  // long texts are cut, still terminated
            std::memcpy(t.text.data(), text, n);
            (void)errors_.try_push(t);  // 16 pending texts at most; the counters keep the totals
        }
    }
    // Refused records leave their message "ok" (no failure counter moves): summed on their own.
    const DecoderCounters& d = feed_.decoder_counters();
    add_increase(metrics_.feed_records_refused,
                 d.bad_price + d.trade_bad_id + d.trade_bad_price + d.trade_bad_size + d.trade_bad_time,
                 records_refused_seen_);
    if (now_ns >= next_clock_ns_) {
        MarketEvent e{};
        e.kind = EventKind::clock;
        e.clock_ns = wall_ns();
        push(e);
        next_clock_ns_ = now_ns + clock_every_ns;
    }
    return work;
}

bool FeedStage::next_error(std::string& out) {
    ErrorText t;
    if (!errors_.try_pop(t)) return false;
    out.assign(t.text.data());
    return true;
}

bool FeedStage::wait_for_work(std::int64_t timeout_ns) noexcept {
    if (timeout_ns > 0) (void)loop_.wait(timeout_ns);
    return true;
}

void FeedStage::begin_stop(std::int64_t now_ns) noexcept {
    stopping_ = true;
    feed_.stop();
    stop_deadline_ns_ = now_ns + 1'000'000'000;  // the close handshake gets a second
}

bool FeedStage::drained(std::int64_t now_ns) const noexcept {
    const CoinbaseFeed::Phase p = feed_.phase();
    return p == CoinbaseFeed::Phase::idle || p == CoinbaseFeed::Phase::failed || now_ns >= stop_deadline_ns_;
}

}  // namespace cbtrade
