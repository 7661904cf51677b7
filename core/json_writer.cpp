#include "core/json_writer.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace cbtrade {

void append_json_string(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (u < 0x20 || u == 0x7f) {
                    out += "\\u00";
                    out += hex[u >> 4];
                    out += hex[u & 0xF];
                } else {
                    out += c;
                }
        }
    }
    out += '"';
}

void JsonWriter::newline_and_indent() {
    if (indent_ == 0) return;
    out_ += '\n';
    out_.append(depth_ * indent_, ' ');
}

void JsonWriter::before_value() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (depth_ == 0) {
        if (wrote_value_) misused_ = true;  // a second top-level value
        return;
    }
    if (in_object_[depth_ - 1]) misused_ = true;  // a value in an object without its key
    if (has_items_[depth_ - 1]) out_ += ',';
    has_items_[depth_ - 1] = true;
    newline_and_indent();
}

void JsonWriter::open(char bracket) {
    if (depth_ == max_depth) {
        misused_ = true;
        return;
    }
    before_value();
    out_ += bracket;
    in_object_[depth_] = bracket == '{';
    has_items_[depth_++] = false;
}

void JsonWriter::close(char bracket) {
    if (depth_ == 0 || after_key_ ||
        in_object_[depth_ - 1] != (bracket == '}')) {  // unmatched, or a key left without value
        misused_ = true;
        return;
    }
    const bool had_items = has_items_[--depth_];
    if (had_items) newline_and_indent();
    out_ += bracket;
    if (depth_ == 0) wrote_value_ = true;
}

JsonWriter& JsonWriter::begin_object() {
    open('{');
    return *this;
}
JsonWriter& JsonWriter::end_object() {
    close('}');
    return *this;
}
JsonWriter& JsonWriter::begin_array() {
    open('[');
    return *this;
}
JsonWriter& JsonWriter::end_array() {
    close(']');
    return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
    if (depth_ == 0 || after_key_ || !in_object_[depth_ - 1]) {  // outside an object, or two keys in a row
        misused_ = true;
        return *this;
    }
    if (has_items_[depth_ - 1]) out_ += ',';
    has_items_[depth_ - 1] = true;
    newline_and_indent();
    append_json_string(out_, name);
    out_ += indent_ == 0 ? ":" : ": ";
    after_key_ = true;
    return *this;
}

JsonWriter& JsonWriter::string(std::string_view text) {
    before_value();
    append_json_string(out_, text);
    if (depth_ == 0) wrote_value_ = true;
    return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
    before_value();
    out_ += json;
    if (depth_ == 0) wrote_value_ = true;
    return *this;
}

JsonWriter& JsonWriter::number(std::int64_t value) {
    char text[24];
    return raw(
        std::string_view(text, static_cast<std::size_t>(std::to_chars(text, text + sizeof text, value).ptr - text)));
}

JsonWriter& JsonWriter::number(std::uint64_t value) {
    char text[24];
    return raw(
        std::string_view(text, static_cast<std::size_t>(std::to_chars(text, text + sizeof text, value).ptr - text)));
}

JsonWriter& JsonWriter::number(double value) {
    if (!std::isfinite(value)) return null();
    char text[32];
    return raw(
        std::string_view(text, static_cast<std::size_t>(std::to_chars(text, text + sizeof text, value).ptr - text)));
}

JsonWriter& JsonWriter::fixed(double value, int decimals) {
    if (!std::isfinite(value)) return null();
    char text[400];  // %.*f of 1e308 is 309 digits
    const int n = std::snprintf(text, sizeof text, "%.*f", decimals < 0 ? 0 : decimals > 17 ? 17 : decimals, value);
    return raw(std::string_view(text, n > 0 ? static_cast<std::size_t>(n) : 0));
}

JsonWriter& JsonWriter::boolean(bool value) {
    return raw(value ? "true" : "false");
}
JsonWriter& JsonWriter::null() {
    return raw("null");
}

}  // namespace cbtrade
