// exec/jwt: Coinbase CDP API key JWTs (coinbase-api.md section 2), signed with wolfCrypt.
//
// A JwtSigner holds one parsed private key: ES256 for an EC P-256 key (SEC1 "EC PRIVATE KEY" or
// PKCS#8 "PRIVATE KEY" PEM), EdDSA for an Ed25519 key (base64 of the 64-byte seed || public key
// Coinbase hands out, base64 of a 32-byte seed, or PKCS#8 PEM). It writes JWS compact tokens:
//   header  {"alg":"ES256"|"EdDSA","kid":<key name>,"nonce":<32 random hex>,"typ":"JWT"}
//   payload {"sub":<key name>,"iss":"cdp","nbf":now,"exp":now+120[,"uri":"METHOD host/path"]}
// REST tokens carry the uri claim (one token per request, bound to method, host and path); WebSocket
// tokens carry none. ES256 signatures are the raw 64-byte r||s JWS wants, never DER.
//
// Key text is secret: no error, log or exception ever quotes it (only its origin, a PEM label, a
// length or an offset). Signing costs 10-80 us (bench/bench_jwt.cpp), so it stays off the hot path;
// a signer is not thread-safe (its random generator), one thread uses it at a time.
//
// This library is wolfCrypt's only user besides io/; nothing here includes a wolfSSL header, so
// tests may verify tokens with OpenSSL in the same program.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace cbtrade {

enum class JwtAlgorithm : std::uint8_t { es256, eddsa };
// "ES256" or "EdDSA", as the header's alg.
[[nodiscard]] std::string_view jwt_alg_name(JwtAlgorithm alg) noexcept;
// exp - nbf (coinbase-api.md 2.2).
inline constexpr std::int64_t jwt_lifetime_s = 120;

// The REST uri claim: "<METHOD> <host><path>", method upper-cased, host without scheme, port or
// userinfo and lower-cased, path without query or fragment (coinbase-api.md 2.2). `host` may carry
// ":port", `target` a query. Empty when method, host or target is empty or target does not start with '/'.
[[nodiscard]] std::string jwt_uri_claim(std::string_view method, std::string_view host, std::string_view target);

class JwtSigner {
public:
    // Parses `private_key` (surrounding whitespace and literal "\n" sequences allowed, as env files
    // and key JSON carry them). Throws ConfigError naming `origin` (e.g. "COINBASE_API_PRIVATE_KEY")
    // and what is wrong with the key, never its text. `key_name` must be printable ASCII without
    // spaces (it is the kid and sub claims and appears in reports).
    JwtSigner(std::string key_name, std::string_view private_key, std::string_view origin);
    ~JwtSigner();
    JwtSigner(JwtSigner&&) noexcept;
    JwtSigner& operator=(JwtSigner&&) noexcept;
    JwtSigner(const JwtSigner&) = delete;
    JwtSigner& operator=(const JwtSigner&) = delete;

    [[nodiscard]] JwtAlgorithm algorithm() const noexcept;
    [[nodiscard]] const std::string& key_name() const noexcept;
    // What kind of key was parsed ("EC P-256, SEC1 PEM"): never key material.
    [[nodiscard]] const std::string& key_description() const noexcept;

    // A token for one REST request: nbf = now_s, exp = now_s + 120, uri = jwt_uri_claim(...).
    // Throws RunError when the claim cannot be formed or wolfCrypt fails (no key text in it).
    [[nodiscard]] std::string rest_jwt(std::string_view method, std::string_view host, std::string_view target,
                                       std::int64_t now_s);
    // A token for a WebSocket subscribe message: no uri claim.
    [[nodiscard]] std::string ws_jwt(std::int64_t now_s);

    // The general form (tests make expired tokens and tokens for another uri with it).
    struct Claims {
        std::int64_t nbf = 0;
        std::int64_t exp = 0;
        std::optional<std::string> uri;  // written as is when set
    };
    [[nodiscard]] std::string sign(const Claims& claims);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace cbtrade
