// pipeline/replay: `cbtrade replay` -- a RECORD_TICKS recording through the very same signal and
// exec stages, on one thread, at full speed (issue 10 item 9). Refits happen where the recording
// says the live run adopted one (an "M" line), on the same candles, so they are bit-identical.
// What comes out are the decision-log lines the live run wrote, for printing and --compare.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/config.hpp"
#include "pipeline/history.hpp"
#include "pipeline/recording.hpp"

namespace cbtrade {

struct ReplayResult {
    std::uint64_t events = 0;
    std::uint64_t trades = 0;
    std::uint64_t candles = 0;
    std::uint64_t decisions = 0;
    std::uint64_t fills = 0;
    std::uint64_t refits = 0;
    std::uint64_t lost_events = 0;  // "! lost" lines: the recording is incomplete
    double final_equity_usd = 0;
    double seconds = 0;
};

// Throws DataError (malformed recording) and ConfigError (a recording of another product or
// granularity than the configuration).
[[nodiscard]] ReplayResult replay_recording(const Config& c, const PreparedHistory& history, RecordingReader& reader,
                                            const std::function<void(const std::string&)>& on_line);

}  // namespace cbtrade
