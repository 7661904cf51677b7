// Strategy-core benchmarks on generated 1-minute candles:
//   csv_parse           the CSV reader alone on a 1,000,000-row file (the floor for a replay)
//   backtest_replay     parse + indicators + model + decide + trader over the same file, with the
//                       parse-only time of the same file measured in the same iteration beside it
//   backtest_full       what `cbtrade backtest` does: parse, fit on 70%, trade 30%
//   signal_per_candle   indicators + model + decide for one candle (p50/p99/p99.9 over batches)
//   trader_per_price    one trader price update with an open position
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

#include "bench/percentiles.hpp"
#include "core/model.hpp"
#include "core/signal_engine.hpp"
#include "exec/backtest.hpp"
#include "exec/trader.hpp"
#include "feeds/csv_candles.hpp"
#include "feeds/synthetic_market.hpp"

namespace {

using namespace cbtrade;
using clock_type = std::chrono::steady_clock;
constexpr std::size_t million = 1'000'000;
constexpr std::size_t batch = 64;

// A generated 1M-row CSV, written once per process and removed at exit.
const std::string& million_row_file() {
    static const std::string path = [] {
        std::string p = "/tmp/cbtrade_bench_" + std::to_string(::getpid()) + ".csv";
        SyntheticMarket market({.seed = 2024});
        std::string text = candles_csv_header();
        text.reserve(million * 64);
        for (std::size_t i = 0; i < million; ++i) append_candle_csv(text, market.next());
        std::ofstream(p, std::ios::binary) << text;
        std::atexit([] { std::remove(million_row_file().c_str()); });
        return p;
    }();
    return path;
}

ModelWeights fitted_model(const Config& cfg, std::span<const Candle> candles) {
    SignalEngine engine(cfg);
    std::vector<FeatureVector> x;
    std::vector<std::uint8_t> y;
    for (std::size_t i = 0; i + 1 < candles.size(); ++i) {
        (void)engine.on_candle(candles[i]);
        if (engine.features().warm()) {
            x.push_back(engine.features().features());
            y.push_back(candles[i + 1].close > candles[i].close);
        }
    }
    return fit_logistic(x, y, cfg.model_mode);
}

Config bench_config(ModelMode mode) {
    Config c;
    c.model_mode = mode;
    return c;
}

void csv_parse(benchmark::State& state) {
    const std::string& path = million_row_file();
    std::size_t rows = 0;
    for (auto _ : state) {
        const auto data = read_candles_csv(path);
        rows = data.candles.size();
        benchmark::DoNotOptimize(data.candles.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(rows * state.iterations()));
    state.counters["candles_per_s"] =
        benchmark::Counter(static_cast<double>(rows * state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(csv_parse)->Unit(benchmark::kMillisecond)->MinTime(2);

void backtest_replay(benchmark::State& state) {
    const std::string& path = million_row_file();
    const Config cfg = bench_config(static_cast<ModelMode>(state.range(0)));
    const auto sample = read_candles_csv(path).candles;
    const ModelWeights model = fitted_model(cfg, std::span<const Candle>(sample).first(20000));
    double parse_s = 0, replay_s = 0;
    std::size_t rows = 0, trades = 0;
    for (auto _ : state) {
        auto t0 = clock_type::now();
        {
            const auto parse_only = read_candles_csv(path);
            benchmark::DoNotOptimize(parse_only.candles.data());
        }
        auto t1 = clock_type::now();
        const auto data = read_candles_csv(path);
        const BacktestReport r = replay_with_model(data.candles, cfg, model);
        auto t2 = clock_type::now();
        parse_s += std::chrono::duration<double>(t1 - t0).count();
        replay_s += std::chrono::duration<double>(t2 - t1).count();
        rows = data.candles.size();
        trades = r.trades;
        benchmark::DoNotOptimize(r.final_equity_usd);
    }
    const double n = static_cast<double>(state.iterations());
    state.counters["replay_candles_per_s"] = static_cast<double>(rows) * n / replay_s;
    state.counters["parse_only_candles_per_s"] = static_cast<double>(rows) * n / parse_s;
    state.counters["replay_over_parse"] = replay_s / parse_s;
    state.counters["trades"] = static_cast<double>(trades);
}
BENCHMARK(backtest_replay)
    ->Arg(0)
    ->Arg(1)
    ->ArgName("extended")
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3)
    ->UseRealTime();

void backtest_full(benchmark::State& state) {
    const std::string& path = million_row_file();
    Config cfg = bench_config(ModelMode::extended);
    for (auto _ : state) {
        const auto data = read_candles_csv(path);
        const BacktestReport r = run_backtest(data.candles, cfg);
        benchmark::DoNotOptimize(r.final_equity_usd);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(million * state.iterations()));
}
BENCHMARK(backtest_full)->Unit(benchmark::kMillisecond)->MinTime(2)->UseRealTime();

void signal_per_candle(benchmark::State& state) {
    const Config cfg = bench_config(static_cast<ModelMode>(state.range(0)));
    const auto candles = SyntheticMarket({.seed = 9}).take(200000);
    const ModelWeights model = fitted_model(cfg, std::span<const Candle>(candles).first(20000));
    SignalEngine engine(cfg);
    engine.set_model(&model);
    bench::LatencySamples samples;
    std::size_t i = 0;
    for (auto _ : state) {
        const auto t0 = clock_type::now();
        for (std::size_t k = 0; k < batch; ++k) {
            auto d = engine.on_candle(candles[i]);
            benchmark::DoNotOptimize(d);
            if (++i == candles.size()) i = 0;
        }
        samples.add(clock_type::now() - t0, batch);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(batch * state.iterations()));
    samples.report(state);
}
BENCHMARK(signal_per_candle)->Arg(0)->Arg(1)->ArgName("extended");

void trader_per_price(benchmark::State& state) {
    TraderParams p;
    p.stop_loss_pct = 50;  // never triggers: measures the common path of a marked position
    p.take_profit_pct = 50;
    Trader trader(p, 1e6);
    const PaperBroker broker(60, 2);
    const auto req = trader.on_decision(Decision{1704067200, 40000, 0.9, 1.0, Signal::buy, 0});
    trader.on_fill(broker.fill(*req, 40000));
    bench::LatencySamples samples;
    double price = 40000;
    std::int64_t t = 1704067200;
    for (auto _ : state) {
        const auto t0 = clock_type::now();
        for (std::size_t k = 0; k < batch; ++k) {
            price += (k & 1) ? 0.5 : -0.5;
            auto r = trader.on_price(price, ++t);
            benchmark::DoNotOptimize(r);
        }
        samples.add(clock_type::now() - t0, batch);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(batch * state.iterations()));
    samples.report(state);
}
BENCHMARK(trader_per_price);

}  // namespace

BENCHMARK_MAIN();
