// The whole pipeline (signal, exec, ops on their threads) from a scripted source: fused on one
// thread and split over two give the same decisions and fills, the recording replays to the same
// decision log, every record is drained on stop, and the halt and freshness gates hold.
#include "pipeline/pipeline.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "core/metrics.hpp"
#include "core/thread_placement.hpp"
#include "feeds/csv_candles.hpp"
#include "pipeline/history.hpp"
#include "pipeline/replay.hpp"
#include "tests/pipeline/scripted_source.hpp"

namespace cbtrade {
namespace {

using testing::Market;
using testing::ScriptedSource;

std::string temp_path(const std::string& name) {
    return ::testing::TempDir() + "cbtrade_pipe_" + std::to_string(::getpid()) + "_" + name;
}

std::string write_history(const std::vector<Candle>& candles, const std::string& name) {
    std::string text = candles_csv_header();
    for (const Candle& c : candles) append_candle_csv(text, c);
    std::string path = temp_path(name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

std::vector<std::string> read_lines(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

std::size_t count_prefix(const std::vector<std::string>& lines, const std::string& prefix) {
    std::size_t n = 0;
    for (const auto& l : lines) n += l.rfind(prefix, 0) == 0;
    return n;
}

struct RunResult {
    PipelineSummary summary;
    std::vector<std::string> log;
};

struct RunOptions {
    std::vector<std::pair<std::string, std::string>> keys;  // extra config
    bool start_fresh = true;
    const std::atomic<std::uint32_t>* usr1 = nullptr;
    std::function<void(Pipeline&)> during;  // called while running
    std::int64_t pace_ns = 0;               // ScriptedSource pacing
};

RunOptions with_keys(std::vector<std::pair<std::string, std::string>> keys, bool start_fresh = true) {
    RunOptions o;
    o.keys = std::move(keys);
    o.start_fresh = start_fresh;
    return o;
}

Config config_with(const std::vector<std::pair<std::string, std::string>>& kv) {
    ConfigEntries e;
    for (const auto& [k, v] : kv) e[k] = ConfigEntry{v, "test"};
    return apply_entries(e).config;
}

RunResult run(const Market& m, const std::string& tag, RunOptions o = {}) {
    std::vector<std::pair<std::string, std::string>> keys{
        {"IDLE_POLICY", "sleep"}, {"DECISION_LOG", temp_path(tag + ".log")}, {"RECORD_TICKS", temp_path(tag + ".rec")}};
    keys.insert(keys.end(), o.keys.begin(), o.keys.end());
    const Config c = config_with(keys);
    const PreparedHistory h = prepare_history(c, write_history(m.history, tag + ".csv"));
    EXPECT_TRUE(h.model.has_value()) << h.not_trading;
    MetricsRegistry registry;
    BotMetrics metrics(registry, BuildInfo{});
    const TscClock clock = TscClock::quick();
    PipelineSetup s = testing::setup_from(c, h, metrics, clock);
    s.usr1_count = o.usr1;
    ScriptedSource* source = nullptr;
    const auto script = testing::script_from(m.live, o.start_fresh);
    s.source = [&](MarketRing& out, BotMetrics&) {
        auto p = std::make_unique<ScriptedSource>(out, script, 4, o.pace_ns);
        source = p.get();
        return std::unique_ptr<SourceStage>(std::move(p));
    };
    RunResult r;
    {
        Pipeline p(std::move(s));
        (void)p.start();
        if (o.during) o.during(p);
        while (!source->done()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
        p.stop();
        r.summary = p.summary();
        EXPECT_EQ(metrics.orders(OrderMode::paper, OrderSideIndex::buy).value(), r.summary.orders_buy);
        EXPECT_EQ(metrics.orders(OrderMode::live, OrderSideIndex::buy).value(), 0u);
        EXPECT_EQ(metrics.candles.value(), r.summary.candles);
    }
    r.log = read_lines(temp_path(tag + ".log"));
    return r;
}

const Market& market() {
    static const Market m = testing::make_market(600, 240);
    return m;
}

TEST(Pipeline, fused_on_one_thread_drains_everything_and_trades) {
    const RunResult r =
        run(market(), "fused", with_keys({{"CPU_FEED", "none"}, {"CPU_SIGNAL", "none"}, {"CPU_EXEC", "none"}}));
    const PipelineSummary& s = r.summary;
    EXPECT_EQ(s.trades, market().live.size() * 6);
    EXPECT_EQ(s.candles, market().live.size() - 1) << "the last candle is still open";
    EXPECT_EQ(s.decisions[0] + s.decisions[1] + s.decisions[2], s.candles);
    EXPECT_EQ(s.ring_full[0] + s.ring_full[1] + s.ring_full[2], 0u);
    EXPECT_EQ(s.drain_timed_out, "");
    EXPECT_TRUE(s.not_trading.empty()) << s.not_trading;
    EXPECT_GT(s.orders_buy, 0u) << summary_text(s);
    EXPECT_GT(s.trader.round_trips, 0u) << summary_text(s);
    EXPECT_EQ(count_prefix(r.log, R"({"type":"decision")"), s.candles);
    EXPECT_EQ(count_prefix(r.log, R"({"type":"fill")"), s.orders_buy + s.orders_sell);
    EXPECT_EQ(s.t2d_count, s.trades + s.candles) << "every price record reached the exec stage";
    EXPECT_EQ(s.decision_log_lines,
              count_prefix(r.log, R"({"type":"decision")") + count_prefix(r.log, R"({"type":"fill")"));
}

TEST(Pipeline, split_over_two_threads_decides_and_fills_exactly_as_fused) {
    const std::vector<int> cores = allowed_cores();
    const std::string a = std::to_string(cores.front()), b = std::to_string(cores.back());
    const RunResult fused = run(market(), "f2", with_keys({{"CPU_FEED", a}, {"CPU_SIGNAL", a}, {"CPU_EXEC", a}}));
    const RunResult split = run(market(), "s2", with_keys({{"CPU_FEED", a}, {"CPU_SIGNAL", b}, {"CPU_EXEC", b}}));
    ASSERT_GT(fused.log.size(), 10u);
    EXPECT_EQ(fused.log, split.log);
    const RunResult three = run(market(), "s3", with_keys({{"CPU_FEED", "none"}, {"CPU_SIGNAL", a}, {"CPU_EXEC", b}}));
    EXPECT_EQ(fused.log, three.log);
}

TEST(Pipeline, recording_replays_to_the_identical_decision_log) {
    const RunResult live =
        run(market(), "parity", with_keys({{"CPU_FEED", "none"}, {"CPU_SIGNAL", "none"}, {"CPU_EXEC", "none"}}));
    const Config c = config_with({});
    const PreparedHistory h = prepare_history(c, temp_path("parity.csv"));
    RecordingReader reader(temp_path("parity.rec"));
    std::vector<std::string> lines;
    const ReplayResult r = replay_recording(c, h, reader, [&](const std::string& l) { lines.push_back(l); });
    EXPECT_EQ(r.lost_events, 0u);
    EXPECT_EQ(r.trades, live.summary.trades);
    const LogComparison cmp = compare_decision_log(temp_path("parity.log"), lines);
    EXPECT_TRUE(cmp.identical) << cmp.message;
    EXPECT_EQ(cmp.compared, live.summary.decision_log_lines);
}

TEST(Pipeline, tick_price_mode_decides_on_every_trade_and_still_replays_identically) {
    const RunResult live = run(
        market(), "tick",
        with_keys({{"USE_TICK_PRICE", "true"}, {"CPU_FEED", "none"}, {"CPU_SIGNAL", "none"}, {"CPU_EXEC", "none"}}));
    const std::uint64_t decisions = live.summary.decisions[0] + live.summary.decisions[1] + live.summary.decisions[2];
    EXPECT_GT(decisions, live.summary.candles + live.summary.trades / 2);
    const Config c = config_with({{"USE_TICK_PRICE", "true"}});
    const PreparedHistory h = prepare_history(c, temp_path("tick.csv"));
    RecordingReader reader(temp_path("tick.rec"));
    std::vector<std::string> lines;
    (void)replay_recording(c, h, reader, [&](const std::string& l) { lines.push_back(l); });
    const LogComparison cmp = compare_decision_log(temp_path("tick.log"), lines);
    EXPECT_TRUE(cmp.identical) << cmp.message;
}

TEST(Pipeline, walk_forward_refits_reach_the_signal_stage_and_replay_identically) {
    const std::vector<std::pair<std::string, std::string>> keys{
        {"MODEL_MODE", "extended"}, {"WALK_FORWARD_MIN", "30"}, {"WALK_FORWARD_WINDOW", "300"}};
    auto all = keys;
    all.insert(all.end(), {{"CPU_FEED", "none"}, {"CPU_SIGNAL", "none"}, {"CPU_EXEC", "none"}});
    RunOptions o = with_keys(all);
    o.pace_ns = 200'000;  // ~0.2 s for the whole script: the ops thread's refits land mid-run
    const RunResult live = run(market(), "wf", o);
    EXPECT_GE(live.summary.walk_forward_fits, 5u) << "240 live minutes, a refit every 30";
    const Config c = config_with(keys);
    const PreparedHistory h = prepare_history(c, temp_path("wf.csv"));
    RecordingReader reader(temp_path("wf.rec"));
    std::vector<std::string> lines;
    const ReplayResult r = replay_recording(c, h, reader, [&](const std::string& l) { lines.push_back(l); });
    std::size_t adopted = 0;
    for (const std::string& l : read_lines(temp_path("wf.rec"))) adopted += l.rfind("M ", 0) == 0;
    ASSERT_GE(adopted, 2u) << "the start-up model and at least one refit were adopted";
    EXPECT_EQ(r.refits, adopted - 1) << "the replay refits exactly where the live run adopted";
    const LogComparison cmp = compare_decision_log(temp_path("wf.log"), lines);
    EXPECT_TRUE(cmp.identical) << cmp.message;
}

TEST(Pipeline, no_entry_while_the_feed_has_not_been_fresh) {
    const RunResult r = run(market(), "stale", with_keys({}, /*start_fresh=*/false));
    EXPECT_EQ(r.summary.orders_buy + r.summary.orders_sell, 0u);
    EXPECT_GT(r.summary.trader.blocked_market_data, 0u);
    EXPECT_EQ(r.summary.candles, market().live.size() - 1) << "candles and decisions still run";
}

TEST(Pipeline, halt_file_present_at_start_blocks_every_entry) {
    const std::string halt = temp_path("halt");
    std::ofstream(halt) << "stop\n";
    const RunResult r = run(market(), "halt", with_keys({{"HALT_FILE", halt}}));
    ::unlink(halt.c_str());
    EXPECT_EQ(r.summary.orders_buy + r.summary.orders_sell, 0u);
    EXPECT_GT(r.summary.trader.blocked_halt, 0u);
}

TEST(Pipeline, sigusr1_presses_toggle_the_halt) {
    std::atomic<std::uint32_t> usr1{0};
    RunOptions o;
    o.usr1 = &usr1;
    o.during = [&](Pipeline& p) {
        usr1.fetch_add(1);
        for (int i = 0; i < 500 && !p.halted(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
        EXPECT_TRUE(p.halted());
        usr1.fetch_add(1);
        for (int i = 0; i < 500 && p.halted(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
        EXPECT_FALSE(p.halted());
    };
    const RunResult r = run(market(), "usr1", o);
    EXPECT_EQ(count_prefix(r.log, R"({"type":"halt","on":true,"by":"SIGUSR1"})"), 1u);
    EXPECT_EQ(count_prefix(r.log, R"({"type":"halt","on":false,"by":"SIGUSR1"})"), 1u);
}

TEST(Pipeline, history_that_does_not_join_the_live_data_never_trades_and_says_why) {
    Market m = market();
    for (Candle& c : m.live) c.time_s += 3600;  // an hour of missing candles
    const RunResult r = run(m, "gap", with_keys({{"HISTORY_MAX_GAP_CANDLES", "2"}}));
    EXPECT_EQ(r.summary.orders_buy + r.summary.orders_sell, 0u);
    EXPECT_EQ(r.summary.decisions[0] + r.summary.decisions[1] + r.summary.decisions[2], 0u);
    EXPECT_NE(r.summary.not_trading.find("60 candles missing, HISTORY_MAX_GAP_CANDLES=2"), std::string::npos)
        << r.summary.not_trading;
}

}  // namespace
}  // namespace cbtrade
