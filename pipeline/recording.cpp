#include "pipeline/recording.hpp"

#include <cerrno>
#include <charconv>
#include <limits>
#include <utility>
#include <cstring>
#include <vector>

#include "core/candle_builder.hpp"
#include "core/error.hpp"
#include "core/file_read.hpp"
#include "core/json_writer.hpp"
#include "core/text.hpp"

namespace cbtrade {

// --- LineFile ---------------------------------------------------------------------------------------

LineFile::LineFile(const std::string& path) : path_(path) {
    file_ = std::fopen(path.c_str(), "w");
    if (file_ == nullptr) throw RunError(escape_for_message(path) + ": cannot write: " + std::strerror(errno));
    std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
}

LineFile::~LineFile() {
    if (file_) std::fclose(file_);
}

void LineFile::write(std::string_view line) {
    if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fputc('\n', file_) == EOF) {
        if (error_.empty()) error_ = escape_for_message(path_) + ": write failed: " + std::strerror(errno);
    }
}

bool LineFile::flush() noexcept {
    if (std::fflush(file_) != 0 && error_.empty())
        error_ = escape_for_message(path_) + ": write failed: " + std::strerror(errno);
    return error_.empty();
}

// --- recording lines --------------------------------------------------------------------------------

namespace {

void put_one(std::string& out, double v) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back the same
    out.append(buf, r.ptr);
}
template <class Int>
void put_one(std::string& out, Int v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}
// The tag, then each value after one space.
template <class... Values>
void put(std::string& out, char tag, Values... values) {
    out += tag;
    ((out += ' ', put_one(out, values)), ...);
}

// Splits on single spaces; false if there are more than `max` fields.
std::size_t split(std::string_view line, std::string_view* fields, std::size_t max) {
    std::size_t n = 0;
    while (!line.empty()) {
        if (n == max) return max + 1;
        const std::size_t sp = line.find(' ');
        fields[n++] = line.substr(0, sp);
        if (sp == std::string_view::npos) break;
        line.remove_prefix(sp + 1);
    }
    return n;
}

template <class T>
bool parse(std::string_view text, T& out) {
    const auto r = std::from_chars(text.data(), text.data() + text.size(), out);
    return !text.empty() && r.ec == std::errc{} && r.ptr == text.data() + text.size();
}

}  // namespace

std::string recording_header(std::string_view product, std::int64_t granularity_s) {
    return "# cbtrade ticks v1 product=" + std::string(product) + " granularity=" + std::to_string(granularity_s);
}

void append_recording_line(std::string& out, const MarketEvent& e) {
    switch (e.kind) {
        case EventKind::trade:
            put(out, 'T', e.trade.exchange_time_ns, e.trade.price, e.trade.size, e.trade.trade_id,
                unsigned{e.trade.taker_side}, unsigned{e.trade.flags});
            break;
        case EventKind::tick:
            put(out, 'K', e.tick.exchange_time_ns, e.tick.price, e.tick.best_bid, e.tick.best_ask,
                unsigned{e.tick.flags});
            break;
        case EventKind::status:
            put(out, 'S', e.status.reconnects, e.status.gaps, e.status.stale_events, unsigned{e.status.fresh});
            break;
        case EventKind::clock:
            put(out, 'C', e.clock_ns);
            break;
        case EventKind::model_switch:
            put(out, 'M', e.model.fit_end, e.model.generation);
            return;  // no lost flag: not a ring A event
    }
    out += (e.flags & event_flag_lost_before) ? " 1" : " 0";
}

// --- RecordingReader --------------------------------------------------------------------------------

RecordingReader::RecordingReader(const std::string& path) : path_(path) {
    // Streamed line by line (a line is at most max_record_line_bytes), so no size limit; but never a
    // FIFO or device, which would block or never end.
    std::string error;
    file_ = open_regular_file(path, std::numeric_limits<std::size_t>::max(), "recording", error);
    if (file_ == nullptr) throw DataError(error);
    read_header();
}

RecordingReader::RecordingReader(std::FILE* stream, std::string name) : path_(std::move(name)), file_(stream) {
    if (file_ == nullptr) throw DataError(escape_for_message(path_) + ": no stream to read");
    read_header();
}

void RecordingReader::read_header() {
    // A throwing constructor runs no destructor: the stream is closed here before any error leaves.
    try {
        parse_header();
    } catch (...) {
        std::fclose(file_);
        file_ = nullptr;
        throw;
    }
}

void RecordingReader::parse_header() {
    std::string header;
    if (!read_line(header)) fail("empty file, expected '# cbtrade ticks v1 ...'");
    std::string_view f[4];
    const std::string_view prefix = "# cbtrade ticks v1 ";
    if (header.rfind(prefix, 0) != 0 || split(std::string_view(header).substr(prefix.size()), f, 2) != 2 ||
        f[0].rfind("product=", 0) != 0 || f[1].rfind("granularity=", 0) != 0 ||
        !parse(f[1].substr(12), info_.granularity_s) || info_.granularity_s < 1 ||
        info_.granularity_s > CandleBuilder::max_granularity_s)
        fail("not a cbtrade tick recording: expected '# cbtrade ticks v1 product=P granularity=S', got " +
             quote_for_message(header));
    info_.product = std::string(f[0].substr(8));
}

RecordingReader::~RecordingReader() {
    if (file_) std::fclose(file_);
}

void RecordingReader::fail(std::string_view what) const {
    throw DataError(escape_for_message(path_) + ":" + std::to_string(line_) + ": " + std::string(what));
}

bool RecordingReader::read_line(std::string& out) {
    out.clear();
    int ch = 0;
    while ((ch = std::fgetc(file_)) != EOF) {
        if (ch == '\n') break;
        if (out.size() >= max_record_line_bytes)
            throw DataError(escape_for_message(path_) + ":" + std::to_string(line_ + 1) + ": line longer than " +
                            std::to_string(max_record_line_bytes) + " bytes");
        out.push_back(static_cast<char>(ch));
    }
    if (ch == EOF && out.empty()) {
        if (std::ferror(file_)) throw DataError(escape_for_message(path_) + ": read failed: " + std::strerror(errno));
        return false;
    }
    ++line_;
    return true;
}

RecordingReader::Item RecordingReader::next(MarketEvent& e, std::uint64_t& lost) {
    for (;;) {
        if (!read_line(buf_)) return Item::end;
        if (buf_.empty() || buf_[0] == '#') continue;
        std::string_view f[8];
        const std::size_t n = split(buf_, f, 8);
        e = MarketEvent{};
        auto lost_flag = [&](std::string_view v) {
            if (v == "1") e.flags |= event_flag_lost_before;
            else if (v != "0") fail("lost flag must be 0 or 1, got " + quote_for_message(v));
        };
        auto need = [&](std::size_t count, const char* shape) {
            if (n != count) fail(std::string("expected '") + shape + "', got " + quote_for_message(buf_));
        };
        auto number = [&](std::string_view v, auto& out, const char* what) {
            if (!parse(v, out)) fail(std::string(what) + " is not a number: " + quote_for_message(v));
        };
        const std::string_view tag = n ? f[0] : std::string_view();
        if (tag == "T") {
            need(8, "T exchange_ns price size trade_id side flags lost");
            e.kind = EventKind::trade;
            unsigned side = 0, flags = 0;
            number(f[1], e.trade.exchange_time_ns, "exchange time");
            number(f[2], e.trade.price, "price");
            number(f[3], e.trade.size, "size");
            number(f[4], e.trade.trade_id, "trade id");
            number(f[5], side, "side");
            number(f[6], flags, "flags");
            if (!sane_price(e.trade.price) || !sane_size(e.trade.size) || side > 2 || flags > 255)
                fail("trade out of range: " + quote_for_message(buf_));
            e.trade.taker_side = static_cast<std::uint8_t>(side);
            e.trade.flags = static_cast<std::uint8_t>(flags);
            lost_flag(f[7]);
        } else if (tag == "K") {
            need(7, "K exchange_ns price bid ask flags lost");
            e.kind = EventKind::tick;
            unsigned flags = 0;
            number(f[1], e.tick.exchange_time_ns, "exchange time");
            number(f[2], e.tick.price, "price");
            number(f[3], e.tick.best_bid, "bid");
            number(f[4], e.tick.best_ask, "ask");
            number(f[5], flags, "flags");
            if (!sane_price(e.tick.price) || flags > 255) fail("tick out of range: " + quote_for_message(buf_));
            e.tick.flags = static_cast<std::uint8_t>(flags);
            lost_flag(f[6]);
        } else if (tag == "S") {
            need(6, "S reconnects gaps stale_events fresh lost");
            e.kind = EventKind::status;
            unsigned fresh = 0;
            number(f[1], e.status.reconnects, "reconnects");
            number(f[2], e.status.gaps, "gaps");
            number(f[3], e.status.stale_events, "stale events");
            number(f[4], fresh, "fresh");
            if (fresh > 1) fail("fresh must be 0 or 1");
            e.status.fresh = static_cast<std::uint8_t>(fresh);
            lost_flag(f[5]);
        } else if (tag == "C") {
            need(3, "C wall_ns lost");
            e.kind = EventKind::clock;
            number(f[1], e.clock_ns, "clock");
            lost_flag(f[2]);
        } else if (tag == "M") {
            need(3, "M fit_end generation");
            e.kind = EventKind::model_switch;
            number(f[1], e.model.fit_end, "fit end");
            number(f[2], e.model.generation, "generation");
        } else if (tag == "!") {
            need(3, "! lost n");
            if (f[1] != "lost") fail("expected '! lost n'");
            number(f[2], lost, "lost count");
            return Item::lost;
        } else {
            fail("unknown record " + quote_for_message(buf_));
        }
        return Item::event;
    }
}

// --- decision log -----------------------------------------------------------------------------------

std::string decision_log_header(std::string_view product, std::int64_t granularity_s, std::string_view model_mode) {
    std::string out;
    JsonWriter w(out);
    w.begin_object()
        .member("type", "start")
        .member("format", "cbtrade decision log v1")
        .member("product", product)
        .member("granularity", granularity_s)
        .member("model_mode", model_mode)
        .end_object();
    return out;
}

std::string decision_log_line(const ExecNote& n) {
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    if (n.kind == ExecNoteKind::decision) {
        const Decision& d = n.decision;
        w.member("type", "decision")
            .member("time", d.time_s)
            .member("signal", signal_name(d.signal))
            .member("p_up", d.p_up)
            .member("price", d.price)
            .member("vol_factor", d.vol_factor)
            .member("entry_blocked", n.entry_blocked != 0)
            .member("equity_usd", n.equity_usd);
    } else {
        // A fill, or an order that failed (the quantity asked for, and why).
        const Fill& f = n.fill;
        const bool failed = n.kind == ExecNoteKind::order_error;
        w.member("type", failed ? "order_error" : "fill")
            .member("time", f.time_s)
            .member("side", side_name(f.side))
            .member("reason", reason_name(f.reason))
            .member("qty", f.qty);
        if (failed) w.member("error", order_error_label(n.order_error));
        else w.member("price", f.price).member("fee_usd", f.fee_usd);
        w.member("equity_usd", n.equity_usd);
    }
    w.end_object();
    return out;
}

std::string decision_log_lost_line(std::uint64_t lost) {
    std::string out;
    JsonWriter(out).begin_object().member("type", "lost").member("lines", lost).end_object();
    return out;
}

std::string decision_log_halt_line(bool on, std::string_view by) {
    std::string out;
    JsonWriter(out).begin_object().member("type", "halt").member("on", on).member("by", by).end_object();
    return out;
}

LogComparison compare_decision_log(const std::string& live_path, const std::vector<std::string>& replay_lines) {
    std::string error;
    std::FILE* f = open_regular_file(live_path, std::numeric_limits<std::size_t>::max(), "decision log", error);
    if (f == nullptr) throw DataError(error);
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> guard(f, std::fclose);
    LogComparison out;
    std::size_t replay_index = 0;
    std::uint64_t line_no = 0;
    std::string line;
    auto compared_kind = [](std::string_view l) {
        return l.rfind(R"({"type":"decision")", 0) == 0 || l.rfind(R"({"type":"fill")", 0) == 0;
    };
    auto next_replay = [&]() -> const std::string* {
        while (replay_index < replay_lines.size() && !compared_kind(replay_lines[replay_index])) ++replay_index;
        return replay_index < replay_lines.size() ? &replay_lines[replay_index] : nullptr;
    };
    for (;;) {
        line.clear();
        int ch = 0;
        while ((ch = std::fgetc(f)) != EOF && ch != '\n') {
            if (line.size() >= max_record_line_bytes)
                throw DataError(escape_for_message(live_path) + ":" + std::to_string(line_no + 1) +
                                ": line longer than " + std::to_string(max_record_line_bytes) + " bytes");
            line.push_back(static_cast<char>(ch));
        }
        if (ch == EOF && line.empty()) break;
        ++line_no;
        if (line.rfind(R"({"type":"lost")", 0) == 0) {
            out.message = "the live log lost lines (line " + std::to_string(line_no) + ": " + line +
                          "): a ring to the ops thread was full; cannot prove parity";
            return out;
        }
        if (!compared_kind(line)) continue;
        const std::string* r = next_replay();
        if (r == nullptr) {
            out.message = "first difference at live log line " + std::to_string(line_no) + ": live has " +
                          quote_for_message(line, 200) + ", the replay has nothing more";
            return out;
        }
        if (*r != line) {
            out.message = "first difference at live log line " + std::to_string(line_no) + ": live " +
                          quote_for_message(line, 200) + ", replay " + quote_for_message(*r, 200);
            return out;
        }
        ++out.compared;
        ++replay_index;
    }
    if (const std::string* r = next_replay()) {
        out.message = "the replay has more after the live log's last line: " + quote_for_message(*r, 200);
        return out;
    }
    out.identical = true;
    out.message = "identical: " + std::to_string(out.compared) + " decision and fill lines";
    return out;
}

}  // namespace cbtrade
