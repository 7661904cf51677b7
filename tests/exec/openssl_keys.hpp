// Throwaway CDP-style API keys made at test time with OpenSSL (never wolfSSL: the code under test
// uses wolfCrypt, so OpenSSL is the independent implementation that makes keys and checks tokens).
// Only test programs that do not include wolfSSL headers may include this (the two cannot meet).
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/base64.hpp"
#include "tools/sim/jwt_verify.hpp"

namespace cbtrade::test {

using PkeyPtr = std::shared_ptr<EVP_PKEY>;

struct TestKey {
    PkeyPtr pkey;
    bool ed25519 = false;
    std::string sec1_pem;            // EC: -----BEGIN EC PRIVATE KEY----- with the public point
    std::string sec1_no_public_pem;  // EC: SEC1 without the optional public key
    std::string pkcs8_pem;           // EC and Ed25519: -----BEGIN PRIVATE KEY-----
    std::string public_pem;          // -----BEGIN PUBLIC KEY----- (what the simulator is given)
    std::string ed_base64_64;        // Ed25519: base64(seed || public key), as Coinbase issues it
    std::string ed_base64_32;        // Ed25519: base64(seed)
};

inline std::string bio_text(BIO* bio) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(n));
}

template <class Write>
std::string pem_of(Write write) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    if (!bio || write(bio.get()) != 1) throw std::runtime_error("OpenSSL PEM write failed");
    return bio_text(bio.get());
}

inline std::string pem_wrap(std::string_view label, const std::string& der) {
    const std::string b64 = base64_encode(der);
    std::string out = "-----BEGIN " + std::string(label) + "-----\n";
    for (std::size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
    out += "-----END " + std::string(label) + "-----\n";
    return out;
}

inline PkeyPtr wrap(EVP_PKEY* p) {
    if (!p) throw std::runtime_error("OpenSSL key generation failed");
    return PkeyPtr(p, EVP_PKEY_free);
}

inline TestKey make_p256_key() {
    TestKey k;
    k.pkey = wrap(EVP_EC_gen("P-256"));
    k.sec1_pem = pem_of([&](BIO* b) {
        return PEM_write_bio_PrivateKey_traditional(b, k.pkey.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    k.pkcs8_pem = pem_of(
        [&](BIO* b) { return PEM_write_bio_PrivateKey(b, k.pkey.get(), nullptr, nullptr, 0, nullptr, nullptr); });
    k.public_pem = pem_of([&](BIO* b) { return PEM_write_bio_PUBKEY(b, k.pkey.get()); });
    // SEC1 ECPrivateKey without the optional publicKey: version 1, the 32-byte scalar, the P-256 OID.
    BIGNUM* d = nullptr;
    if (EVP_PKEY_get_bn_param(k.pkey.get(), "priv", &d) != 1) throw std::runtime_error("no EC scalar");
    unsigned char scalar[32];
    BN_bn2binpad(d, scalar, 32);
    BN_clear_free(d);
    std::string der = std::string("\x30\x31\x02\x01\x01\x04\x20", 7) +
                      std::string(reinterpret_cast<char*>(scalar), 32) +
                      std::string("\xa0\x0a\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07", 12);
    k.sec1_no_public_pem = pem_wrap("EC PRIVATE KEY", der);
    return k;
}

inline TestKey make_ed25519_key() {
    TestKey k;
    k.ed25519 = true;
    k.pkey = wrap(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    unsigned char seed[32];
    unsigned char pub[32];
    std::size_t seed_len = sizeof seed;
    std::size_t pub_len = sizeof pub;
    if (EVP_PKEY_get_raw_private_key(k.pkey.get(), seed, &seed_len) != 1 ||
        EVP_PKEY_get_raw_public_key(k.pkey.get(), pub, &pub_len) != 1 || seed_len != 32 || pub_len != 32)
        throw std::runtime_error("no raw Ed25519 key");
    const std::string s(reinterpret_cast<char*>(seed), 32);
    const std::string p(reinterpret_cast<char*>(pub), 32);
    k.ed_base64_64 = base64_encode(s + p);
    k.ed_base64_32 = base64_encode(s);
    k.pkcs8_pem = pem_of(
        [&](BIO* b) { return PEM_write_bio_PrivateKey(b, k.pkey.get(), nullptr, nullptr, 0, nullptr, nullptr); });
    k.public_pem = pem_of([&](BIO* b) { return PEM_write_bio_PUBKEY(b, k.pkey.get()); });
    return k;
}

inline std::string make_p384_key_pem() {
    const PkeyPtr p = wrap(EVP_EC_gen("P-384"));
    return pem_of([&](BIO* b) {
        return PEM_write_bio_PrivateKey_traditional(b, p.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
}

inline std::string make_rsa_key_pem() {
    const PkeyPtr p = wrap(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024)));
    return pem_of([&](BIO* b) { return PEM_write_bio_PrivateKey(b, p.get(), nullptr, nullptr, 0, nullptr, nullptr); });
}

inline std::string make_encrypted_pkcs8_pem() {
    const PkeyPtr p = wrap(EVP_EC_gen("P-256"));
    static char pass[] = "test-passphrase";
    return pem_of([&](BIO* b) {
        return PEM_write_bio_PKCS8PrivateKey(b, p.get(), EVP_aes_128_cbc(), nullptr, 0, nullptr, pass);
    });
}

// JWS signature check with OpenSSL (tools/sim/jwt_verify.cpp, the simulator's own check).
inline bool verify_jws_signature(const TestKey& key, std::string_view signing_input, std::string_view raw_sig) {
    return sim::verify_jws_signature(key.pkey.get(), key.ed25519, signing_input, raw_sig);
}

}  // namespace cbtrade::test
