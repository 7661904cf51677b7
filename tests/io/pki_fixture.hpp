// Test support: a gtest fixture base whose suite shares one test PKI (made with the openssl CLI at
// suite start, removed at the end) and an io_uring loop per test; tests skip when either is missing.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "io/tls_client.hpp"
#include "io/uring_loop.hpp"
#include "tests/io/test_pki.hpp"

namespace cbtrade::testing {

class PkiLoopTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { pki_ = new TestPki(make_test_pki()); }
    static void TearDownTestSuite() {
        pki_->remove();
        delete pki_;
        pki_ = nullptr;
    }
    void SetUp() override {
        if (!pki_->ok()) GTEST_SKIP() << pki_->error;
        if (const int rc = loop_.init(); rc < 0) GTEST_SKIP() << io::uring_unavailable_message(rc);
        std::string error;
        ASSERT_EQ(server_tls_.init_server(pki_->server_pem, pki_->server_key, error), 0) << error;
    }

    static inline TestPki* pki_ = nullptr;
    io::UringLoop loop_;
    io::TlsContext server_tls_;  // the loopback servers' side
};

}  // namespace cbtrade::testing
