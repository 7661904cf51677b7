// io/url: what the one URL parser accepts, what it refuses, and that its messages stay short,
// escaped and free of the path (which can hold a secret).
#include <gtest/gtest.h>

#include <string>

#include "core/error.hpp"
#include "io/url.hpp"

namespace cbtrade::io {
namespace {

Url ok(std::string_view text) {
    UrlResult r = parse_url(text);
    EXPECT_TRUE(r) << text << ": " << r.error;
    return r ? *r.url : Url{};
}

std::string refused(std::string_view text) {
    UrlResult r = parse_url(text);
    EXPECT_FALSE(r) << text;
    EXPECT_FALSE(r.error.empty());
    return r.error;
}

TEST(Url, coinbase_websocket_url_gets_the_tls_default_port_and_root_target) {
    const Url u = ok("wss://advanced-trade-ws.coinbase.com");
    EXPECT_EQ(u.scheme, Scheme::wss);
    EXPECT_TRUE(u.tls());
    EXPECT_TRUE(u.websocket());
    EXPECT_EQ(u.host, "advanced-trade-ws.coinbase.com");
    EXPECT_EQ(u.port, 443);
    EXPECT_EQ(u.target, "/");
    EXPECT_EQ(u.host_header(), "advanced-trade-ws.coinbase.com");
    EXPECT_EQ(u.authority(), "advanced-trade-ws.coinbase.com:443");
}

TEST(Url, rest_base_keeps_path_and_query) {
    const Url u = ok("https://api.coinbase.com/api/v3/brokerage?limit=300&x=%2F");
    EXPECT_EQ(u.scheme, Scheme::https);
    EXPECT_FALSE(u.websocket());
    EXPECT_EQ(u.port, 443);
    EXPECT_EQ(u.target, "/api/v3/brokerage?limit=300&x=%2F");
}

TEST(Url, explicit_port_shows_in_the_host_header) {
    const Url u = ok("wss://localhost:8443/ws?x=1");
    EXPECT_EQ(u.port, 8443);
    EXPECT_EQ(u.target, "/ws?x=1");
    EXPECT_EQ(u.host_header(), "localhost:8443");
    EXPECT_EQ(ok("https://example.com:443/").host_header(), "example.com");
    EXPECT_EQ(ok("https://example.com?q=1").target, "/?q=1");
}

TEST(Url, scheme_and_host_are_case_insensitive_and_host_is_lowered) {
    const Url u = ok("WSS://Advanced-Trade-WS.Coinbase.COM/Path");
    EXPECT_EQ(u.scheme, Scheme::wss);
    EXPECT_EQ(u.host, "advanced-trade-ws.coinbase.com");
    EXPECT_EQ(u.target, "/Path") << "the path is case-sensitive";
}

TEST(Url, ipv4_and_bracketed_ipv6_hosts) {
    EXPECT_EQ(ok("https://10.1.2.3:8443").host, "10.1.2.3");
    const Url v6 = ok("wss://[::1]:9443/x");
    EXPECT_EQ(v6.host, "::1");
    EXPECT_EQ(v6.port, 9443);
    EXPECT_EQ(v6.host_header(), "[::1]:9443");
    EXPECT_EQ(ok("https://[2001:db8::1]").authority(), "[2001:db8::1]:443");
    refused("https://[::1");
    refused("https://[::1]x");
    refused("https://[not-v6]:443");
    refused("https://[]:443");
    refused("https://::1:443");
}

TEST(Url, plaintext_is_only_for_loopback_hosts) {
    EXPECT_EQ(ok("ws://127.0.0.1:9000").port, 9000);
    EXPECT_EQ(ok("http://localhost").port, 80);
    EXPECT_FALSE(ok("http://[::1]:80/").tls());
    EXPECT_TRUE(ok("ws://127.5.6.7/").websocket());
    const std::string e = refused("ws://advanced-trade-ws.coinbase.com");
    EXPECT_NE(e.find("loopback"), std::string::npos) << e;
    EXPECT_NE(e.find("wss://"), std::string::npos) << e;
    EXPECT_NE(refused("http://api.coinbase.com/").find("https://"), std::string::npos);
    refused("http://128.0.0.1/");
}

TEST(Url, port_out_of_range_is_named) {
    const std::string e = refused("wss://localhost:99999");
    EXPECT_NE(e.find("'99999'"), std::string::npos) << e;
    EXPECT_NE(e.find("1..65535"), std::string::npos) << e;
    refused("wss://localhost:0");
    refused("wss://localhost:65536");
    refused("wss://localhost:123456789012345678901234567890");
    EXPECT_EQ(ok("wss://localhost:65535").port, 65535);
    EXPECT_EQ(ok("wss://localhost:1").port, 1);
    EXPECT_NE(refused("wss://localhost:").find("empty"), std::string::npos);
    EXPECT_NE(refused("wss://localhost:-1").find("not a number"), std::string::npos);
    refused("wss://localhost:+443");
    refused("wss://localhost:44a3");
}

TEST(Url, userinfo_is_refused_without_echoing_it) {
    const std::string e = refused("https://user:hunter2@api.coinbase.com/");
    EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
    refused("https://@api.coinbase.com/");
}

TEST(Url, empty_or_missing_host_is_refused) {
    refused("wss://");
    refused("wss:///path");
    refused("wss://:443");
    refused("https://?q");
    refused("");
}

TEST(Url, other_schemes_and_non_urls_are_refused) {
    EXPECT_NE(refused("ftp://example.com").find("'ftp'"), std::string::npos);
    refused("example.com");
    refused("://example.com");
    refused("wss:/example.com");
    refused("file:///etc/passwd");
}

TEST(Url, bad_host_characters_fragments_and_dots) {
    refused("https://exa%mple.com/");
    refused("https://exa!mple.com/");
    refused("https://.example.com/");
    refused("https://example..com/");
    refused("https://example.com/#frag");
    refused("https://example.com#frag");
    refused(std::string("https://") + std::string(254, 'a'));
    EXPECT_TRUE(parse_url(std::string("https://") + std::string(253, 'a')));
}

TEST(Url, control_characters_spaces_and_non_ascii_are_refused_by_offset_only) {
    const std::string secret_path = "https://hooks.example.com/T000/B000/SECRETXYZ\n";
    const std::string e = refused(secret_path);
    EXPECT_EQ(e.find("SECRET"), std::string::npos) << e;
    EXPECT_NE(e.find("offset 45"), std::string::npos) << e;
    refused("https://exa mple.com/");
    refused("https://example.com/a b");
    refused(std::string("https://example.com/\0x", 22));
    refused("https://ex\x1b[31mample.com/");
    refused("https://ex\xc3\xa9mple.com/");
    refused("https://example.com/\x7f");
}

TEST(Url, errors_quote_input_short_and_escaped) {
    const std::string e = refused(std::string("gopher") + std::string(100, 'x') + "://h");
    EXPECT_LT(e.size(), 120u) << e;
    EXPECT_NE(e.find("bytes)"), std::string::npos) << e;
    const std::string long_url = "https://example.com/" + std::string(max_url_bytes, 'a');
    const std::string e2 = refused(long_url);
    EXPECT_LT(e2.size(), 100u) << e2;
}

TEST(Url, path_of_a_secret_url_never_appears_in_errors) {
    for (const char* bad : {"https://user@hooks.example.com/services/SECRET", "https://:1/services/SECRET",
                            "https://h:99999/services/SECRET", "http://remote.example/services/SECRET",
                            "https://h/services/SECRET#x", "wss://h/services/SECRET\t"}) {
        const std::string e = refused(bad);
        EXPECT_EQ(e.find("SECRET"), std::string::npos) << bad << " -> " << e;
    }
}

TEST(Url, loopback_hosts) {
    EXPECT_TRUE(is_loopback_host("localhost"));
    EXPECT_TRUE(is_loopback_host("LocalHost"));
    EXPECT_TRUE(is_loopback_host("127.0.0.1"));
    EXPECT_TRUE(is_loopback_host("127.255.0.9"));
    EXPECT_TRUE(is_loopback_host("::1"));
    EXPECT_FALSE(is_loopback_host("localhost.example.com"));
    EXPECT_FALSE(is_loopback_host("10.0.0.1"));
    EXPECT_FALSE(is_loopback_host("::2"));
    EXPECT_FALSE(is_loopback_host(""));
    EXPECT_FALSE(is_loopback_host(std::string(200, '1')));
}

TEST(Url, config_url_names_the_key_and_exits_2) {
    try {
        (void)parse_config_url("COINBASE_WS_URL", "wss://localhost:99999", UrlKind::websocket);
        FAIL() << "no throw";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.exit_code(), ExitCode::usage);
        const std::string what = e.what();
        EXPECT_EQ(what.rfind("COINBASE_WS_URL: ", 0), 0u) << what;
        EXPECT_NE(what.find("'99999'"), std::string::npos) << what;
    }
    EXPECT_THROW((void)parse_config_url("COINBASE_WS_URL", "https://example.com", UrlKind::websocket), ConfigError);
    EXPECT_THROW((void)parse_config_url("COINBASE_API_BASE", "wss://example.com", UrlKind::http), ConfigError);
    EXPECT_EQ(parse_config_url("COINBASE_API_BASE", "https://api.coinbase.com/api/v3/brokerage", UrlKind::http).target,
              "/api/v3/brokerage");
}

}  // namespace
}  // namespace cbtrade::io

TEST(Query, percent_decoding_and_items_in_order_with_a_cap) {
    using cbtrade::io::parse_query;
    using cbtrade::io::percent_decode;
    EXPECT_EQ(percent_decode("a%20b+c%2Fd"), "a b c/d");
    EXPECT_EQ(percent_decode("100%"), "100%") << "a lone % is kept";
    EXPECT_EQ(percent_decode("%zz%4"), "%zz%4");
    const auto q = parse_query("product_id=BTC-USD&&limit=3&flag&x=%3D");
    ASSERT_TRUE(q);
    ASSERT_EQ(q->size(), 4u);
    EXPECT_EQ((*q)[0], std::make_pair(std::string("product_id"), std::string("BTC-USD")));
    EXPECT_EQ((*q)[1].second, "3");
    EXPECT_EQ((*q)[2], std::make_pair(std::string("flag"), std::string()));
    EXPECT_EQ((*q)[3].second, "=");
    EXPECT_FALSE(parse_query("a=1&b=2&c=3", 2)) << "more items than allowed";
    EXPECT_TRUE(parse_query("", 0)->empty());
}
