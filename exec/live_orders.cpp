// Real orders: the exec thread's broker, the ops thread's token refills, the order desk. See
// live_orders.hpp.
#include "exec/live_orders.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <exception>

#include "core/cpu.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "exec/api_key.hpp"
#include "exec/bridge_client.hpp"
#include "exec/jwt.hpp"
#include "exec/rest_session.hpp"

namespace cbtrade {

namespace {

constexpr std::int64_t ms = 1'000'000;

FirstAttempt first_attempt_of(io::HttpFailure f) noexcept {
    switch (f) {
        case io::HttpFailure::none:
            return FirstAttempt::answered;
        case io::HttpFailure::not_sent:
            return FirstAttempt::not_sent;
        case io::HttpFailure::no_answer:
            return FirstAttempt::no_answer;
        case io::HttpFailure::timeout:
            return FirstAttempt::timeout;
        case io::HttpFailure::bad_response:
            return FirstAttempt::bad_response;
    }
    return FirstAttempt::bad_response;
}

std::string_view first_attempt_name(FirstAttempt f) noexcept {
    switch (f) {
        case FirstAttempt::answered:
            return "answered";
        case FirstAttempt::not_sent:
            return "not sent (no connection)";
        case FirstAttempt::no_answer:
            return "connection lost after sending";
        case FirstAttempt::timeout:
            return "no answer in time";
        case FirstAttempt::bad_response:
            return "unreadable answer";
    }
    return "?";
}

// Copies what fits of `from` into out[0, capacity); returns the length copied.
std::size_t copy_into(std::string_view from, char* out, std::size_t capacity) noexcept {
    const std::size_t n = std::min(from.size(), capacity);
    std::memcpy(out, from.data(), n);
    return n;
}

}  // namespace

LiveProduct LiveProduct::from(const rest::Product& p) {
    LiveProduct out;
    out.product_id = p.product_id;
    out.base_increment = p.base_increment;
    out.quote_increment = p.quote_increment;
    out.base_min_size = p.base_min_size.value;
    out.base_max_size = p.base_max_size.value;
    out.quote_min_size = p.quote_min_size.value;
    out.quote_max_size = p.quote_max_size.value;
    return out;
}

OrderError order_error_of(const rest::RestError& e) noexcept {
    switch (e.kind) {
        case rest::RestErrorKind::none:
            return OrderError::none;
        case rest::RestErrorKind::rejected:
            return e.code == "INSUFFICIENT_FUND" ? OrderError::insufficient_funds : OrderError::rejected;
        case rest::RestErrorKind::unauthorized:
            return OrderError::unauthorized;
        case rest::RestErrorKind::forbidden:
            return OrderError::forbidden;
        case rest::RestErrorKind::not_found:
        case rest::RestErrorKind::bad_request:
            return OrderError::bad_request;
        case rest::RestErrorKind::rate_limited:
            return OrderError::rate_limited;
        case rest::RestErrorKind::server_error:
            return OrderError::server_error;
        case rest::RestErrorKind::network:
        case rest::RestErrorKind::timeout:
            return OrderError::network;
        case rest::RestErrorKind::invalid_order:
            return OrderError::invalid_order;
        case rest::RestErrorKind::unknown_outcome:
            return OrderError::unknown_outcome;
        case rest::RestErrorKind::malformed:
        case rest::RestErrorKind::too_large:
            return OrderError::malformed;
    }
    return OrderError::malformed;
}

OrderOutcome outcome_of(const rest::Order& o, const OrderRequest& request) noexcept {
    const OrderRequest& q = request;
    OrderOutcome out{};
    const double qty = o.filled_size.value;
    double price = qty > 0 && o.filled_value.value > 0 ? o.filled_value.value / qty : o.average_filled_price.value;
    if (!(price > 0)) price = o.average_filled_price.value;
    out.fill = Fill{q.time_s, qty > 0 ? qty : 0, qty > 0 ? price : q.ref_price, qty > 0 ? o.total_fees.value : 0,
                    q.side,   q.reason};
    out.error = qty > 0 ? OrderError::none : OrderError::not_filled;
    if (!o.order_id.empty() && o.order_id.size() <= out.order_id.size()) {
        std::memcpy(out.order_id.data(), o.order_id.data(), o.order_id.size());
        out.order_id_chars = static_cast<std::uint8_t>(o.order_id.size());
    }
    return out;
}

// ---- DeskAnswers (exec thread) -------------------------------------------------------------------

bool DeskAnswers::read(const char* id, OrderOutcome& out) noexcept {
    OrderSettlement s;
    while (ring_.try_pop(s)) {
        if (std::memcmp(s.client_order_id, id, sizeof s.client_order_id) != 0) {
            ++ignored_;
            continue;
        }
        if (!s.final) {
            ack_ = s.outcome;
            ack_ready_ = true;
            continue;
        }
        out = s.outcome;
        return true;
    }
    return false;
}

bool DeskAnswers::take_ack(OrderOutcome& out) noexcept {
    if (!ack_ready_) return false;
    ack_ready_ = false;
    out = ack_;
    return true;
}

// ---- CoinbaseBroker (exec thread) ----------------------------------------------------------------

CoinbaseBroker::CoinbaseBroker(io::HttpClient& http, TokenPool& tokens, OrderTicketRing& tickets,
                               OrderSettlementRing& settlements, CoinbaseBrokerOptions options, std::uint64_t seed_high,
                               std::uint64_t seed_low)
    : http_(http),
      tokens_(tokens),
      tickets_(tickets),
      answers_(settlements),
      options_(std::move(options)),
      orders_target_(options_.base_path + "/orders"),
      time_target_(options_.base_path + "/time"),
      ids_high_(seed_high),
      ids_low_(seed_low) {
    // Made once: an order writes into them without allocating.
    body_.reserve(1024);
    authorization_.reserve(16 + token_max_chars);
}

std::size_t CoinbaseBroker::size_text(const OrderRequest& order, char* out) const noexcept {
    return order_size_text(options_.product, order, out);
}

std::size_t order_size_text(const LiveProduct& p, const OrderRequest& order, char* out) noexcept {
    const bool buy = order.side == Side::buy;
    // BUY spends quote (the trader's quantity at the price it decided on); SELL sells base.
    const double amount = buy ? order.qty * order.ref_price : order.qty;
    const std::size_t n = format_floored(amount, buy ? p.quote_increment : p.base_increment, out);
    if (n == 0) return 0;
    const double floored = parse_decimal(std::string_view(out, n)).value_or(0.0);
    const double min = buy ? p.quote_min_size : p.base_min_size;
    const double max = buy ? p.quote_max_size : p.base_max_size;
    if (floored < min || (max > 0 && floored > max)) return 0;
    return n;
}

void CoinbaseBroker::use_client_order_id(const char* id) noexcept {
    std::memcpy(next_id_, id, sizeof next_id_);
    next_id_set_ = true;
}

bool CoinbaseBroker::submit(const OrderRequest& order, double, std::int64_t now_ns, OrderOutcome& out) noexcept {
    const auto refuse = [&](OrderError e) {
        out = OrderOutcome{Fill{order.time_s, 0, order.ref_price, 0, order.side, order.reason}, e};
        return true;
    };
    if (state_ != State::idle) return refuse(OrderError::invalid_order);  // the exec stage never does this
    const std::size_t size_chars = size_text(order, ticket_.size);
    if (size_chars == 0) return refuse(OrderError::invalid_order);
    authorization_.assign("Bearer ");
    if (!tokens_.take(now_ns, authorization_)) return refuse(OrderError::no_token);
    ticket_.request = order;
    ticket_.size_chars = static_cast<std::uint8_t>(size_chars);
    ticket_.sent_ns = 0;
    ticket_.settled_ns = 0;
    if (next_id_set_) {  // the exec stage's, journaled before this order may leave
        std::memcpy(ticket_.client_order_id, next_id_, sizeof next_id_);
        next_id_set_ = false;
    } else {
        rest::format_uuid_v4(ids_high_.next(), ids_low_.next(), ticket_.client_order_id);
    }
    body_.clear();
    rest::append_create_order_body(
        body_, rest::MarketOrderView{ticket_.id(), options_.product.product_id, order.side, ticket_.size_text()});
    state_ = State::waiting_for_connection;
    answers_.reset();
    if (!http_.busy()) start_order(now_ns);  // else: after the keep-alive answer (poll)
    return false;
}

void CoinbaseBroker::start_order(std::int64_t now_ns) noexcept {
    const io::HttpHeaderView headers[] = {
        {"Authorization", authorization_}, {"Content-Type", "application/json"}, {"Accept", "application/json"}};
    io::HttpClientRequest r;
    r.method = "POST";
    r.target = orders_target_;
    r.headers = headers;
    r.body = body_;
    r.timeout_ms = options_.order_timeout_ms;
    if (!http_.start(r, now_ns)) return;
    state_ = State::sending;
    last_io_ns_ = now_ns;
    ticket_.sent_ns = now_ns;
    // On an open connection this writes the request through TLS and submits it to io_uring: the
    // bytes are in the kernel when it returns.
    (void)http_.poll(now_ns);
    stats_.orders_sent.store(stats_.orders_sent.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void CoinbaseBroker::start_keepalive(std::int64_t now_ns) noexcept {
    io::HttpClientRequest r;
    r.method = "GET";
    r.target = time_target_;
    r.timeout_ms = options_.order_timeout_ms;
    if (!http_.start(r, now_ns)) return;
    keepalive_in_flight_ = true;
    last_io_ns_ = now_ns;
    stats_.keepalives.store(stats_.keepalives.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void CoinbaseBroker::hand_to_desk(std::int64_t now_ns) noexcept {
    OrderTicket& t = ticket_;
    t.settled_ns = now_ns;
    t.first = first_attempt_of(http_.failure());
    t.status = 0;
    t.body_bytes = 0;
    t.content_type_chars = 0;
    t.body_truncated = false;
    if (const std::optional<io::HttpAnswerView> a = http_.answer()) {
        t.status = static_cast<std::uint16_t>(a->status);
        t.content_type_chars =
            static_cast<std::uint8_t>(copy_into(a->content_type, t.content_type, sizeof t.content_type));
        t.body_bytes = static_cast<std::uint16_t>(copy_into(a->body, t.body, sizeof t.body));
        t.body_truncated = a->body.size() > sizeof t.body;
    }
    http_.release();
    state_ = State::with_desk;
    ticket_pushed_ = tickets_.try_push(t);  // one order at a time: never full; else again next poll
}

bool CoinbaseBroker::poll(std::int64_t now_ns, OrderOutcome& out) noexcept {
    if (http_.poll(now_ns)) {
        if (keepalive_in_flight_) {
            keepalive_in_flight_ = false;
            http_.release();  // its answer does not matter: it kept the connection warm or found it gone
        } else if (state_ == State::sending) {
            hand_to_desk(now_ns);
        } else {
            http_.release();
        }
    }
    if (state_ == State::waiting_for_connection && !http_.busy()) start_order(now_ns);
    if (state_ == State::with_desk) {
        if (!ticket_pushed_) ticket_pushed_ = tickets_.try_push(ticket_);
        const bool settled = answers_.read(ticket_.client_order_id, out);
        stats_.settlements_ignored.store(answers_.ignored(), std::memory_order_relaxed);
        if (settled) {
            state_ = State::idle;
            return true;
        }
    }
    if (state_ == State::idle && !http_.busy()) {
        const std::int64_t due = http_.connected() ? options_.keepalive_ns : options_.reconnect_ns;
        if (now_ns - last_io_ns_ >= due) start_keepalive(now_ns);
    }
    return false;
}

// ---- BridgeBroker (exec thread) ----------------------------------------------------------------------

BridgeBroker::BridgeBroker(OrderTicketRing& tickets, OrderSettlementRing& settlements, LiveProduct product,
                           std::uint64_t seed_high, std::uint64_t seed_low)
    : tickets_(tickets),
      answers_(settlements),
      product_(std::move(product)),
      ids_high_(seed_high),
      ids_low_(seed_low) {}

void BridgeBroker::use_client_order_id(const char* id) noexcept {
    std::memcpy(next_id_, id, sizeof next_id_);
    next_id_set_ = true;
}

bool BridgeBroker::submit(const OrderRequest& order, double, std::int64_t now_ns, OrderOutcome& out) noexcept {
    const auto refuse = [&](OrderError e) {
        out = OrderOutcome{Fill{order.time_s, 0, order.ref_price, 0, order.side, order.reason}, e};
        return true;
    };
    if (busy_) return refuse(OrderError::invalid_order);  // the exec stage never does this
    const std::size_t size_chars = order_size_text(product_, order, ticket_.size);
    if (size_chars == 0) return refuse(OrderError::invalid_order);
    ticket_.request = order;
    ticket_.size_chars = static_cast<std::uint8_t>(size_chars);
    ticket_.first = FirstAttempt::not_sent;  // the desk sends it (through the bridge)
    ticket_.sent_ns = 0;
    ticket_.settled_ns = now_ns;
    ticket_.status = 0;
    ticket_.body_bytes = 0;
    ticket_.content_type_chars = 0;
    ticket_.body_truncated = false;
    if (next_id_set_) {  // the exec stage's, journaled before this order may leave
        std::memcpy(ticket_.client_order_id, next_id_, sizeof next_id_);
        next_id_set_ = false;
    } else {
        rest::format_uuid_v4(ids_high_.next(), ids_low_.next(), ticket_.client_order_id);
    }
    busy_ = true;
    answers_.reset();
    ticket_pushed_ = tickets_.try_push(ticket_);  // one order at a time: never full; else again next poll
    return false;
}

bool BridgeBroker::poll(std::int64_t, OrderOutcome& out) noexcept {
    if (!busy_) return false;
    if (!ticket_pushed_) ticket_pushed_ = tickets_.try_push(ticket_);
    if (!answers_.read(ticket_.client_order_id, out)) return false;
    busy_ = false;
    return true;
}

// ---- TokenRefill (ops thread) --------------------------------------------------------------------

TokenRefill::TokenRefill(TokenPool& pool, JwtSigner& signer, std::string host, std::string orders_path)
    : pool_(pool), signer_(signer), host_(std::move(host)), orders_path_(std::move(orders_path)) {}

std::size_t TokenRefill::poll(std::int64_t now_ns) noexcept {
    const std::int64_t unix_s = wall_ns() / 1'000'000'000;
    return pool_.refill(now_ns, [&](char* out, std::size_t capacity) -> std::size_t {
        try {
            const std::string token = signer_.rest_jwt("POST", host_, orders_path_, unix_s);
            if (token.size() > capacity) throw RunError("an order JWT is longer than a token slot");
            std::copy(token.begin(), token.end(), out);  // a token slot holds bytes, not a C string
            failure_reported_ = false;
            return token.size();
        } catch (const std::exception& e) {
            failures_.store(failures_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
            if (!failure_reported_) {
                failure_reported_ = true;
                std::fprintf(stderr, "cbtrade live: signing an order JWT failed: %s\n", e.what());
            }
            return 0;
        }
    });
}

// ---- venues ----------------------------------------------------------------------------------------------

namespace {

// Both clients have the same two calls with the same rules.
template <class Client>
class ClientOrderVenue final : public OrderVenue {
public:
    explicit ClientOrderVenue(Client& c) : client_(c) {}
    rest::RestResult<rest::CreateOrderResult> create_market_order(const rest::MarketOrder& o) override {
        return client_.create_market_order(o);
    }
    rest::RestResult<rest::Order> order(std::string_view id) override { return client_.order(id); }

private:
    Client& client_;
};

}  // namespace

std::unique_ptr<OrderVenue> make_rest_order_venue(rest::RestClient& client) {
    return std::make_unique<ClientOrderVenue<rest::RestClient>>(client);
}

std::unique_ptr<OrderVenue> make_bridge_order_venue(rest::BridgeClient& client) {
    return std::make_unique<ClientOrderVenue<rest::BridgeClient>>(client);
}

// ---- OrderDesk -------------------------------------------------------------------------------------

OrderDesk::OrderDesk(rest::RestClient& client, std::string product_id, OrderTicketRing& tickets,
                     OrderSettlementRing& settlements, BotMetrics* metrics, OrderDeskOptions options,
                     rest::RestClock& clock)
    : owned_venue_(make_rest_order_venue(client)),
      client_(*owned_venue_),
      product_id_(std::move(product_id)),
      tickets_(tickets),
      settlements_(settlements),
      metrics_(metrics),
      options_(options),
      clock_(clock) {}

OrderDesk::OrderDesk(OrderVenue& venue, std::string product_id, OrderTicketRing& tickets,
                     OrderSettlementRing& settlements, BotMetrics* metrics, OrderDeskOptions options,
                     rest::RestClock& clock)
    : client_(venue),
      product_id_(std::move(product_id)),
      tickets_(tickets),
      settlements_(settlements),
      metrics_(metrics),
      options_(options),
      clock_(clock) {}

bool OrderDesk::drained(std::int64_t) const noexcept {
    return upstream_finished() && !ticket_ && tickets_.empty();
}

rest::MarketOrder OrderDesk::market_order() const {
    return rest::MarketOrder{std::string(ticket_->id()), product_id_, ticket_->request.side,
                             std::string(ticket_->size_text())};
}

std::size_t OrderDesk::poll(std::int64_t) noexcept {
    // The desk's own clock (tests script it): waits between steps never block the thread.
    try {
        const std::int64_t now = clock_.now_ns();
        if (!ticket_) {
            OrderTicket t;
            if (!tickets_.try_pop(t)) return 0;
            begin(t, now);
            return 1;
        }
        if (now < next_ns_) return 0;
        if (step_ == Step::create) step_create(now);
        else if (step_ == Step::get_order) step_get_order(now);
        return 1;
    } catch (const std::exception& e) {
        // Out of memory or a programming error: the order stays open, tried again in a second.
        std::fprintf(stderr, "cbtrade live: order desk: %s\n", e.what());
        next_ns_ = clock_.now_ns() + 1000 * ms;
        return 0;
    }
}

void OrderDesk::begin(const OrderTicket& t, std::int64_t now_ns) {
    ticket_ = t;
    order_id_.clear();
    maybe_executed_ = false;
    unknown_declared_ = false;
    poll_wait_ns_ = options_.poll_first_ns;
    next_ns_ = now_ns;
    step_ = Step::create;
    switch (t.first) {
        case FirstAttempt::not_sent:
            return;  // nothing reached the exchange: send it (same client_order_id)
        case FirstAttempt::no_answer:
        case FirstAttempt::timeout:
        case FirstAttempt::bad_response:
            maybe_executed_ = true;  // it may exist: resend with the same client_order_id
            return;
        case FirstAttempt::answered:
            break;
    }
    if (t.body_truncated) {
        maybe_executed_ = true;
        return;
    }
    const rest::HttpAnswer answer{t.status, std::string_view(t.content_type, t.content_type_chars),
                                  std::string_view(t.body, t.body_bytes)};
    const rest::RestResult<rest::CreateOrderResult> r = rest::decode_create_order(answer);
    if (r.ok()) {
        order_id_ = r.value->order_id;
        step_ = Step::get_order;
        acknowledge();
        return;
    }
    switch (r.error.kind) {
        case rest::RestErrorKind::rate_limited:  // refused unprocessed: the same id again is safe
            next_ns_ = now_ns + 1000 * ms;
            return;
        case rest::RestErrorKind::server_error:  // may have been executed
        case rest::RestErrorKind::malformed:
        case rest::RestErrorKind::too_large:
            maybe_executed_ = true;
            return;
        default:
            break;
    }
    OrderOutcome o{};
    o.fill = Fill{t.request.time_s, 0, t.request.ref_price, 0, t.request.side, t.request.reason};
    o.error = order_error_of(r.error);
    finish(o, "refused: " + r.error.message);
}

void OrderDesk::declare_unknown(const std::string& why) {
    if (!unknown_declared_) {
        unknown_declared_ = true;
        unknown_.store(unknown_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        if (metrics_ != nullptr) metrics_->order_errors(OrderError::unknown_outcome).inc();
    }
    if (options_.log)
        std::fprintf(stderr,
                     "cbtrade live: order %.*s: OUTCOME UNKNOWN (%s); no other order is sent until the exchange "
                     "answers for this client_order_id; asking again in %" PRId64 " s\n",
                     static_cast<int>(ticket_->id().size()), ticket_->id().data(), why.c_str(),
                     options_.unknown_retry_ns / 1'000'000'000);
}

void OrderDesk::step_create(std::int64_t now_ns) {
    const rest::RestResult<rest::CreateOrderResult> r = client_.create_market_order(market_order());
    if (r.ok()) {
        order_id_ = r.value->order_id;
        step_ = Step::get_order;
        next_ns_ = clock_.now_ns();
        acknowledge();
        return;
    }
    if (r.error.kind == rest::RestErrorKind::unknown_outcome || maybe_executed_) {
        // An earlier attempt may have placed it: a refusal now (even INSUFFICIENT_FUND, which the
        // first order itself may cause) settles nothing. Only the exchange's answer for this id does.
        maybe_executed_ = true;
        declare_unknown(r.error.message);
        next_ns_ = now_ns + options_.unknown_retry_ns;
        return;
    }
    OrderOutcome o{};
    const OrderRequest& q = ticket_->request;
    o.fill = Fill{q.time_s, 0, q.ref_price, 0, q.side, q.reason};
    o.error = order_error_of(r.error);
    finish(o, "refused: " + r.error.message);
}

void OrderDesk::step_get_order(std::int64_t now_ns) {
    const rest::RestResult<rest::Order> r = client_.order(order_id_);
    const auto again = [&](std::int64_t wait_ns) {
        next_ns_ = now_ns + wait_ns;
        poll_wait_ns_ = std::min(2 * poll_wait_ns_, options_.poll_max_ns);
    };
    if (!r.ok()) {
        if (options_.log)
            std::fprintf(stderr, "cbtrade live: order %.*s (order_id %s): get order failed, asking again: %s\n",
                         static_cast<int>(ticket_->id().size()), ticket_->id().data(), order_id_.c_str(),
                         r.error.message.c_str());
        again(std::max(poll_wait_ns_, 1000 * ms));
        return;
    }
    const rest::Order& o = *r.value;
    const OrderRequest& q = ticket_->request;
    if ((!o.client_order_id.empty() && o.client_order_id != ticket_->id()) || o.side != q.side ||
        (!o.product_id.empty() && o.product_id != product_id_)) {
        if (options_.log)
            std::fprintf(stderr,
                         "cbtrade live: order %.*s: the exchange's order %s does not match it (client_order_id, "
                         "side or product); asking again\n",
                         static_cast<int>(ticket_->id().size()), ticket_->id().data(), order_id_.c_str());
        again(options_.poll_max_ns);
        return;
    }
    if (!rest::is_terminal(o.status)) {
        again(poll_wait_ns_);
        return;
    }
    const OrderOutcome out = outcome_of(o, q);
    const double qty = out.fill.qty;
    std::string what = std::string(rest::to_string(o.status)) + " ";
    if (qty > 0)
        what += o.filled_size.text + " at " + o.average_filled_price.text + ", fees " + o.total_fees.text +
                (o.status == rest::OrderStatus::filled ? "" : " (partly filled)");
    else what += "with nothing filled";
    finish(out, what + "; order_id " + order_id_);
}

void OrderDesk::push_to_exec(OrderSettlement& s) {
    std::memcpy(s.client_order_id, ticket_->client_order_id, sizeof s.client_order_id);
    // The exchange's order_id, for the journal's order_ack (an id longer than the record holds is
    // left out: the order is found by its client_order_id anyway).
    if (!order_id_.empty() && order_id_.size() <= s.outcome.order_id.size()) {
        std::memcpy(s.outcome.order_id.data(), order_id_.data(), order_id_.size());
        s.outcome.order_id_chars = static_cast<std::uint8_t>(order_id_.size());
    }
    // One order at a time (an acceptance and an outcome at the most): never full.
    while (!settlements_.try_push(s)) clock_.sleep_ns(1 * ms);
}

void OrderDesk::acknowledge() {
    OrderSettlement s{};
    const OrderRequest& q = ticket_->request;
    s.outcome.fill = Fill{q.time_s, 0, q.ref_price, 0, q.side, q.reason};
    s.final = false;
    push_to_exec(s);
}

void OrderDesk::finish(const OrderOutcome& o, const std::string& what) {
    OrderSettlement s{};
    s.outcome = o;
    push_to_exec(s);
    if (options_.log) {
        const OrderTicket& t = *ticket_;
        char first[96] = "";
        if (t.sent_ns != 0 && t.settled_ns >= t.sent_ns)
            std::snprintf(first, sizeof first, "; first attempt %s in %.1f ms",
                          std::string(first_attempt_name(t.first)).c_str(),
                          static_cast<double>(t.settled_ns - t.sent_ns) / 1e6);
        std::fprintf(stderr, "cbtrade live: order %.*s %s %s %.*s %s (%s): %s%s%s\n", static_cast<int>(t.id().size()),
                     t.id().data(), std::string(side_name(t.request.side)).c_str(),
                     t.request.side == Side::buy ? "quote_size" : "base_size", static_cast<int>(t.size_text().size()),
                     t.size_text().data(), product_id_.c_str(), std::string(reason_name(t.request.reason)).c_str(),
                     what.c_str(), first,
                     o.error == OrderError::insufficient_funds ? "; entries blocked until equity is refreshed" : "");
    }
    settled_.store(settled_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    ticket_.reset();
    step_ = Step::none;
}

// ---- LiveOrders ----------------------------------------------------------------------------------

LiveOrders::LiveOrders(const Config& config, const rest::Product& product, BotMetrics& metrics) {
    std::optional<JwtSigner> signer = jwt_signer_from(config);
    if (!signer)
        throw ConfigError(
            "DRY_RUN=false needs an API key: set COINBASE_API_KEY_NAME and COINBASE_API_PRIVATE_KEY, or "
            "COINBASE_API_PRIVATE_KEY_FILE");
    refill_signer_ = std::make_unique<JwtSigner>(std::move(*signer));
    rest::RestClientOptions exec_options;
    exec_options.timeout_ms = 5000;
    exec_session_ = std::make_unique<rest::RestSession>(config, false, exec_options);
    rest::RestClientOptions desk_options;
    desk_options.max_attempts = 3;
    desk_options.timeout_ms = 5000;
    desk_session_ = std::make_unique<rest::RestSession>(config, true, desk_options);
    const rest::RestClientOptions& o = desk_session_->client().options();

    tokens_ = std::make_unique<TokenPool>();
    tickets_ = std::make_unique<OrderTicketRing>();
    settlements_ = std::make_unique<OrderSettlementRing>();
    CoinbaseBrokerOptions bo;
    bo.product = LiveProduct::from(product);
    bo.base_path = o.base_path;
    broker_ = std::make_unique<CoinbaseBroker>(exec_session_->http(), *tokens_, *tickets_, *settlements_, bo,
                                               SplitMix64::entropy_seed(), SplitMix64::entropy_seed());
    refill_ = std::make_unique<TokenRefill>(*tokens_, *refill_signer_, o.host, o.base_path + "/orders");
    desk_ =
        std::make_unique<OrderDesk>(desk_session_->client(), product.product_id, *tickets_, *settlements_, &metrics);
}

LiveOrders::~LiveOrders() = default;

// ---- BridgeOrders ------------------------------------------------------------------------------------

BridgeOrders::BridgeOrders(const Config& config, const rest::Product& product, BotMetrics& metrics) {
    desk_session_ = std::make_unique<rest::BridgeSession>(config);
    venue_ = make_bridge_order_venue(desk_session_->client());
    tickets_ = std::make_unique<OrderTicketRing>();
    settlements_ = std::make_unique<OrderSettlementRing>();
    broker_ = std::make_unique<BridgeBroker>(*tickets_, *settlements_, LiveProduct::from(product),
                                             SplitMix64::entropy_seed(), SplitMix64::entropy_seed());
    desk_ = std::make_unique<OrderDesk>(*venue_, product.product_id, *tickets_, *settlements_, &metrics);
}

BridgeOrders::~BridgeOrders() = default;

std::string LiveOrders::warm_up() {
    (void)refill_->poll(now_ns());
    if (tokens_->usable(now_ns()) == 0) return "no order JWT could be signed";
    const std::string target = desk_session_->client().options().base_path + "/time";
    io::HttpClientRequest r;
    r.target = target;
    r.timeout_ms = 5000;
    io::HttpResult result = exec_session_->http().request(r);
    if (!result.ok()) return "the order connection did not open: " + result.error;
    return {};
}

}  // namespace cbtrade
