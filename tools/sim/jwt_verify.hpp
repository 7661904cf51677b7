// tools/sim/: the exchange's side of CDP API key JWTs (coinbase-api.md section 2), verified with
// OpenSSL, i.e. independently of the wolfCrypt signer the client uses. A token passes only when:
//   - it is three base64url parts, header {"alg","kid","nonce"[,"typ":"JWT"]} with a kid this
//     simulator was given and the alg of that key's type (ES256 for EC P-256, EdDSA for Ed25519);
//   - the payload has sub == kid, iss "cdp", integer nbf and exp with nbf <= now + 5 s (clock
//     leeway), now < exp, and exp - nbf <= 120;
//   - for REST the uri claim equals "<METHOD> <host><path>" of the request (no scheme, port or
//     query), for WebSocket there is no uri claim;
//   - the signature verifies: ES256 as raw r||s (64 bytes, never DER), EdDSA as pure Ed25519.
// The reason a token failed goes to the simulator's log; the client only ever sees 401.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using EVP_PKEY = struct evp_pkey_st;  // OpenSSL's own forward declaration, without its headers

namespace cbtrade::sim {

// The JWS signature check alone, with OpenSSL: ES256 as raw r||s (converted to DER for OpenSSL)
// over SHA-256, or pure Ed25519. Shared with the tests that check the signer's tokens.
[[nodiscard]] bool verify_jws_signature(EVP_PKEY* key, bool ed25519, std::string_view signing_input,
                                        std::string_view raw_signature);

class JwtVerifier {
public:
    JwtVerifier();
    ~JwtVerifier();
    JwtVerifier(const JwtVerifier&) = delete;
    JwtVerifier& operator=(const JwtVerifier&) = delete;

    // Accepts tokens of key `name`, checked with the key in `pem` (a public key, or a private key
    // whose public half is used). Throws std::runtime_error for an unusable PEM or key type.
    void add_key(const std::string& name, const std::string& pem);
    [[nodiscard]] bool has_keys() const noexcept;

    // Empty when the token is valid, else why not (one line, for the log).
    [[nodiscard]] std::string verify(std::string_view token, std::optional<std::string_view> expected_uri,
                                     std::int64_t now_s) const;

private:
    struct Key;
    std::vector<std::unique_ptr<Key>> keys_;
};

}  // namespace cbtrade::sim
