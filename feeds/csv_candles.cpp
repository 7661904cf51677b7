#include "feeds/csv_candles.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>

#include "core/decimal.hpp"
#include "core/file_read.hpp"
#include "core/records.hpp"
#include "core/rfc3339.hpp"
#include "core/text.hpp"

namespace cbtrade {

namespace {

enum Column : std::uint8_t { col_time, col_open, col_high, col_low, col_close, col_volume, col_count };
constexpr std::array<std::string_view, col_count> column_names{"time", "open", "high", "low", "close", "volume"};
constexpr std::size_t max_skip_examples = 5;

std::string lower_trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '"')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '"' || s.back() == '\r')) s.remove_suffix(1);
    std::string out(s);
    for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return out;
}

struct Layout {
    std::array<std::uint8_t, col_count> role_of_field{};  // field index -> Column
};

Layout parse_header(std::string_view line, const std::string& name) {
    Layout layout;
    std::array<bool, col_count> seen{};
    std::size_t field = 0;
    std::size_t start = 0;
    while (true) {
        std::size_t comma = line.find(',', start);
        const bool last = comma == std::string_view::npos;
        if (last) comma = line.size();
        std::string col = lower_trim(line.substr(start, comma - start));
        if (col == "start" || col == "timestamp") col = "time";
        std::size_t role = col_count;
        for (std::size_t r = 0; r < col_count; ++r)
            if (column_names[r] == col) role = r;
        const std::string where = name + ":1: ";
        if (role == col_count)
            throw CsvError(where + "unknown column " + quote_for_message(col) +
                           " in header; expected time (or start),open,high,low,close,volume");
        if (seen[role]) throw CsvError(where + "column " + quote_for_message(col) + " appears twice in header");
        if (field >= col_count) throw CsvError(where + "header has more than 6 columns");
        seen[role] = true;
        layout.role_of_field[field++] = static_cast<std::uint8_t>(role);
        if (last) break;
        start = comma + 1;
    }
    for (std::size_t r = 0; r < col_count; ++r)
        if (!seen[r]) throw CsvError(name + ":1: header lacks column '" + std::string(column_names[r]) + "'");
    return layout;
}

bool parse_time(std::string_view s, std::int64_t& out) noexcept {
    // UNIX seconds (the common case, digits only), else RFC 3339.
    std::int64_t v = 0;
    std::size_t i = 0;
    while (i < s.size() && i < 18 && static_cast<unsigned>(s[i] - '0') < 10) v = v * 10 + (s[i++] - '0');
    if (i > 0 && i == s.size()) {
        out = v;
        return true;
    }
    if (auto t = parse_rfc3339_seconds(s)) {
        out = *t;
        return true;
    }
    return false;
}

bool is_field_end(char c) noexcept {
    return c == ',' || c == '\n' || c == '\r';
}

// Parses one numeric field starting at p and leaves p on the character after it (',', '\r',
// '\n' or end). Plain decimals ("42007.62", "3.5") take core/decimal's exact fast path; anything
// else (exponents, long mantissas) goes to std::from_chars.
bool parse_number_field(const char*& p, const char* end, double& out) noexcept {
    const char* const q = parse_plain_decimal_prefix(p, end, out);
    if (q != p && (q == end || is_field_end(*q))) {
        p = q;
        return true;
    }
    const char* field_end = p;
    while (field_end < end && !is_field_end(*field_end)) ++field_end;
    auto [r, ec] = std::from_chars(p, field_end, out);
    const bool ok = ec == std::errc{} && r == field_end;
    p = field_end;
    return ok;
}

// Parses one row starting at p into c and leaves p at the start of the next line. Returns the
// problem, or an empty view when the row is good.
std::string_view parse_row(const char*& p, const char* end, const Layout& layout, Candle& c) noexcept {
    std::array<double, col_count> v{};
    std::string_view problem;
    for (std::size_t field = 0; field < col_count && problem.empty(); ++field) {
        const std::uint8_t role = layout.role_of_field[field];
        if (role == col_time) {
            const char* field_end = p;
            while (field_end < end && !is_field_end(*field_end)) ++field_end;
            if (!parse_time(std::string_view(p, static_cast<std::size_t>(field_end - p)), c.time_s))
                problem = "time is neither UNIX seconds nor RFC 3339";
            p = field_end;
        } else if (!parse_number_field(p, end, v[role])) {
            problem = "a price or volume is not a number";
        }
        if (!problem.empty()) break;
        const bool last = field + 1 == col_count;
        const bool comma = p < end && *p == ',';
        if (!last && !comma) problem = "too few columns (need 6)";
        else if (last && comma) problem = "too many columns (need 6)";
        else if (!last) ++p;
    }
    // Move to the next line whatever happened. A good row ends right here (at "\n" or "\r\n").
    if (problem.empty() && p < end && *p == '\r' && !(p + 1 < end && p[1] == '\n'))
        problem = "unexpected text after the last column";
    const void* nl = p < end ? std::memchr(p, '\n', static_cast<std::size_t>(end - p)) : nullptr;
    p = nl ? static_cast<const char*>(nl) + 1 : end;
    if (!problem.empty()) return problem;
    c.open = v[col_open];
    c.high = v[col_high];
    c.low = v[col_low];
    c.close = v[col_close];
    c.volume = v[col_volume];
    if (!std::isfinite(c.open) || !std::isfinite(c.high) || !std::isfinite(c.low) || !std::isfinite(c.close) ||
        !std::isfinite(c.volume))
        return "NaN or infinite value";
    if (!(c.open > 0 && c.high > 0 && c.low > 0 && c.close > 0)) return "non-positive price";
    if (c.volume < 0) return "negative volume";
    // 1e300 parses as a number but is not a price (core/records.hpp: the sane range of outside numbers).
    if (!sane_price(c.open) || !sane_price(c.high) || !sane_price(c.low) || !sane_price(c.close))
        return "price outside the sane range 1e-9 to 1e9";
    if (c.volume != 0 && !sane_size(c.volume)) return "volume outside the sane range (0, or 1e-12 to 1e12)";
    if (c.high < c.low) return "high < low";
    if (c.open > c.high || c.open < c.low || c.close > c.high || c.close < c.low)
        return "open or close outside [low, high]";
    return {};
}

}  // namespace

namespace {

// One pass over a candle CSV fed in blocks of whole lines (the whole text at once, or a file through
// one reused buffer): the header from the first line, then the rows.
class CandleCsvParser {
public:
    CandleCsvParser(std::string_view raw_name, const CsvOptions& opts)
        : name_(escape_for_message(raw_name)), opts_(opts) {}  // a path is outside text too

    // `lines`: whole lines (the last one may lack its '\n' only at the end of the input).
    void feed(std::string_view lines, std::size_t total_bytes) {
        if (lines.empty()) return;
        seen_bytes_ = true;
        if (!have_header_) {
            const std::size_t pos = lines.find('\n');
            header(lines.substr(0, pos == std::string_view::npos ? lines.size() : pos));
            out_.candles.reserve(total_bytes / 48 + 1);
            if (pos == std::string_view::npos) return;
            lines.remove_prefix(pos + 1);
        }
        rows(lines);
    }

    CsvCandles finish() {
        if (!seen_bytes_) throw CsvError(name_ + ": file is empty");
        if (out_.candles.empty())
            throw CsvError(name_ + ": no candle rows" +
                           (out_.skipped_rows ? " (all " + std::to_string(out_.skipped_rows) + " were bad)" : "") +
                           " after the header");
        std::size_t best = 0;
        for (const auto& [step, count] : step_counts_)
            if (count > best) best = count, out_.step_s = step;
        if (out_.step_s > 0)
            for (std::size_t i = 1; i < out_.candles.size(); ++i)
                if (out_.candles[i].time_s - out_.candles[i - 1].time_s > out_.step_s) ++out_.time_gaps;
        return std::move(out_);
    }

private:
    void header(std::string_view line) {
        if (line.size() > max_csv_header_bytes)
            throw CsvError(name_ + ":1: header line is " + std::to_string(line.size()) + " bytes, over the " +
                           std::to_string(max_csv_header_bytes) + "-byte limit (is this a candle CSV?)");
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        layout_ = parse_header(line, name_);
        have_header_ = true;
    }

    void reject(std::string_view problem) {
        std::string msg = name_ + ":" + std::to_string(line_no_) + ": " + std::string(problem);
        if (!opts_.skip_bad_rows) throw CsvError(msg + " (use --skip-bad-rows to count and skip such rows)");
        ++out_.skipped_rows;
        if (out_.skip_examples.size() < max_skip_examples) out_.skip_examples.push_back(std::move(msg));
    }

    void rows(std::string_view text) {
        const char* p = text.data();
        const char* const end = text.data() + text.size();
        while (p < end) {
            ++line_no_;
            if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {  // blank line
                p += *p == '\n' ? 1 : 2;
                continue;
            }
            Candle c{};
            if (const std::string_view problem = parse_row(p, end, layout_, c); !problem.empty()) {
                reject(problem);
                continue;
            }
            if (c.time_s == last_time_) {
                reject("duplicate timestamp " + std::to_string(c.time_s));
                continue;
            }
            if (c.time_s < last_time_) {
                reject("timestamp " + std::to_string(c.time_s) + " goes backwards (previous row " +
                       std::to_string(last_time_) + ")");
                continue;
            }
            // The usual spacing is learnt from the first rows; counting every row would cost a map lookup each.
            if (last_time_ != INT64_MIN && out_.candles.size() < 4096) ++step_counts_[c.time_s - last_time_];
            last_time_ = c.time_s;
            out_.candles.push_back(c);
        }
    }

    std::string name_;
    CsvOptions opts_;
    Layout layout_{};
    bool have_header_ = false;
    bool seen_bytes_ = false;
    CsvCandles out_;
    std::map<std::int64_t, std::size_t> step_counts_;  // spacing -> count, to find the usual step
    std::size_t line_no_ = 1;
    std::int64_t last_time_ = INT64_MIN;
};

// Big enough that a read(2) per block costs nothing, small enough to stay in cache and never to be
// a large allocation whatever the file's size.
constexpr std::size_t csv_block_bytes = std::size_t{1} << 20;

}  // namespace

CsvCandles parse_candles_csv(std::string_view text, std::string_view raw_name, const CsvOptions& opts) {
    CandleCsvParser parser(raw_name, opts);
    parser.feed(text, text.size());
    return parser.finish();
}

CsvCandles read_candles_csv(const std::string& path, const CsvOptions& opts) {
    // Read in blocks, not mapped: a file truncated underneath must be an error, not SIGBUS (issue 9
    // item 1), and memory stays at one block however large the file.
    CandleCsvParser parser(path, opts);
    const std::string error =
        read_file_lines(path, max_csv_file_bytes, "CSV file", csv_block_bytes,
                        [&](std::string_view lines, std::size_t bytes) { parser.feed(lines, bytes); });
    if (!error.empty()) throw CsvError(error);
    return parser.finish();
}

std::string candles_csv_header() {
    return "time,open,high,low,close,volume\n";
}

void append_candle_csv(std::string& out, const Candle& c) {
    char buf[160];
    char* p = buf;
    char* const end = buf + sizeof buf;
    auto put_int = [&](std::int64_t v) { p = std::to_chars(p, end, v).ptr; };
    auto put_fixed = [&](double v, int decimals) {
        p = std::to_chars(p, end, v, std::chars_format::fixed, decimals).ptr;
    };
    put_int(c.time_s);
    *p++ = ',';
    put_fixed(c.open, 2);
    *p++ = ',';
    put_fixed(c.high, 2);
    *p++ = ',';
    put_fixed(c.low, 2);
    *p++ = ',';
    put_fixed(c.close, 2);
    *p++ = ',';
    put_fixed(c.volume, 8);
    *p++ = '\n';
    out.append(buf, static_cast<std::size_t>(p - buf));
}

void append_candle_csv_exact(std::string& out, const Candle& c) {
    // The longest shortest-fixed double (a subnormal) is about 330 characters: five of them fit.
    char buf[2048];
    char* p = buf;
    char* const end = buf + sizeof buf;
    p = std::to_chars(p, end, c.time_s).ptr;
    for (const double v : {c.open, c.high, c.low, c.close, c.volume}) {
        *p++ = ',';
        p = std::to_chars(p, end, v, std::chars_format::fixed).ptr;
    }
    *p++ = '\n';
    out.append(buf, static_cast<std::size_t>(p - buf));
}

}  // namespace cbtrade
