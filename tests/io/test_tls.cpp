// TLS between two in-memory ends: our client (TlsSession over a MemoryPipe end) and a wolfSSL
// server on the other end, with certificates made at test time.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "io/tls_client.hpp"
#include "io/tls_info.hpp"
#include "tests/io/memory_pipe.hpp"
#include "tests/io/test_pki.hpp"

namespace {

using cbtrade::io::TlsContext;
using cbtrade::io::TlsSession;
using cbtrade::testing::MemoryPipe;

class Tls : public ::testing::Test {
protected:
    static void SetUpTestSuite() { pki_ = new cbtrade::testing::TestPki(cbtrade::testing::make_test_pki()); }
    static void TearDownTestSuite() {
        pki_->remove();
        delete pki_;
        pki_ = nullptr;
    }
    void SetUp() override {
        if (!pki_->ok()) GTEST_SKIP() << pki_->error;
        std::string error;
        ASSERT_EQ(server_ctx_.init_server(pki_->server_pem, pki_->server_key, error), 0) << error;
    }

    // Drives both handshakes until neither makes progress; returns the client's result.
    int run_handshake(TlsSession& client, TlsSession& server) {
        int c = -EAGAIN;
        int s = -EAGAIN;
        for (int i = 0; i < 100 && (c == -EAGAIN || s == -EAGAIN); ++i) {
            if (c == -EAGAIN) c = client.handshake();
            if (s == -EAGAIN) s = server.handshake();
            if (c < 0 && c != -EAGAIN) break;
        }
        server_result_ = s;
        return c;
    }

    static cbtrade::testing::TestPki* pki_;
    TlsContext server_ctx_;
    int server_result_ = 0;
};
cbtrade::testing::TestPki* Tls::pki_ = nullptr;

std::span<const std::byte> bytes_of(std::string_view s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// Reads from `from` until `want` bytes arrived or no progress.
std::string read_all(TlsSession& from, std::size_t want) {
    std::string got;
    std::vector<std::byte> buf(4096);
    for (int idle = 0; got.size() < want && idle < 50;) {
        const long n = from.read(buf);
        if (n > 0) {
            got.append(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(n));
            idle = 0;
        } else {
            ++idle;
        }
    }
    return got;
}

TEST_F(Tls, handshake_completes_with_tls13_and_data_round_trips_both_ways) {
    MemoryPipe pipe(1 << 18);
    TlsContext client_ctx;
    std::string error;
    ASSERT_EQ(
        client_ctx.init_client(
            {pki_->ca_pem, cbtrade::resolve_cipher_list(cbtrade::Config{}.tls_ciphers, cbtrade::tls_info())}, error),
        0)
        << error;
    TlsSession client;
    TlsSession server;
    ASSERT_EQ(client.start(client_ctx, pipe.a(), "localhost"), 0) << client.error();
    ASSERT_EQ(server.start(server_ctx_, pipe.b(), ""), 0) << server.error();
    ASSERT_EQ(run_handshake(client, server), 0) << client.error();
    ASSERT_EQ(server_result_, 0) << server.error();
    EXPECT_STREQ(client.protocol_version(), "TLSv1.3");
    EXPECT_EQ(client.state(), TlsSession::State::open);

    ASSERT_EQ(client.write(bytes_of("{\"type\":\"subscribe\"}")), 20);
    EXPECT_EQ(read_all(server, 20), "{\"type\":\"subscribe\"}");

    // Server to client: more than one TLS record, and more than one pipe-full, in pieces.
    std::string payload(100'000, '\0');
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);
    std::string received;
    std::vector<std::byte> buf(8192);
    std::size_t sent = 0;
    for (int guard = 0; received.size() < payload.size() && guard < 10'000; ++guard) {
        if (sent < payload.size()) {
            const std::size_t chunk = std::min<std::size_t>(7000, payload.size() - sent);
            const long w = server.write(bytes_of(std::string_view(payload).substr(sent, chunk)));
            if (w > 0) sent += static_cast<std::size_t>(w);
            else ASSERT_EQ(w, -EAGAIN) << server.error();
        }
        for (long n; (n = client.read(buf)) > 0;)
            received.append(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(n));
    }
    EXPECT_EQ(received, payload);
}

TEST_F(Tls, certificate_from_an_untrusted_ca_is_refused_naming_host_and_reason) {
    MemoryPipe pipe;
    TlsContext client_ctx;
    std::string error;
    ASSERT_EQ(client_ctx.init_client({pki_->other_ca_pem, {}}, error), 0) << error;
    TlsSession client;
    TlsSession server;
    ASSERT_EQ(client.start(client_ctx, pipe.a(), "localhost"), 0);
    ASSERT_EQ(server.start(server_ctx_, pipe.b(), ""), 0);
    EXPECT_EQ(run_handshake(client, server), -EKEYREJECTED);
    EXPECT_EQ(client.state(), TlsSession::State::failed);
    const std::string msg = client.error();
    EXPECT_NE(msg.find("localhost"), std::string::npos) << msg;
    EXPECT_NE(msg.find("not signed by a trusted CA"), std::string::npos) << msg;
    EXPECT_NE(server_result_, 0);
}

TEST_F(Tls, certificate_for_another_host_name_is_refused) {
    MemoryPipe pipe;
    TlsContext client_ctx;
    std::string error;
    ASSERT_EQ(client_ctx.init_client({pki_->ca_pem, {}}, error), 0) << error;
    TlsSession client;
    TlsSession server;
    ASSERT_EQ(client.start(client_ctx, pipe.a(), "advanced-trade-ws.coinbase.com"), 0);
    ASSERT_EQ(server.start(server_ctx_, pipe.b(), ""), 0);
    EXPECT_EQ(run_handshake(client, server), -EKEYREJECTED);
    const std::string msg = client.error();
    EXPECT_NE(msg.find("advanced-trade-ws.coinbase.com"), std::string::npos) << msg;
    EXPECT_NE(msg.find("not issued for host name"), std::string::npos) << msg;
}

TEST_F(Tls, ip_address_host_is_checked_against_the_certificate) {
    MemoryPipe pipe;
    TlsContext client_ctx;
    std::string error;
    ASSERT_EQ(client_ctx.init_client({pki_->ca_pem, {}}, error), 0) << error;
    TlsSession client;
    TlsSession server;
    ASSERT_EQ(client.start(client_ctx, pipe.a(), "127.0.0.2"), 0);
    ASSERT_EQ(server.start(server_ctx_, pipe.b(), ""), 0);
    EXPECT_EQ(run_handshake(client, server), -EKEYREJECTED) << client.error();
}

TEST_F(Tls, missing_ca_file_is_a_clear_error) {
    TlsContext client_ctx;
    std::string error;
    EXPECT_EQ(client_ctx.init_client({pki_->dir + "/nope.pem", {}}, error), -ENOENT);
    EXPECT_NE(error.find("nope.pem"), std::string::npos) << error;
    EXPECT_NE(error.find("TLS_CA_FILE"), std::string::npos) << error;
}

TEST_F(Tls, unusable_cipher_list_is_refused_naming_the_key) {
    TlsContext client_ctx;
    std::string error;
    EXPECT_EQ(client_ctx.init_client({pki_->ca_pem, "NO-SUCH-CIPHER"}, error), -EINVAL);
    EXPECT_NE(error.find("TLS_CIPHERS"), std::string::npos) << error;
}

TEST_F(Tls, system_bundle_is_the_default_trust_store) {
    TlsContext client_ctx;
    std::string error;
    const int rc = client_ctx.init_client({}, error);
    if (rc == -ENOENT) GTEST_SKIP() << error;
    EXPECT_EQ(rc, 0) << error;
    EXPECT_EQ(client_ctx.ca_file(), cbtrade::io::system_ca_bundle);
    // Our test CA is not in the system bundle: the handshake must fail.
    MemoryPipe pipe;
    TlsSession client;
    TlsSession server;
    ASSERT_EQ(client.start(client_ctx, pipe.a(), "localhost"), 0);
    ASSERT_EQ(server.start(server_ctx_, pipe.b(), ""), 0);
    EXPECT_EQ(run_handshake(client, server), -EKEYREJECTED) << client.error();
}

TEST_F(Tls, peer_closing_mid_handshake_is_reported_as_reset) {
    MemoryPipe pipe;
    TlsContext client_ctx;
    std::string error;
    ASSERT_EQ(client_ctx.init_client({pki_->ca_pem, {}}, error), 0) << error;
    TlsSession client;
    ASSERT_EQ(client.start(client_ctx, pipe.a(), "localhost"), 0);
    EXPECT_EQ(client.handshake(), -EAGAIN);
    pipe.a().close_peer();
    EXPECT_EQ(client.handshake(), -ECONNRESET) << client.error();
    EXPECT_NE(std::string(client.error()).find("localhost"), std::string::npos);
}

}  // namespace

TEST(TlsCiphers, auto_orders_suites_by_the_measured_decryption_cost) {
    cbtrade::TlsInfo fast{"5.5.4", "accelerated", true, true};
    cbtrade::TlsInfo soft{"5.5.4", "system", false, true};
    EXPECT_EQ(cbtrade::resolve_cipher_list("auto", fast).rfind("TLS13-AES128-GCM-SHA256:", 0), 0u);
    EXPECT_EQ(cbtrade::resolve_cipher_list("auto", soft).rfind("TLS13-CHACHA20-POLY1305-SHA256:", 0), 0u);
    cbtrade::TlsInfo no_cpu{"5.5.4", "accelerated", true, false};
    EXPECT_EQ(cbtrade::resolve_cipher_list("auto", no_cpu).rfind("TLS13-CHACHA20", 0), 0u) << "AES-NI built but absent";
    EXPECT_EQ(cbtrade::resolve_cipher_list("TLS13-AES256-GCM-SHA384", fast), "TLS13-AES256-GCM-SHA384");
}
