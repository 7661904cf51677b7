// Known answers for the wolfCrypt primitives cbtrade relies on (TLS record ciphers, JWT signing),
// run against whichever wolfSSL the build links (meson option `wolfssl`): the accelerated build
// takes other code paths (AES-NI, x86-64 assembly) than Debian's, and both must give these answers.
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/chacha20_poly1305.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/sha256.h>
#include <wolfssl/wolfcrypt/types.h>
#include <wolfssl/wolfcrypt/wc_port.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "io/tls_info.hpp"

namespace {

using bytes = std::vector<std::uint8_t>;

bytes from_hex(std::string_view hex) {
    auto nibble = [](char c) -> std::uint8_t {
        if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
        if (c >= 'a' && c <= 'f') return static_cast<std::uint8_t>(c - 'a' + 10);
        return static_cast<std::uint8_t>(c - 'A' + 10);
    };
    bytes out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(static_cast<std::uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
    }
    return out;
}

word32 size32(const bytes& b) {
    return static_cast<word32>(b.size());
}

class WolfCrypt : public ::testing::Test {
protected:
    static void SetUpTestSuite() { ASSERT_EQ(wolfCrypt_Init(), 0); }
    static void TearDownTestSuite() { wolfCrypt_Cleanup(); }
};

// The GCM specification (McGrew, Viega), test case 4: AES-128, 60-byte plaintext, 20-byte AAD.
struct GcmCase4 {
    bytes key = from_hex("feffe9928665731c6d6a8f9467308308");
    bytes iv = from_hex("cafebabefacedbaddecaf888");
    bytes aad = from_hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    bytes plain = from_hex(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
    bytes cipher = from_hex(
        "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
        "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091");
    bytes tag = from_hex("5bc94fbc3221a5db94fae95ae7121a47");
};

TEST_F(WolfCrypt, aes128_gcm_matches_mcgrew_viega_test_case_4) {
    const GcmCase4 tc;
    Aes aes;
    ASSERT_EQ(wc_AesInit(&aes, nullptr, INVALID_DEVID), 0);
    ASSERT_EQ(wc_AesGcmSetKey(&aes, tc.key.data(), size32(tc.key)), 0);

    bytes cipher(tc.plain.size());
    bytes tag(16);
    ASSERT_EQ(wc_AesGcmEncrypt(&aes, cipher.data(), tc.plain.data(), size32(tc.plain), tc.iv.data(), size32(tc.iv),
                               tag.data(), size32(tag), tc.aad.data(), size32(tc.aad)),
              0);
    EXPECT_EQ(cipher, tc.cipher);
    EXPECT_EQ(tag, tc.tag);

    bytes plain(tc.cipher.size());
    ASSERT_EQ(wc_AesGcmDecrypt(&aes, plain.data(), tc.cipher.data(), size32(tc.cipher), tc.iv.data(), size32(tc.iv),
                               tc.tag.data(), size32(tc.tag), tc.aad.data(), size32(tc.aad)),
              0);
    EXPECT_EQ(plain, tc.plain);
    wc_AesFree(&aes);
}

TEST_F(WolfCrypt, aes128_gcm_rejects_a_tampered_record) {
    const GcmCase4 tc;
    Aes aes;
    ASSERT_EQ(wc_AesInit(&aes, nullptr, INVALID_DEVID), 0);
    ASSERT_EQ(wc_AesGcmSetKey(&aes, tc.key.data(), size32(tc.key)), 0);
    bytes cipher = tc.cipher;
    cipher[7] ^= 0x01;
    bytes plain(cipher.size());
    EXPECT_EQ(wc_AesGcmDecrypt(&aes, plain.data(), cipher.data(), size32(cipher), tc.iv.data(), size32(tc.iv),
                               tc.tag.data(), size32(tc.tag), tc.aad.data(), size32(tc.aad)),
              AES_GCM_AUTH_E);
    wc_AesFree(&aes);
}

// RFC 8439, section 2.8.2.
struct Rfc8439Aead {
    bytes key = from_hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
    bytes iv = from_hex("070000004041424344454647");
    bytes aad = from_hex("50515253c0c1c2c3c4c5c6c7");
    std::string plain =
        "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, "
        "sunscreen would be it.";
    bytes cipher = from_hex(
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
        "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
        "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
        "3ff4def08e4b7a9de576d26586cec64b6116");
    bytes tag = from_hex("1ae10b594f09e26a7e902ecbd0600691");
};

TEST_F(WolfCrypt, chacha20_poly1305_matches_rfc8439_2_8_2) {
    const Rfc8439Aead tc;
    const bytes plain(tc.plain.begin(), tc.plain.end());
    ASSERT_EQ(plain.size(), 114u);

    bytes cipher(plain.size());
    bytes tag(CHACHA20_POLY1305_AEAD_AUTHTAG_SIZE);
    ASSERT_EQ(wc_ChaCha20Poly1305_Encrypt(tc.key.data(), tc.iv.data(), tc.aad.data(), size32(tc.aad), plain.data(),
                                          size32(plain), cipher.data(), tag.data()),
              0);
    EXPECT_EQ(cipher, tc.cipher);
    EXPECT_EQ(tag, tc.tag);

    bytes decrypted(tc.cipher.size());
    ASSERT_EQ(wc_ChaCha20Poly1305_Decrypt(tc.key.data(), tc.iv.data(), tc.aad.data(), size32(tc.aad), tc.cipher.data(),
                                          size32(tc.cipher), tc.tag.data(), decrypted.data()),
              0);
    EXPECT_EQ(decrypted, plain);

    bytes bad_tag = tc.tag;
    bad_tag[0] ^= 0x80;
    EXPECT_NE(wc_ChaCha20Poly1305_Decrypt(tc.key.data(), tc.iv.data(), tc.aad.data(), size32(tc.aad), tc.cipher.data(),
                                          size32(tc.cipher), bad_tag.data(), decrypted.data()),
              0);
}

TEST_F(WolfCrypt, ecdsa_p256_signature_verifies_and_a_changed_hash_does_not) {
    WC_RNG rng;
    ASSERT_EQ(wc_InitRng(&rng), 0);
    ecc_key key;
    ASSERT_EQ(wc_ecc_init(&key), 0);
    ASSERT_EQ(wc_ecc_make_key_ex(&rng, 32, &key, ECC_SECP256R1), 0);

    const std::string_view jwt_signing_input = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjYnRyYWRlIn0";
    std::array<std::uint8_t, WC_SHA256_DIGEST_SIZE> hash{};
    ASSERT_EQ(wc_Sha256Hash(reinterpret_cast<const byte*>(jwt_signing_input.data()),
                            static_cast<word32>(jwt_signing_input.size()), hash.data()),
              0);

    std::array<std::uint8_t, ECC_MAX_SIG_SIZE> sig{};
    word32 sig_len = static_cast<word32>(sig.size());
    ASSERT_EQ(wc_ecc_sign_hash(hash.data(), static_cast<word32>(hash.size()), sig.data(), &sig_len, &rng, &key), 0);
    ASSERT_GT(sig_len, 0u);

    int verified = 0;
    ASSERT_EQ(wc_ecc_verify_hash(sig.data(), sig_len, hash.data(), static_cast<word32>(hash.size()), &verified, &key),
              0);
    EXPECT_EQ(verified, 1);

    hash[0] ^= 0x01;
    verified = 1;
    EXPECT_EQ(wc_ecc_verify_hash(sig.data(), sig_len, hash.data(), static_cast<word32>(hash.size()), &verified, &key),
              0);
    EXPECT_EQ(verified, 0);

    wc_ecc_free(&key);
    wc_FreeRng(&rng);
}

// RFC 8032, section 7.1, TEST 1 (empty message).
TEST_F(WolfCrypt, ed25519_matches_rfc8032_test_1) {
    const bytes secret = from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    const bytes expected_public = from_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    const bytes expected_sig = from_hex(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595b"
        "be24655141438e7a100b");

    ed25519_key key;
    ASSERT_EQ(wc_ed25519_init(&key), 0);
    ASSERT_EQ(wc_ed25519_import_private_only(secret.data(), size32(secret), &key), 0);
    bytes derived_public(ED25519_PUB_KEY_SIZE);
    ASSERT_EQ(wc_ed25519_make_public(&key, derived_public.data(), size32(derived_public)), 0);
    EXPECT_EQ(derived_public, expected_public);
    ASSERT_EQ(wc_ed25519_import_private_key(secret.data(), size32(secret), expected_public.data(),
                                            size32(expected_public), &key),
              0);

    const std::array<std::uint8_t, 1> empty_message{};  // length 0; a valid pointer all the same
    bytes sig(ED25519_SIG_SIZE);
    word32 sig_len = size32(sig);
    ASSERT_EQ(wc_ed25519_sign_msg(empty_message.data(), 0, sig.data(), &sig_len, &key), 0);
    ASSERT_EQ(sig_len, static_cast<word32>(ED25519_SIG_SIZE));
    EXPECT_EQ(sig, expected_sig);

    int verified = 0;
    ASSERT_EQ(
        wc_ed25519_verify_msg(expected_sig.data(), size32(expected_sig), empty_message.data(), 0, &verified, &key), 0);
    EXPECT_EQ(verified, 1);
    wc_ed25519_free(&key);
}

TEST(TlsInfo, reports_the_flavour_the_build_was_configured_with) {
    const cbtrade::TlsInfo info = cbtrade::tls_info();
    EXPECT_EQ(info.version, "5.5.4");
#if CBTRADE_WOLFSSL_ACCELERATED
    EXPECT_EQ(info.flavour, "accelerated");
    EXPECT_TRUE(info.aesni_built);
#else
    EXPECT_EQ(info.flavour, "system");
    EXPECT_FALSE(info.aesni_built);  // Debian's build has no AES-NI; that is why `accelerated` exists
#endif
    EXPECT_NE(cbtrade::describe(info).find(info.flavour), std::string::npos);
}

#ifdef WOLFSSL_AESNI
TEST(TlsInfo, aes_gcm_runs_on_aesni_when_the_cpu_has_it) {
    if (!cbtrade::tls_info().aesni_cpu) GTEST_SKIP() << "CPU without AES-NI";
    const GcmCase4 tc;
    Aes aes;
    ASSERT_EQ(wc_AesInit(&aes, nullptr, INVALID_DEVID), 0);
    ASSERT_EQ(wc_AesGcmSetKey(&aes, tc.key.data(), size32(tc.key)), 0);
    EXPECT_EQ(aes.use_aesni, 1);
    wc_AesFree(&aes);
}
#endif

TEST(TlsInfo, headers_match_the_linked_library) {
    // options.h and the library must come from one build; these are the checks wolfSSL offers.
    EXPECT_EQ(CheckRunTimeSettings(), static_cast<word32>(CTC_SETTINGS));
    EXPECT_EQ(wolfSSL_lib_version_hex(), static_cast<word32>(LIBWOLFSSL_VERSION_HEX));
}

}  // namespace
