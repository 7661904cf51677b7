// core/candle_builder: see candle_builder.hpp for the rules.
#include "core/candle_builder.hpp"

#include <stdexcept>
#include <string>

namespace cbtrade {

namespace {
constexpr std::int64_t ns_per_s = 1'000'000'000;
}  // namespace

CandleBuilder::CandleBuilder(std::int64_t granularity_s, std::int64_t grace_ns, FirstInterval first)
    : granularity_ns_(granularity_s * ns_per_s), grace_ns_(grace_ns), first_(first) {
    if (granularity_s < 1 || granularity_s > max_granularity_s)
        throw std::invalid_argument("candle granularity " + std::to_string(granularity_s) + " s is outside [1, " +
                                    std::to_string(max_granularity_s) + "] s");
    if (grace_ns < 0 || grace_ns > granularity_ns_)
        throw std::invalid_argument("candle grace " + std::to_string(grace_ns) + " ns is outside [0, the granularity]");
}

bool CandleBuilder::is_duplicate(std::uint64_t trade_id) const noexcept {
    std::uint64_t lowest = UINT64_MAX;
    for (std::size_t i = 0; i < recent_count_; ++i) {
        if (recent_ids_[i] == trade_id) return true;
        if (recent_ids_[i] < lowest) lowest = recent_ids_[i];
    }
    // Older than everything remembered, once the memory is full: a repeat from a long snapshot.
    return recent_count_ == recent_trade_ids && trade_id < lowest;
}

void CandleBuilder::remember(std::uint64_t trade_id) noexcept {
    recent_ids_[recent_next_] = trade_id;
    recent_next_ = (recent_next_ + 1) % recent_trade_ids;
    if (recent_count_ < recent_trade_ids) ++recent_count_;
}

void CandleBuilder::open_interval(const Trade& trade, std::int64_t start_ns) noexcept {
    remember(trade.trade_id);
    ++counters_.trades;
    has_open_ = true;
    open_start_ns_ = start_ns;
    closed_until_ns_ = start_ns;
    open_ = Candle{start_ns / ns_per_s, trade.price, trade.price, trade.price, trade.price, trade.size};
    open_first_ns_ = open_last_ns_ = trade.exchange_time_ns;
    open_first_id_ = open_last_id_ = trade.trade_id;
}

// Everything closed and not yet emitted is dropped (the caller gave no room for max_queued_candles).
void CandleBuilder::drop_pending() noexcept {
    counters_.lost += queue_size_;
    if (queue_size_ != 0) last_close_ = queue_[(queue_head_ + queue_size_ - 1) % max_queued_candles].close;
    queue_head_ = queue_size_ = 0;
    emit_cursor_ns_ = closed_until_ns_;
    gap_pending_ = false;
    partial_pending_ = false;
}

void CandleBuilder::close_open_candle() noexcept {
    if (!has_open_) return;
    has_open_ = false;
    closed_until_ns_ = open_start_ns_ + granularity_ns_;
    if (queue_size_ == max_queued_candles) drop_pending();
    queue_[(queue_head_ + queue_size_) % max_queued_candles] = open_;
    ++queue_size_;
}

// The builder (re)starts inside the interval at start_ns: unless the trade sits on its start (or
// the caller asked for it), the interval's earlier trades are unknown and it is not emitted.
void CandleBuilder::start_partial(const Trade& trade, std::int64_t start_ns) noexcept {
    const bool whole = first_ == FirstInterval::emit || trade.exchange_time_ns == start_ns;
    partial_pending_ = !whole;
    partial_start_ns_ = start_ns;
}

std::size_t CandleBuilder::emit(std::span<Candle> out) noexcept {
    std::size_t n = 0;
    while (n < out.size()) {
        if (gap_pending_ && emit_cursor_ns_ == gap_from_ns_) {
            emit_cursor_ns_ = resume_at_ns_;  // a resync: the jump is not filled
            gap_pending_ = false;
        }
        if (emit_cursor_ns_ >= closed_until_ns_) break;
        const std::int64_t start = emit_cursor_ns_;
        emit_cursor_ns_ += granularity_ns_;
        const bool has_trades =
            queue_size_ != 0 && static_cast<std::int64_t>(queue_[queue_head_].time_s) * ns_per_s == start;
        Candle c{start / ns_per_s, last_close_, last_close_, last_close_, last_close_, 0.0};
        if (has_trades) {
            c = queue_[queue_head_];
            queue_head_ = (queue_head_ + 1) % max_queued_candles;
            --queue_size_;
        }
        last_close_ = c.close;
        if (partial_pending_ && start == partial_start_ns_) {
            partial_pending_ = false;
            ++counters_.partial_skipped;
            continue;
        }
        out[n++] = c;
        ++counters_.candles;
        if (!has_trades) ++counters_.flat_candles;
    }
    return n;
}

std::size_t CandleBuilder::on_trade(const Trade& trade, std::span<Candle> out) noexcept {
    const std::int64_t start = interval_of(trade.exchange_time_ns);
    if (!started_) {
        started_ = true;
        emit_cursor_ns_ = start;
        start_partial(trade, start);
        open_interval(trade, start);
        return emit(out);
    }
    if (is_duplicate(trade.trade_id)) {
        ++counters_.duplicates;
        return emit(out);
    }
    if (start < closed_until_ns_) {
        ++counters_.late;
        return emit(out);
    }
    if (has_open_ && start == open_start_ns_) {
        remember(trade.trade_id);
        ++counters_.trades;
        if (trade.price > open_.high) open_.high = trade.price;
        if (trade.price < open_.low) open_.low = trade.price;
        open_.volume += trade.size;
        const std::int64_t t = trade.exchange_time_ns;
        if (t < open_first_ns_ || (t == open_first_ns_ && trade.trade_id < open_first_id_)) {
            open_.open = trade.price;
            open_first_ns_ = t;
            open_first_id_ = trade.trade_id;
        }
        if (t > open_last_ns_ || (t == open_last_ns_ && trade.trade_id > open_last_id_)) {
            open_.close = trade.price;
            open_last_ns_ = t;
            open_last_id_ = trade.trade_id;
        }
        return emit(out);
    }
    // A later interval: the open candle closes and the intervals between are flat, unless the jump
    // is too long to fill (or on_time already found it so).
    close_open_candle();
    if (awaiting_restart_ || (start - closed_until_ns_) / granularity_ns_ > max_gap_intervals) {
        if (!awaiting_restart_) ++counters_.resyncs;
        awaiting_restart_ = false;
        if (gap_pending_) drop_pending();  // a second jump before the first was emitted
        gap_pending_ = true;
        gap_from_ns_ = closed_until_ns_;
        resume_at_ns_ = start;
        start_partial(trade, start);
    }
    open_interval(trade, start);
    return emit(out);
}

std::size_t CandleBuilder::on_time(std::int64_t now_exchange_ns, std::span<Candle> out) noexcept {
    if (!started_ || awaiting_restart_ || now_exchange_ns - grace_ns_ < 0) return emit(out);
    // Every interval that ended at or before now - grace is closed.
    const std::int64_t ended_until = interval_of(now_exchange_ns - grace_ns_);
    if (has_open_ && open_start_ns_ + granularity_ns_ <= ended_until) close_open_candle();
    if (!has_open_ && ended_until > closed_until_ns_) {
        if ((ended_until - closed_until_ns_) / granularity_ns_ > max_gap_intervals) {
            ++counters_.resyncs;  // a clock far ahead: nothing is filled, the next trade restarts
            awaiting_restart_ = true;
        } else {
            closed_until_ns_ = ended_until;
        }
    }
    return emit(out);
}

}  // namespace cbtrade
