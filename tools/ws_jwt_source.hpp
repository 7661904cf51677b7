// tools/: the feed's WsJwtSource (feeds/coinbase_feed.hpp) backed by exec/jwt. It lives here because
// feeds/ must not depend on exec/; the executables wire the two together.
#pragma once

#include <string>

#include "core/cpu.hpp"
#include "exec/jwt.hpp"
#include "feeds/coinbase_feed.hpp"

namespace cbtrade {

class SignerWsJwtSource final : public WsJwtSource {
public:
    explicit SignerWsJwtSource(JwtSigner& signer) noexcept : signer_(signer) {}

    // A fresh token per subscribe message (no uri claim). The feed calls this from poll(), which
    // must not throw: a signing failure (wolfCrypt's RNG) sends the message without a token, which
    // public channels accept, and is counted.
    [[nodiscard]] std::string ws_jwt() override {
        try {
            return signer_.ws_jwt(wall_ns() / 1'000'000'000);
        } catch (...) {
            ++failures_;
            return {};
        }
    }
    [[nodiscard]] unsigned long failures() const noexcept { return failures_; }

private:
    JwtSigner& signer_;
    unsigned long failures_ = 0;
};

}  // namespace cbtrade
