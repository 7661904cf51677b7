#include "pipeline/exec_stage.hpp"

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstring>

#include "exec/journal.hpp"
#include "exec/rest_messages.hpp"
#include "io/uring_loop.hpp"

namespace cbtrade {

namespace {
std::int64_t seconds_of(std::int64_t ns) noexcept {
    return ns >= 0 ? ns / 1'000'000'000 : -((-ns + 999'999'999) / 1'000'000'000);
}
}  // namespace

ExecStage::ExecStage(const Config& c, PriceRing& in, ExecNoteRing* notes, BotMetrics& metrics, const TscClock& clock,
                     const std::atomic<bool>& halted, Broker* broker, const std::optional<TraderParams>& trader)
    : in_(in),
      notes_(notes),
      metrics_(metrics),
      clock_(clock),
      halted_(halted),
      trader_(trader ? *trader : TraderParams::from(c), c.usd_equity),
      paper_(c.fee_bps, c.slippage_bps),
      broker_(broker != nullptr ? broker : &paper_),
      ids_high_(SplitMix64::entropy_seed()),
      ids_low_(SplitMix64::entropy_seed()) {
    status_.equity_usd.store(c.usd_equity, std::memory_order_relaxed);
}

std::size_t ExecStage::poll(std::int64_t now_ns) noexcept {
    now_ns_ = now_ns;
    std::size_t n = 0;
    if (journal_ != nullptr) journal_turn();
    if (broker_ != &paper_) {
        // Every poll: the live broker keeps its connection warm and reads its answers here.
        OrderOutcome o;
        const bool settled = broker_->poll(now_ns, o);
        // The exchange accepted the order in flight: journaled now, ahead of its fill.
        if (OrderOutcome accepted; broker_->take_ack(accepted) && awaiting_) journal_ack(accepted, OrderError::none);
        if (settled && awaiting_) {
            awaiting_ = false;
            status_.order_in_flight.store(false, std::memory_order_relaxed);
            settle(in_flight_, o);
            ++n;
        }
    }
    // After the broker's poll: an order that settled just now moved `settled` first, so a snapshot
    // read before it is skipped, not laid over its fill.
    if (live_funds_ != nullptr) {
        AccountFunds f;
        if (live_funds_->read_new(live_funds_seen_, f)) apply_funds(f);
    }
    PriceRecord r;
    std::size_t records = 0;
    while (records < 64 && in_.try_pop(r)) {
        handle(r);
        ++records;
    }
    if (records)
        status_.records.store(status_.records.load(std::memory_order_relaxed) + records, std::memory_order_relaxed);
    return n + records;
}

void ExecStage::handle(const PriceRecord& r) noexcept {
    const std::uint64_t start_tsc = read_tsc();
    // Tick-to-decision: from the completion that brought the bytes to the exec stage holding the
    // record (and its Decision, when it carries one).
    if (r.receive_tsc != 0) metrics_.tick_to_decision.observe_ns(clock_.to_ns(start_tsc, r.receive_tsc));
    if (probe_ != nullptr) probe_->on_record(r, start_tsc);
    if (r.flags & price_flag_lost_before) lost_block_ = true;
    const std::int64_t time_s = seconds_of(r.exchange_time_ns);
    trader_.set_halted(halted_.load(std::memory_order_relaxed));
    record_data_ok_ = (r.flags & price_flag_data_ok) != 0 && !lost_block_;
    trader_.set_market_data_ok(record_data_ok_);

    if (r.flags & price_flag_has_decision) {
        const Decision& d = r.decision;
        const auto req = trader_.on_decision(d);
        const TraderCounters& c = trader_.counters();
        const std::uint64_t blocked_before = published_.blocked_breaker + published_.blocked_below_min +
                                             published_.blocked_long_only + published_.blocked_market_data +
                                             published_.blocked_halt + published_.blocked_funds;
        const std::uint64_t blocked_now = c.blocked_breaker + c.blocked_below_min + c.blocked_long_only +
                                          c.blocked_market_data + c.blocked_halt + c.blocked_funds;
        ExecNote n{};
        n.kind = ExecNoteKind::decision;
        n.decision = d;
        n.equity_usd = trader_.equity_usd(r.price);
        n.entry_blocked = blocked_now != blocked_before ? 1 : 0;
        note(n);
        publish_blocked();
        metrics_.vol_risk_factor.set(d.vol_factor);
        if (req) execute(*req, r.price);
    }
    if (r.flags & price_flag_candle_close) lost_block_ = false;  // after acting: the close itself was blocked
    if (r.flags & price_flag_has_price) {
        last_price_ = r.price;
        if (const auto req = trader_.on_price(r.price, time_s)) execute(*req, r.price);
    }
    last_time_s_ = time_s;
    if (journal_ != nullptr) journal_state(time_s);
    const double price = last_price_ > 0 ? last_price_ : r.price;
    const double equity = trader_.equity_usd(price);
    metrics_.equity_usd.set(equity);
    metrics_.daily_pnl_usd.set(trader_.book_equity_usd(price) - trader_.day_start_equity_usd());
    metrics_.circuit_breaker_tripped.set(trader_.breaker_tripped() ? 1 : 0);
    if (trader_.breaker_tripped() != breaker_noticed_) {
        breaker_noticed_ = trader_.breaker_tripped();
        if (breaker_noticed_)
            notice(NoticeKind::breaker, Fill{time_s, 0, price, 0, Side::buy, OrderReason::entry}, OrderError::none,
                   equity);
    }
    status_.equity_usd.store(equity, std::memory_order_relaxed);
    metrics_.stage_latency(StageLabel::exec).observe_ns(clock_.to_ns(read_tsc(), start_tsc));
}

void ExecStage::apply_funds(const AccountFunds& f) noexcept {
    if (awaiting_ || trader_.pending() || f.settled != status_.settled.load(std::memory_order_relaxed)) {
        status_.funds_skipped.store(status_.funds_skipped.load(std::memory_order_relaxed) + 1,
                                    std::memory_order_relaxed);
        return;
    }
    const double own = trader_.position_qty() > 0 ? trader_.position_qty() : 0;
    trader_.set_account(f.quote_available, f.base_total - own);
    status_.base_short.store(f.base_total < own * (1 - 1e-9), std::memory_order_relaxed);
    trader_.set_funds_blocked(false);
    status_.funds_blocked.store(false, std::memory_order_relaxed);
    status_.funds_applied.store(status_.funds_applied.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    const double price = last_price_;
    if (price > 0) {
        const double equity = trader_.equity_usd(price);
        metrics_.equity_usd.set(equity);
        status_.equity_usd.store(equity, std::memory_order_relaxed);
    }
}

void ExecStage::execute(const OrderRequest& req, double market_price) noexcept {
    if (req.reason == OrderReason::entry && !record_data_ok_) [[unlikely]] {
        // The trader blocks these; a second gate here, counted, so a regression shows as a number
        // that must stay 0 (the fault campaign checks it) instead of as an order.
        metrics_.entries_while_stale.inc();
        trader_.on_order_failed();
        return;
    }
    if (orders_held_) {  // reconciliation's hold: nothing is sent until an operator accepts
        status_.orders_held.store(status_.orders_held.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        trader_.on_order_failed();
        return;
    }
    if (now_ns_ < orders_paused_until_ns_ || broker_->busy()) {
        trader_.on_order_failed();  // not sent: the trader asks again at a later price or signal
        return;
    }
    if (!journal_intent(req)) {
        trader_.on_order_failed();  // no order leaves unjournaled (journal_failed said why)
        return;
    }
    if (journal_ != nullptr && broker_->live()) {
        // Sent once the intent is durable (journal_turn, on a later poll): the thread never waits.
        send_target_ = journal_->sync();
        send_req_ = req;
        send_market_price_ = market_price;
        send_waiting_ = true;
        status_.order_in_flight.store(true, std::memory_order_relaxed);
        status_.orders_waiting_for_journal.store(status_.orders_waiting_for_journal.load(std::memory_order_relaxed) + 1,
                                                 std::memory_order_relaxed);
        journal_turn();  // queue the write now; durable a few polls later
        return;
    }
    send(req, market_price);
}

void ExecStage::send(const OrderRequest& req, double market_price) noexcept {
    if (test_crash_after_intent_ != 0) [[unlikely]] {
        // TEST ONLY (set_test_crash_after_intent): the intent is durable, the order not yet sent.
        if (++orders_sent_ == test_crash_after_intent_) (void)std::raise(SIGKILL);
    }
    if (journal_ != nullptr) broker_->use_client_order_id(order_id_.data());
    OrderOutcome o;
    if (broker_->submit(req, market_price, now_ns_, o)) {
        status_.order_in_flight.store(false, std::memory_order_relaxed);
        settle(req, o);
        return;
    }
    in_flight_ = req;
    awaiting_ = true;
    status_.order_in_flight.store(true, std::memory_order_relaxed);
}

void ExecStage::settle(const OrderRequest& req, const OrderOutcome& o) noexcept {
    const Fill& f = o.fill;
    if (f.qty > 0) trader_.on_fill(f);  // before the journal's books record; the rest below as before
    journal_settled(req, o);
    status_.settled.store(status_.settled.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (o.error != OrderError::none) {
        metrics_.order_errors(o.error).inc();
        status_.order_errors.store(status_.order_errors.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        if (o.error == OrderError::insufficient_funds) {
            trader_.set_funds_blocked(true);
            status_.funds_blocked.store(true, std::memory_order_relaxed);
        }
        order_pause_ns_ =
            order_pause_ns_ == 0 ? 1'000'000'000 : std::min<std::int64_t>(2 * order_pause_ns_, 60'000'000'000);
        orders_paused_until_ns_ = now_ns_ + order_pause_ns_;
        ExecNote n{};
        n.kind = ExecNoteKind::order_error;
        n.fill = Fill{req.time_s, req.qty, req.ref_price, 0, req.side, req.reason};
        n.order_error = o.error;
        n.equity_usd = trader_.equity_usd(last_price_ > 0 ? last_price_ : req.ref_price);
        note(n);
        notice(NoticeKind::order_error, n.fill, o.error, n.equity_usd);
    } else {
        order_pause_ns_ = 0;
    }
    if (!(f.qty > 0)) {
        trader_.on_order_failed();
        return;
    }
    metrics_
        .orders(broker_->live() ? OrderMode::live : OrderMode::paper,
                f.side == Side::buy ? OrderSideIndex::buy : OrderSideIndex::sell)
        .inc();
    switch (f.reason) {
        case OrderReason::entry:
            break;
        case OrderReason::signal_exit:
            metrics_.exits(ExitReason::signal).inc();
            break;
        case OrderReason::stop_loss:
            metrics_.exits(ExitReason::stop_loss).inc();
            break;
        case OrderReason::take_profit:
            metrics_.exits(ExitReason::take_profit).inc();
            break;
    }
    const TraderCounters& c = trader_.counters();
    if (c.round_trips != published_.round_trips) {
        metrics_.trades.inc(c.round_trips - published_.round_trips);
        published_.round_trips = c.round_trips;
    }
    metrics_.position_base.set(trader_.position_qty());
    status_.position_base.store(trader_.position_qty(), std::memory_order_relaxed);
    status_.fills.store(status_.fills.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    status_.round_trips.store(c.round_trips, std::memory_order_relaxed);
    const double price = last_price_ > 0 ? last_price_ : f.price;
    const double equity = trader_.equity_usd(price);
    metrics_.equity_usd.set(equity);
    status_.equity_usd.store(equity, std::memory_order_relaxed);
    ExecNote n{};
    n.kind = ExecNoteKind::fill;
    n.fill = f;
    n.equity_usd = trader_.equity_usd(f.price);
    note(n);
    notice(NoticeKind::fill, f, OrderError::none, n.equity_usd);
}

void ExecStage::publish_blocked() noexcept {
    const TraderCounters& c = trader_.counters();
    auto bump = [this](BlockReason reason, std::uint64_t now, std::uint64_t& published) {
        if (now != published) {
            metrics_.entries_blocked(reason).inc(now - published);
            published = now;
        }
    };
    bump(BlockReason::breaker, c.blocked_breaker, published_.blocked_breaker);
    bump(BlockReason::below_min, c.blocked_below_min, published_.blocked_below_min);
    bump(BlockReason::long_only, c.blocked_long_only, published_.blocked_long_only);
    bump(BlockReason::market_data, c.blocked_market_data, published_.blocked_market_data);
    bump(BlockReason::halt, c.blocked_halt, published_.blocked_halt);
    bump(BlockReason::funds, c.blocked_funds, published_.blocked_funds);
}

void ExecStage::notice(NoticeKind kind, const Fill& f, OrderError e, double equity) noexcept {
    if (notices_ == nullptr) return;
    (void)notices_->try_push(Notice{f, equity, kind, e});  // full: dropped, counted by the ring
}

void ExecStage::note(const ExecNote& n) noexcept {
    if (notes_ == nullptr) return;
    (void)notes_->try_push(n);  // a refusal is counted by the ring; the ops thread logs the loss
}

void ExecStage::restore(const TraderBooks& books, bool halted) noexcept {
    trader_.restore(books);
    journaled_day_start_s_ = books.day_start_s;
    journaled_breaker_ = books.breaker_tripped;
    journaled_halt_ = halted;
    breaker_noticed_ = books.breaker_tripped != 0;
    status_.position_base.store(books.position_qty, std::memory_order_relaxed);
    status_.equity_usd.store(books.cash_usd + books.position_qty * books.entry_price, std::memory_order_relaxed);
}

void ExecStage::set_journal(journal::Writer* writer, io::UringLoop* loop) noexcept {
    journal_ = writer;
    journal_loop_ = loop;
    const TraderBooks b = trader_.books();
    journaled_day_start_s_ = b.day_start_s;
    journaled_breaker_ = b.breaker_tripped;
}

void ExecStage::journal_failed(int error) noexcept {
    if (journal_broken_) return;
    journal_broken_ = true;
    metrics_.journal_failures.inc();
    status_.journal_error.store(error != 0 ? error : 1, std::memory_order_relaxed);
}

bool ExecStage::journal_intent(const OrderRequest& req) noexcept {
    if (journal_ == nullptr) return true;
    if (journal_broken_ || journal_->failed() != 0) {
        journal_failed(journal_->failed());
        return false;
    }
    rest::format_uuid_v4(ids_high_.next(), ids_low_.next(), order_id_.data());
    ack_journaled_ = false;
    journal::OrderIntent i;
    std::memcpy(i.client_order_id.data(), order_id_.data(), order_id_.size());
    i.side = req.side;
    i.reason = req.reason;
    i.live = broker_->live() ? 1 : 0;
    // The size text the broker will send (live), so a restart knows what was asked for.
    if (i.live != 0) i.size_chars = static_cast<std::uint8_t>(broker_->size_text(req, i.size.data()));
    i.qty = req.qty;
    i.ref_price = req.ref_price;
    i.time_s = req.time_s;
    i.unix_ns = wall_ns();  // the wall clock: reconciliation lists the exchange's orders from it
    if (!journal_->intent(i)) {
        journal_failed(journal_->failed());
        return false;
    }
    return true;
}

void ExecStage::journal_settled(const OrderRequest& req, const OrderOutcome& o) noexcept {
    if (journal_ == nullptr || journal_broken_) return;
    // An outcome still unknown is no end: the order stays open in the journal (the order desk keeps
    // asking the exchange; it never settles an order so, but a restart must not read one as over).
    if (o.error == OrderError::unknown_outcome && !(o.fill.qty > 0)) return;
    journal::OrderEndRecord e;
    std::memcpy(e.client_order_id.data(), order_id_.data(), order_id_.size());
    e.error = o.error;
    bool ok = true;
    // Refused before it left (no token, a size off the limits, no connection) or by the exchange.
    const bool not_sent =
        o.error == OrderError::no_token || o.error == OrderError::invalid_order || o.error == OrderError::network;
    // The exchange's answer, unless its acceptance was journaled when it came.
    if (broker_->live() && !ack_journaled_ && (o.order_id_chars > 0 || (!(o.fill.qty > 0) && !not_sent))) {
        journal_ack(o, o.order_id_chars > 0 ? OrderError::none : o.error);
        ok = !journal_broken_;
    }
    if (o.fill.qty > 0) {
        journal::OrderFill f;
        f.client_order_id = e.client_order_id;
        f.side = req.side;
        f.fill = o.fill;
        const TraderBooks b = trader_.books();
        ok = ok && journal_->fill(f) && journal_->books(b, o.fill.time_s);
        journaled_day_start_s_ = b.day_start_s;
        journaled_breaker_ = b.breaker_tripped;
        e.end = journal::OrderEnd::filled;
    } else {
        e.end = not_sent ? journal::OrderEnd::not_sent : journal::OrderEnd::refused;
    }
    if (!ok || !journal_->end(e)) journal_failed(journal_->failed());
    (void)journal_->sync();
}

void ExecStage::journal_ack(const OrderOutcome& o, OrderError error) noexcept {
    if (journal_ == nullptr || journal_broken_ || ack_journaled_) return;
    ack_journaled_ = true;
    journal::OrderAck a;
    std::memcpy(a.client_order_id.data(), order_id_.data(), order_id_.size());
    a.accepted = o.order_id_chars > 0 ? 1 : 0;
    a.error = a.accepted != 0 ? OrderError::none : error;
    a.order_id_chars = std::min<std::uint8_t>(o.order_id_chars, static_cast<std::uint8_t>(a.order_id.size()));
    std::memcpy(a.order_id.data(), o.order_id.data(), a.order_id_chars);
    if (!journal_->ack(a)) journal_failed(journal_->failed());
}

void ExecStage::journal_state(std::int64_t time_s) noexcept {
    if (journal_broken_) return;
    const bool halted = halted_.load(std::memory_order_relaxed);
    bool ok = true;
    if (halted != journaled_halt_) {
        ok = journal_->halt(halted, time_s);
        journaled_halt_ = halted;
    }
    // Cheap: two fields compared per record; the books are written only when a day started or the
    // breaker changed (fills write their own).
    const TraderBooks b = trader_.books();
    if (b.day_start_s != journaled_day_start_s_ || b.breaker_tripped != journaled_breaker_) {
        ok = journal_->books(b, time_s) && ok;
        journaled_day_start_s_ = b.day_start_s;
        journaled_breaker_ = b.breaker_tripped;
    }
    if (!ok) journal_failed(journal_->failed());
}

void ExecStage::journal_turn() noexcept {
    journal_->pump();
    (void)journal_loop_->poll();
    if (!journal_broken_ && journal_->failed() != 0) journal_failed(journal_->failed());
    if (send_waiting_) {
        if (journal_broken_) {
            // The intent may never be durable: the order is not sent (and cannot be journaled as such).
            send_waiting_ = false;
            status_.order_in_flight.store(false, std::memory_order_relaxed);
            trader_.on_order_failed();
        } else if (journal_->durable(send_target_)) {
            send_waiting_ = false;
            send(send_req_, send_market_price_);
        }
        return;
    }
    // Rotation opens a file (cold-ish): only between orders, never while one is waiting or in flight.
    if (!awaiting_ && !trader_.pending() && !journal_broken_ && journal_->wants_rotation()) {
        try {
            journal_->rotate(trader_.books(), last_time_s_, journaled_halt_, {});
        } catch (...) {  // could not finish the old segment or start the new one: no order any more
            journal_failed(journal_->failed());
        }
        if (journal_->failed() != 0) journal_failed(journal_->failed());
    }
}

}  // namespace cbtrade
