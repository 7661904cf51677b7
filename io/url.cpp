// The one URL parser. See url.hpp.
#include "io/url.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "core/error.hpp"
#include "core/text.hpp"

namespace cbtrade::io {

namespace {

struct SchemeName {
    std::string_view text;
    Scheme scheme;
};
constexpr std::array<SchemeName, 4> scheme_names{{
    {"wss", Scheme::wss},
    {"https", Scheme::https},
    {"ws", Scheme::ws},
    {"http", Scheme::http},
}};

std::string_view scheme_text(Scheme s) noexcept {
    for (const auto& n : scheme_names)
        if (n.scheme == s) return n.text;
    return "?";
}

bool host_name_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_';
}

UrlResult fail(std::string message) {
    return {std::nullopt, std::move(message)};
}

// Checks a DNS name or IPv4 literal: allowed characters, no empty label.
std::string check_host_name(std::string_view host) {
    for (const char c : host)
        if (!host_name_char(c))
            return "host " + quote_for_message(host) + " has a character a host name cannot have (" +
                   quote_for_message(std::string_view(&c, 1)) + ")";
    if (host.front() == '.' || host.find("..") != std::string_view::npos)
        return "host " + quote_for_message(host) + " has an empty label";
    return {};
}

}  // namespace

bool is_loopback_host(std::string_view host) noexcept {
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);  // "localhost." is the same name
    if (ascii_iequals(host, "localhost")) return true;
    if (host.size() >= INET6_ADDRSTRLEN) return false;
    char text[INET6_ADDRSTRLEN] = {};
    std::memcpy(text, host.data(), host.size());
    in_addr v4{};
    if (::inet_pton(AF_INET, text, &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    in6_addr v6{};
    if (::inet_pton(AF_INET6, text, &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
    return false;
}

std::string Url::host_header() const {
    const bool v6 = host.find(':') != std::string::npos;
    std::string out = v6 ? "[" + host + "]" : host;
    if (port != default_port()) out.append(":").append(std::to_string(port));
    return out;
}

std::string Url::authority() const {
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

UrlResult parse_url(std::string_view text, Plaintext plaintext) {
    if (text.empty()) return fail("the URL is empty");
    if (text.size() > max_url_bytes)
        return fail("the URL is " + std::to_string(text.size()) + " bytes long (at most " +
                    std::to_string(max_url_bytes) + ")");
    // One check for every byte: nothing below may meet a control character, space or non-ASCII
    // byte. The offset, not the byte, is named: the rest of the URL may be a secret.
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c <= 0x20 || c >= 0x7f)
            return fail("the URL has a control character, space or non-ASCII byte at offset " + std::to_string(i));
    }

    const std::size_t sep = text.find("://");
    if (sep == std::string_view::npos || sep == 0)
        return fail("not a URL: expected wss://host or https://host, got " + quote_for_message(text, 16));
    const std::string_view scheme_part = text.substr(0, sep);
    std::optional<Scheme> scheme;
    for (const auto& n : scheme_names) {
        if (ascii_iequals(scheme_part, n.text)) scheme = n.scheme;
    }
    if (!scheme) return fail("scheme " + quote_for_message(scheme_part, 16) + " is not one of wss, https, ws, http");

    std::string_view rest = text.substr(sep + 3);
    if (rest.find('#') != std::string_view::npos) return fail("a URL fragment ('#...') is not accepted");
    const std::size_t authority_end = std::min(rest.find('/'), rest.find('?'));
    const std::string_view authority = rest.substr(0, authority_end);
    const std::string_view target = authority_end == std::string_view::npos ? "" : rest.substr(authority_end);
    if (authority.find('@') != std::string_view::npos)
        return fail("user information ('user@host') is not accepted in a URL: credentials have their own keys");
    if (authority.empty()) return fail("the URL has no host");

    Url url;
    url.scheme = *scheme;
    std::string_view host;
    std::string_view port_text;
    bool has_port = false;
    if (authority.front() == '[') {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos)
            return fail("IPv6 host " + quote_for_message(authority) + " lacks its ']'");
        host = authority.substr(1, close - 1);
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':')
                return fail("unexpected " + quote_for_message(after) + " after the IPv6 host (expected ':port')");
            has_port = true;
            port_text = after.substr(1);
        }
        in6_addr v6{};
        const std::string host_z(host);
        if (host.empty() || host.size() >= INET6_ADDRSTRLEN || ::inet_pton(AF_INET6, host_z.c_str(), &v6) != 1)
            return fail("host " + quote_for_message(host) + " is not an IPv6 address");
    } else {
        const std::size_t colon = authority.find(':');
        host = authority.substr(0, colon);
        if (colon != std::string_view::npos) {
            has_port = true;
            port_text = authority.substr(colon + 1);
            if (port_text.find(':') != std::string_view::npos)
                return fail("host " + quote_for_message(authority) +
                            " has more than one ':' (write an IPv6 address in brackets: [::1]:443)");
        }
        if (host.empty()) return fail("the URL has no host");
        if (host.size() > max_host_bytes)
            return fail("host is " + std::to_string(host.size()) + " bytes long (at most " +
                        std::to_string(max_host_bytes) + ")");
        if (std::string e = check_host_name(host); !e.empty()) return fail(std::move(e));
    }
    url.host.resize(host.size());
    std::transform(host.begin(), host.end(), url.host.begin(), ascii_lower);

    url.port = url.default_port();
    if (has_port) {
        if (port_text.empty()) return fail("the port after ':' is empty");
        unsigned long port = 0;
        for (const char c : port_text) {
            if (c < '0' || c > '9') return fail("port " + quote_for_message(port_text, 16) + " is not a number");
            port = port * 10 + static_cast<unsigned long>(c - '0');
            if (port > 65535) break;
        }
        if (port == 0 || port > 65535)
            return fail("port " + quote_for_message(port_text, 16) + " is out of range 1..65535");
        url.port = static_cast<std::uint16_t>(port);
    }

    if (target.empty()) url.target = "/";
    else if (target.front() == '?') url.target = "/" + std::string(target);
    else url.target = std::string(target);

    if (!url.tls() && plaintext == Plaintext::loopback_only && !is_loopback_host(url.host))
        return fail("plaintext " + std::string(scheme_text(url.scheme)) + ":// is only accepted for a loopback host " +
                    "(localhost, 127.0.0.1, ::1); use " + (url.websocket() ? "wss://" : "https://"));
    return {std::move(url), {}};
}

Url parse_config_url(std::string_view key, std::string_view value, UrlKind kind, Plaintext plaintext) {
    UrlResult r = parse_url(value, plaintext);
    if (!r) throw ConfigError(std::string(key) + ": " + r.error);
    const bool want_ws = kind == UrlKind::websocket;
    if (r.url->websocket() != want_ws)
        throw ConfigError(std::string(key) + ": expected " + (want_ws ? "a wss:// URL" : "an https:// URL") + ", got " +
                          std::string(scheme_text(r.url->scheme)) + "://");
    return std::move(*r.url);
}

namespace {

int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::string percent_decode(std::string_view text) {
    const std::string_view s = text;
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
            i += 2;
        } else {
            out += s[i] == '+' ? ' ' : s[i];
        }
    }
    return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query,
                                                                            std::size_t max_items) {
    std::string_view rest = query;
    std::vector<std::pair<std::string, std::string>> out;
    while (!rest.empty()) {
        const std::size_t amp = rest.find('&');
        const std::string_view item = rest.substr(0, amp);
        if (!item.empty()) {
            if (out.size() == max_items) return std::nullopt;
            const std::size_t eq = item.find('=');
            out.emplace_back(percent_decode(item.substr(0, eq)),
                             eq == std::string_view::npos ? std::string() : percent_decode(item.substr(eq + 1)));
        }
        if (amp == std::string_view::npos) break;
        rest.remove_prefix(amp + 1);
    }
    return out;
}

}  // namespace cbtrade::io
