// core/json_writer: the one way the project writes JSON (reports, subscribe messages, REST bodies,
// the simulator's answers, decision logs). Strings are always escaped (quotes, backslashes, control
// characters), commas and nesting are tracked, and non-finite numbers become null, so no caller
// hand-writes JSON text or forgets to escape a value that came from outside.
//
// Appends to a caller-owned std::string: after the string has grown once (reserve), writing
// allocates nothing, and nothing throws but std::string growth, so the same writer serves cold
// reports and per-order request bodies.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace cbtrade {

// Appends `text` as a JSON string literal, with its quotes.
void append_json_string(std::string& out, std::string_view text);

class JsonWriter {
public:
    // indent 0: compact ({"a":1,"b":[2,3]}); indent N: one member per line, N spaces per level,
    // "key": value with a space, as people read reports.
    explicit JsonWriter(std::string& out, unsigned indent = 0) noexcept : out_(out), indent_(indent) {}

    JsonWriter& begin_object();
    JsonWriter& end_object();
    JsonWriter& begin_array();
    JsonWriter& end_array();
    // The next value's key; only inside an object.
    JsonWriter& key(std::string_view name);

    JsonWriter& string(std::string_view text);
    JsonWriter& number(std::int64_t value);
    JsonWriter& number(std::uint64_t value);
    JsonWriter& number(int value) { return number(static_cast<std::int64_t>(value)); }
    JsonWriter& number(unsigned value) { return number(static_cast<std::uint64_t>(value)); }
    // Shortest text that reads back as the same double; null for NaN and infinities.
    JsonWriter& number(double value);
    // Fixed-point with `decimals` digits (reports: stable, readable); null for NaN and infinities.
    JsonWriter& fixed(double value, int decimals);
    JsonWriter& boolean(bool value);
    JsonWriter& null();
    // A value already rendered as JSON by a JsonWriter (or a literal the caller guarantees).
    JsonWriter& raw(std::string_view json);

    // key + value in one call.
    template <class T>
    JsonWriter& member(std::string_view name, const T& value) {
        key(name);
        if constexpr (std::is_convertible_v<const T&, std::string_view>) return string(std::string_view(value));
        else if constexpr (std::is_same_v<T, bool>) return boolean(value);
        else return number(value);
    }

    // One whole value written, every container closed, and no call out of order (a key outside an
    // object, a close without an open, nesting deeper than max_depth). Misuse is recorded, never
    // thrown: the writer also runs on the exec thread.
    [[nodiscard]] bool complete() const noexcept { return depth_ == 0 && wrote_value_ && !misused_; }

private:
    void before_value();
    void newline_and_indent();
    void open(char bracket);
    void close(char bracket);

    static constexpr std::size_t max_depth = 32;
    std::string& out_;
    unsigned indent_;
    std::size_t depth_ = 0;
    std::array<bool, max_depth> has_items_{};  // per open container: something written already
    std::array<bool, max_depth> in_object_{};  // per open container: an object (else an array)
    bool after_key_ = false;
    bool wrote_value_ = false;
    bool misused_ = false;
};

}  // namespace cbtrade
