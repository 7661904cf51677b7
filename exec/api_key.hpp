// exec/api_key: where the CDP API key comes from, and the signer made from it.
//
// Sources (configuration keys, DESIGN.md section 6):
//   COINBASE_API_KEY_NAME + COINBASE_API_PRIVATE_KEY (alias COINBASE_API_SECRET): the key text
//     (PEM or base64 Ed25519, literal "\n" allowed), or the whole key JSON;
//   COINBASE_API_PRIVATE_KEY_FILE: a file holding the key text or the key JSON Coinbase hands out,
//     {"name" or "id": ..., "privateKey": ...} (name wins over id, as the official SDK reads it).
// A name in the JSON and COINBASE_API_KEY_NAME must agree when both are given. Setting the key both
// inline and as a file is refused (which one would be used is not obvious).
//
// Every problem is a ConfigError naming the key or file, never the key text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/config.hpp"
#include "exec/jwt.hpp"

namespace cbtrade {

// Key files are a few hundred bytes; anything larger is not a key file.
inline constexpr std::size_t max_key_file_bytes = 64 * 1024;

struct ApiKeyText {
    std::string name;
    std::string private_key;  // secret
    std::string origin;       // "COINBASE_API_PRIVATE_KEY", "COINBASE_API_PRIVATE_KEY_FILE '/path/key.json'"
    ApiKeyText() = default;
    ApiKeyText(const ApiKeyText&) = delete;
    ApiKeyText& operator=(const ApiKeyText&) = delete;
    ApiKeyText(ApiKeyText&&) noexcept = default;
    ApiKeyText& operator=(ApiKeyText&&) noexcept = default;
    ~ApiKeyText();  // wipes private_key
};

// Coinbase's key JSON: name (or id) and privateKey. Throws ConfigError naming `origin`.
[[nodiscard]] ApiKeyText parse_key_json(std::string_view json, std::string_view origin);

// The configured key, or nullopt when no credential key is set (public endpoints only).
[[nodiscard]] std::optional<ApiKeyText> api_key_text_from(const Config& config);

// The signer for the configured key, or nullopt without credentials.
[[nodiscard]] std::optional<JwtSigner> jwt_signer_from(const Config& config);

}  // namespace cbtrade
