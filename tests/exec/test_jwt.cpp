// exec/jwt: tokens signed by wolfCrypt, verified by an independent implementation (OpenSSL), with
// throwaway keys made here at test time in every format Coinbase hands out.
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <gtest/gtest.h>
#include <simdjson.h>

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/base64.hpp"
#include "core/error.hpp"
#include "exec/jwt.hpp"
#include "tests/exec/openssl_keys.hpp"

namespace {

using namespace cbtrade;
using namespace cbtrade::test;

constexpr std::string_view key_name = "organizations/0a1b2c3d/apiKeys/9f8e7d6c";

struct DecodedJwt {
    std::string header;
    std::string payload;
    std::string signing_input;
    std::string signature;
};

DecodedJwt split_jwt(const std::string& token) {
    const auto dot1 = token.find('.');
    const auto dot2 = token.find('.', dot1 + 1);
    EXPECT_NE(dot1, std::string::npos);
    EXPECT_NE(dot2, std::string::npos);
    EXPECT_EQ(token.find('.', dot2 + 1), std::string::npos);
    DecodedJwt d;
    const auto h = base64_decode(token.substr(0, dot1), Base64Alphabet::url);
    const auto p = base64_decode(token.substr(dot1 + 1, dot2 - dot1 - 1), Base64Alphabet::url);
    const auto s = base64_decode(token.substr(dot2 + 1), Base64Alphabet::url);
    EXPECT_TRUE(h.ok() && p.ok() && s.ok()) << "every part is unpadded base64url";
    d.header = h.bytes;
    d.payload = p.bytes;
    d.signature = s.bytes;
    d.signing_input = token.substr(0, dot2);
    return d;
}

struct Header {
    std::string alg, kid, nonce, typ;
};
struct Payload {
    std::string sub, iss;
    std::int64_t nbf = 0, exp = 0;
    bool has_uri = false;
    std::string uri;
    std::size_t fields = 0;
};

Header parse_header(const std::string& json) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc = parser.parse(json);
    Header h;
    h.alg = std::string(doc["alg"].get_string().value());
    h.kid = std::string(doc["kid"].get_string().value());
    h.nonce = std::string(doc["nonce"].get_string().value());
    h.typ = std::string(doc["typ"].get_string().value());
    return h;
}

Payload parse_payload(const std::string& json) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc = parser.parse(json);
    Payload p;
    p.sub = std::string(doc["sub"].get_string().value());
    p.iss = std::string(doc["iss"].get_string().value());
    p.nbf = doc["nbf"].get_int64().value();
    p.exp = doc["exp"].get_int64().value();
    std::string_view uri;
    if (doc["uri"].get_string().get(uri) == simdjson::SUCCESS) {
        p.has_uri = true;
        p.uri = std::string(uri);
    }
    p.fields = doc.get_object().value().size();
    return p;
}

// The error text names what is wrong, never a piece of the key: no 12-character run of the key's
// text (its base64 or PEM body) appears in it.
void expect_no_key_material(const std::string& message, std::string_view key_text) {
    constexpr std::size_t window = 12;
    for (std::size_t i = 0; i + window <= key_text.size(); ++i) {
        const std::string_view piece = key_text.substr(i, window);
        if (piece.find_first_of("\n -") != std::string_view::npos) continue;  // PEM armour is not secret
        ASSERT_EQ(message.find(piece), std::string::npos) << "error quotes the key: " << message;
    }
}

std::string config_error(std::string_view key_text, std::string name = std::string(key_name)) {
    try {
        JwtSigner signer(std::move(name), key_text, "COINBASE_API_PRIVATE_KEY");
    } catch (const ConfigError& e) {
        expect_no_key_material(e.what(), key_text);
        EXPECT_NE(std::string(e.what()).find("COINBASE_API_PRIVATE_KEY"), std::string::npos) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "key was accepted";
    return {};
}

void expect_valid_token(const std::string& token, const TestKey& key, std::string_view expected_alg, std::int64_t now_s,
                        const std::string* expected_uri) {
    const DecodedJwt d = split_jwt(token);
    const Header h = parse_header(d.header);
    EXPECT_EQ(h.alg, expected_alg);
    EXPECT_EQ(h.kid, key_name);
    EXPECT_EQ(h.typ, "JWT");
    EXPECT_EQ(h.nonce.size(), 32u);
    EXPECT_EQ(h.nonce.find_first_not_of("0123456789abcdef"), std::string::npos);
    const Payload p = parse_payload(d.payload);
    EXPECT_EQ(p.sub, key_name);
    EXPECT_EQ(p.iss, "cdp");
    EXPECT_EQ(p.nbf, now_s);
    EXPECT_EQ(p.exp, now_s + 120);
    if (expected_uri) {
        EXPECT_TRUE(p.has_uri);
        EXPECT_EQ(p.uri, *expected_uri);
        EXPECT_EQ(p.fields, 5u);
    } else {
        EXPECT_FALSE(p.has_uri) << "a WebSocket JWT has no uri claim";
        EXPECT_EQ(p.fields, 4u);
    }
    EXPECT_EQ(d.signature.size(), 64u) << "ES256 is raw r||s and Ed25519 is 64 bytes; never DER";
    EXPECT_TRUE(verify_jws_signature(key, d.signing_input, d.signature)) << "OpenSSL refuses the signature";
}

TEST(JwtUri, method_host_and_path_without_scheme_port_or_query) {
    EXPECT_EQ(jwt_uri_claim("GET", "api.coinbase.com", "/api/v3/brokerage/accounts"),
              "GET api.coinbase.com/api/v3/brokerage/accounts");
    EXPECT_EQ(jwt_uri_claim("post", "API.Coinbase.com:443", "/api/v3/brokerage/orders"),
              "POST api.coinbase.com/api/v3/brokerage/orders");
    EXPECT_EQ(jwt_uri_claim("GET", "api.coinbase.com", "/api/v3/brokerage/accounts?limit=250&cursor=abc"),
              "GET api.coinbase.com/api/v3/brokerage/accounts");
    EXPECT_EQ(jwt_uri_claim("GET", "127.0.0.1:8443", "/api/v3/brokerage/products/BTC-USD#frag"),
              "GET 127.0.0.1/api/v3/brokerage/products/BTC-USD");
    EXPECT_EQ(jwt_uri_claim("GET", "[::1]:8443", "/x"), "GET [::1]/x");
    EXPECT_EQ(jwt_uri_claim("GET", "user@host.example:1", "/x"), "GET host.example/x");
    EXPECT_EQ(jwt_uri_claim("GET", "", "/x"), "");
    EXPECT_EQ(jwt_uri_claim("GET", "h", "x"), "") << "a target must be an absolute path";
    EXPECT_EQ(jwt_uri_claim("", "h", "/x"), "");
}

TEST(Jwt, es256_sec1_pem_token_verifies_with_openssl) {
    const TestKey key = make_p256_key();
    JwtSigner signer(std::string(key_name), key.sec1_pem, "test");
    EXPECT_EQ(signer.algorithm(), JwtAlgorithm::es256);
    EXPECT_EQ(signer.key_description(), "EC P-256 (SEC1 PEM)");
    const std::string uri = "POST api.coinbase.com/api/v3/brokerage/orders";
    const std::string token = signer.rest_jwt("POST", "api.coinbase.com", "/api/v3/brokerage/orders", 1736949787);
    expect_valid_token(token, key, "ES256", 1736949787, &uri);
    // The check is real: another key, a changed payload or a flipped signature bit is refused.
    const DecodedJwt d = split_jwt(token);
    EXPECT_FALSE(verify_jws_signature(make_p256_key(), d.signing_input, d.signature));
    EXPECT_FALSE(verify_jws_signature(key, d.signing_input + "x", d.signature));
    std::string flipped = d.signature;
    flipped[63] = static_cast<char>(flipped[63] ^ 1);
    EXPECT_FALSE(verify_jws_signature(key, d.signing_input, flipped));
}

TEST(Jwt, es256_raw_signatures_verify_for_many_tokens_including_short_r_or_s) {
    // About one signature in 128 has an r or s below 2^248, whose big-endian form wolfCrypt writes
    // shorter: JWS needs both left-padded to 32 bytes. 400 tokens hit that with probability ~96%;
    // every one of them must verify either way.
    const TestKey key = make_p256_key();
    JwtSigner signer(std::string(key_name), key.pkcs8_pem, "test");
    std::set<std::string> nonces;
    int short_halves = 0;
    for (int i = 0; i < 400; ++i) {
        const std::string token = signer.ws_jwt(1'700'000'000 + i);
        const DecodedJwt d = split_jwt(token);
        ASSERT_EQ(d.signature.size(), 64u);
        ASSERT_TRUE(verify_jws_signature(key, d.signing_input, d.signature)) << "token " << i;
        nonces.insert(parse_header(d.header).nonce);
        short_halves += d.signature[0] == '\0' || d.signature[32] == '\0';
    }
    RecordProperty("tokens_with_a_padded_half", short_halves);
    EXPECT_EQ(nonces.size(), 400u) << "every token has a fresh nonce";
}

TEST(Jwt, es256_accepts_pkcs8_and_sec1_without_public_key) {
    const TestKey key = make_p256_key();
    for (const auto& [pem, form] :
         {std::pair{key.pkcs8_pem, "PKCS#8 PEM"}, std::pair{key.sec1_no_public_pem, "SEC1 PEM"}}) {
        JwtSigner signer(std::string(key_name), pem, "test");
        EXPECT_EQ(signer.key_description(), std::string("EC P-256 (") + form + ")");
        expect_valid_token(signer.ws_jwt(1736949787), key, "ES256", 1736949787, nullptr);
    }
}

TEST(Jwt, pem_with_literal_backslash_n_and_surrounding_space_is_accepted) {
    const TestKey key = make_p256_key();
    std::string escaped = "  ";
    for (char c : key.sec1_pem) escaped += c == '\n' ? std::string("\\n") : std::string(1, c);
    escaped += "\n";
    JwtSigner signer(std::string(key_name), escaped, "test");
    expect_valid_token(signer.ws_jwt(5), key, "ES256", 5, nullptr);
}

TEST(Jwt, eddsa_from_base64_seed_and_public_key_as_coinbase_issues_it) {
    const TestKey key = make_ed25519_key();
    JwtSigner signer(std::string(key_name), key.ed_base64_64, "test");
    EXPECT_EQ(signer.algorithm(), JwtAlgorithm::eddsa);
    EXPECT_EQ(signer.key_description(), "Ed25519 (base64 seed and public key)");
    const std::string uri = "GET api.coinbase.com/api/v3/brokerage/accounts";
    const std::string token =
        signer.rest_jwt("GET", "api.coinbase.com", "/api/v3/brokerage/accounts?limit=250", 1736949787);
    expect_valid_token(token, key, "EdDSA", 1736949787, &uri);
    const DecodedJwt d = split_jwt(token);
    EXPECT_FALSE(verify_jws_signature(make_ed25519_key(), d.signing_input, d.signature));
    EXPECT_FALSE(verify_jws_signature(key, d.signing_input + "x", d.signature));
}

TEST(Jwt, eddsa_from_32_byte_seed_and_pkcs8_pem) {
    const TestKey key = make_ed25519_key();
    for (const std::string& text : {key.ed_base64_32, key.pkcs8_pem}) {
        JwtSigner signer(std::string(key_name), text, "test");
        EXPECT_EQ(signer.algorithm(), JwtAlgorithm::eddsa);
        expect_valid_token(signer.ws_jwt(1736949787), key, "EdDSA", 1736949787, nullptr);
    }
}

TEST(Jwt, eddsa_signature_is_deterministic_but_tokens_differ_by_nonce) {
    const TestKey key = make_ed25519_key();
    JwtSigner signer(std::string(key_name), key.ed_base64_64, "test");
    const std::string a = signer.ws_jwt(10);
    const std::string b = signer.ws_jwt(10);
    EXPECT_NE(a, b);
    EXPECT_NE(parse_header(split_jwt(a).header).nonce, parse_header(split_jwt(b).header).nonce);
}

TEST(Jwt, explicit_claims_for_expired_and_other_uri_tokens) {
    const TestKey key = make_ed25519_key();
    JwtSigner signer(std::string(key_name), key.ed_base64_64, "test");
    const std::string token = signer.sign({100, 220, std::string("GET h/other")});
    const DecodedJwt d = split_jwt(token);
    const Payload p = parse_payload(d.payload);
    EXPECT_EQ(p.nbf, 100);
    EXPECT_EQ(p.exp, 220);
    EXPECT_EQ(p.uri, "GET h/other");
    EXPECT_TRUE(verify_jws_signature(key, d.signing_input, d.signature));
}

TEST(Jwt, key_name_is_checked_and_escaped_in_json) {
    const TestKey key = make_ed25519_key();
    EXPECT_NE(config_error(key.ed_base64_64, "name with space").find("key name"), std::string::npos);
    EXPECT_NE(config_error(key.ed_base64_64, "").find("empty"), std::string::npos);
    JwtSigner signer("id\"quote\\", key.ed_base64_64, "test");
    const Header h = parse_header(split_jwt(signer.ws_jwt(1)).header);
    EXPECT_EQ(h.kid, "id\"quote\\");
}

TEST(JwtBadKeys, every_refusal_names_the_problem_without_key_material) {
    const TestKey ec = make_p256_key();
    const TestKey ed = make_ed25519_key();

    EXPECT_NE(config_error("").find("empty"), std::string::npos);
    EXPECT_NE(config_error("   \n ").find("empty"), std::string::npos);

    // Truncated PEM: the END line is gone.
    const std::string truncated = ec.sec1_pem.substr(0, ec.sec1_pem.size() / 2);
    EXPECT_NE(config_error(truncated).find("no matching -----END EC PRIVATE KEY-----"), std::string::npos);

    // A character changed inside the body.
    std::string corrupted = ec.sec1_pem;
    corrupted[40] = '*';
    EXPECT_NE(config_error(corrupted).find("not valid base64"), std::string::npos);

    // Valid base64, but the DER inside is cut short (bytes flipped into a different structure).
    std::string wrong_der =
        "-----BEGIN EC PRIVATE KEY-----\n" + base64_encode(std::string(48, 'A')) + "\n-----END EC PRIVATE KEY-----\n";
    EXPECT_NE(config_error(wrong_der).find("not a valid SEC1"), std::string::npos);

    EXPECT_NE(config_error(make_p384_key_pem()).find("P-256"), std::string::npos);
    EXPECT_NE(config_error(make_rsa_key_pem()).find("neither an EC P-256 nor an Ed25519"), std::string::npos);
    EXPECT_NE(config_error(make_encrypted_pkcs8_pem()).find("encrypted"), std::string::npos);
    EXPECT_NE(config_error(ec.public_pem).find("public key"), std::string::npos);
    EXPECT_NE(config_error("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n")
                  .find("unsupported PEM block 'OPENSSH PRIVATE KEY'"),
              std::string::npos);

    // A mangled BEGIN line that holds key text instead of a label: the label is not quoted.
    const std::string body = ec.sec1_pem.substr(31, 40);
    const std::string in_label = "-----BEGIN " + body + "-----\n" + body + "\n-----END EC PRIVATE KEY-----\n";
    const std::string m = config_error(in_label);
    EXPECT_NE(m.find("no matching -----END <a 40-character label, not shown>-----"), std::string::npos) << m;
    EXPECT_EQ(m.find(body.substr(0, 16)), std::string::npos) << m;
    EXPECT_NE(config_error("-----BEGIN " + body + "-----\nAAAA\n-----END " + body + "-----\n")
                  .find("unsupported PEM block '<a 40-character label, not shown>'"),
              std::string::npos);

    // Ed25519: a seed whose public half belongs to another key.
    const TestKey other = make_ed25519_key();
    const auto seed = base64_decode(ed.ed_base64_32).bytes;
    const auto other_pub = base64_decode(other.ed_base64_64).bytes.substr(32);
    const std::string mismatched = base64_encode(seed + other_pub);
    EXPECT_NE(config_error(mismatched).find("not the public key"), std::string::npos);

    // Wrong lengths and not base64 at all.
    EXPECT_NE(config_error(base64_encode(seed.substr(0, 31))).find("31 bytes"), std::string::npos);
    EXPECT_NE(config_error(ed.ed_base64_64.substr(1)).find("not a PEM key and not base64"), std::string::npos);
    EXPECT_NE(config_error("{\"name\":\"x\",\"privateKey\":\"" + ed.ed_base64_64 + "\"}").find("key JSON"),
              std::string::npos);
}

}  // namespace
