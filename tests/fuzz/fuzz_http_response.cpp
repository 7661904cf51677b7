// libFuzzer target for io/http's response parser (the Beast wrapper every HTTP answer goes through:
// REST responses and the WebSocket upgrade).
//
// Input layout: byte 0 picks the mode (bit 0: header-only) and the limits (header 64 B..8 KiB, body
// 0..64 KiB), byte 1 seeds the piece sizes, the rest is what a server sends on one connection. The
// stream is parsed as consecutive responses (keep-alive: reset() after each complete one), twice:
// whole and in pseudo-random pieces, and the outcomes must agree (Outcome::operator==), since
// splitting must never change what is parsed. Every result is checked against the contract: consumed within the input, a final
// status that stays, a body within its limit.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "io/http.hpp"
#include "tests/fuzz/piece_sizes.hpp"

namespace {

using cbtrade::fuzz::PieceSizes;

using namespace cbtrade::io;

void check(bool ok) {
    if (!ok) std::abort();
}

struct Outcome {
    HttpParseStatus status;
    unsigned status_code;
    std::string body;
    // A refusal is a refusal: which one (too large, malformed...) may depend on where the bytes were
    // cut (a bad start line is seen at once whole, but only once the header ends when it trickles
    // in, and by then the header may be over its limit). Whether and what was parsed may not.
    bool operator==(const Outcome& o) const {
        const bool refused = status != HttpParseStatus::complete && status != HttpParseStatus::header_done;
        const bool other_refused = o.status != HttpParseStatus::complete && o.status != HttpParseStatus::header_done;
        if (refused || other_refused) return refused && other_refused;
        return status == o.status && status_code == o.status_code && body == o.body;
    }
};

bool final_status(HttpParseStatus s) {
    return s != HttpParseStatus::incomplete;
}

// Parses `stream` as consecutive responses, handing it over in pieces of `piece()` bytes.
template <class PieceFn>
std::vector<Outcome> run(std::span<const char> stream, HttpResponseLimits limits, HttpResponseParser::Mode mode,
                         PieceFn piece, bool& chunk_line_bound) {
    std::vector<Outcome> out;
    HttpResponseParser parser(limits, mode);
    std::size_t at = 0;
    while (at < stream.size() && out.size() < 64) {
        std::span<const char> rest = stream.subspan(at, std::min(piece(), stream.size() - at));
        const HttpParseResult r = parser.feed(rest);
        check(r.consumed <= rest.size());
        at += r.consumed;
        if (r.status == HttpParseStatus::incomplete) {
            check(r.consumed == rest.size());
            continue;
        }
        check(parser.feed(rest.subspan(r.consumed)).consumed == 0);  // a final status stays
        check(parser.status() == r.status);
        if (r.status == HttpParseStatus::complete) check(parser.body().size() <= limits.body_bytes);
        if (r.status == HttpParseStatus::header_done || r.status == HttpParseStatus::complete)
            check(parser.status_code() >= 100 && parser.status_code() <= 599);
        if (r.status == HttpParseStatus::malformed && parser.error_detail().find("chunk-size") != std::string::npos)
            chunk_line_bound = true;
        // After a refusal the status code may or may not be known (where the bytes were cut decides).
        const bool parsed = r.status == HttpParseStatus::complete || r.status == HttpParseStatus::header_done;
        out.push_back({r.status, parsed ? parser.status_code() : 0, parsed ? std::string(parser.body()) : ""});
        if (!parsed) return out;
        if (mode == HttpResponseParser::Mode::header_only) return out;  // the rest is not HTTP
        parser.reset();
    }
    if (at >= stream.size() && out.size() < 64) {
        const HttpParseStatus s = parser.finish_at_eof();
        check(final_status(s));
        if (s == HttpParseStatus::complete) check(parser.body().size() <= limits.body_bytes);
        const bool parsed = s == HttpParseStatus::complete;
        out.push_back({s, parsed ? parser.status_code() : 0, parsed ? std::string(parser.body()) : ""});
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const auto mode =
        (data[0] & 1) != 0 ? HttpResponseParser::Mode::header_only : HttpResponseParser::Mode::whole_message;
    HttpResponseLimits limits;
    limits.header_bytes = std::size_t{64} << ((data[0] >> 1) % 8);  // 64 B .. 8 KiB
    limits.body_bytes = (data[0] >> 4) == 15 ? 0 : std::size_t{1} << (data[0] >> 4);
    const std::span<const char> stream(reinterpret_cast<const char*>(data + 2), size - 2);

    bool bound_whole = false;
    bool bound_split = false;
    const std::vector<Outcome> whole = run(
        stream, limits, mode, [] { return SIZE_MAX; }, bound_whole);
    PieceSizes pieces(data[1]);
    const std::vector<Outcome> split = run(
        stream, limits, mode, [&] { return pieces.next(); }, bound_split);
    // The one documented difference: a chunk-size line longer than the header limit is refused when
    // it arrives in pieces (it would have to be buffered), while Beast reads it whole in one piece.
    if (!bound_whole && !bound_split) check(whole == split);
    return 0;
}
