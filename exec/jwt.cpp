// CDP API key JWTs with wolfCrypt. See jwt.hpp. The only wolfSSL translation unit of exec/.
#include "exec/jwt.hpp"

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/sha256.h>
#include <wolfssl/wolfcrypt/wc_port.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>
#include <span>
#include <string>
#include <utility>

#include "core/base64.hpp"
#include "core/error.hpp"
#include "core/json_writer.hpp"

namespace cbtrade {

namespace {

constexpr std::size_t max_key_text = 16 * 1024;  // a PEM P-256 key is ~250 bytes
constexpr std::size_t max_key_name = 256;
constexpr std::size_t nonce_bytes = 16;  // 32 hex characters, as the official SDKs send
constexpr std::size_t es256_half = 32;

// Secret bytes (decoded DER, seeds) are wiped before their memory is given back.
struct WipedString {
    std::string bytes;
    WipedString() = default;
    explicit WipedString(std::string b) : bytes(std::move(b)) {}
    WipedString(const WipedString&) = delete;
    WipedString& operator=(const WipedString&) = delete;
    ~WipedString() { wipe(); }
    void wipe() noexcept {
        if (!bytes.empty()) explicit_bzero(bytes.data(), bytes.size());
        bytes.clear();
    }
};

void wipe(void* p, std::size_t n) noexcept {
    explicit_bzero(p, n);
}

[[noreturn]] void key_error(std::string_view origin, std::string_view what) {
    throw ConfigError(std::string(origin) + ": " + std::string(what) + " (the key itself is not shown)");
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

// Literal "\n" (backslash, n) as env files and JSON-in-env carry PEM keys; "\r" likewise.
void unescape_newlines(std::string& s) {
    std::size_t out = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == 'n' || s[i + 1] == 'r')) {
            s[out++] = s[i + 1] == 'n' ? '\n' : '\r';
            ++i;
        } else {
            s[out++] = s[i];
        }
    }
    // The tail that moved down still holds key bytes: wipe it before shrinking.
    if (out < s.size()) explicit_bzero(s.data() + out, s.size() - out);
    s.resize(out);
}

// A PEM label ("EC PRIVATE KEY") is not secret and helps the user, but the BEGIN line of a mangled
// key may hold key text instead: only a label of capital letters and spaces is named, anything
// else by its length.
std::string printable_label(std::string_view label) {
    const bool plain = !label.empty() && label.size() <= 40 && std::all_of(label.begin(), label.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || c == ' ';
    });
    if (plain) return std::string(label);
    return "<a " + std::to_string(label.size()) + "-character label, not shown>";
}

struct PemBlock {
    std::string label;
    WipedString der;
};

// One "-----BEGIN L-----" ... "-----END L-----" block, whose body is strict base64 once line
// breaks and spaces are removed. RFC 7468 headers ("Proc-Type: 4,ENCRYPTED") mean an encrypted
// legacy key.
void parse_pem(std::string_view text, std::string_view origin, PemBlock& block) {
    constexpr std::string_view begin = "-----BEGIN ";
    constexpr std::string_view dashes = "-----";
    const std::size_t label_end = text.find(dashes, begin.size());
    const std::size_t line_end = text.find('\n');
    if (label_end == std::string_view::npos || (line_end != std::string_view::npos && label_end > line_end))
        key_error(origin, "PEM key: the BEGIN line is not of the form -----BEGIN <label>-----");
    block.label = std::string(text.substr(begin.size(), label_end - begin.size()));
    const std::string end_line = "-----END " + block.label + "-----";
    const std::size_t body_start = label_end + dashes.size();
    const std::size_t end_at = text.find(end_line, body_start);
    if (end_at == std::string_view::npos)
        key_error(origin, "PEM key: no matching -----END " + printable_label(block.label) +
                              "----- line (truncated, or the line breaks were lost?)");
    if (!trim(text.substr(end_at + end_line.size())).empty())
        key_error(origin, "PEM key: unexpected text after the END line (one key expected)");
    const std::string_view body = text.substr(body_start, end_at - body_start);
    if (body.find(':') != std::string_view::npos)
        key_error(origin, "PEM key is encrypted (Proc-Type/DEK-Info headers); export it without a passphrase");
    WipedString compact;
    compact.bytes.reserve(body.size());
    for (char c : body)
        if (!is_space(c)) compact.bytes += c;
    Base64Decoded decoded = base64_decode(compact.bytes, Base64Alphabet::standard);
    if (!decoded.ok()) {
        wipe(decoded.bytes.data(), decoded.bytes.size());
        key_error(origin, "PEM key body is not valid base64 (" + std::string(to_string(decoded.error)) + " at offset " +
                              std::to_string(decoded.offset) + " of the body)");
    }
    block.der.bytes = std::move(decoded.bytes);
}

const byte* as_bytes(const std::string& s) {
    return reinterpret_cast<const byte*>(s.data());
}

void ensure_wolfcrypt() {
    static std::once_flag once;
    static int rc = 0;
    std::call_once(once, [] { rc = wolfCrypt_Init(); });
    if (rc != 0) throw RunError("wolfCrypt_Init failed (" + std::to_string(rc) + ")");
}

void append_hex(std::string& out, std::span<const std::uint8_t> bytes) {
    constexpr std::string_view digits = "0123456789abcdef";
    for (const std::uint8_t b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 0x0f];
    }
}

}  // namespace

std::string_view jwt_alg_name(JwtAlgorithm alg) noexcept {
    return alg == JwtAlgorithm::es256 ? "ES256" : "EdDSA";
}

std::string jwt_uri_claim(std::string_view method, std::string_view host, std::string_view target) {
    if (method.empty() || host.empty() || target.empty() || target.front() != '/') return {};
    // Tolerate a full authority: drop userinfo and port (an IPv6 literal keeps its brackets).
    if (const auto at = host.rfind('@'); at != std::string_view::npos) host.remove_prefix(at + 1);
    if (!host.empty() && host.front() == '[') {
        if (const auto close = host.find(']'); close != std::string_view::npos) host = host.substr(0, close + 1);
    } else if (const auto colon = host.find(':'); colon != std::string_view::npos) {
        host = host.substr(0, colon);
    }
    if (host.empty()) return {};
    target = target.substr(0, std::min(target.find('?'), target.find('#')));
    std::string out;
    out.reserve(method.size() + 1 + host.size() + target.size());
    for (char c : method) out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    out += ' ';
    for (char c : host) out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    out += target;
    return out;
}

struct JwtSigner::Impl {
    JwtAlgorithm alg = JwtAlgorithm::es256;
    std::string key_name;
    std::string description;
    WC_RNG rng{};
    bool rng_ready = false;
    ecc_key ecc{};
    bool ecc_ready = false;
    ed25519_key ed{};
    bool ed_ready = false;

    Impl() = default;
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    ~Impl() {
        if (ecc_ready) wc_ecc_free(&ecc);
        if (ed_ready) wc_ed25519_free(&ed);
        wipe(&ed, sizeof ed);
        if (rng_ready) wc_FreeRng(&rng);
    }

    void init_ecc() {
        if (wc_ecc_init(&ecc) != 0) throw RunError("wc_ecc_init failed");
        ecc_ready = true;
    }
    void init_ed() {
        if (wc_ed25519_init(&ed) != 0) throw RunError("wc_ed25519_init failed");
        ed_ready = true;
    }

    // A DER EC private key (SEC1, or PKCS#8 holding one). False when it is not one at all.
    bool load_ec_der(const WipedString& der, std::string_view origin, std::string_view form) {
        init_ecc();
        word32 idx = 0;
        if (wc_EccPrivateKeyDecode(as_bytes(der.bytes), &idx, &ecc, static_cast<word32>(der.bytes.size())) != 0) {
            wc_ecc_free(&ecc);
            ecc_ready = false;
            return false;
        }
        if (idx != der.bytes.size()) key_error(origin, "EC key: unexpected bytes after the key structure");
        if (ecc.dp == nullptr || ecc.dp->id != ECC_SECP256R1)
            key_error(origin, std::string("EC key on curve ") + (ecc.dp && ecc.dp->name ? ecc.dp->name : "?") +
                                  "; CDP ES256 keys are P-256 (prime256v1)");
        // A key exported without its public point: derive it (signing only needs the scalar, but
        // wc_ecc_check_key below wants both, and a bad scalar should fail here, not at the first order).
        if (ecc.type == ECC_PRIVATEKEY_ONLY && wc_ecc_make_pub(&ecc, nullptr) != 0)
            key_error(origin, "EC key: the private scalar is not valid for P-256");
        if (wc_ecc_check_key(&ecc) != 0)
            key_error(origin, "EC key: the public point does not belong to the private scalar, or is not on P-256");
        alg = JwtAlgorithm::es256;
        description = "EC P-256 (" + std::string(form) + ")";
        return true;
    }

    void load_ed_seed(std::span<const std::uint8_t> seed, std::span<const std::uint8_t> given_public,
                      std::string_view origin, const std::string& form) {
        init_ed();
        std::array<std::uint8_t, ED25519_PUB_KEY_SIZE> pub{};
        if (wc_ed25519_import_private_only(seed.data(), static_cast<word32>(seed.size()), &ed) != 0 ||
            wc_ed25519_make_public(&ed, pub.data(), static_cast<word32>(pub.size())) != 0)
            key_error(origin, "Ed25519 key: wolfCrypt refused the 32-byte seed");
        if (!given_public.empty() && !std::equal(pub.begin(), pub.end(), given_public.begin(), given_public.end()))
            key_error(origin,
                      "Ed25519 key: the last 32 bytes are not the public key of the first 32 (seed); "
                      "the key is corrupted or two keys were joined");
        if (wc_ed25519_import_private_key(seed.data(), static_cast<word32>(seed.size()), pub.data(),
                                          static_cast<word32>(pub.size()), &ed) != 0)
            key_error(origin, "Ed25519 key: wolfCrypt refused the key pair");
        alg = JwtAlgorithm::eddsa;
        description = "Ed25519 (" + form + ")";
    }

    // PKCS#8 Ed25519 (RFC 8410). False when it is not one.
    bool load_ed_pkcs8(const WipedString& der, std::string_view origin) {
        ed25519_key probe;
        if (wc_ed25519_init(&probe) != 0) throw RunError("wc_ed25519_init failed");
        word32 idx = 0;
        const int rc =
            wc_Ed25519PrivateKeyDecode(as_bytes(der.bytes), &idx, &probe, static_cast<word32>(der.bytes.size()));
        if (rc != 0 || !probe.privKeySet) {
            wc_ed25519_free(&probe);
            wipe(&probe, sizeof probe);
            return false;
        }
        if (idx != der.bytes.size()) {
            wc_ed25519_free(&probe);
            wipe(&probe, sizeof probe);
            key_error(origin, "Ed25519 key: unexpected bytes after the key structure");
        }
        std::array<std::uint8_t, ED25519_KEY_SIZE> seed{};
        std::memcpy(seed.data(), probe.k, seed.size());
        std::array<std::uint8_t, ED25519_PUB_KEY_SIZE> pub{};
        const bool has_pub = probe.pubKeySet;
        if (has_pub) std::memcpy(pub.data(), probe.p, pub.size());
        wc_ed25519_free(&probe);
        wipe(&probe, sizeof probe);
        try {
            load_ed_seed(seed, has_pub ? std::span<const std::uint8_t>(pub) : std::span<const std::uint8_t>{}, origin,
                         "PKCS#8 PEM");
        } catch (...) {
            wipe(seed.data(), seed.size());
            throw;
        }
        wipe(seed.data(), seed.size());
        return true;
    }

    void load_pem(std::string_view text, std::string_view origin) {
        PemBlock block;
        parse_pem(text, origin, block);
        const std::string& label = block.label;
        if (label == "EC PRIVATE KEY") {
            if (!load_ec_der(block.der, origin, "SEC1 PEM"))
                key_error(origin, "EC PRIVATE KEY block: not a valid SEC1 EC private key structure");
            return;
        }
        if (label == "PRIVATE KEY") {
            if (load_ec_der(block.der, origin, "PKCS#8 PEM")) return;
            if (load_ed_pkcs8(block.der, origin)) return;
            key_error(origin,
                      "PRIVATE KEY block: neither an EC P-256 nor an Ed25519 PKCS#8 key (RSA and other key types "
                      "are not CDP API keys)");
        }
        if (label == "ENCRYPTED PRIVATE KEY")
            key_error(origin, "the key is encrypted (ENCRYPTED PRIVATE KEY); export it without a passphrase");
        if (label.find("PUBLIC KEY") != std::string::npos)
            key_error(origin, "this is a public key (" + printable_label(label) + "); the private key is needed");
        key_error(origin, "unsupported PEM block '" + printable_label(label) +
                              "': expected EC PRIVATE KEY or PRIVATE KEY (EC P-256 or Ed25519)");
    }

    void load_base64(std::string_view text, std::string_view origin) {
        Base64Decoded decoded = base64_decode(text, Base64Alphabet::standard);
        if (!decoded.ok()) {
            wipe(decoded.bytes.data(), decoded.bytes.size());
            key_error(origin, "not a PEM key and not base64 (" + std::string(to_string(decoded.error)) + " at offset " +
                                  std::to_string(decoded.offset) +
                                  "); expected an EC PEM key or Coinbase's base64 Ed25519 key");
        }
        WipedString raw(std::move(decoded.bytes));
        const auto* p = reinterpret_cast<const std::uint8_t*>(raw.bytes.data());
        if (raw.bytes.size() == 2 * ED25519_KEY_SIZE) {
            load_ed_seed({p, ED25519_KEY_SIZE}, {p + ED25519_KEY_SIZE, ED25519_PUB_KEY_SIZE}, origin,
                         "base64 seed and public key");
        } else if (raw.bytes.size() == ED25519_KEY_SIZE) {
            load_ed_seed({p, ED25519_KEY_SIZE}, {}, origin, "base64 seed");
        } else {
            key_error(origin, "base64 key of " + std::to_string(raw.bytes.size()) +
                                  " bytes: an Ed25519 key is 64 bytes (seed and public key) or a 32-byte seed");
        }
    }
};

JwtSigner::JwtSigner(std::string key_name, std::string_view private_key, std::string_view origin)
    : impl_(std::make_unique<Impl>()) {
    if (key_name.empty())
        key_error(origin, "the API key name is empty (set COINBASE_API_KEY_NAME or use the key JSON)");
    if (key_name.size() > max_key_name)
        key_error(origin, "the API key name is longer than " + std::to_string(max_key_name) + " characters");
    for (char c : key_name)
        if (c <= 0x20 || c >= 0x7f) key_error(origin, "the API key name contains a space or a non-printable character");
    if (private_key.size() > max_key_text)
        key_error(origin, "the private key is " + std::to_string(private_key.size()) + " bytes; a key is at most " +
                              std::to_string(max_key_text));
    ensure_wolfcrypt();
    if (wc_InitRng(&impl_->rng) != 0) throw RunError("wolfCrypt random generator could not be initialised");
    impl_->rng_ready = true;
    impl_->key_name = std::move(key_name);

    WipedString text(std::string(trim(private_key)));
    unescape_newlines(text.bytes);
    const std::string_view t = trim(text.bytes);
    if (t.empty()) key_error(origin, "the private key is empty");
    if (t.starts_with("-----BEGIN ")) {
        impl_->load_pem(t, origin);
    } else if (t.starts_with("-----")) {
        key_error(origin, "PEM key: the first line is not a -----BEGIN <label>----- line");
    } else if (t.front() == '{') {
        key_error(origin,
                  "this is key JSON; its privateKey field is the key (COINBASE_API_PRIVATE_KEY_FILE reads the "
                  "JSON file)");
    } else {
        impl_->load_base64(t, origin);
    }
}

JwtSigner::~JwtSigner() = default;
JwtSigner::JwtSigner(JwtSigner&&) noexcept = default;
JwtSigner& JwtSigner::operator=(JwtSigner&&) noexcept = default;

JwtAlgorithm JwtSigner::algorithm() const noexcept {
    return impl_->alg;
}
const std::string& JwtSigner::key_name() const noexcept {
    return impl_->key_name;
}
const std::string& JwtSigner::key_description() const noexcept {
    return impl_->description;
}

std::string JwtSigner::rest_jwt(std::string_view method, std::string_view host, std::string_view target,
                                std::int64_t now_s) {
    std::string uri = jwt_uri_claim(method, host, target);
    if (uri.empty()) throw RunError("JWT uri claim: method, host and an absolute path are needed");
    return sign(Claims{now_s, now_s + jwt_lifetime_s, std::move(uri)});
}

std::string JwtSigner::ws_jwt(std::int64_t now_s) {
    return sign(Claims{now_s, now_s + jwt_lifetime_s, std::nullopt});
}

std::string JwtSigner::sign(const Claims& claims) {
    Impl& k = *impl_;
    std::array<std::uint8_t, nonce_bytes> nonce{};
    if (wc_RNG_GenerateBlock(&k.rng, nonce.data(), static_cast<word32>(nonce.size())) != 0)
        throw RunError("wolfCrypt random generator failed (JWT nonce)");
    std::string nonce_hex;
    append_hex(nonce_hex, nonce);

    std::string header;
    JsonWriter h(header);
    h.begin_object()
        .member("alg", jwt_alg_name(k.alg))
        .member("kid", k.key_name)
        .member("nonce", nonce_hex)
        .member("typ", "JWT")
        .end_object();
    std::string payload;
    JsonWriter p(payload);
    p.begin_object().member("sub", k.key_name).member("iss", "cdp").member("nbf", claims.nbf).member("exp", claims.exp);
    if (claims.uri) p.member("uri", *claims.uri);
    p.end_object();

    std::string token = base64_encode(header, Base64Alphabet::url);
    token += '.';
    token += base64_encode(payload, Base64Alphabet::url);
    const auto* input = as_bytes(token);
    const auto input_len = static_cast<word32>(token.size());

    std::array<std::uint8_t, 2 * es256_half> raw{};
    if (k.alg == JwtAlgorithm::es256) {
        std::array<std::uint8_t, WC_SHA256_DIGEST_SIZE> hash{};
        if (wc_Sha256Hash(input, input_len, hash.data()) != 0) throw RunError("wolfCrypt SHA-256 failed (JWT)");
        std::array<std::uint8_t, ECC_MAX_SIG_SIZE> der{};
        word32 der_len = static_cast<word32>(der.size());
        if (wc_ecc_sign_hash(hash.data(), static_cast<word32>(hash.size()), der.data(), &der_len, &k.rng, &k.ecc) != 0)
            throw RunError("wolfCrypt ECDSA signing failed (JWT)");
        // JWS (RFC 7518 3.4) wants r and s as two 32-byte big-endian integers, not DER.
        std::array<std::uint8_t, es256_half + 1> r{};
        std::array<std::uint8_t, es256_half + 1> s{};
        word32 r_len = static_cast<word32>(r.size());
        word32 s_len = static_cast<word32>(s.size());
        if (wc_ecc_sig_to_rs(der.data(), der_len, r.data(), &r_len, s.data(), &s_len) != 0 || r_len > es256_half ||
            s_len > es256_half)
            throw RunError("wolfCrypt ECDSA signature could not be converted to r||s (JWT)");
        std::memcpy(raw.data() + (es256_half - r_len), r.data(), r_len);
        std::memcpy(raw.data() + es256_half + (es256_half - s_len), s.data(), s_len);
    } else {
        word32 sig_len = static_cast<word32>(raw.size());
        if (wc_ed25519_sign_msg(input, input_len, raw.data(), &sig_len, &k.ed) != 0 || sig_len != raw.size())
            throw RunError("wolfCrypt Ed25519 signing failed (JWT)");
    }
    token += '.';
    token += base64_encode(std::span<const std::uint8_t>(raw), Base64Alphabet::url);
    return token;
}

}  // namespace cbtrade
