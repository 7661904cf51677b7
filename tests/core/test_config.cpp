#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace cbtrade {
namespace {

std::string data_file(const char* name) {
    return std::string(CBTRADE_TEST_DATA) + "/" + name;
}

const char* const no_environment[] = {nullptr};

std::string write_temp(const std::string& text) {
    static int counter = 0;
    std::string path =
        ::testing::TempDir() + "cbtrade_cfg_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".env";
    std::ofstream(path) << text;
    return path;
}

std::string error_of(const std::string& env_text) {
    try {
        (void)apply_entries(parse_env_text(env_text, "t.env"));
    } catch (const ConfigError& e) {
        return e.what();
    }
    return {};
}

TEST(Config, earlier_stack_bot_env_reads_every_value) {
    const std::vector<std::string> files{data_file("bot.env")};
    const LoadedConfig lc = load_config(files, no_environment);
    const Config& c = lc.config;
    EXPECT_EQ(c.product_id, "BTC-USD");
    EXPECT_EQ(c.granularity, Granularity::one_minute);
    EXPECT_FALSE(c.dry_run);
    EXPECT_TRUE(c.long_only);
    EXPECT_DOUBLE_EQ(c.order_min_usd, 5.0);
    EXPECT_DOUBLE_EQ(c.max_daily_loss_pct, 1.0);
    EXPECT_DOUBLE_EQ(c.risk_per_trade_pct, 0.25);
    EXPECT_DOUBLE_EQ(c.usd_equity, 1000.0);
    EXPECT_DOUBLE_EQ(c.take_profit_pct, 0.20);
    EXPECT_DOUBLE_EQ(c.stop_loss_pct, 0.20);
    EXPECT_DOUBLE_EQ(c.buy_threshold, 0.47);
    EXPECT_DOUBLE_EQ(c.sell_threshold, 0.50);
    EXPECT_FALSE(c.use_ma_filter);
    EXPECT_EQ(c.backtest_sleep_ms, 500);
    EXPECT_EQ(c.port, 8080);
    EXPECT_EQ(c.bridge_url, "http://bridge:8787");
    EXPECT_TRUE(c.use_live_equity);
    EXPECT_EQ(c.model_mode, ModelMode::extended);  // the trailing "# baseline | extended" is a comment
    EXPECT_EQ(c.walk_forward_min, 60);
    EXPECT_TRUE(c.vol_risk_adjust);
    EXPECT_TRUE(c.slack_webhook.empty());  // commented out
    EXPECT_EQ(c.coinbase_ws_products, std::vector<std::string>{"BTC-USD"});
    EXPECT_TRUE(lc.warnings.empty()) << lc.warnings.front();
}

TEST(Config, defaults_match_the_documented_table) {
    // Applying every key's documented default must give the same Config as no keys at all.
    const Config plain = apply_entries({}).config;
    ConfigEntries defaults;
    for (const auto& k : config_keys()) {
        if (k.default_text.empty() || k.default_text.find("...") != std::string_view::npos) continue;
        defaults[std::string(k.name)] = {std::string(k.default_text), "table"};
    }
    EXPECT_EQ(describe_config(apply_entries(defaults).config), describe_config(plain));
    EXPECT_TRUE(plain.dry_run) << "paper trading must be the default";
}

TEST(Config, env_file_syntax) {
    const auto e = parse_env_text(
        "# comment\n"
        "\n"
        "export PRODUCT_ID=ETH-USD\n"
        "  MODEL_MODE = \"extended\"   # quoted, then a comment\n"
        "COINBASE_API_KEY_NAME='organizations/x/apiKeys/y'\n"
        "COINBASE_API_PRIVATE_KEY=\"-----BEGIN EC PRIVATE KEY-----\\nABC\\n-----END EC PRIVATE KEY-----\\n\"\n"
        "SLACK_WEBHOOK=https://hooks.example/a#b\n"
        "BRIDGE_URL=\r\n",
        "x.env");
    EXPECT_EQ(e.at("PRODUCT_ID").value, "ETH-USD");
    EXPECT_EQ(e.at("PRODUCT_ID").origin, "x.env:3");
    EXPECT_EQ(e.at("MODEL_MODE").value, "extended");
    EXPECT_EQ(e.at("COINBASE_API_KEY_NAME").value, "organizations/x/apiKeys/y");
    EXPECT_EQ(e.at("COINBASE_API_PRIVATE_KEY").value,
              "-----BEGIN EC PRIVATE KEY-----\nABC\n-----END EC PRIVATE KEY-----\n");
    EXPECT_EQ(e.at("SLACK_WEBHOOK").value, "https://hooks.example/a#b") << "# inside a word is not a comment";
    EXPECT_EQ(e.at("BRIDGE_URL").value, "");
}

TEST(Config, single_quotes_are_literal_and_unquoted_backslash_n_is_a_newline) {
    const auto e = parse_env_text("A='x\\ny'\nB=x\\ny\n", "q.env");
    EXPECT_EQ(e.at("A").value, "x\\ny");
    EXPECT_EQ(e.at("B").value, "x\ny");
}

TEST(Config, malformed_lines_name_file_and_line) {
    EXPECT_THROW((void)parse_env_text("GOOD=1\nthis is not a setting\n", "bad.env"), ConfigError);
    try {
        (void)parse_env_text("GOOD=1\nthis is not a setting\n", "bad.env");
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("bad.env:2"), std::string::npos) << e.what();
    }
    EXPECT_THROW((void)parse_env_text("A=\"unterminated\n", "u.env"), ConfigError);
    EXPECT_THROW((void)parse_env_text("A=\"x\" trailing\n", "u.env"), ConfigError);
    EXPECT_THROW((void)parse_env_text("1BAD=x\n", "u.env"), ConfigError);
}

TEST(Config, invalid_values_name_key_value_and_what_is_accepted) {
    struct Case {
        const char* line;
        const char* must_contain;
    };
    const Case cases[] = {
        {"MAX_DAILY_LOSS_PCT=-1", "MAX_DAILY_LOSS_PCT='-1' is invalid: expected a percentage"},
        {"RISK_PER_TRADE_PCT=abc", "RISK_PER_TRADE_PCT='abc'"},
        {"BUY_THRESHOLD=1.5", "BUY_THRESHOLD='1.5' is invalid: expected a probability from 0 to 1"},
        {"SELL_THRESHOLD=nan", "SELL_THRESHOLD='nan'"},
        {"MODEL_MODE=fancy", "expected baseline or extended"},
        {"GRANULARITY=TEN_MINUTE", "ONE_MINUTE, FIVE_MINUTE"},
        {"DRY_RUN=maybe", "expected true or false"},
        {"PORT=70000", "PORT='70000'"},
        {"PRODUCT_ID=btc_usd", "PRODUCT_ID='btc_usd'"},
        {"USD_EQUITY=0", "USD_EQUITY='0'"},
        {"ORDER_MIN_USD=1e400", "ORDER_MIN_USD"},
        {"STOP_LOSS_PCT=", "STOP_LOSS_PCT=''"},
        {"MAX_PRICE_JUMP_PCT=0", "MAX_PRICE_JUMP_PCT='0' is invalid: expected a percentage from 0.1 to 100"},
        {"MAX_PRICE_JUMP_PCT=inf", "MAX_PRICE_JUMP_PCT='inf'"},
        {"MAX_PRICE_JUMP_PCT=101", "MAX_PRICE_JUMP_PCT='101'"},
    };
    for (const auto& c : cases) {
        const std::string err = error_of(std::string(c.line) + "\n");
        EXPECT_NE(err.find(c.must_contain), std::string::npos) << c.line << " -> " << err;
        EXPECT_NE(err.find("t.env:1"), std::string::npos) << err;
    }
}

TEST(Config, secrets_never_appear_in_errors_or_descriptions) {
    const std::string err = error_of("SLACK_WEBHOOK=not-a-url-but-secret\n");
    EXPECT_NE(err.find("SLACK_WEBHOOK"), std::string::npos);
    EXPECT_EQ(err.find("not-a-url-but-secret"), std::string::npos) << err;
    const Config c = apply_entries(parse_env_text("SLACK_WEBHOOK=https://hooks.example/T0/B0/SECRETX\n"
                                                  "COINBASE_API_SECRET=PRIVATEKEYMATERIAL\n",
                                                  "s.env"))
                         .config;
    EXPECT_EQ(c.coinbase_api_private_key, "PRIVATEKEYMATERIAL") << "COINBASE_API_SECRET is an alias";
    const std::string shown = describe_config(c);
    EXPECT_EQ(shown.find("SECRETX"), std::string::npos);
    EXPECT_EQ(shown.find("PRIVATEKEYMATERIAL"), std::string::npos);
    EXPECT_NE(shown.find("SLACK_WEBHOOK=<set>"), std::string::npos);
}

TEST(Config, private_key_wins_over_its_alias) {
    const Config c =
        apply_entries(parse_env_text("COINBASE_API_SECRET=old\nCOINBASE_API_PRIVATE_KEY=new\n", "k.env")).config;
    EXPECT_EQ(c.coinbase_api_private_key, "new");
}

TEST(Config, a_bare_api_host_means_the_advanced_trade_path) {
    // The earlier bridge.env gives COINBASE_API_BASE=https://api.coinbase.com (issue 12 item 7).
    const auto base = [](std::string_view v) {
        return apply_entries(parse_env_text("COINBASE_API_BASE=" + std::string(v) + "\n", "b.env"))
            .config.coinbase_api_base;
    };
    EXPECT_EQ(base("https://api.coinbase.com"), "https://api.coinbase.com/api/v3/brokerage");
    EXPECT_EQ(base("https://api.coinbase.com/"), "https://api.coinbase.com/api/v3/brokerage");
    EXPECT_EQ(base("http://127.0.0.1:8443"), "http://127.0.0.1:8443/api/v3/brokerage");
    EXPECT_EQ(base("https://localhost:8443/api/v3/brokerage"), "https://localhost:8443/api/v3/brokerage");
    EXPECT_EQ(base("https://proxy.example/coinbase"), "https://proxy.example/coinbase") << "a path is kept";
    EXPECT_EQ(apply_entries({}).config.bridge_listen, "127.0.0.1");
}

TEST(Config, unknown_keys_warn_with_did_you_mean) {
    const LoadedConfig lc = apply_entries(parse_env_text("MODEL_MOD=extended\nTOTALLY_UNRELATED=1\n", "w.env"));
    ASSERT_EQ(lc.warnings.size(), 2u);
    const std::string all = lc.warnings[0] + "\n" + lc.warnings[1];
    EXPECT_NE(all.find("w.env:1: unknown key MODEL_MOD (ignored); did you mean MODEL_MODE?"), std::string::npos) << all;
    EXPECT_NE(all.find("TOTALLY_UNRELATED"), std::string::npos);
    EXPECT_EQ(nearest_key("stop_loss_pct"), "STOP_LOSS_PCT");
    EXPECT_EQ(nearest_key("COMPLETELY_DIFFERENT_THING"), "");
}

TEST(Config, environment_overrides_files_and_later_files_override_earlier) {
    const std::string a = write_temp("MODEL_MODE=extended\nPORT=9000\nUSD_EQUITY=5\n");
    const std::string b = write_temp("PORT=9100\n");
    const char* env[] = {"PATH=/usr/bin", "USD_EQUITY=2500", "MODEL_MOD=x", nullptr};
    const std::vector<std::string> files{a, b};
    const LoadedConfig lc = load_config(files, env);
    EXPECT_EQ(lc.config.model_mode, ModelMode::extended);
    EXPECT_EQ(lc.config.port, 9100);
    EXPECT_DOUBLE_EQ(lc.config.usd_equity, 2500);
    ASSERT_EQ(lc.warnings.size(), 1u) << "PATH is not warned about, the near miss MODEL_MOD is";
    EXPECT_NE(lc.warnings[0].find("did you mean MODEL_MODE"), std::string::npos);
}

TEST(Config, invalid_value_from_environment_names_the_environment) {
    const char* env[] = {"DRY_RUN=perhaps", nullptr};
    try {
        (void)load_config({}, env);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("environment: DRY_RUN='perhaps'"), std::string::npos) << e.what();
    }
}

TEST(Config, missing_env_file_is_an_error_naming_it) {
    const std::vector<std::string> files{"/nonexistent/cbtrade.env"};
    try {
        (void)load_config(files, no_environment);
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/cbtrade.env"), std::string::npos);
    }
}

std::string syntax_error_of(const std::string& env_text) {
    try {
        (void)parse_env_text(env_text, "bot.env");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return {};
}

// Issue 9 item 4, the issue's own examples: the error names file, line and key, never the text.
TEST(Config, syntax_errors_never_quote_a_line_that_may_hold_a_secret) {
    std::string err = syntax_error_of("PORT=8080\nCOINBASE_API_PRIVATE_KEY=\"x\" SECRETTAIL\n");
    EXPECT_EQ(err.find("SECRETTAIL"), std::string::npos) << err;
    EXPECT_EQ(err.rfind("bot.env:2: COINBASE_API_PRIVATE_KEY: unexpected text after the closing quote", 0), 0u) << err;

    err = syntax_error_of(
        "COINBASE_API_PRIVATE_KEY=-----BEGIN EC PRIVATE KEY-----\n"
        "MHcCAQEEIPEMLINESECRETmQ0aXJ6c2VjcmV0a2V5bWF0ZXJpYWxvbmx5Zm9y\n"
        "-----END EC PRIVATE KEY-----\n");
    EXPECT_EQ(err.find("PEMLINESECRET"), std::string::npos) << err;
    EXPECT_EQ(err.find("MHcC"), std::string::npos) << err;
    EXPECT_EQ(err.rfind("bot.env:2: expected KEY=VALUE", 0), 0u) << err;
    EXPECT_NE(err.find("COINBASE_API_PRIVATE_KEY from line 1"), std::string::npos) << err;

    err = syntax_error_of("SLACK_WEBHOOK='https://hooks.slack.com/services/T000/B000/WEBHOOKSECRET'junk\n");
    EXPECT_EQ(err.find("junk"), std::string::npos) << err;
    EXPECT_EQ(err.find("WEBHOOKSECRET"), std::string::npos) << err;
    EXPECT_EQ(err.rfind("bot.env:1: SLACK_WEBHOOK: unexpected text after the closing quote", 0), 0u) << err;

    err = syntax_error_of("COINBASE_API_PRIVATE_KEY=\"-----BEGIN EC PRIVATE KEY-----\nMHcCQUOTEDSECRET\n");
    EXPECT_EQ(err.find("QUOTEDSECRET"), std::string::npos) << err;
    EXPECT_EQ(err.find("BEGIN"), std::string::npos) << err;
    EXPECT_EQ(err.rfind("bot.env:1: COINBASE_API_PRIVATE_KEY: unterminated \" quote", 0), 0u) << err;

    // A base64 line with '=' padding looks like KEY=VALUE with a bad key: not echoed either.
    err = syntax_error_of("COINBASE_API_PRIVATE_KEY=x\nMHc+/SECRETBASE64==\n");
    EXPECT_EQ(err.find("SECRETBASE64"), std::string::npos) << err;
    EXPECT_EQ(err.rfind("bot.env:2: invalid key name", 0), 0u) << err;
}

TEST(Config, a_long_unknown_key_is_not_echoed_in_the_warning) {
    const LoadedConfig lc =
        apply_entries(parse_env_text("MHcCAQEEIBase64LineOfAKeyThatLooksLikeAName01234567==\n", "k.env"));
    ASSERT_EQ(lc.warnings.size(), 1u);
    EXPECT_EQ(lc.warnings[0], "k.env:1: unknown key of 51 characters (not shown) (ignored)");
}

// Issue 9 item 7: a quoted value is cut short and escaped.
TEST(Config, invalid_value_is_quoted_short_and_escaped) {
    const std::string huge(1u << 20, '7');
    std::string err = error_of("PORT=" + huge + "\n");
    EXPECT_LT(err.size(), 300u) << err.substr(0, 300);
    EXPECT_NE(err.find("PORT='7777"), std::string::npos) << err;
    EXPECT_NE(err.find("... (1048576 bytes) is invalid: expected a TCP port"), std::string::npos) << err;
    err = error_of("PRODUCT_ID=\"BTC\\n\x1b[2J\"\n");
    EXPECT_EQ(err.find('\n'), std::string::npos) << err;
    EXPECT_EQ(err.find('\x1b'), std::string::npos) << err;
    EXPECT_NE(err.find("PRODUCT_ID='BTC\\n\\x1b[2J'"), std::string::npos) << err;
}

// Issue 9 item 2/3: an env file that is not a regular file, or too big, is a clear error at once.
std::string load_error(const std::string& path) {
    const std::vector<std::string> files{path};
    try {
        (void)load_config(files, no_environment);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return {};
}

TEST(Config, env_file_that_is_a_fifo_directory_or_device_is_refused) {
    ::alarm(20);  // a read that blocks fails the test instead of hanging it
    char tmpl[] = "/tmp/cbtrade-cfg-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string dir = tmpl;
    const std::string fifo = dir + "/p";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_EQ(load_error(fifo), fifo + ": env file is a FIFO (named pipe), not a regular file");
    EXPECT_EQ(load_error(dir), dir + ": env file is a directory, not a regular file");
    EXPECT_EQ(load_error("/dev/zero"), "/dev/zero: env file is a character device, not a regular file");
    ::unlink(fifo.c_str());
    ::rmdir(dir.c_str());
    ::alarm(0);
}

TEST(Config, env_file_over_the_limit_is_refused) {
    const std::string path = write_temp(std::string(max_env_file_bytes + 1, '#'));
    EXPECT_EQ(load_error(path), path + ": env file is 1048577 bytes, over the 1 MiB limit");
    const std::string fits = write_temp(std::string(max_env_file_bytes, '#'));
    EXPECT_EQ(load_error(fits), "");
}

// Issue 9 item 13: an unusable TLS_CA_FILE is a configuration error naming the key (exit 2), found
// when the configuration is read rather than at the first connection.
TEST(Config, unreadable_tls_ca_file_is_a_configuration_error_naming_the_key) {
    const char* env_missing[] = {"TLS_CA_FILE=/nonexistent/ca.pem", nullptr};
    try {
        (void)load_config({}, env_missing);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.exit_code(), ExitCode::usage);
        EXPECT_EQ(std::string(e.what()),
                  "environment: TLS_CA_FILE='/nonexistent/ca.pem' is invalid: expected a readable PEM file of CA "
                  "certificates, but /nonexistent/ca.pem: TLS CA file cannot be read: No such file or directory");
    }
    const std::string not_pem = write_temp("just text\n");
    EXPECT_NE(error_of("TLS_CA_FILE=" + not_pem + "\n").find("holds no -----BEGIN CERTIFICATE----- block"),
              std::string::npos);
    EXPECT_NE(error_of("TLS_CA_FILE=/dev/zero\n").find("TLS CA file is a character device"), std::string::npos);
    const std::string pem = write_temp("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    EXPECT_EQ(error_of("TLS_CA_FILE=" + pem + "\n"), "");
}

TEST(Config, ws_products_list) {
    const Config c = apply_entries(parse_env_text("COINBASE_WS_PRODUCTS=BTC-USD, ETH-USD\n", "p.env")).config;
    EXPECT_EQ(c.coinbase_ws_products, (std::vector<std::string>{"BTC-USD", "ETH-USD"}));
    EXPECT_FALSE(error_of("COINBASE_WS_PRODUCTS=BTC-USD,,ETH-USD\n").empty());
}

TEST(Config, journal_dir) {
    EXPECT_EQ(Config{}.journal_dir, "journal");  // a default under the working directory
    const Config c = apply_entries(parse_env_text("JOURNAL_DIR=/var/lib/cbtrade/journal\n", "p.env")).config;
    EXPECT_EQ(c.journal_dir, "/var/lib/cbtrade/journal");
    // Empty does not turn the journal off: orders are never sent without one (DESIGN.md section 5).
    EXPECT_NE(error_of("JOURNAL_DIR=\n").find("JOURNAL_DIR"), std::string::npos);
    EXPECT_NE(error_of("JOURNAL_DIR=\n").find("cannot be turned off"), std::string::npos);
    EXPECT_FALSE(error_of("JOURNAL_DIR=a\tb\n").empty());
}

}  // namespace
}  // namespace cbtrade
