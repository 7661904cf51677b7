// exec/broker: what the exec stage hands the trader's orders to. Three implement it: the paper
// broker (exec/trader.hpp: fills at once at the market price with slippage and fee), the Coinbase
// broker (exec/live_orders.hpp: a market order over REST, settled later), and later a bridge broker
// (the earlier stack's HTTP bridge). The exec stage (pipeline/exec_stage.hpp) calls them on the exec
// thread: every method follows the hot-path rules (no allocation, lock, exception, log or blocking
// call).
//
// One order at a time: submit() is only called while no earlier order is unsettled, and the trader
// asks for nothing while its order is pending. An outcome comes back either from submit() itself
// (paper) or later from poll() (live); until then nothing else is sent.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/records.hpp"

namespace cbtrade {

// How one order ended.
struct OrderOutcome {
    // What was executed: qty is what the exchange filled (less than asked for after a partial IOC
    // fill, 0 when nothing was), price the average fill price, fee_usd the fees paid; side, reason
    // and time_s are the order's.
    Fill fill{};
    // Why nothing (or not everything) happened; none for a fill. Counted in bot_order_errors_total.
    OrderError error = OrderError::none;
    // Live: the exchange's order_id when it accepted the order (order_id_chars 0: it did not, or no
    // answer was seen). The exec stage journals it as the order's acknowledgement (order_ack).
    std::uint8_t order_id_chars = 0;
    std::array<char, 64> order_id{};
};

class Broker {
public:
    virtual ~Broker() = default;

    // bot_orders_total{mode="live"} for real orders, mode="paper" otherwise.
    [[nodiscard]] virtual bool live() const noexcept = 0;

    // Takes one order made at `market_price`. true: its outcome is in `out` already (paper fills,
    // and orders refused before sending); false: the order is on its way and poll() reports it.
    [[nodiscard]] virtual bool submit(const OrderRequest& order, double market_price, std::int64_t now_ns,
                                      OrderOutcome& out) noexcept = 0;

    // The client_order_id (36 characters) the next submit() must send: the exec stage chooses it and
    // journals the order's intent under it before the order may leave (exec/journal.hpp, DESIGN.md
    // section 5), so a restart can look the order up by it. A broker that sends orders uses it
    // instead of making one; the paper broker sends nothing.
    virtual void use_client_order_id(const char* id) noexcept { (void)id; }
    // The size text a live order of `order` would carry (quote_size for BUY, base_size for SELL),
    // into out[0, decimal_text_max_chars): its length, 0 when it would be refused (off the product's
    // limits) or for a broker that sends nothing. The exec stage journals it in the order's intent.
    [[nodiscard]] virtual std::size_t size_text(const OrderRequest& order, char* out) const noexcept {
        (void)order;
        (void)out;
        return 0;
    }
    // Called on every exec-stage poll, orders or not (a live broker keeps its connection warm here).
    // true when the submitted order has settled, its outcome in `out`.
    [[nodiscard]] virtual bool poll(std::int64_t /*now_ns*/, OrderOutcome& /*out*/) noexcept { return false; }

    // Live: the exchange's first answer accepting the order in flight (outcome.order_id set, nothing
    // filled yet), handed over once and before the order's settlement, so the exec stage journals the
    // acknowledgement (order_ack) when it happens rather than at the fill. false: none new.
    [[nodiscard]] virtual bool take_ack(OrderOutcome& out) noexcept {
        (void)out;
        return false;
    }

    // An order was submitted and has not settled (its outcome may be unknown for a while).
    [[nodiscard]] virtual bool busy() const noexcept { return false; }

protected:
    Broker() = default;
    Broker(const Broker&) = default;
    Broker& operator=(const Broker&) = default;
};

}  // namespace cbtrade
