// What every Trade the decoder emits must satisfy, checked by both fuzz targets that decode
// market_trades (fuzz_coinbase_decoder, fuzz_market_trades). A violation aborts, which libFuzzer
// reports as a crash with the input that caused it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "core/records.hpp"

namespace cbtrade::fuzz {

inline void check_trades(std::span<const Trade> trades, std::uint64_t receive_tsc, std::size_t product_count) {
    auto check = [](bool ok) {
        if (!ok) std::abort();
    };
    for (std::size_t i = 0; i < trades.size(); ++i) {
        const Trade& t = trades[i];
        check(sane_price(t.price) && sane_size(t.size));
        check(t.product_index < product_count);
        check(t.exchange_time_ns >= 0);
        check(t.receive_tsc == receive_tsc);
        check(t.taker_side <= 2);
        check((t.flags & ~trade_flag_snapshot) == 0);
        if (i != 0) {  // oldest first, ties by id
            const Trade& p = trades[i - 1];
            check(p.exchange_time_ns < t.exchange_time_ns ||
                  (p.exchange_time_ns == t.exchange_time_ns && p.trade_id <= t.trade_id));
        }
    }
}

}  // namespace cbtrade::fuzz
