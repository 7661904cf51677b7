// exec/live_orders: the order desk settling the exec thread's orders with a scripted transport and
// a fake clock: a filled order's fill (the quote that moved, the fees); a first attempt whose
// outcome is unknown (timeout, dropped connection, 5xx) resent only with the same client_order_id;
// 429 survived; a refusal (INSUFFICIENT_FUND) settled at once and never resent; a refusal after an
// unknown outcome settling nothing; partial and empty IOC fills; get-order polled until terminal.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/metrics.hpp"
#include "exec/live_orders.hpp"
#include "tests/exec/openssl_keys.hpp"
#include "tests/exec/scripted_transport.hpp"

namespace cbtrade {
namespace {

using rest::TransportFailure;
using test::FakeClock;
using test::ScriptedTransport;

constexpr std::string_view client_id = "0d6b5c2e-7f3a-4c1e-9a55-3e2b8c1f0a77";

std::string created(std::string_view order_id = "o-1") {
    return R"({"success":true,"failure_reason":"UNKNOWN_FAILURE_REASON","order_id":")" + std::string(order_id) +
           R"(","success_response":{"order_id":")" + std::string(order_id) +
           R"(","product_id":"BTC-USD","side":"BUY","client_order_id":")" + std::string(client_id) + R"("}})";
}
std::string order(std::string_view status, std::string_view filled, std::string_view value = "0",
                  std::string_view fees = "0", std::string_view side = "BUY") {
    return R"({"order":{"order_id":"o-1","product_id":"BTC-USD","side":")" + std::string(side) +
           R"(","client_order_id":")" + std::string(client_id) + R"(","status":")" + std::string(status) +
           R"(","filled_size":")" + std::string(filled) + R"(","average_filled_price":"42000","filled_value":")" +
           std::string(value) + R"(","total_fees":")" + std::string(fees) + R"("}})";
}
constexpr std::string_view insufficient =
    R"({"success":false,"failure_reason":"UNKNOWN_FAILURE_REASON","order_id":"","error_response":{"error":"INSUFFICIENT_FUND","message":"Insufficient balance in source account","error_details":"","preview_failure_reason":"PREVIEW_INSUFFICIENT_FUND"}})";

class OrderDeskTest : public ::testing::Test {
protected:
    OrderDeskTest()
        : key_(test::make_ed25519_key()),
          signer_("organizations/o/apiKeys/k", key_.ed_base64_64, "test"),
          transport_(clock_),
          metrics_(registry_, BuildInfo{}),
          client_(transport_, &signer_, options(), clock_),
          desk_(client_, "BTC-USD", tickets_, settlements_, &metrics_, desk_options(), clock_) {}
    static rest::RestClientOptions options() {
        rest::RestClientOptions o;
        o.host = "api.coinbase.com";
        o.max_attempts = 3;
        return o;
    }
    static OrderDeskOptions desk_options() {
        OrderDeskOptions o;
        o.log = false;
        return o;
    }
    // A ticket as the exec thread hands it over: a BUY of 25.00 USD and how its first attempt ended.
    void hand_over(FirstAttempt first, int status = 0, std::string_view body = "") {
        OrderTicket t{};
        t.request = OrderRequest{1'700'000'000, 0.0006, 41'666, Side::buy, OrderReason::entry};
        t.first = first;
        t.status = static_cast<std::uint16_t>(status);
        std::memcpy(t.client_order_id, client_id.data(), client_id.size());
        std::memcpy(t.size, "25", 2);
        t.size_chars = 2;
        std::memcpy(t.content_type, "application/json", 16);
        t.content_type_chars = 16;
        std::memcpy(t.body, body.data(), body.size());
        t.body_bytes = static_cast<std::uint16_t>(body.size());
        ASSERT_TRUE(tickets_.try_push(t));
    }
    // Polls the desk (time moves 50 ms a poll) until it settles, at most `polls` times.
    // The exchange's acceptances the desk sent ahead of the outcome go to acks_.
    std::optional<OrderSettlement> run(int polls = 400) {
        for (int i = 0; i < polls; ++i) {
            (void)desk_.poll(clock_.now);
            OrderSettlement s;
            while (settlements_.try_pop(s)) {
                if (s.final) return s;
                acks_.push_back(s);
            }
            clock_.now += 50'000'000;
        }
        return std::nullopt;
    }
    std::vector<OrderSettlement> acks_;
    std::size_t creates() const {
        std::size_t n = 0;
        for (const auto& s : transport_.sent)
            if (s.method == "POST") {
                ++n;
                EXPECT_NE(s.body.find(std::string(client_id)), std::string::npos) << "a resend with another id";
            }
        return n;
    }

    test::TestKey key_;
    JwtSigner signer_;
    FakeClock clock_;
    ScriptedTransport transport_;
    MetricsRegistry registry_;
    BotMetrics metrics_;
    rest::RestClient client_;
    OrderTicketRing tickets_;
    OrderSettlementRing settlements_;
    OrderDesk desk_;
};

TEST_F(OrderDeskTest, an_answered_order_is_polled_until_filled_and_settles_with_what_moved) {
    hand_over(FirstAttempt::answered, 200, created());
    transport_.answer(200, order("OPEN", "0"));
    transport_.answer(200, order("FILLED", "0.0006", "24.85", "0.15"));
    const auto s = run();
    ASSERT_TRUE(s);
    EXPECT_EQ(std::string_view(s->client_order_id, sizeof s->client_order_id), client_id);
    EXPECT_EQ(s->outcome.error, OrderError::none);
    EXPECT_DOUBLE_EQ(s->outcome.fill.qty, 0.0006);
    EXPECT_DOUBLE_EQ(s->outcome.fill.qty * s->outcome.fill.price, 24.85) << "price = filled_value / filled_size";
    EXPECT_DOUBLE_EQ(s->outcome.fill.fee_usd, 0.15);
    EXPECT_EQ(s->outcome.fill.reason, OrderReason::entry);
    EXPECT_EQ(std::string_view(s->outcome.order_id.data(), s->outcome.order_id_chars), "o-1")
        << "the exchange's order_id goes back for the journal's order_ack";
    EXPECT_EQ(creates(), 0u) << "the exec thread's attempt was answered: nothing resent";
    // The acceptance went to the exec thread first (for the journal's order_ack), once, nothing filled.
    ASSERT_EQ(acks_.size(), 1u);
    EXPECT_EQ(std::string_view(acks_[0].client_order_id, sizeof acks_[0].client_order_id), client_id);
    EXPECT_EQ(std::string_view(acks_[0].outcome.order_id.data(), acks_[0].outcome.order_id_chars), "o-1");
    EXPECT_EQ(acks_[0].outcome.fill.qty, 0);
    EXPECT_EQ(acks_[0].outcome.error, OrderError::none);
    ASSERT_EQ(transport_.sent.size(), 2u);
    EXPECT_EQ(transport_.sent[0].target, "/api/v3/brokerage/orders/historical/o-1");
    EXPECT_EQ(desk_.settled(), 1u);
}

TEST_F(OrderDeskTest, an_unknown_first_outcome_is_resent_only_with_the_same_client_order_id) {
    for (const FirstAttempt first : {FirstAttempt::timeout, FirstAttempt::no_answer, FirstAttempt::bad_response}) {
        transport_.sent.clear();
        hand_over(first);
        transport_.answer(200, created());  // the exchange answers with the first order
        transport_.answer(200, order("FILLED", "0.0006", "24.85", "0.15"));
        acks_.clear();
        const auto s = run();
        ASSERT_TRUE(s);
        EXPECT_EQ(s->outcome.error, OrderError::none);
        EXPECT_EQ(creates(), 1u);
        ASSERT_EQ(acks_.size(), 1u) << "the resend's acceptance is told too";
        EXPECT_EQ(std::string_view(acks_[0].outcome.order_id.data(), acks_[0].outcome.order_id_chars), "o-1");
    }
    // A 5xx answer to the first attempt: the same.
    transport_.sent.clear();
    hand_over(FirstAttempt::answered, 503, R"(<html><title>503</title></html>)");
    transport_.answer(200, created());
    transport_.answer(200, order("FILLED", "0.0006", "24.85", "0.15"));
    const auto s = run();
    ASSERT_TRUE(s);
    EXPECT_DOUBLE_EQ(s->outcome.fill.qty, 0.0006);
    EXPECT_EQ(creates(), 1u);
    EXPECT_EQ(metrics_.order_errors(OrderError::unknown_outcome).value(), 0u) << "settled by the resend";
}

TEST_F(OrderDeskTest, rate_limited_is_survived) {
    hand_over(FirstAttempt::answered, 429, "<html><title>429 Too Many Requests</title></html>");
    transport_.answer(429, "<html>too many</html>", "text/html");
    transport_.answer(200, created());
    transport_.answer(200, order("FILLED", "0.0006", "24.85", "0.15"));
    const auto s = run();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->outcome.error, OrderError::none);
    EXPECT_EQ(creates(), 2u);
}

TEST_F(OrderDeskTest, insufficient_funds_settles_at_once_and_is_never_resent) {
    hand_over(FirstAttempt::answered, 200, insufficient);
    const auto s = run();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->outcome.error, OrderError::insufficient_funds);
    EXPECT_EQ(s->outcome.fill.qty, 0);
    EXPECT_EQ(s->outcome.order_id_chars, 0) << "refused: no order_id";
    EXPECT_TRUE(acks_.empty()) << "a refusal is no acceptance";
    EXPECT_TRUE(transport_.sent.empty());
}

TEST_F(OrderDeskTest, a_refusal_after_an_unknown_outcome_settles_nothing_until_the_exchange_answers_for_the_id) {
    hand_over(FirstAttempt::timeout);
    // The resend is refused: the first attempt may have spent the funds, so this proves nothing.
    transport_.answer(200, std::string(insufficient));
    EXPECT_FALSE(run(20)) << "no outcome while it may exist";
    EXPECT_EQ(metrics_.order_errors(OrderError::unknown_outcome).value(), 1u);
    EXPECT_FALSE(desk_.drained(0));
    // Ten seconds later the exchange answers with the order: it did exist, and it settles.
    transport_.answer(200, created());
    transport_.answer(200, order("FILLED", "0.0006", "24.85", "0.15"));
    const auto s = run(400);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->outcome.error, OrderError::none);
    EXPECT_EQ(creates(), 2u);
    EXPECT_EQ(metrics_.order_errors(OrderError::unknown_outcome).value(), 1u) << "counted once per order";
}

TEST_F(OrderDeskTest, ioc_partial_fill_and_nothing_filled) {
    hand_over(FirstAttempt::answered, 200, created());
    transport_.answer(200, order("CANCELLED", "0.0003", "12.42", "0.07"));
    auto s = run();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->outcome.error, OrderError::none);
    EXPECT_DOUBLE_EQ(s->outcome.fill.qty, 0.0003) << "the part that was filled";
    EXPECT_DOUBLE_EQ(s->outcome.fill.fee_usd, 0.07);

    hand_over(FirstAttempt::answered, 200, created());
    transport_.answer(200, order("EXPIRED", "0"));
    s = run();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->outcome.error, OrderError::not_filled);
    EXPECT_EQ(s->outcome.fill.qty, 0);
}

TEST_F(OrderDeskTest, a_connection_that_never_opened_is_sent_by_the_desk_and_refusals_map_to_reasons) {
    hand_over(FirstAttempt::not_sent);
    transport_.answer(401, "Unauthorized", "text/plain");
    auto s = run();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->outcome.error, OrderError::unauthorized);
    EXPECT_EQ(creates(), 1u);
    // Refused before it was ever sent: network (nothing was executed).
    transport_.sent.clear();
    hand_over(FirstAttempt::not_sent);
    for (int i = 0; i < 3; ++i) transport_.fail(TransportFailure::not_sent);
    s = run();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->outcome.error, OrderError::network);
}

TEST_F(OrderDeskTest, an_order_that_does_not_match_is_asked_again_never_applied) {
    hand_over(FirstAttempt::answered, 200, created());
    transport_.answer(200, order("FILLED", "0.0006", "24.85", "0.15", "SELL"));  // another side
    transport_.answer(200, order("FILLED", "0.0006", "24.85", "0.15"));
    const auto s = run();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->outcome.fill.side, Side::buy);
    EXPECT_EQ(transport_.sent.size(), 2u);
}

}  // namespace
}  // namespace cbtrade
