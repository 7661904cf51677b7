#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
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
    // Two edits is the limit, whether they are insertions or deletions.
    EXPECT_EQ(nearest_key("STOP_LOSS_PCTXY"), "STOP_LOSS_PCT");
    EXPECT_EQ(nearest_key("STOP_LOSS_PCTXYZ"), "");
    EXPECT_EQ(nearest_key("STOP_LOSS_P"), "STOP_LOSS_PCT");
    EXPECT_EQ(nearest_key(std::string(100000, 'A')), "");
}

// nearest_key scores keys with a banded, early-stopping distance; it must agree with the textbook
// full-table distance on every name: near misses of real keys (1 to 3 random edits) and noise.
std::size_t reference_distance(const std::string& a, std::string_view b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

TEST(Config, nearest_key_agrees_with_the_full_edit_distance) {
    std::uint64_t state = 20261203;
    const auto next = [&](std::size_t n) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<std::size_t>((state >> 33) % n);
    };
    const std::string letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789";
    const auto keys = config_keys();
    std::size_t suggested = 0;
    for (int round = 0; round < 3000; ++round) {
        std::string name;
        if (round % 4 == 3) {
            for (std::size_t n = next(30); n > 0; --n) name += letters[next(letters.size())];
        } else {
            name = std::string(keys[next(keys.size())].name);
            for (std::size_t edits = 1 + next(3); edits > 0; --edits) {
                const std::size_t at = next(name.size() + 1);
                const char c = letters[next(letters.size())];
                if (const std::size_t kind = next(3); kind == 0) name.insert(at, 1, c);
                else if (at < name.size() && kind == 1) name.erase(at, 1);
                else if (at < name.size()) name[at] = c;
            }
        }
        std::string_view want;
        std::size_t best = 3;
        for (const KeyInfo& k : keys) {
            const std::size_t d = reference_distance(name, k.name);
            if (d < best) {
                best = d;
                want = k.name;
            }
        }
        EXPECT_EQ(nearest_key(name), want) << name;
        suggested += want.empty() ? 0 : 1;
    }
    EXPECT_GT(suggested, 1000u) << "the near misses should mostly find their key";
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
                  "certificates, but TLS CA file cannot be read: No such file or directory");
    }
    // A path of bytes that escape to four characters each is quoted once, cut (fuzz_env_file found a
    // 1 KB message when the reason repeated it).
    const std::string wide = error_of("TLS_CA_FILE=/" + std::string(200, '\xff') + "\n");
    EXPECT_LE(wide.size(), 512u) << wide;
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

// ---- issue 13 item 7: the bad-value table (tests/data/config/bad_values.tsv) ---------------------

struct BadCase {
    std::string kind, key, stage, expect;
    std::vector<std::string> assigns;  // decoded KEY=VALUE
    int line = 0;
};

// The table's escapes (\t \n \r \\ \xHH) and placeholders, as config_sweep.sh's printf '%b' reads them.
std::string decode_case_text(std::string_view v, const std::string& dir) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v.substr(i, 5) == "@DIR@") {
            out += dir;
            i += 4;
        } else if (v.substr(i, 6) == "@DATA@") {
            out += data_file("config");
            i += 5;
        } else if (v[i] == '\\' && i + 1 < v.size()) {
            const char n = v[++i];
            if (n == 't') out += '\t';
            else if (n == 'n') out += '\n';
            else if (n == 'r') out += '\r';
            else if (n == '\\') out += '\\';
            else if (n == 'x' && i + 2 < v.size()) {
                out += static_cast<char>(std::stoi(std::string(v.substr(i + 1, 2)), nullptr, 16));
                i += 2;
            } else {
                out += '\\';
                out += n;
            }
        } else {
            out += v[i];
        }
    }
    return out;
}

std::vector<BadCase> read_bad_cases(const std::string& dir) {
    std::ifstream in(data_file("config/bad_values.tsv"));
    EXPECT_TRUE(in.good()) << "tests/data/config/bad_values.tsv missing";
    std::vector<BadCase> out;
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        if (line.empty() || line.front() == '#') continue;
        std::vector<std::string> f;
        std::size_t start = 0;
        for (std::size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1)
            f.push_back(line.substr(start, tab - start));
        f.push_back(line.substr(start));
        if (f.size() < 5) {
            ADD_FAILURE() << "bad_values.tsv:" << n << ": fewer than 5 fields";
            continue;
        }
        BadCase c{f[0], f[1], f[2], f[3], {}, n};
        for (std::size_t i = 4; i < f.size(); ++i) c.assigns.push_back(decode_case_text(f[i], dir));
        out.push_back(std::move(c));
    }
    return out;
}

bool numeric_default(std::string_view d) {
    return !d.empty() && d.find_first_not_of("0123456789.") == std::string_view::npos;
}

TEST(ConfigBadValues, every_key_has_bad_cases_of_each_kind_it_can_have) {
    const std::vector<BadCase> cases = read_bad_cases("/nonexistent");
    ASSERT_GE(cases.size(), 100u);
    const auto has = [&](std::string_view key, std::string_view kind) {
        return std::any_of(cases.begin(), cases.end(),
                           [&](const BadCase& c) { return c.key == key && (kind.empty() || c.kind == kind); });
    };
    for (const KeyInfo& k : config_keys()) {
        EXPECT_TRUE(has(k.name, "")) << k.name << ": no bad-value case in bad_values.tsv";
        if (!k.default_text.empty()) {
            EXPECT_TRUE(has(k.name, "empty")) << k.name << ": no empty-value case";
        }
        if (numeric_default(k.default_text)) {
            EXPECT_TRUE(has(k.name, "type")) << k.name << ": no wrong-type case";
            EXPECT_TRUE(has(k.name, "range")) << k.name << ": no out-of-range case";
        }
    }
    for (const BadCase& c : cases) {
        const auto keys = config_keys();
        EXPECT_TRUE(std::any_of(keys.begin(), keys.end(), [&](const KeyInfo& k) { return k.name == c.key; }))
            << "bad_values.tsv:" << c.line << ": unknown key " << c.key;
        EXPECT_TRUE(c.kind == "type" || c.kind == "range" || c.kind == "empty" || c.kind == "conflict")
            << "bad_values.tsv:" << c.line << ": kind " << c.kind;
        EXPECT_TRUE(c.stage == "config" || c.stage == "live") << "bad_values.tsv:" << c.line << ": stage " << c.stage;
        EXPECT_FALSE(c.expect.empty()) << "bad_values.tsv:" << c.line;
    }
}

// Each `config` case is refused by apply_entries with one line naming the key and what it accepts;
// each `live` case passes it (it is `cbtrade live`'s check that refuses it: config_sweep.sh).
TEST(ConfigBadValues, config_cases_are_refused_with_one_line_naming_the_key) {
    char tmpl[] = "/tmp/cbtrade-bad-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string dir = tmpl;
    int refused = 0;
    for (const BadCase& c : read_bad_cases(dir)) {
        ConfigEntries entries;
        for (const std::string& a : c.assigns) {
            const std::size_t eq = a.find('=');
            ASSERT_NE(eq, std::string::npos) << "bad_values.tsv:" << c.line;
            entries[a.substr(0, eq)] = ConfigEntry{a.substr(eq + 1), "case.env:" + std::to_string(c.line)};
        }
        std::string err;
        try {
            (void)apply_entries(entries);
        } catch (const ConfigError& e) {
            err = e.what();
            EXPECT_EQ(e.exit_code(), ExitCode::usage);
        }
        if (c.stage == "live") {
            EXPECT_EQ(err, "") << "bad_values.tsv:" << c.line << ": a live case refused by apply_entries";
            continue;
        }
        ++refused;
        EXPECT_NE(err.find(c.key), std::string::npos) << "bad_values.tsv:" << c.line << ": " << err;
        EXPECT_NE(err.find(c.expect), std::string::npos) << "bad_values.tsv:" << c.line << ": " << err;
        EXPECT_EQ(err.find('\n'), std::string::npos) << "bad_values.tsv:" << c.line << ": " << err;
        EXPECT_EQ(err.find("S3CR3T"), std::string::npos) << "bad_values.tsv:" << c.line << ": " << err;
        EXPECT_LT(err.size(), 600u) << "bad_values.tsv:" << c.line;
    }
    EXPECT_GE(refused, 100);
    ::rmdir(dir.c_str());
}

TEST(ConfigBadValues, live_paths_are_checked_without_creating_anything) {
    char tmpl[] = "/tmp/cbtrade-paths-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string dir = tmpl;
    const auto error = [](const Config& c) {
        try {
            check_live_paths(c, "HISTORY_FILE");
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    Config c;
    c.journal_dir = dir + "/journal/";  // a trailing slash: the parent is dir
    EXPECT_EQ(error(c), "");
    c.halt_file = dir + "/halt";
    c.record_ticks = dir + "/ticks.rec";
    c.decision_log = "decisions.log";  // the working directory
    EXPECT_EQ(error(c), "");
    c.journal_dir = dir + "/missing/journal";
    EXPECT_NE(error(c).find("JOURNAL_DIR="), std::string::npos);
    c.journal_dir = dir + "/journal";
    c.halt_file = dir + "/missing/halt";
    EXPECT_NE(error(c).find("HALT_FILE="), std::string::npos);
    c.halt_file.clear();
    c.history_file = dir;
    EXPECT_NE(error(c).find("HISTORY_FILE="), std::string::npos);
    EXPECT_NE(error(c).find("not a regular file"), std::string::npos);
    struct stat st {};
    EXPECT_NE(::stat((dir + "/journal").c_str(), &st), 0) << "nothing is created";
    ::rmdir(dir.c_str());
}

}  // namespace
}  // namespace cbtrade
