// libFuzzer target for the order journal reader (exec/journal: recover(), what `cbtrade live` reads at
// start-up), issue 13 item 5. Each input is read as segment 1 of a BTC-USD journal (recover_segment:
// the bytes recover() reads from the file).
// Checked on every input: no crash, UB, leak or hang; a journal that is accepted has finite books in
// range and no more open orders than intents; good_bytes never exceeds the file; every refusal is a
// DataError whose message is one line of printable ASCII of bounded length.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/error.hpp"
#include "exec/journal.hpp"

namespace {

void check_message(const char* m) {
    std::size_t n = 0;
    for (; m[n] != '\0'; ++n) {
        const auto c = static_cast<unsigned char>(m[n]);
        if (c < 0x20 || c >= 0x7f) std::abort();
    }
    if (n > 1024) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace cbtrade;
    try {
        const journal::Recovered r = journal::recover_segment(std::as_bytes(std::span<const std::uint8_t>(data, size)),
                                                              "journal-00000001.cbj", 1, "BTC-USD", TraderParams{});
        if (!r.found || r.good_bytes > r.file_bytes || r.file_bytes != size) std::abort();
        if (r.open_orders.size() > r.orders_seen) std::abort();
        if (r.books) {
            const TraderBooks& b = *r.books;
            if (!std::isfinite(b.cash_usd) || !std::isfinite(b.position_qty) || !std::isfinite(b.entry_price) ||
                b.breaker_tripped > 1)
                std::abort();
        }
        for (const std::string& w : r.warnings) check_message(w.c_str());
        (void)journal::describe(r);
    } catch (const DataError& e) {
        check_message(e.what());
    }
    return 0;
}
