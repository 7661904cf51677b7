#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/bot_metrics.hpp"
#include "core/metrics.hpp"

namespace cbtrade {
namespace {

std::string render(const MetricsRegistry& r) {
    std::string out;
    r.render_prometheus(out);
    return out;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST(Metrics, counter_sums_increments_from_four_threads_exactly) {
    MetricsRegistry r;
    Counter& c = r.counter("test_events_total", {}, "events");
    constexpr int threads = 4, per_thread = 1'000'000;
    std::vector<std::thread> ts;
    ts.reserve(threads);
    for (int t = 0; t < threads; ++t)
        ts.emplace_back([&c] {
            for (int i = 0; i < per_thread; ++i) c.inc();
        });
    for (auto& t : ts) t.join();
    EXPECT_EQ(c.value(), std::uint64_t{threads} * per_thread);
}

TEST(Metrics, counts_stay_exact_with_more_threads_than_slots) {
    MetricsRegistry r;
    Counter& c = r.counter("test_many_total", {}, "events");
    Histogram& h = r.histogram("test_many_seconds", {}, "latency");
    constexpr int threads = 3 * max_metric_threads, per_thread = 100'000;
    std::vector<std::thread> ts;
    ts.reserve(threads);
    for (int t = 0; t < threads; ++t)
        ts.emplace_back([&] {
            for (int i = 0; i < per_thread; ++i) {
                c.inc(2);
                h.observe_ns(1000);
            }
        });
    for (auto& t : ts) t.join();
    EXPECT_EQ(c.value(), 2ull * threads * per_thread);
    const auto snap = h.snapshot();
    EXPECT_EQ(snap.count(), std::uint64_t{threads} * per_thread);
    EXPECT_EQ(snap.sum_ns, 1000ull * threads * per_thread);
}

TEST(Metrics, a_thread_gives_its_slot_back_when_it_exits) {
    unsigned first = 0, second = 0;
    std::thread([&] { first = metrics_thread_slot(); }).join();
    std::thread([&] { second = metrics_thread_slot(); }).join();
    EXPECT_EQ(first, second);
    EXPECT_NE(first, shared_metric_slot);
}

TEST(Metrics, same_name_and_labels_give_the_same_handle) {
    MetricsRegistry r;
    Counter& a = r.counter("test_total", {{"k", "v"}}, "help");
    Counter& b = r.counter("test_total", {{"k", "v"}}, "help");
    Counter& c = r.counter("test_total", {{"k", "w"}}, "help");
    EXPECT_EQ(&a, &b);
    EXPECT_NE(&a, &c);
    // stable while the registry grows
    for (int i = 0; i < 1000; ++i) (void)r.counter("test_total", {{"k", std::to_string(i)}}, "help");
    a.inc(3);
    EXPECT_EQ(r.counter("test_total", {{"k", "v"}}, "help").value(), 3u);
}

TEST(Metrics, bad_names_and_type_clashes_throw_at_registration) {
    MetricsRegistry r;
    EXPECT_THROW((void)r.counter("1bad", {}, ""), std::invalid_argument);
    EXPECT_THROW((void)r.counter("bad-name", {}, ""), std::invalid_argument);
    EXPECT_THROW((void)r.counter("ok_total", {{"__reserved", "x"}}, ""), std::invalid_argument);
    EXPECT_THROW((void)r.counter("ok_total", {{"a", "x"}, {"a", "y"}}, ""), std::invalid_argument);
    EXPECT_THROW((void)r.histogram("ok_seconds", {{"le", "1"}}, ""), std::invalid_argument);
    (void)r.counter("ok_total", {}, "");
    EXPECT_THROW((void)r.gauge("ok_total", {}, ""), std::invalid_argument);
    (void)r.histogram("lat_seconds", {}, "");
    EXPECT_THROW((void)r.counter("lat_seconds_count", {}, ""), std::invalid_argument);
}

TEST(Metrics, gauge_set_get_and_add) {
    MetricsRegistry r;
    Gauge& g = r.gauge("test_gauge", {}, "g");
    EXPECT_EQ(g.value(), 0.0);
    g.set(-12.5);
    EXPECT_EQ(g.value(), -12.5);
    g.add(2.25);
    EXPECT_EQ(g.value(), -10.25);
    g.set(0.1);
    EXPECT_TRUE(contains(render(r), "test_gauge 0.1\n"));
    g.set(std::numeric_limits<double>::quiet_NaN());
    EXPECT_TRUE(std::isnan(g.value()));
    EXPECT_TRUE(contains(render(r), "test_gauge NaN\n"));
    g.set(-std::numeric_limits<double>::infinity());
    EXPECT_TRUE(contains(render(r), "test_gauge -Inf\n"));
}

TEST(Metrics, histogram_bucket_edges_are_inclusive_upper_bounds) {
    EXPECT_EQ(latency_bucket(0), 0u);
    EXPECT_EQ(latency_bucket(100), 0u);  // le="1e-07" holds exactly 100 ns
    EXPECT_EQ(latency_bucket(101), 1u);
    EXPECT_EQ(latency_bucket(250), 1u);
    EXPECT_EQ(latency_bucket(251), 2u);
    for (std::size_t i = 0; i < latency_bounds_ns.size(); ++i) {
        const auto b = static_cast<std::uint64_t>(latency_bounds_ns[i]);
        EXPECT_EQ(latency_bucket(b), i) << b;
        EXPECT_EQ(latency_bucket(b + 1), i + 1) << b + 1;
        EXPECT_NEAR(latency_bounds_s[i] * 1e9, static_cast<double>(b), 1e-6 * static_cast<double>(b));
    }
    EXPECT_EQ(latency_bucket(1'000'000'001), latency_buckets - 1);
    EXPECT_EQ(latency_bucket(std::numeric_limits<std::uint64_t>::max()), latency_buckets - 1);
    EXPECT_EQ(latency_bucket(std::uint64_t{1} << 40), latency_buckets - 1);
}

TEST(Metrics, histogram_renders_cumulative_buckets_sum_and_count) {
    MetricsRegistry r;
    Histogram& h = r.histogram("test_latency_seconds", {{"stage", "decode"}}, "latency");
    h.observe_ns(50);             // le 1e-07
    h.observe_ns(100);            // le 1e-07
    h.observe_ns(3'000);          // le 5e-06
    h.observe_ns(2'000'000'000);  // +Inf
    const std::string out = render(r);
    EXPECT_TRUE(contains(out, "# HELP test_latency_seconds latency\n# TYPE test_latency_seconds histogram\n"));
    EXPECT_TRUE(contains(out, "test_latency_seconds_bucket{stage=\"decode\",le=\"1e-07\"} 2\n"));
    EXPECT_TRUE(contains(out, "test_latency_seconds_bucket{stage=\"decode\",le=\"2.5e-06\"} 2\n"));
    EXPECT_TRUE(contains(out, "test_latency_seconds_bucket{stage=\"decode\",le=\"5e-06\"} 3\n"));
    EXPECT_TRUE(contains(out, "test_latency_seconds_bucket{stage=\"decode\",le=\"1\"} 3\n"));
    EXPECT_TRUE(contains(out, "test_latency_seconds_bucket{stage=\"decode\",le=\"+Inf\"} 4\n"));
    EXPECT_TRUE(contains(out, "test_latency_seconds_sum{stage=\"decode\"} 2.00000315\n"));
    EXPECT_TRUE(contains(out, "test_latency_seconds_count{stage=\"decode\"} 4\n"));
    std::size_t buckets = 0;
    for (std::size_t p = out.find("_bucket{"); p != std::string::npos; p = out.find("_bucket{", p + 1)) ++buckets;
    EXPECT_EQ(buckets, latency_buckets);
}

TEST(Metrics, label_values_and_help_are_escaped) {
    MetricsRegistry r;
    r.counter("test_escape_total", {{"path", "C:\\dir\\\"x\"\nnext"}}, "line one\nback\\slash \"quoted\"").inc();
    const std::string out = render(r);
    EXPECT_TRUE(contains(out, "# HELP test_escape_total line one\\nback\\\\slash \"quoted\"\n")) << out;
    EXPECT_TRUE(contains(out, "test_escape_total{path=\"C:\\\\dir\\\\\\\"x\\\"\\nnext\"} 1\n")) << out;
}

TEST(Metrics, help_and_type_once_per_family_in_registration_order) {
    MetricsRegistry r;
    (void)r.counter("b_total", {{"k", "1"}}, "b");
    (void)r.gauge("a_gauge", {}, "a");
    (void)r.counter("b_total", {{"k", "2"}}, "b");
    const std::string out = render(r);
    EXPECT_EQ(out,
              "# HELP b_total b\n# TYPE b_total counter\nb_total{k=\"1\"} 0\nb_total{k=\"2\"} 0\n"
              "# HELP a_gauge a\n# TYPE a_gauge gauge\na_gauge 0\n");
    EXPECT_EQ(out, render(r));  // deterministic
}

TEST(Metrics, bot_metrics_export_the_whole_contract_from_the_start) {
    MetricsRegistry r;
    BotMetrics m(r, BuildInfo{"0.1.0", "5.5.4 system", "no"});
    m.set_model_mode(ModelMode::extended);
    m.orders(OrderMode::paper, OrderSideIndex::sell).inc();
    m.stage_latency(StageLabel::exec).observe_ns(700);
    const std::string out = render(r);
    for (const char* s : {"bot_orders_total{mode=\"paper\",side=\"BUY\"} 0",
                          "bot_orders_total{mode=\"paper\",side=\"SELL\"} 1",
                          "bot_orders_total{mode=\"live\",side=\"BUY\"} 0",
                          "bot_orders_total{mode=\"live\",side=\"SELL\"} 0",
                          "bot_decisions_total{signal=\"buy\"} 0",
                          "bot_decisions_total{signal=\"sell\"} 0",
                          "bot_decisions_total{signal=\"flat\"} 0",
                          "bot_equity_usd 0",
                          "bot_model_mode{mode=\"baseline\"} 0",
                          "bot_model_mode{mode=\"extended\"} 1",
                          "bot_vol_risk_factor 1",
                          "bot_walk_forward_fits_total 0",
                          "bot_build_info{version=\"0.1.0\",wolfssl=\"5.5.4 system\",aesni=\"no\"} 1",
                          "bot_trades_total 0",
                          "bot_daily_pnl_usd 0",
                          "bot_position_base 0",
                          "bot_circuit_breaker_tripped 0",
                          "bot_entries_blocked_total{reason=\"breaker\"} 0",
                          "bot_entries_blocked_total{reason=\"below_min\"} 0",
                          "bot_entries_blocked_total{reason=\"long_only\"} 0",
                          "bot_entries_blocked_total{reason=\"market_data\"} 0",
                          "bot_entries_blocked_total{reason=\"halt\"} 0",
                          "bot_entries_blocked_total{reason=\"insufficient_funds\"} 0",
                          "bot_exits_total{reason=\"signal\"} 0",
                          "bot_exits_total{reason=\"stop_loss\"} 0",
                          "bot_exits_total{reason=\"take_profit\"} 0",
                          "bot_order_errors_total{reason=\"none\"} 0",
                          "bot_order_errors_total{reason=\"rejected\"} 0",
                          "bot_order_errors_total{reason=\"insufficient_funds\"} 0",
                          "bot_order_errors_total{reason=\"unknown_outcome\"} 0",
                          "bot_order_errors_total{reason=\"no_token\"} 0",
                          "bot_order_errors_total{reason=\"malformed\"} 0",
                          "bot_candles_total 0",
                          "bot_ticks_total 0",
                          "bot_feed_gaps_total 0",
                          "bot_feed_reconnects_total 0",
                          "bot_feed_connect_failures_total 0",
                          "bot_feed_messages_refused_total 0",
                          "bot_feed_records_refused_total 0",
                          "bot_price_outliers_total 0",
                          "bot_feed_age_seconds 0",
                          "bot_feed_stale 0",
                          "bot_ring_full_total{ring=\"ticks\"} 0",
                          "bot_ring_full_total{ring=\"decisions\"} 0",
                          "bot_ring_full_total{ring=\"ops\"} 0",
                          "bot_tick_to_decision_seconds_count 0",
                          "bot_stage_latency_seconds_count{stage=\"decode\"} 0",
                          "bot_stage_latency_seconds_count{stage=\"signal\"} 0",
                          "bot_stage_latency_seconds_bucket{stage=\"exec\",le=\"1e-06\"} 1",
                          "bot_ready 0",
                          "bot_halted 0",
                          "bot_live_equity_refreshes_total 0",
                          "bot_live_equity_refresh_failures_total 0",
                          "bot_live_equity_age_seconds 0",
                          "bot_notifications_total 0",
                          "bot_notifications_failed_total 0",
                          "bot_notifications_dropped_total 0",
                          "bot_journal_failures_total 0",
                          "bot_entries_while_stale_total 0"})
        EXPECT_TRUE(contains(out, std::string(s) + "\n")) << s;
}

// `promtool check metrics` is the reference parser; skipped when Prometheus is not installed.
TEST(Metrics, rendered_contract_passes_promtool_check_metrics) {
    MetricsRegistry r;
    BotMetrics m(r, BuildInfo{"0.1.0", "5.5.4 \"odd\" \\ name", "yes"});
    m.tick_to_decision.observe_ns(1'234);
    m.equity_usd.set(1000.25);
    r.counter("test_escape_total", {{"v", "a\"b\\c\nd"}}, "help with \\ and\nnewline").inc();
    const std::string out = render(r);
    if (std::system("command -v promtool >/dev/null 2>&1") != 0) GTEST_SKIP() << "promtool not installed";
    const std::string path = ::testing::TempDir() + "cbtrade_metrics_" + std::to_string(::getpid()) + ".txt";
    std::ofstream(path) << out;
    // promtool exits 1 on lint problems too (e.g. a counter without _total); report everything.
    FILE* p = ::popen(("promtool check metrics < " + path + " 2>&1").c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string msg;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) msg += buf;
    const int status = ::pclose(p);
    std::remove(path.c_str());
    EXPECT_EQ(status, 0) << msg << "\n--- exposition:\n" << out;
    EXPECT_EQ(msg, "");
}

}  // namespace
}  // namespace cbtrade
