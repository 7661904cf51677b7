#include "tools/sim/test_ca.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

namespace cbtrade::sim {

namespace {

struct PkeyFree {
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct X509Free {
    void operator()(X509* p) const noexcept { X509_free(p); }
};
struct BioFree {
    void operator()(BIO* p) const noexcept { BIO_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

[[noreturn]] void fail(const char* step) {
    char buf[256] = "no OpenSSL error queued";
    if (const unsigned long e = ERR_get_error(); e != 0) ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    throw std::runtime_error(std::string("test CA: ") + step + ": " + buf);
}

void check(int ok, const char* step) {
    if (ok <= 0) fail(step);
}

PkeyPtr make_p256_key() {
    PkeyPtr key(EVP_EC_gen("P-256"));
    if (!key) fail("EVP_EC_gen(P-256)");
    return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (ext == nullptr) fail(OBJ_nid2sn(nid));
    const int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    check(ok, "X509_add_ext");
}

void set_name(X509_NAME* name, const std::string& common_name) {
    check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>("cbtrade-sim test"), -1, -1, 0),
          "X509_NAME O");
    check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0),
          "X509_NAME CN");
}

// A certificate valid from an hour ago (clock skew) for a week, with a random 127-bit serial.
X509Ptr new_cert(EVP_PKEY* subject_key, const std::string& common_name) {
    X509Ptr cert(X509_new());
    if (!cert) fail("X509_new");
    check(X509_set_version(cert.get(), 2), "X509_set_version");
    BIGNUM* serial = BN_new();
    if (serial == nullptr) fail("BN_new");
    int ok = BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
    if (ok > 0) ok = BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get())) != nullptr ? 1 : 0;
    BN_free(serial);
    check(ok, "serial number");
    if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr) fail("notBefore");
    if (X509_gmtime_adj(X509_getm_notAfter(cert.get()), 7L * 24 * 3600) == nullptr) fail("notAfter");
    set_name(X509_get_subject_name(cert.get()), common_name);
    check(X509_set_pubkey(cert.get(), subject_key), "X509_set_pubkey");
    return cert;
}

std::string to_pem(X509* cert) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio) fail("BIO_new");
    check(PEM_write_bio_X509(bio.get(), cert), "PEM_write_bio_X509");
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

std::string to_pem(EVP_PKEY* key) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio) fail("BIO_new");
    check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr), "PEM_write_bio_PrivateKey");
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

TestTls make_test_tls(const std::vector<std::string>& dns_names, const std::vector<std::string>& ip_addresses) {
    if (dns_names.empty() && ip_addresses.empty()) throw std::invalid_argument("test CA: no names for the certificate");

    PkeyPtr ca_key = make_p256_key();
    X509Ptr ca = new_cert(ca_key.get(), "cbtrade-sim test CA");
    check(X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get())), "X509_set_issuer_name");
    add_ext(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
    add_ext(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
    add_ext(ca.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
    check(X509_sign(ca.get(), ca_key.get(), EVP_sha256()), "X509_sign(CA)");

    std::string san;
    for (const auto& d : dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + d;
    for (const auto& ip : ip_addresses) san += (san.empty() ? "IP:" : ",IP:") + ip;

    PkeyPtr key = make_p256_key();
    X509Ptr leaf = new_cert(key.get(), dns_names.empty() ? ip_addresses.front() : dns_names.front());
    check(X509_set_issuer_name(leaf.get(), X509_get_subject_name(ca.get())), "X509_set_issuer_name");
    add_ext(leaf.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
    add_ext(leaf.get(), ca.get(), NID_key_usage, "critical,digitalSignature");
    add_ext(leaf.get(), ca.get(), NID_ext_key_usage, "serverAuth");
    add_ext(leaf.get(), ca.get(), NID_subject_alt_name, san);
    add_ext(leaf.get(), ca.get(), NID_subject_key_identifier, "hash");
    add_ext(leaf.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
    check(X509_sign(leaf.get(), ca_key.get(), EVP_sha256()), "X509_sign(server)");

    return TestTls{to_pem(ca.get()), to_pem(leaf.get()), to_pem(key.get())};
}

}  // namespace cbtrade::sim
