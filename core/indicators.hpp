// Streaming indicators, O(1) per update over a fixed window, no allocation (fixed capacity).
// Sliding sums drift, so each rolling statistic is recomputed exactly once per window length:
// amortised O(1), and the error stays within a few ulps of the direct O(n) computation.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace cbtrade {

inline constexpr std::size_t max_indicator_window = 256;

// The last `window` values (fixed capacity, no allocation), oldest overwritten first.
class RollingWindow {
public:
    explicit RollingWindow(std::size_t window) noexcept
        : window_(std::clamp<std::size_t>(window, 1, max_indicator_window)) {}

    // Pushes x; returns the value that fell out (valid only when full() was true before the push).
    double push(double x) noexcept {
        const double evicted = values_[head_];
        values_[head_] = x;
        head_ = head_ + 1 == window_ ? 0 : head_ + 1;
        if (count_ < window_) ++count_;
        return evicted;
    }
    [[nodiscard]] std::size_t window() const noexcept { return window_; }
    [[nodiscard]] std::size_t count() const noexcept { return count_; }
    [[nodiscard]] bool full() const noexcept { return count_ == window_; }
    // i = 0 is the newest value, i = count()-1 the oldest.
    [[nodiscard]] double back(std::size_t i) const noexcept {
        // A compare instead of a modulo: a division by a runtime window costs ~25 cycles.
        const std::size_t back_from_head = i + 1;
        const std::size_t idx = head_ >= back_from_head ? head_ - back_from_head : head_ + window_ - back_from_head;
        return values_[idx];
    }

private:
    std::array<double, max_indicator_window> values_{};
    std::size_t window_;
    std::size_t head_ = 0;
    std::size_t count_ = 0;
};

// Mean and variance of the last `window` values (Welford add / replace, exact refresh per window).
class RollingStats {
public:
    explicit RollingStats(std::size_t window) noexcept
        : recent_(window), inv_window_(1.0 / static_cast<double>(recent_.window())) {}

    void push(double x) noexcept {
        const bool was_full = recent_.full();
        const double old = recent_.push(x);
        if (!was_full) {
            const double n = static_cast<double>(recent_.count());
            const double d = x - mean_;
            mean_ += d / n;
            m2_ += d * (x - mean_);
        } else {
            const double old_mean = mean_;
            mean_ += (x - old) * inv_window_;  // a multiply: this runs per candle, a divide is 4x slower
            const double change = (x - old) * (x - mean_ + old - old_mean);
            m2_ += change;
            churn_ += std::fabs(change);
        }
        // Refresh once per window length, and also when the spread has shrunk so far below what
        // was added and removed since the last refresh that rounding could dominate it.
        if (++since_refresh_ >= recent_.window() || m2_ < churn_ * 1e-3) refresh();
    }

    [[nodiscard]] std::size_t count() const noexcept { return recent_.count(); }
    [[nodiscard]] bool full() const noexcept { return recent_.full(); }
    [[nodiscard]] double mean() const noexcept { return mean_; }
    [[nodiscard]] double variance_population() const noexcept {
        return recent_.count() ? m2_ / static_cast<double>(recent_.count()) : 0.0;
    }
    [[nodiscard]] double variance_sample() const noexcept {
        return recent_.count() > 1 ? m2_ / static_cast<double>(recent_.count() - 1) : 0.0;
    }
    [[nodiscard]] double stddev_population() const noexcept { return std::sqrt(variance_population()); }
    [[nodiscard]] double stddev_sample() const noexcept { return std::sqrt(variance_sample()); }
    [[nodiscard]] const RollingWindow& values() const noexcept { return recent_; }

private:
    void refresh() noexcept {
        since_refresh_ = 0;
        churn_ = 0;
        const std::size_t n = recent_.count();
        double sum = 0;
        for (std::size_t i = 0; i < n; ++i) sum += recent_.back(i);
        const double mean = sum / static_cast<double>(n);
        double m2 = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const double d = recent_.back(i) - mean;
            m2 += d * d;
        }
        mean_ = mean;
        m2_ = m2;
    }

    RollingWindow recent_;
    double inv_window_;
    double mean_ = 0;
    double m2_ = 0;
    double churn_ = 0;  // sum of |changes| to m2_ since the last exact refresh
    std::size_t since_refresh_ = 0;
};

// Simple moving average; before the window fills, the mean of what has been seen. A running sum
// (no variance to keep), recomputed exactly once per window length.
class Sma {
public:
    explicit Sma(std::size_t window) noexcept
        : recent_(window), inv_window_(1.0 / static_cast<double>(recent_.window())) {}
    void push(double x) noexcept {
        const bool was_full = recent_.full();
        const double old = recent_.push(x);
        sum_ += was_full ? x - old : x;
        if (++since_refresh_ >= recent_.window()) {
            since_refresh_ = 0;
            double exact = 0;
            for (std::size_t i = 0; i < recent_.count(); ++i) exact += recent_.back(i);
            sum_ = exact;
        }
    }
    [[nodiscard]] double value() const noexcept {
        if (recent_.full()) return sum_ * inv_window_;
        return recent_.count() ? sum_ / static_cast<double>(recent_.count()) : 0.0;
    }
    [[nodiscard]] bool full() const noexcept { return recent_.full(); }

private:
    RollingWindow recent_;
    double inv_window_;
    double sum_ = 0;
    std::size_t since_refresh_ = 0;
};

// z-score of the newest value against the window that includes it (population stddev);
// 0 when the window has no spread.
class ZScore {
public:
    explicit ZScore(std::size_t window) noexcept : stats_(window) {}
    void push(double x) noexcept {
        stats_.push(x);
        last_ = x;
    }
    [[nodiscard]] double value() const noexcept {
        const double sd = stats_.stddev_population();
        return sd > 1e-12 * std::max(1.0, std::fabs(stats_.mean())) ? (last_ - stats_.mean()) / sd : 0.0;
    }
    [[nodiscard]] bool full() const noexcept { return stats_.full(); }
    [[nodiscard]] double mean() const noexcept { return stats_.mean(); }  // the window's SMA

private:
    RollingStats stats_;
    double last_ = 0;
};

// Sample stddev of log returns between consecutive prices over the last `window` returns.
class Volatility {
public:
    explicit Volatility(std::size_t window) noexcept : stats_(window) {}
    void push(double price) noexcept {
        if (prev_ > 0 && price > 0) stats_.push(std::log(price / prev_));
        prev_ = price;
    }
    // For callers that already have the log return (saves a log per update).
    void push_return(double log_return) noexcept { stats_.push(log_return); }
    [[nodiscard]] double value() const noexcept { return stats_.stddev_sample(); }
    [[nodiscard]] bool full() const noexcept { return stats_.full(); }

private:
    RollingStats stats_;
    double prev_ = 0;
};

// Wilder's RSI. The first `period` changes are averaged simply (while fewer have been seen, the
// average of those seen); after that Wilder smoothing avg = (avg * (period - 1) + x) / period.
class Rsi {
public:
    explicit Rsi(std::size_t period) noexcept
        : period_(std::max<std::size_t>(period, 1)), inv_period_(1.0 / static_cast<double>(period_)) {}

    void push(double price) noexcept {
        if (!has_prev_) {
            has_prev_ = true;
            prev_ = price;
            return;
        }
        const double change = price - prev_;
        prev_ = price;
        const double gain = change > 0 ? change : 0.0;
        const double loss = change < 0 ? -change : 0.0;
        if (changes_ < period_) {
            ++changes_;
            sum_gain_ += gain;
            sum_loss_ += loss;
            avg_gain_ = sum_gain_ / static_cast<double>(changes_);
            avg_loss_ = sum_loss_ / static_cast<double>(changes_);
        } else {
            // (avg * (p - 1) + x) / p, as a multiply: this runs once per candle.
            avg_gain_ += (gain - avg_gain_) * inv_period_;
            avg_loss_ += (loss - avg_loss_) * inv_period_;
        }
    }

    // 0..100; 50 before any change or when nothing moved.
    [[nodiscard]] double value() const noexcept {
        if (avg_loss_ == 0) return avg_gain_ == 0 ? 50.0 : 100.0;
        return 100.0 * avg_gain_ / (avg_gain_ + avg_loss_);  // = 100 - 100 / (1 + RS), one division
    }
    [[nodiscard]] bool full() const noexcept { return changes_ >= period_; }

private:
    std::size_t period_;
    double inv_period_;
    std::size_t changes_ = 0;
    bool has_prev_ = false;
    double prev_ = 0;
    double sum_gain_ = 0;
    double sum_loss_ = 0;
    double avg_gain_ = 0;
    double avg_loss_ = 0;
};

}  // namespace cbtrade
