// pipeline/notifier: SLACK_WEBHOOK notifications (issue 12 item 8). Entries, exits, order errors
// and breaker trips come from the exec stage through a NoticeRing (pipeline/rings.hpp: the exec
// stage only pushes a small record; a full ring drops and counts); halts from the ops thread's halt
// flag. Posting runs on a low-priority thread of its own ("cbt-notify"), never on a hot thread and
// never on the ops thread (which refills the order-JWT pool), and never touches trading.
//
// Each post is bounded in time (connect 1 s, answer 2 s). At most one post a second: notices that
// arrive meanwhile are folded into the next post (at most max_notice_lines lines; more are
// dropped and counted). A failed post is counted (bot_notifications_failed_total), never retried;
// later posts wait 5 s, doubling to 60 s while posts keep failing, their notices folded in the
// meantime, so a dead webhook never builds a pile-up. Sent posts: bot_notifications_total; notices
// never sent (ring full, folded beyond the line limit): bot_notifications_dropped_total.
//
// The webhook URL is a secret: it appears in no log line, metric or error; messages name
// "SLACK_WEBHOOK".
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/bot_metrics.hpp"
#include "core/stage_runner.hpp"
#include "pipeline/rings.hpp"

namespace cbtrade {

inline constexpr std::size_t max_notice_lines = 20;

// One post of a JSON body; ok or why not (a phrase without the URL: "HTTP 500", "timeout", ...).
struct PostResult {
    bool ok = false;
    std::string why;
};
class NoticePoster {
public:
    virtual ~NoticePoster() = default;
    [[nodiscard]] virtual PostResult post(std::string_view json_body) = 0;
};

// The webhook over io/http_client (io_uring, TLS for https://; http:// to a loopback host only).
// Throws ConfigError naming SLACK_WEBHOOK (never its text) for a URL it cannot use, RunError when
// io_uring is unavailable.
[[nodiscard]] std::unique_ptr<NoticePoster> make_webhook_poster(const Config& c);
// The check make_webhook_poster makes of SLACK_WEBHOOK (ConfigError, the URL never shown), alone.
void check_webhook_url(const Config& c);

class Notifier final : public Stage {
public:
    // `halted`: the ops thread's halt flag (may be null). `product_id` heads every message.
    Notifier(NoticePoster& poster, NoticeRing& ring, const std::atomic<bool>* halted, std::string product_id,
             BotMetrics& metrics);

    // Cold, before the pipeline starts: the halt flag whose changes are announced.
    void watch_halt(const std::atomic<bool>* halted) noexcept {
        halted_ = halted;
        if (halted_ != nullptr) halt_seen_ = halted_->load(std::memory_order_relaxed);
    }

    std::string_view name() const noexcept override { return "notify"; }
    std::size_t poll(std::int64_t now_ns) noexcept override;
    void begin_stop(std::int64_t now_ns) noexcept override;
    bool drained(std::int64_t now_ns) const noexcept override;

    // The text of one notice (tests).
    [[nodiscard]] static std::string describe(const Notice& n);

private:
    void collect();
    void add_line(std::string line);
    void send(std::int64_t now_ns);

    NoticePoster& poster_;
    NoticeRing& ring_;
    const std::atomic<bool>* halted_;
    std::string product_id_;
    BotMetrics& metrics_;
    std::vector<std::string> lines_;  // waiting for the next post
    std::uint64_t folded_out_ = 0;    // notices beyond max_notice_lines since the last post
    std::uint64_t ring_full_seen_ = 0;
    bool halt_seen_ = false;
    bool stopping_ = false;
    std::int64_t next_post_ns_ = 0;
    std::int64_t backoff_ns_ = 0;
    std::uint64_t failures_in_row_ = 0;
};

}  // namespace cbtrade
