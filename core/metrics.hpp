// core/metrics: counters, gauges and latency histograms that hot threads update with no lock, no
// lookup and no allocation, and that the ops thread renders as Prometheus text (format 0.0.4).
//
// Handles are resolved once at start-up (`Counter& c = registry.counter(name, labels, help)`) and
// stay valid for the registry's lifetime. Updates go to a per-thread, cache-line-aligned cell: a
// thread takes one of max_metric_threads slots on its first update and keeps it in a thread_local
// (given back when the thread exits, with the values left in the cells). Slots 0..N-2 have one
// writer at a time, so an update is a relaxed load + store (a plain add); threads beyond that share
// the last slot and use an atomic add, so counts stay exact whatever the thread count. A reader sums
// the cells: each cell is exact, the total is a moment-in-time-ish sum (no snapshot across cells).
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/cpu.hpp"  // cache_line

namespace cbtrade {

inline constexpr std::size_t max_metric_threads = 8;
inline constexpr unsigned shared_metric_slot = max_metric_threads - 1;

namespace metrics_detail {
// Slot of this thread, -1 until its first update. Written and read by this thread only.
constinit inline thread_local int tls_slot __attribute__((tls_model("initial-exec"))) = -1;
// Cold: claims a free slot (or the shared one) and arranges its release at thread exit.
[[nodiscard]] int claim_slot() noexcept;

[[nodiscard]] inline unsigned thread_slot() noexcept {
    int s = tls_slot;
    if (s < 0) [[unlikely]]
        s = claim_slot();
    return static_cast<unsigned>(s);
}

// One writer per slot except the shared one: plain add, or an atomic add on the shared slot.
inline void add(std::atomic<std::uint64_t>& cell, unsigned slot, std::uint64_t n) noexcept {
    if (slot != shared_metric_slot) [[likely]]
        cell.store(cell.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    else cell.fetch_add(n, std::memory_order_relaxed);
}
}  // namespace metrics_detail

// Which slot the calling thread updates (claims one on first use). For tests and diagnostics.
[[nodiscard]] inline unsigned metrics_thread_slot() noexcept {
    return metrics_detail::thread_slot();
}

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Counter {
public:
    void inc(std::uint64_t n = 1) noexcept {
        const unsigned s = metrics_detail::thread_slot();
        metrics_detail::add(cells_[s].value, s, n);
    }
    [[nodiscard]] std::uint64_t value() const noexcept {
        std::uint64_t sum = 0;
        for (const Cell& c : cells_) sum += c.value.load(std::memory_order_relaxed);
        return sum;
    }

private:
    struct alignas(cache_line) Cell {
        // writer: the thread owning the slot (any thread on the shared slot, by fetch_add); reader:
        // render/value(). Relaxed: a count is independent data, no other memory is published with it.
        std::atomic<std::uint64_t> value{0};
    };
    std::array<Cell, max_metric_threads> cells_{};
};
static_assert(sizeof(Counter) == max_metric_threads * cache_line);

// Last value wins; meant to have one writer at a time (set), add() is a CAS loop for the rare
// gauge that several threads move.
class Gauge {
public:
    void set(double v) noexcept { bits_.store(std::bit_cast<std::uint64_t>(v), std::memory_order_relaxed); }
    void add(double d) noexcept {
        std::uint64_t old = bits_.load(std::memory_order_relaxed);
        while (!bits_.compare_exchange_weak(old, std::bit_cast<std::uint64_t>(std::bit_cast<double>(old) + d),
                                            std::memory_order_relaxed)) {}
    }
    [[nodiscard]] double value() const noexcept { return std::bit_cast<double>(bits_.load(std::memory_order_relaxed)); }

private:
    // writer: the owning stage (set) or any thread (add, CAS); reader: render/value(). Relaxed: the
    // value is self-contained. Kept as the double's bits: a plain 64-bit atomic, always lock-free.
    alignas(cache_line) std::atomic<std::uint64_t> bits_{0};
};

// Upper bounds of the latency buckets, in seconds (the metrics contract) and in nanoseconds.
inline constexpr std::array<double, 18> latency_bounds_s = {1e-7, 2.5e-7, 5e-7, 1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5,
                                                            1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 0.1,    1};
inline constexpr std::array<std::int32_t, 18> latency_bounds_ns = {
    100,     250,     500,     1'000,     2'500,     5'000,     10'000,     25'000,      50'000,
    100'000, 250'000, 500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000, 100'000'000, 1'000'000'000};
inline constexpr std::size_t latency_buckets = latency_bounds_ns.size() + 1;  // + the +Inf bucket

// Index of the bucket for `ns`: the number of bounds below it (observations equal to a bound go in
// that bound's bucket, as `le` says). Branch-free: 20 compares on int32 lanes, which the compiler
// vectorises; values above ~2.1 s are clamped (they all land in +Inf).
[[nodiscard]] inline unsigned latency_bucket(std::uint64_t ns) noexcept {
    alignas(cache_line) static constexpr std::array<std::int32_t, 20> padded = [] {
        std::array<std::int32_t, 20> a{};
        for (std::size_t i = 0; i < a.size(); ++i)
            a[i] = i < latency_bounds_ns.size() ? latency_bounds_ns[i] : INT32_MAX;
        return a;
    }();
    const std::int32_t v =
        ns > static_cast<std::uint64_t>(INT32_MAX - 1) ? INT32_MAX - 1 : static_cast<std::int32_t>(ns);
    unsigned idx = 0;
    for (const std::int32_t b : padded) idx += static_cast<unsigned>(v > b);
    return idx;
}

// Latency histogram with the contract's buckets; observations in integer nanoseconds. _count is the
// sum of the buckets, so it always matches the +Inf bucket.
class Histogram {
public:
    void observe_ns(std::uint64_t ns) noexcept {
        const unsigned s = metrics_detail::thread_slot();
        Cell& c = cells_[s];
        metrics_detail::add(c.buckets[latency_bucket(ns)], s, 1);
        metrics_detail::add(c.sum_ns, s, ns);
    }

    struct Snapshot {
        std::array<std::uint64_t, latency_buckets> buckets{};  // per bucket, not cumulative
        std::uint64_t sum_ns = 0;
        [[nodiscard]] std::uint64_t count() const noexcept {
            std::uint64_t n = 0;
            for (const std::uint64_t b : buckets) n += b;
            return n;
        }
    };
    [[nodiscard]] Snapshot snapshot() const noexcept {
        Snapshot out;
        for (const Cell& c : cells_) {
            for (std::size_t i = 0; i < latency_buckets; ++i)
                out.buckets[i] += c.buckets[i].load(std::memory_order_relaxed);
            out.sum_ns += c.sum_ns.load(std::memory_order_relaxed);
        }
        return out;
    }

private:
    struct alignas(cache_line) Cell {
        // writer: the thread owning the slot (any thread on the shared slot, by fetch_add); reader:
        // render/snapshot(). Relaxed: independent counts; a reader may see a bucket before the sum.
        std::array<std::atomic<std::uint64_t>, latency_buckets> buckets{};
        std::atomic<std::uint64_t> sum_ns{0};  // same writer/reader/order as the buckets
    };
    std::array<Cell, max_metric_threads> cells_{};
};

// The registry: owns every series, renders them. Registration (counter/gauge/histogram) is for
// start-up and takes a mutex; registering an existing name + labels returns the same handle;
// a bad name, label or a type clash throws std::invalid_argument. Updates never touch the registry.
class MetricsRegistry {
public:
    MetricsRegistry() = default;
    MetricsRegistry(const MetricsRegistry&) = delete;
    MetricsRegistry& operator=(const MetricsRegistry&) = delete;

    [[nodiscard]] Counter& counter(std::string_view name, const MetricLabels& labels, std::string_view help);
    [[nodiscard]] Gauge& gauge(std::string_view name, const MetricLabels& labels, std::string_view help);
    [[nodiscard]] Histogram& histogram(std::string_view name, const MetricLabels& labels, std::string_view help);

    // Appends the text exposition (format 0.0.4): families in registration order, HELP and TYPE
    // once per family, series in registration order, histograms with cumulative _bucket (le in
    // seconds, with +Inf), _sum in seconds and _count. Reads only the atomics; safe from any thread
    // at any time, concurrently with updates.
    void render_prometheus(std::string& out) const;

private:
    enum class Type : std::uint8_t { counter, gauge, histogram };
    struct Series {
        std::string labels;  // rendered `a="x",b="y"` (empty when none), escaped
        void* handle;        // Counter*, Gauge* or Histogram*, owned by the deques below
    };
    struct Family {
        std::string name;
        std::string help;
        Type type;
        std::vector<Series> series;
    };
    void* find_or_add(std::string_view name, const MetricLabels& labels, std::string_view help, Type type);

    mutable std::mutex mutex_;  // registration vs render; never taken by updates
    std::vector<Family> families_;
    std::deque<Counter> counters_;  // deque: stable addresses as it grows
    std::deque<Gauge> gauges_;
    std::deque<Histogram> histograms_;
};

// Prometheus text escaping: label values escape \ " and newline; HELP escapes \ and newline.
void append_escaped_label_value(std::string& out, std::string_view v);
void append_escaped_help(std::string& out, std::string_view v);
// A sample value: shortest round-trip decimal, or NaN / +Inf / -Inf.
void append_sample_value(std::string& out, double v);

}  // namespace cbtrade
