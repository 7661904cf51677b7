// pipeline/recording: the two files the ops thread writes off the hot path, and their readers.
//
// RECORD_TICKS: every MarketEvent the signal stage consumed, in order, one line each, so that
// `cbtrade replay` drives the very same signal and exec stages with the very same input:
//   # cbtrade ticks v1 product=BTC-USD granularity=60
//   T <exchange_ns> <price> <size> <trade_id> <side> <flags> <lost>   market_trades trade
//   K <exchange_ns> <price> <bid> <ask> <flags> <lost>                 ticker tick
//   S <reconnects> <gaps> <stale_events> <fresh> <lost>                feed status change
//   C <wall_ns> <lost>                                                 clock (closes quiet candles)
//   M <fit_end> <generation>                                           a refit model adopted here
//   ! lost <n>                                                         n events missing (ring full)
// Doubles are written in shortest round-trip form, so a replay reads back the same bits. <lost> is
// 1 when ring A dropped events just before this one. Receive timestamps are not recorded.
//
// DECISION_LOG: one JSON object per line: a start line, then each decision as the exec stage acted
// on it and each fill, in the exec stage's order; halt changes and losses are logged too.
// `cbtrade replay --compare` compares the decision and fill lines, and reports lost lines.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/events.hpp"

namespace cbtrade {

// A line longer than this in a recording or decision log is an error (the longest real one is
// ~150 bytes): reading never buffers more than one line.
inline constexpr std::size_t max_record_line_bytes = 1024;

// Buffered output file for the ops thread; throws RunError naming the path when it cannot open.
class LineFile {
public:
    explicit LineFile(const std::string& path);
    ~LineFile();
    LineFile(const LineFile&) = delete;
    LineFile& operator=(const LineFile&) = delete;
    void write(std::string_view line);  // appends line + '\n'
    // Flushes to the kernel; false (with the error kept) when a write failed.
    bool flush() noexcept;
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] const std::string& error() const noexcept { return error_; }

private:
    std::string path_;
    std::FILE* file_ = nullptr;
    std::string error_;
};

// --- tick recording ---------------------------------------------------------------------------------

[[nodiscard]] std::string recording_header(std::string_view product, std::int64_t granularity_s);
// The line for one event (without the newline).
void append_recording_line(std::string& out, const MarketEvent& e);

struct RecordingInfo {
    std::string product;
    std::int64_t granularity_s = 0;
};

// Streams a recording line by line. Throws DataError "file:line: problem" on anything malformed.
class RecordingReader {
public:
    explicit RecordingReader(const std::string& path);
    // Reads an already open stream (fuzzing, tests); takes ownership; `name` names it in errors.
    RecordingReader(std::FILE* stream, std::string name);
    ~RecordingReader();
    RecordingReader(const RecordingReader&) = delete;
    RecordingReader& operator=(const RecordingReader&) = delete;

    [[nodiscard]] const RecordingInfo& info() const noexcept { return info_; }
    // The next event; false at the end. `lost` gets the count of a "! lost n" line (the event is
    // then not filled: call again).
    enum class Item : std::uint8_t { event, lost, end };
    [[nodiscard]] Item next(MarketEvent& e, std::uint64_t& lost);
    [[nodiscard]] std::uint64_t line() const noexcept { return line_; }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
    [[nodiscard]] bool read_line(std::string& out);
    [[noreturn]] void fail(std::string_view what) const;
    void read_header();
    void parse_header();

    std::string path_;
    std::FILE* file_ = nullptr;
    std::uint64_t line_ = 0;
    RecordingInfo info_;
    std::string buf_;
};

// --- decision log -----------------------------------------------------------------------------------

[[nodiscard]] std::string decision_log_header(std::string_view product, std::int64_t granularity_s,
                                              std::string_view model_mode);
// A decision or fill line (what --compare compares).
[[nodiscard]] std::string decision_log_line(const ExecNote& n);
[[nodiscard]] std::string decision_log_lost_line(std::uint64_t lost);
[[nodiscard]] std::string decision_log_halt_line(bool on, std::string_view by);

struct LogComparison {
    bool identical = false;
    std::uint64_t compared = 0;  // decision and fill lines compared
    std::string message;         // "identical: ..." or "first difference at ...", one line
};
// Compares the decision and fill lines of a live log with the replay's (in order). Lost lines in
// either make it not identical. Throws DataError when the file cannot be read.
[[nodiscard]] LogComparison compare_decision_log(const std::string& live_path,
                                                 const std::vector<std::string>& replay_lines);

}  // namespace cbtrade
