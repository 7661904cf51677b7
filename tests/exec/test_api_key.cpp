// exec/api_key: where the key comes from (inline, file, key JSON) and every refusal, none of which
// may quote the key. Keys are made at test time with OpenSSL.
#include <gtest/gtest.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "core/config.hpp"
#include "core/error.hpp"
#include "exec/api_key.hpp"
#include "exec/jwt.hpp"
#include "tests/exec/openssl_keys.hpp"

namespace {

using namespace cbtrade;
using namespace cbtrade::test;

class ApiKey : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/cbtrade-api-key-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override {
        for (const auto& f : files_) std::remove(f.c_str());
        rmdir(dir_.c_str());
    }
    std::string write(const std::string& name, const std::string& content) {
        std::string path = dir_ + "/" + name;
        std::ofstream(path, std::ios::binary) << content;
        files_.push_back(path);
        return path;
    }
    // The ConfigError text; fails the test if it quotes a 12-character piece of `secret`.
    static std::string refusal(const Config& c, const std::string& secret) {
        try {
            (void)jwt_signer_from(c);
        } catch (const ConfigError& e) {
            std::string m = e.what();
            for (std::size_t i = 0; i + 12 <= secret.size(); ++i) {
                const std::string piece = secret.substr(i, 12);
                if (piece.find_first_of("\n -") != std::string::npos) continue;
                EXPECT_EQ(m.find(piece), std::string::npos) << "error quotes the key: " << m;
            }
            return m;
        }
        ADD_FAILURE() << "accepted";
        return {};
    }
    std::string dir_;
    std::vector<std::string> files_;
};

TEST_F(ApiKey, no_credentials_means_public_only) {
    EXPECT_FALSE(jwt_signer_from(Config{}).has_value());
}

TEST_F(ApiKey, inline_key_with_its_name) {
    const TestKey k = make_ed25519_key();
    Config c;
    c.coinbase_api_key_name = "organizations/o/apiKeys/k";
    c.coinbase_api_private_key = k.ed_base64_64;
    auto signer = jwt_signer_from(c);
    ASSERT_TRUE(signer.has_value());
    EXPECT_EQ(signer->key_name(), "organizations/o/apiKeys/k");
    EXPECT_EQ(signer->algorithm(), JwtAlgorithm::eddsa);
}

TEST_F(ApiKey, key_json_file_with_name_or_id) {
    const TestKey ec = make_p256_key();
    std::string escaped_pem;
    for (char ch : ec.sec1_pem) escaped_pem += ch == '\n' ? std::string("\\n") : std::string(1, ch);
    Config c;
    c.coinbase_api_private_key_file =
        write("cdp_api_key.json", "{\n  \"name\": \"organizations/org1/apiKeys/key1\",\n  \"privateKey\": \"" +
                                      escaped_pem + "\",\n  \"scopes\": [\"view\"],\n  \"keyType\": \"ECDSA\"\n}\n");
    auto signer = jwt_signer_from(c);
    ASSERT_TRUE(signer.has_value());
    EXPECT_EQ(signer->key_name(), "organizations/org1/apiKeys/key1");
    EXPECT_EQ(signer->algorithm(), JwtAlgorithm::es256);

    const TestKey ed = make_ed25519_key();
    c.coinbase_api_private_key_file =
        write("ed.json", R"({"id":"2a3b4c5d-0000-4000-8000-000000000001","privateKey":")" + ed.ed_base64_64 + "\"}");
    signer = jwt_signer_from(c);
    ASSERT_TRUE(signer.has_value());
    EXPECT_EQ(signer->key_name(), "2a3b4c5d-0000-4000-8000-000000000001");
    EXPECT_EQ(signer->algorithm(), JwtAlgorithm::eddsa);

    // The JSON may also be the value of COINBASE_API_PRIVATE_KEY, and its name may be repeated.
    Config inline_json;
    inline_json.coinbase_api_key_name = "2a3b4c5d-0000-4000-8000-000000000001";
    inline_json.coinbase_api_private_key =
        R"({"id":"2a3b4c5d-0000-4000-8000-000000000001","privateKey":")" + ed.ed_base64_64 + "\"}";
    EXPECT_TRUE(jwt_signer_from(inline_json).has_value());
}

TEST_F(ApiKey, plain_key_file_needs_the_name) {
    const TestKey ec = make_p256_key();
    Config c;
    c.coinbase_api_private_key_file = write("key.pem", ec.pkcs8_pem);
    EXPECT_NE(refusal(c, ec.pkcs8_pem).find("COINBASE_API_KEY_NAME is not set"), std::string::npos);
    c.coinbase_api_key_name = "k1";
    EXPECT_TRUE(jwt_signer_from(c).has_value());
}

TEST_F(ApiKey, ambiguous_or_partial_settings_are_refused) {
    const TestKey ed = make_ed25519_key();
    Config both;
    both.coinbase_api_key_name = "k";
    both.coinbase_api_private_key = ed.ed_base64_64;
    both.coinbase_api_private_key_file = write("k.txt", ed.ed_base64_64);
    EXPECT_NE(refusal(both, ed.ed_base64_64).find("set only one"), std::string::npos);

    Config name_only;
    name_only.coinbase_api_key_name = "k";
    EXPECT_NE(refusal(name_only, "").find("no private key"), std::string::npos);

    Config mismatch;
    mismatch.coinbase_api_key_name = "other-key";
    mismatch.coinbase_api_private_key_file =
        write("m.json", R"({"name":"this-key","privateKey":")" + ed.ed_base64_64 + "\"}");
    const std::string m = refusal(mismatch, ed.ed_base64_64);
    EXPECT_NE(m.find("'this-key'"), std::string::npos) << m;
    EXPECT_NE(m.find("'other-key'"), std::string::npos) << m;
}

TEST_F(ApiKey, bad_key_json_and_bad_files_name_the_file_not_the_key) {
    const TestKey ed = make_ed25519_key();
    Config c;
    c.coinbase_api_private_key_file = write("nokey.json", R"({"name":"n"})");
    EXPECT_NE(refusal(c, "").find("no \"privateKey\" field"), std::string::npos);
    c.coinbase_api_private_key_file = write("noname.json", R"({"privateKey":")" + ed.ed_base64_64 + "\"}");
    EXPECT_NE(refusal(c, ed.ed_base64_64).find("neither a \"name\" nor an \"id\""), std::string::npos);
    c.coinbase_api_private_key_file = write("broken.json", R"({"name":"n","privateKey":")" + ed.ed_base64_64);
    const std::string broken = refusal(c, ed.ed_base64_64);
    EXPECT_NE(broken.find("broken.json"), std::string::npos) << broken;
    c.coinbase_api_private_key_file = write("num.json", R"({"name":"n","privateKey":12})");
    EXPECT_NE(refusal(c, "").find("\"privateKey\" is not a string"), std::string::npos);
    // A key that does not parse inside good JSON: the JSON's origin is named.
    c.coinbase_api_private_key_file =
        write("badkey.json", R"({"name":"n","privateKey":")" + ed.ed_base64_64.substr(4) + "\"}");
    const std::string bad = refusal(c, ed.ed_base64_64);
    EXPECT_NE(bad.find("badkey.json"), std::string::npos) << bad;

    c.coinbase_api_private_key_file = dir_ + "/missing.json";
    EXPECT_NE(refusal(c, "").find("missing.json"), std::string::npos);
    c.coinbase_api_private_key_file = dir_;  // a directory
    EXPECT_NE(refusal(c, "").find("not a regular file"), std::string::npos);
    c.coinbase_api_private_key_file = write("huge.json", std::string(max_key_file_bytes + 1, ' '));
    EXPECT_FALSE(refusal(c, "").empty());
}

TEST_F(ApiKey, config_key_is_read_from_env_files) {
    ConfigEntries e{{"COINBASE_API_PRIVATE_KEY_FILE", {"/run/secrets/cdp.json", "bot.env:3"}}};
    EXPECT_EQ(apply_entries(e).config.coinbase_api_private_key_file, "/run/secrets/cdp.json");
}

}  // namespace
