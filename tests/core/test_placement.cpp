// core/placement and the live-daemon configuration keys: default placement by core count, fused
// and split plans, cores outside the allowed set refused naming the key, every new key's bad values.
#include "core/placement.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/error.hpp"

namespace cbtrade {
namespace {

Config with(std::initializer_list<std::pair<std::string, std::string>> kv) {
    ConfigEntries e;
    for (const auto& [k, v] : kv) e[k] = ConfigEntry{v, "test.env:1"};
    return apply_entries(e).config;
}

TEST(Placement, two_cores_default_fuses_the_hot_stages_on_the_last_core_and_leaves_ops_unpinned) {
    const std::vector<int> allowed{0, 1};
    const PlacementPlan p = plan_placement(Config{}, allowed);
    ASSERT_EQ(p.hot.size(), 1u);
    EXPECT_EQ(p.hot[0].core, 1);
    EXPECT_EQ(p.hot[0].name, "cbt-hot");
    EXPECT_EQ(p.hot[0].stages, (std::vector<HotStage>{HotStage::feed, HotStage::signal, HotStage::exec}));
    EXPECT_EQ(p.ops_core, cpu_none);
    EXPECT_NE(describe_plan(p).find("feed -> signal -> exec (fused"), std::string::npos) << describe_plan(p);
}

TEST(Placement, four_or_more_cores_default_gives_each_hot_stage_its_own_core) {
    const std::vector<int> allowed{2, 3, 4, 5, 6, 7};
    const PlacementPlan p = plan_placement(Config{}, allowed);
    ASSERT_EQ(p.hot.size(), 3u);
    EXPECT_EQ(p.hot[0].core, 3);
    EXPECT_EQ(p.hot[1].core, 4);
    EXPECT_EQ(p.hot[2].core, 5);
    EXPECT_EQ(p.hot[0].name, "cbt-feed");
    EXPECT_EQ(p.hot[2].stages, std::vector<HotStage>{HotStage::exec});
}

TEST(Placement, same_core_means_same_thread_split_over_two_cores) {
    const std::vector<int> allowed{0, 1};
    const PlacementPlan p = plan_placement(with({{"CPU_FEED", "0"}, {"CPU_SIGNAL", "1"}, {"CPU_EXEC", "1"}}), allowed);
    ASSERT_EQ(p.hot.size(), 2u);
    EXPECT_EQ(p.hot[0].stages, std::vector<HotStage>{HotStage::feed});
    EXPECT_EQ(p.hot[1].stages, (std::vector<HotStage>{HotStage::signal, HotStage::exec}));
    EXPECT_EQ(p.hot[1].name, "cbt-signal+exec");
}

TEST(Placement, none_is_one_unpinned_thread_and_ops_can_be_pinned) {
    const std::vector<int> allowed{0, 1};
    const PlacementPlan p = plan_placement(
        with({{"CPU_FEED", "none"}, {"CPU_SIGNAL", "none"}, {"CPU_EXEC", "none"}, {"CPU_OPS", "0"}}), allowed);
    ASSERT_EQ(p.hot.size(), 1u);
    EXPECT_EQ(p.hot[0].core, cpu_none);
    EXPECT_EQ(p.ops_core, 0);
    EXPECT_NE(describe_plan(p).find("not pinned"), std::string::npos);
}

TEST(Placement, a_core_outside_the_allowed_set_is_a_config_error_naming_the_key) {
    const std::vector<int> allowed{0, 1};
    for (const char* key : {"CPU_FEED", "CPU_SIGNAL", "CPU_EXEC", "CPU_OPS"}) {
        try {
            (void)plan_placement(with({{key, "7"}}), allowed);
            ADD_FAILURE() << key << "=7 accepted";
        } catch (const ConfigError& e) {
            const std::string what = e.what();
            EXPECT_NE(what.find(std::string(key) + "=7"), std::string::npos) << what;
            EXPECT_NE(what.find("allowed cores (0-1)"), std::string::npos) << what;
            EXPECT_EQ(e.exit_code(), ExitCode::usage);
        }
    }
}

TEST(Placement, describe_cores_folds_ranges) {
    const std::vector<int> cores{0, 1, 2, 3, 6, 8, 9};
    EXPECT_EQ(describe_cores(cores), "0-3,6,8-9");
}

TEST(LiveConfig, new_keys_parse_their_documented_values) {
    const Config c = with({{"CPU_FEED", "3"},
                           {"CPU_OPS", "none"},
                           {"IDLE_POLICY", "sleep"},
                           {"RT_PRIORITY", "50"},
                           {"HISTORY_FILE", "data/BTC-USD.csv"},
                           {"HISTORY_MAX_GAP_CANDLES", "0"},
                           {"RECORD_TICKS", "/tmp/t.rec"},
                           {"DECISION_LOG", "/tmp/d.log"},
                           {"HALT_FILE", "/run/cbtrade/halt"},
                           {"STATUS_INTERVAL_SEC", "0"}});
    EXPECT_EQ(c.cpu_feed, 3);
    EXPECT_EQ(c.cpu_signal, cpu_auto);
    EXPECT_EQ(c.cpu_ops, cpu_none);
    EXPECT_EQ(c.idle_policy, IdlePolicy::sleep);
    EXPECT_EQ(c.rt_priority, 50);
    EXPECT_EQ(c.history_file, "data/BTC-USD.csv");
    EXPECT_EQ(c.history_max_gap_candles, 0);
    EXPECT_EQ(c.record_ticks, "/tmp/t.rec");
    EXPECT_EQ(c.decision_log, "/tmp/d.log");
    EXPECT_EQ(c.halt_file, "/run/cbtrade/halt");
    EXPECT_EQ(c.status_interval_sec, 0);
}

TEST(LiveConfig, bad_values_of_every_new_key_are_rejected_naming_key_and_value) {
    const std::vector<std::pair<std::string, std::string>> bad{
        {"CPU_FEED", "-1"},
        {"CPU_FEED", "1024"},
        {"CPU_SIGNAL", "two"},
        {"CPU_EXEC", "1.5"},
        {"CPU_OPS", ""},
        {"CPU_OPS", "None"},
        {"IDLE_POLICY", "busy"},
        {"IDLE_POLICY", ""},
        {"RT_PRIORITY", "100"},
        {"RT_PRIORITY", "-1"},
        {"HISTORY_MAX_GAP_CANDLES", "1001"},
        {"HISTORY_MAX_GAP_CANDLES", "x"},
        {"STATUS_INTERVAL_SEC", "-5"},
        {"STATUS_INTERVAL_SEC", "86401"},
        {"HALT_FILE", "a\tb"},
        {"RECORD_TICKS", "   "},
        {"DECISION_LOG", "x\ny"},
        {"HISTORY_FILE", "\x01"},
    };
    for (const auto& [key, value] : bad) {
        try {
            (void)with({{key, value}});
            ADD_FAILURE() << key << "='" << value << "' accepted";
        } catch (const ConfigError& e) {
            const std::string what = e.what();
            EXPECT_NE(what.find("test.env:1: " + key + "="), std::string::npos) << what;
            EXPECT_NE(what.find("is invalid: expected"), std::string::npos) << what;
        }
    }
}

}  // namespace
}  // namespace cbtrade
