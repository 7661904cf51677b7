// JWT verification with OpenSSL. See jwt_verify.hpp.
#include "tools/sim/jwt_verify.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <simdjson.h>

#include <stdexcept>

#include "core/base64.hpp"

namespace cbtrade::sim {

namespace {

constexpr std::size_t max_token_bytes = 8192;
constexpr std::int64_t clock_leeway_s = 5;
constexpr std::int64_t max_lifetime_s = 120;

struct BioFree {
    void operator()(BIO* b) const noexcept { BIO_free(b); }
};

}  // namespace

bool verify_jws_signature(EVP_PKEY* key, bool ed25519, std::string_view signing_input, std::string_view raw_signature) {
    std::string sig(raw_signature);
    if (!ed25519) {
        if (sig.size() != 64) return false;
        ECDSA_SIG* es = ECDSA_SIG_new();
        BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()), 32, nullptr);
        BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()) + 32, 32, nullptr);
        ECDSA_SIG_set0(es, r, s);
        unsigned char* der = nullptr;
        const int der_len = i2d_ECDSA_SIG(es, &der);
        ECDSA_SIG_free(es);
        if (der_len <= 0) return false;
        sig.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(der_len));
        OPENSSL_free(der);
    }
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, ed25519 ? nullptr : EVP_sha256(), nullptr, key) != 1)
        return false;
    return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                            reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
}

struct JwtVerifier::Key {
    std::string name;
    EVP_PKEY* pkey = nullptr;
    bool ed25519 = false;
    ~Key() { EVP_PKEY_free(pkey); }
};

JwtVerifier::JwtVerifier() = default;
JwtVerifier::~JwtVerifier() = default;

void JwtVerifier::add_key(const std::string& name, const std::string& pem) {
    auto key = std::make_unique<Key>();
    key->name = name;
    std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    key->pkey = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
    if (key->pkey == nullptr) {
        bio.reset(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
        key->pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
    }
    if (key->pkey == nullptr) throw std::runtime_error("--api-key " + name + ": no PEM public or private key found");
    if (EVP_PKEY_is_a(key->pkey, "ED25519")) {
        key->ed25519 = true;
    } else if (EVP_PKEY_is_a(key->pkey, "EC")) {
        char group[64] = {};
        std::size_t len = 0;
        if (EVP_PKEY_get_utf8_string_param(key->pkey, "group", group, sizeof group, &len) != 1 ||
            std::string_view(group) != "prime256v1")
            throw std::runtime_error("--api-key " + name + ": EC key is not on P-256 (prime256v1)");
    } else {
        throw std::runtime_error("--api-key " + name + ": neither an EC P-256 nor an Ed25519 key");
    }
    keys_.push_back(std::move(key));
}

bool JwtVerifier::has_keys() const noexcept {
    return !keys_.empty();
}

std::string JwtVerifier::verify(std::string_view token, std::optional<std::string_view> expected_uri,
                                std::int64_t now_s) const {
    if (token.size() > max_token_bytes) return "token longer than 8 KiB";
    const auto dot1 = token.find('.');
    const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
        return "not three dot-separated parts";
    const Base64Decoded header = base64_decode(token.substr(0, dot1), Base64Alphabet::url);
    const Base64Decoded payload = base64_decode(token.substr(dot1 + 1, dot2 - dot1 - 1), Base64Alphabet::url);
    const Base64Decoded signature = base64_decode(token.substr(dot2 + 1), Base64Alphabet::url);
    if (!header.ok() || !payload.ok() || !signature.ok()) return "a part is not unpadded base64url";

    simdjson::dom::parser parser;
    simdjson::dom::object h;
    if (parser.parse(header.bytes).get_object().get(h) != simdjson::SUCCESS) return "header is not a JSON object";
    std::string_view alg, kid, nonce, typ;
    if (h["alg"].get_string().get(alg) != simdjson::SUCCESS) return "header has no alg";
    if (h["kid"].get_string().get(kid) != simdjson::SUCCESS) return "header has no kid";
    if (h["nonce"].get_string().get(nonce) != simdjson::SUCCESS || nonce.empty()) return "header has no nonce";
    if (h["typ"].get_string().get(typ) == simdjson::SUCCESS && typ != "JWT") return "header typ is not JWT";
    const Key* key = nullptr;
    for (const auto& k : keys_)
        if (k->name == kid) key = k.get();
    if (key == nullptr) return "unknown kid '" + std::string(kid.substr(0, 80)) + "'";
    if (alg != (key->ed25519 ? "EdDSA" : "ES256"))
        return "alg " + std::string(alg.substr(0, 16)) + " does not match the key type";
    const std::string kid_text(kid);  // the parser's buffers are reused for the payload

    simdjson::dom::parser payload_parser;
    simdjson::dom::object p;
    if (payload_parser.parse(payload.bytes).get_object().get(p) != simdjson::SUCCESS)
        return "payload is not a JSON object";
    std::string_view sub, iss, uri;
    std::int64_t nbf = 0;
    std::int64_t exp = 0;
    if (p["sub"].get_string().get(sub) != simdjson::SUCCESS || sub != kid_text) return "sub is not the kid";
    if (p["iss"].get_string().get(iss) != simdjson::SUCCESS || iss != "cdp") return "iss is not cdp";
    if (p["nbf"].get_int64().get(nbf) != simdjson::SUCCESS) return "nbf is not an integer";
    if (p["exp"].get_int64().get(exp) != simdjson::SUCCESS) return "exp is not an integer";
    if (nbf > now_s + clock_leeway_s) return "not valid yet (nbf " + std::to_string(nbf - now_s) + " s ahead)";
    if (now_s >= exp) return "expired " + std::to_string(now_s - exp) + " s ago";
    if (exp - nbf > max_lifetime_s) return "lifetime exp - nbf is above 120 s";
    const bool has_uri = p["uri"].get_string().get(uri) == simdjson::SUCCESS;
    if (expected_uri) {
        if (!has_uri) return "no uri claim on a REST request";
        if (uri != *expected_uri)
            return "uri claim '" + std::string(uri.substr(0, 120)) + "' is not '" + std::string(*expected_uri) + "'";
    } else if (has_uri || p["uri"].error() != simdjson::NO_SUCH_FIELD) {
        return "a WebSocket JWT carries a uri claim";
    }

    const std::string_view signing_input = token.substr(0, dot2);
    if (!key->ed25519 && signature.bytes.size() != 64)
        return "ES256 signature is " + std::to_string(signature.bytes.size()) + " bytes, not raw r||s (64)";
    if (key->ed25519 && signature.bytes.size() != 64) return "EdDSA signature is not 64 bytes";
    if (!verify_jws_signature(key->pkey, key->ed25519, signing_input, signature.bytes)) return "bad signature";
    return {};
}

}  // namespace cbtrade::sim
