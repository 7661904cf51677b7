// Where the CDP API key comes from. See api_key.hpp. simdjson reads the key JSON here only.
#include "exec/api_key.hpp"

#include <simdjson.h>

#include <cstring>
#include <string>
#include <utility>

#include "core/error.hpp"
#include "core/file_read.hpp"
#include "core/text.hpp"

namespace cbtrade {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

void wipe(std::string& s) noexcept {
    if (!s.empty()) explicit_bzero(s.data(), s.size());
    s.clear();
}

// A padded copy for simdjson that is wiped when it goes (it holds the private key).
struct WipedPadded {
    simdjson::padded_string text;
    explicit WipedPadded(std::string_view s) : text(s) {}
    ~WipedPadded() {
        if (text.size() > 0) explicit_bzero(text.data(), text.size());
    }
};

}  // namespace

ApiKeyText::~ApiKeyText() {
    wipe(private_key);
}

ApiKeyText parse_key_json(std::string_view json, std::string_view origin) {
    const std::string where(origin);
    const auto bad = [&](const std::string& what) -> ConfigError {
        return ConfigError(where + ": key JSON " + what + " (the key itself is not shown)");
    };
    if (json.size() > max_key_file_bytes) throw bad("is larger than " + std::to_string(max_key_file_bytes) + " bytes");
    WipedPadded padded(json);
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(padded.text).get(doc) != simdjson::SUCCESS) throw bad("cannot be read");
    simdjson::dom::object object;
    if (doc.get_object().get(object) != simdjson::SUCCESS) throw bad("is not a JSON object");
    ApiKeyText out;
    out.origin = where;
    std::string id;
    bool has_private = false;
    for (const auto field : object) {
        const std::string_view key = field.key;
        if (key != "name" && key != "id" && key != "privateKey") continue;
        std::string_view value;
        if (field.value.get_string().get(value) != simdjson::SUCCESS)
            throw bad("field \"" + std::string(key) + "\" is not a string");
        if (key == "name") out.name = std::string(value);
        else if (key == "id") id = std::string(value);
        else {
            out.private_key = std::string(value);
            has_private = true;
        }
    }
    if (!has_private) throw bad("has no \"privateKey\" field");
    if (out.name.empty()) out.name = std::move(id);
    if (out.name.empty()) throw bad("has neither a \"name\" nor an \"id\" field");
    return out;
}

std::optional<ApiKeyText> api_key_text_from(const Config& config) {
    const bool has_inline = !config.coinbase_api_private_key.empty();
    const bool has_file = !config.coinbase_api_private_key_file.empty();
    const std::string& configured_name = config.coinbase_api_key_name;
    if (!has_inline && !has_file) {
        if (!configured_name.empty())
            throw ConfigError(
                "COINBASE_API_KEY_NAME is set but no private key: set COINBASE_API_PRIVATE_KEY or "
                "COINBASE_API_PRIVATE_KEY_FILE");
        return std::nullopt;
    }
    if (has_inline && has_file)
        throw ConfigError("both " + std::string(config.coinbase_api_private_key_from) +
                          " and COINBASE_API_PRIVATE_KEY_FILE are set; set only one");

    ApiKeyText key;
    std::string text;
    if (has_file) {
        key.origin = "COINBASE_API_PRIVATE_KEY_FILE " + quote_for_message(config.coinbase_api_private_key_file, 256);
        FileContents file =
            read_whole_file(config.coinbase_api_private_key_file, max_key_file_bytes, "COINBASE_API_PRIVATE_KEY_FILE");
        if (!file.ok()) throw ConfigError(file.error);
        text = std::move(file.contents);
    } else {
        key.origin = std::string(config.coinbase_api_private_key_from);
        text = config.coinbase_api_private_key;
    }
    if (trim(text).starts_with("{")) {
        ApiKeyText from_json;
        try {
            from_json = parse_key_json(trim(text), key.origin);
        } catch (...) {
            wipe(text);
            throw;
        }
        wipe(text);
        if (!configured_name.empty() && configured_name != from_json.name)
            throw ConfigError(key.origin + ": the key JSON is for key " + quote_for_message(from_json.name, 128) +
                              " but COINBASE_API_KEY_NAME is " + quote_for_message(configured_name, 128));
        key.name = std::move(from_json.name);
        key.private_key = std::move(from_json.private_key);
        return key;
    }
    key.private_key = std::move(text);
    if (configured_name.empty())
        throw ConfigError(key.origin +
                          ": COINBASE_API_KEY_NAME is not set (the key name or id from the CDP portal, "
                          "e.g. organizations/<org>/apiKeys/<id>); or give the key JSON, which holds it");
    key.name = configured_name;
    return key;
}

std::optional<JwtSigner> jwt_signer_from(const Config& config) {
    std::optional<ApiKeyText> key = api_key_text_from(config);
    if (!key) return std::nullopt;
    return JwtSigner(key->name, key->private_key, key->origin);
}

}  // namespace cbtrade
