// libFuzzer target for the tick recording reader (pipeline/recording: RecordingReader, what
// `cbtrade replay` reads), issue 13 item 5. The input is read through a memory stream as a file.
// Checked on every input: no crash, UB, leak or hang; every event handed out is in range (trade and
// tick prices sane, trade sizes sane, flags known, lost counts as read); every error is a DataError
// whose message is one line of printable ASCII of bounded length.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/error.hpp"
#include "core/records.hpp"
#include "pipeline/recording.hpp"

namespace {

void check_message(const char* m) {
    std::size_t n = 0;
    for (; m[n] != '\0'; ++n) {
        const auto c = static_cast<unsigned char>(m[n]);
        if (c < 0x20 || c >= 0x7f) std::abort();
    }
    if (n > 1024) std::abort();
}

void check(const cbtrade::MarketEvent& e) {
    using cbtrade::EventKind;
    if (e.flags > cbtrade::event_flag_lost_before) std::abort();
    switch (e.kind) {
        case EventKind::trade:
            if (!cbtrade::sane_price(e.trade.price) || !cbtrade::sane_size(e.trade.size)) std::abort();
            break;
        case EventKind::tick:
            if (!cbtrade::sane_price(e.tick.price)) std::abort();
            break;
        case EventKind::status:
            if (e.status.fresh > 1) std::abort();
            break;
        case EventKind::clock:
        case EventKind::model_switch:
            break;
        default:
            std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // fmemopen of an empty buffer fails on some libcs: an empty input is an empty file.
    static char empty = '\0';
    std::FILE* stream = ::fmemopen(size ? const_cast<std::uint8_t*>(data) : reinterpret_cast<std::uint8_t*>(&empty),
                                   size ? size : 1, "r");
    if (stream == nullptr) return 0;
    if (size == 0) std::fgetc(stream);  // consume the placeholder byte
    try {
        cbtrade::RecordingReader reader(stream, "fuzz.rec");
        if (reader.info().granularity_s < 1) std::abort();
        cbtrade::MarketEvent e{};
        std::uint64_t lost = 0;
        for (int guard = 0; guard < 100000; ++guard) {
            const auto item = reader.next(e, lost);
            if (item == cbtrade::RecordingReader::Item::end) break;
            if (item == cbtrade::RecordingReader::Item::event) check(e);
        }
    } catch (const cbtrade::DataError& err) {
        check_message(err.what());
    }
    return 0;
}
