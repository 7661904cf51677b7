// Latency percentiles as Google Benchmark counters (p50/p99/p99.9 and max, in ns).
//
// Timing one call of a few nanoseconds with a clock read costs as much as the call, so callers time
// batches of `batch` operations and record the per-operation average of each batch; the
// percentiles are over batches. Samples are kept in a preallocated vector.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace cbtrade::bench {

class LatencySamples {
public:
    explicit LatencySamples(std::size_t capacity = 1u << 20) { ns_.reserve(capacity); }

    void add(std::chrono::steady_clock::duration d, std::size_t ops_in_batch) {
        if (ns_.size() == ns_.capacity()) return;
        ns_.push_back(static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()) /
                      static_cast<double>(ops_in_batch));
    }

    // One latency measured on its own (not a batch average), in ns.
    void add_ns(double ns) {
        if (ns_.size() == ns_.capacity()) return;
        ns_.push_back(ns);
    }

    [[nodiscard]] std::size_t size() const noexcept { return ns_.size(); }

    // Adds p50_ns, p99_ns, p999_ns and max_ns counters (each name after `prefix`) to the state.
    void report(benchmark::State& state, const std::string& prefix = "") {
        if (ns_.empty()) return;
        std::sort(ns_.begin(), ns_.end());
        auto at = [&](double q) {
            return ns_[std::min(ns_.size() - 1, static_cast<std::size_t>(q * static_cast<double>(ns_.size())))];
        };
        state.counters[prefix + "p50_ns"] = at(0.50);
        state.counters[prefix + "p99_ns"] = at(0.99);
        state.counters[prefix + "p999_ns"] = at(0.999);
        state.counters[prefix + "max_ns"] = ns_.back();
    }

private:
    std::vector<double> ns_;
};

}  // namespace cbtrade::bench
