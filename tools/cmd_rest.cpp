// cbtrade check and cbtrade backfill: the commands that talk to the exchange's REST API.
#include <unistd.h>  // environ, isatty

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/cpu.hpp"
#include "core/error.hpp"
#include "core/rfc3339.hpp"
#include "core/text.hpp"
#include "exec/api_key.hpp"
#include "exec/rest_session.hpp"
#include "tools/backfill.hpp"
#include "tools/cli_args.hpp"
#include "tools/commands.hpp"

namespace cbtrade {

namespace {

LoadedConfig load(const Args& a) {
    LoadedConfig lc = load_config(a.env_files, environ);
    for (const auto& w : lc.warnings) std::fprintf(stderr, "cbtrade: warning: %s\n", w.c_str());
    return lc;
}

// --start / --end: UNIX seconds or RFC 3339.
std::int64_t parse_time_option(const std::string& name, const std::string& v) {
    std::int64_t out = 0;
    bool digits = !v.empty() && v.size() <= 12;
    for (char c : v) digits = digits && c >= '0' && c <= '9';
    if (digits) {
        for (char c : v) out = out * 10 + (c - '0');
        return out;
    }
    if (const auto t = parse_rfc3339_seconds(v)) return *t;
    throw UsageError(name + " " + quote_for_message(v) +
                     " is neither UNIX seconds nor an RFC 3339 time (2024-01-02T03:04:05Z)");
}

std::size_t parse_count(const std::string& name, const std::string& v, std::size_t max) {
    std::size_t out = 0;
    bool ok = !v.empty() && v.size() <= 9;
    for (char c : v) {
        ok = ok && c >= '0' && c <= '9';
        if (ok) out = out * 10 + static_cast<std::size_t>(c - '0');
    }
    if (!ok || out < 1 || out > max)
        throw UsageError(name + " needs a whole number from 1 to " + std::to_string(max) + ", got " +
                         quote_for_message(v));
    return out;
}

std::string when(std::int64_t t) {
    return format_rfc3339_us(t * 1'000'000).substr(0, 16) + "Z";
}

// ---- check ---------------------------------------------------------------------------------------

class CheckLines {
public:
    void ok(const char* what, const std::string& detail) { line("ok  ", what, detail); }
    void warn(const char* what, const std::string& detail) { line("warn", what, detail); }
    void fail(const char* what, const std::string& detail) {
        ++failures_;
        line("FAIL", what, detail);
    }
    void skip(const char* what, const std::string& detail) {
        ++failures_;  // a check that could not run did not pass
        line("skip", what, detail);
    }
    [[nodiscard]] int failures() const noexcept { return failures_; }

private:
    static void line(const char* status, const char* what, const std::string& detail) {
        std::printf("[%s] %-9s %s\n", status, what, detail.c_str());
        std::fflush(stdout);
    }
    int failures_ = 0;
};

// What to do about a failed REST call, by kind.
std::string advice(const rest::RestError& e, const rest::RestSession& s) {
    // 401 and 403 messages already say what to check (rest::error_from_answer).
    switch (e.kind) {
        case rest::RestErrorKind::network:
        case rest::RestErrorKind::timeout:
            return "cannot reach " + s.url().authority() + ": " + e.message +
                   " -> check COINBASE_API_BASE, DNS, the network, a proxy or firewall";
        default:
            return e.message;
    }
}

bool unreachable(const rest::RestError& e) {
    return e.kind == rest::RestErrorKind::network || e.kind == rest::RestErrorKind::timeout;
}

// "+1.5 s", "-0.2 s", "0.0 s" (no "-0.0").
std::string fmt_seconds(std::int64_t ms) {
    const long long tenths = (ms >= 0 ? ms + 50 : ms - 50) / 100;
    char buf[40];
    std::snprintf(buf, sizeof buf, "%s%lld.%lld s",
                  tenths > 0   ? "+"
                  : tenths < 0 ? "-"
                               : "",
                  (tenths < 0 ? -tenths : tenths) / 10, (tenths < 0 ? -tenths : tenths) % 10);
    return buf;
}

}  // namespace
}  // namespace cbtrade

using namespace cbtrade;

int cmd_check(int argc, char** argv) {
    const Args a = parse_args(argc, argv, 2, {}, {"--product"});
    if (!a.positional.empty()) throw UsageError("check takes no file arguments (use --env-file)");
    const LoadedConfig lc = load(a);
    const Config& cfg = lc.config;
    std::string product_id = cfg.product_id;
    if (a.flag("--product")) {
        ConfigEntries e{{"PRODUCT_ID", {a.value("--product"), "--product"}}};
        product_id = apply_entries(e).config.product_id;
    }
    CheckLines out;

    // 1. The key: loaded and parsed here, never printed.
    bool have_key = false;
    try {
        if (const std::optional<JwtSigner> signer = jwt_signer_from(cfg)) {
            have_key = true;
            out.ok("key", quote_for_message(signer->key_name(), 128) + ", " +
                              std::string(jwt_alg_name(signer->algorithm())) + ", " + signer->key_description());
        } else {
            out.fail("key",
                     "no API key: set COINBASE_API_KEY_NAME and COINBASE_API_PRIVATE_KEY, or "
                     "COINBASE_API_PRIVATE_KEY_FILE (the key JSON from the CDP portal)");
        }
    } catch (const ConfigError& e) {
        out.fail("key", e.what());
    }

    rest::RestClientOptions options;
    options.max_attempts = 2;
    options.timeout_ms = 8000;
    rest::RestSession session(cfg, have_key, options);
    rest::RestClient& client = session.client();

    // 2. The clock: JWTs are refused when it is off (nbf in the future, exp passed).
    const auto skew = client.clock_skew();
    if (!skew.ok()) {
        out.fail("clock", advice(skew.error, session));
        if (unreachable(skew.error)) {
            for (const char* what : {"accounts", "product", "orders"}) out.skip(what, "the exchange is unreachable");
            return 1;
        }
    } else {
        const std::int64_t s = skew.value->skew_ms;
        const std::int64_t magnitude = s < 0 ? -s : s;
        const std::string text = "the exchange clock is " + fmt_seconds(s) + " from this machine's (round trip " +
                                 std::to_string(skew.value->round_trip_ms) + " ms)";
        if (magnitude <= rest::clock_skew_warn_ms) out.ok("clock", text);
        else if (magnitude <= 30'000) out.warn("clock", text + ": above 5 s; keep the clock synchronised (NTP)");
        else out.fail("clock", text + ": JWTs will be refused; synchronise the clock (NTP)");
    }

    // 3. Accounts and balances (needs the key's view permission).
    std::optional<rest::KeyPermissions> permissions;
    std::string permissions_error;
    if (!have_key) {
        out.skip("accounts", "needs an API key");
    } else {
        const auto accounts = client.all_accounts();
        if (!accounts.ok()) {
            out.fail("accounts", advice(accounts.error, session));
        } else {
            std::string detail = std::to_string(accounts.value->size()) + " accounts";
            std::size_t shown = 0;
            std::size_t zero = 0;
            for (const auto& acc : *accounts.value) {
                if (acc.available.value == 0 && acc.hold.value == 0) {
                    ++zero;
                    continue;
                }
                if (shown++ >= 8) continue;
                detail += (shown == 1 ? ": " : ", ") + acc.currency + " " + acc.available.text;
                if (acc.hold.value != 0) detail += " (hold " + acc.hold.text + ")";
            }
            if (shown > 8) detail += ", and " + std::to_string(shown - 8) + " more";
            if (zero > 0) detail += "; " + std::to_string(zero) + " empty";
            out.ok("accounts", detail);
        }
        const auto p = client.key_permissions();
        if (p.ok()) permissions = *p.value;
        else permissions_error = advice(p.error, session);
    }

    // 4. The product: increments, minimums, status.
    // From the public endpoint: the product's state does not depend on the key.
    const auto product = client.product(product_id, true);
    if (!product.ok()) {
        out.fail("product", advice(product.error, session));
    } else {
        const rest::Product& p = *product.value;
        out.ok("product", p.product_id + " " + p.status + ": base_increment " + p.base_increment_text +
                              ", quote_increment " + p.quote_increment_text + ", base_min_size " +
                              p.base_min_size.text + ", quote_min_size " + p.quote_min_size.text +
                              (p.price.text.empty() ? std::string() : ", price " + p.price.text));
    }

    // 5. Would a market order be accepted: the product allows it and the key may trade.
    const std::string mode =
        cfg.dry_run ? "DRY_RUN=true: paper trading, no order is sent" : "DRY_RUN=false: the daemon sends real orders";
    if (!product.ok()) {
        out.skip("orders", "needs the product");
    } else if (!product.value->market_orders_allowed()) {
        out.fail("orders",
                 "market orders on " + product_id + " are not allowed now: " + product.value->market_orders_refusal());
    } else if (!have_key) {
        out.skip("orders", "needs an API key to know whether it may trade");
    } else if (!permissions) {
        out.fail("orders", "cannot tell whether the key may trade: " + permissions_error);
    } else if (!permissions->can_trade) {
        out.fail("orders",
                 "the key cannot trade (no trade permission) -> create a key with the trade permission; "
                 "paper trading works without it");
    } else {
        out.ok("orders", "market orders on " + product_id + " would be accepted (the key may trade; " + mode + ")");
    }
    return out.failures() == 0 ? 0 : 1;
}

// ---- backfill ------------------------------------------------------------------------------------

int cmd_backfill(int argc, char** argv) {
    const Args a = parse_args(argc, argv, 2, {"--public"},
                              {"--product", "--granularity", "--limit", "--pages", "--out", "--start", "--end"});
    if (!a.positional.empty()) throw UsageError("backfill takes no file arguments (use --out FILE)");
    const LoadedConfig lc = load(a);
    BackfillOptions o;
    o.product_id = lc.config.product_id;
    o.granularity = lc.config.granularity;
    {
        ConfigEntries e;
        if (a.flag("--product")) e["PRODUCT_ID"] = {a.value("--product"), "--product"};
        if (a.flag("--granularity")) e["GRANULARITY"] = {a.value("--granularity"), "--granularity"};
        if (!e.empty()) {
            const Config c = apply_entries(e).config;
            if (a.flag("--product")) o.product_id = c.product_id;
            if (a.flag("--granularity")) o.granularity = c.granularity;
        }
    }
    if (a.flag("--limit")) o.limit = parse_count("--limit", a.value("--limit"), rest::max_candles_per_request);
    if (a.flag("--pages")) o.pages = parse_count("--pages", a.value("--pages"), 1'000'000);
    if (a.flag("--start")) o.start_s = parse_time_option("--start", a.value("--start"));
    if (a.flag("--end")) o.end_s = parse_time_option("--end", a.value("--end"));
    o.out_path = a.value("--out");
    if (o.out_path.empty()) throw UsageError("backfill needs --out FILE");

    // Credentials when configured (the private endpoint allows more requests); --public or none:
    // the public market/ endpoints.
    rest::RestSession session(lc.config, !a.flag("--public"));
    const bool tty = isatty(STDERR_FILENO) == 1;
    std::fprintf(stderr, "cbtrade backfill: %s %s from %s (%s endpoint)\n", o.product_id.c_str(),
                 std::string(granularity_name(o.granularity)).c_str(), session.url().authority().c_str(),
                 session.client().authenticated() ? "authenticated" : "public");
    const auto progress = [&](const BackfillPage& p) {
        if (tty) {
            constexpr int width = 30;
            const int done = static_cast<int>((p.index + 1) * width / (p.planned ? p.planned : 1));
            std::fprintf(stderr, "\r[%.*s%.*s] %zu/%zu pages, %zu candles, to %s ", done,
                         "##############################", width - done, "                              ", p.index + 1,
                         p.planned, p.total_candles, when(p.end_s).c_str());
            if (p.index + 1 == p.planned) std::fputc('\n', stderr);
        } else {
            std::fprintf(stderr, "backfill: page %zu/%zu: %zu candles %s to %s\n", p.index + 1, p.planned, p.candles,
                         when(p.start_s).c_str(), when(p.end_s).c_str());
        }
        std::fflush(stderr);
    };
    // Signed requests fail when the clock is off (nbf/exp): say so before the first page, as check does.
    if (session.client().authenticated()) {
        const auto skew = session.client().clock_skew();
        if (skew.ok() && std::abs(skew.value->skew_ms) > rest::clock_skew_warn_ms)
            std::fprintf(stderr,
                         "cbtrade backfill: warning: the exchange clock is %s from this machine's: above 5 s, JWTs "
                         "may be refused; keep the clock synchronised (NTP)\n",
                         fmt_seconds(skew.value->skew_ms).c_str());
    }
    const BackfillReport r = run_backfill(session.client(), o, wall_ns() / 1'000'000'000, progress);
    if (r.truncated_partial_line)
        std::fprintf(stderr, "cbtrade backfill: cut a half-written last line from %s\n",
                     quote_for_message(o.out_path, 256).c_str());
    std::string summary = "backfill: " + std::to_string(r.candles) + " candles";
    if (r.candles > 0) summary += " (" + when(r.first_s) + " to " + when(r.last_s) + ")";
    summary += " written to " + quote_for_message(o.out_path, 256) + " in " + std::to_string(r.pages) +
               (r.pages == 1 ? " page" : " pages");
    if (r.resumed_after_s) summary += ", resumed after " + when(*r.resumed_after_s);
    if (r.complete) summary += "; up to date to " + when(r.range_end_s);
    else summary += "; stopped at " + when(r.next_start_s) + " after --pages: run again to continue";
    std::printf("%s\n", summary.c_str());
    return 0;
}
