// SLACK_WEBHOOK notifications. See notifier.hpp.
#include "pipeline/notifier.hpp"

#include <cstdio>
#include <exception>
#include <utility>

#include "core/error.hpp"
#include "core/json_writer.hpp"
#include "core/text.hpp"
#include "io/http_client.hpp"
#include "io/tls_info.hpp"
#include "io/uring_loop.hpp"
#include "io/url.hpp"

namespace cbtrade {

namespace {

constexpr std::int64_t s_ns = 1'000'000'000;
constexpr std::int64_t min_interval_ns = s_ns;
constexpr std::int64_t first_backoff_ns = 5 * s_ns;
constexpr std::int64_t max_backoff_ns = 60 * s_ns;

class WebhookPoster final : public NoticePoster {
public:
    WebhookPoster(const Config& c, io::Url url) {
        if (const int rc = loop_.init(16); rc < 0) throw RunError(io::uring_unavailable_message(rc));
        target_ = url.target;
        io::HttpClientOptions o;
        o.ca_file = c.tls_ca_file;
        o.ciphers = resolve_cipher_list(c.tls_ciphers, tls_info());
        o.connect_timeout_ms = 1000;
        o.request_timeout_ms = 2000;
        o.limits.body_bytes = 64 * 1024;
        http_ = std::make_unique<io::HttpClient>(loop_, std::move(url), std::move(o));
        std::string error;
        if (http_->init(error) < 0) {
            // The error names the host (not secret, as in Slack's hooks.slack.com); the path is.
            for (std::size_t at = error.find(target_); !target_.empty() && at != std::string::npos;
                 at = error.find(target_))
                error.replace(at, target_.size(), "<path>");
            throw RunError("SLACK_WEBHOOK: " + error);
        }
    }
    PostResult post(std::string_view body) override {
        static constexpr io::HttpHeaderView headers[] = {{"Content-Type", "application/json"}};
        io::HttpClientRequest r;
        r.method = "POST";
        r.target = target_;
        r.headers = headers;
        r.body = body;
        const io::HttpResult res = http_->request(r);
        if (res.ok()) return {true, {}};
        // Never res.error: it names the host and may quote the answer; the path is the secret.
        switch (res.failure) {
            case io::HttpFailure::none:
                return {false, res.response ? "HTTP " + std::to_string(res.response->status) : "no answer"};
            case io::HttpFailure::not_sent:
                return {false, "could not connect"};
            case io::HttpFailure::no_answer:
                return {false, "connection closed before an answer"};
            case io::HttpFailure::timeout:
                return {false, "no answer in time"};
            case io::HttpFailure::bad_response:
                return {false, "unreadable answer"};
        }
        return {false, "failed"};
    }

private:
    io::UringLoop loop_;
    std::string target_;
    std::unique_ptr<io::HttpClient> http_;
};

std::string amount(const char* format, double v) {
    char buf[48];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}

}  // namespace

namespace {

io::Url webhook_url(const Config& c) {
    io::UrlResult u = io::parse_url(c.slack_webhook);
    if (!u || u.url->websocket())
        throw ConfigError(
            "SLACK_WEBHOOK: not a usable URL (https://, or http:// to a loopback host); its text is not shown (a "
            "secret)");
    return std::move(*u.url);
}

}  // namespace

void check_webhook_url(const Config& c) {
    (void)webhook_url(c);
}

std::unique_ptr<NoticePoster> make_webhook_poster(const Config& c) {
    return std::make_unique<WebhookPoster>(c, webhook_url(c));
}

Notifier::Notifier(NoticePoster& poster, NoticeRing& ring, const std::atomic<bool>* halted, std::string product_id,
                   BotMetrics& metrics)
    : poster_(poster), ring_(ring), halted_(halted), product_id_(std::move(product_id)), metrics_(metrics) {
    if (halted_ != nullptr) halt_seen_ = halted_->load(std::memory_order_relaxed);
}

std::string Notifier::describe(const Notice& n) {
    const Fill& f = n.fill;
    const std::string equity = " (equity " + amount("%.2f", n.equity_usd) + ")";
    switch (n.kind) {
        case NoticeKind::fill:
            if (f.reason == OrderReason::entry)
                return "ENTRY " + std::string(side_name(f.side)) + " " + amount("%.8g", f.qty) + " at " +
                       amount("%.2f", f.price) + ", fee " + amount("%.4f", f.fee_usd) + equity;
            return "EXIT (" + std::string(reason_name(f.reason)) + ") " + std::string(side_name(f.side)) + " " +
                   amount("%.8g", f.qty) + " at " + amount("%.2f", f.price) + ", fee " + amount("%.4f", f.fee_usd) +
                   equity;
        case NoticeKind::order_error:
            return "ORDER ERROR " + std::string(order_error_label(n.order_error)) + ": " +
                   std::string(side_name(f.side)) + " " + std::string(reason_name(f.reason)) + " " +
                   amount("%.8g", f.qty) + " not filled" + equity;
        case NoticeKind::breaker:
            return "CIRCUIT BREAKER tripped at " + amount("%.2f", f.price) +
                   ": daily loss limit reached, no entries until the next UTC day" + equity;
    }
    return "notice";
}

void Notifier::add_line(std::string line) {
    if (lines_.size() < max_notice_lines) lines_.push_back(std::move(line));
    else ++folded_out_;
}

void Notifier::collect() {
    Notice n;
    for (int i = 0; i < 256 && ring_.try_pop(n); ++i) add_line(describe(n));
    if (const std::uint64_t full = ring_.full_count(); full != ring_full_seen_) {
        metrics_.notifications_dropped.inc(full - ring_full_seen_);
        ring_full_seen_ = full;
    }
    if (halted_ != nullptr) {
        const bool h = halted_->load(std::memory_order_relaxed);
        if (h != halt_seen_) {
            halt_seen_ = h;
            add_line(h ? "HALT ON: no new entries; exits still allowed" : "HALT OFF: entries allowed again");
        }
    }
}

std::size_t Notifier::poll(std::int64_t now_ns) noexcept {
    try {
        collect();
        if (lines_.empty() || (now_ns < next_post_ns_ && !stopping_)) return 0;
        send(now_ns);
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cbtrade live: notifications: %s (continuing)\n", e.what());
        lines_.clear();
        return 0;
    }
}

void Notifier::send(std::int64_t now_ns) {
    std::string text = "cbtrade " + product_id_ + ":";
    for (const std::string& l : lines_) text += "\n" + l;
    if (folded_out_ > 0) text += "\n(" + std::to_string(folded_out_) + " more not shown)";
    std::string body;
    JsonWriter(body).begin_object().member("text", text).end_object();
    const std::size_t notices = lines_.size();
    metrics_.notifications_dropped.inc(folded_out_);
    lines_.clear();
    folded_out_ = 0;
    const PostResult r = poster_.post(body);
    if (r.ok) {
        metrics_.notifications.inc();
        if (failures_in_row_ > 0)
            std::fprintf(stderr, "cbtrade live: SLACK_WEBHOOK: posting again after %llu failed posts\n",
                         static_cast<unsigned long long>(failures_in_row_));
        failures_in_row_ = 0;
        backoff_ns_ = 0;
        next_post_ns_ = now_ns + min_interval_ns;
        return;
    }
    // Not retried: the notices of a failed post are gone; later ones wait and are folded together.
    metrics_.notifications_failed.inc();
    ++failures_in_row_;
    backoff_ns_ = backoff_ns_ == 0 ? first_backoff_ns : std::min(2 * backoff_ns_, max_backoff_ns);
    next_post_ns_ = now_ns + backoff_ns_;
    if (failures_in_row_ == 1 || backoff_ns_ == max_backoff_ns)
        std::fprintf(stderr,
                     "cbtrade live: SLACK_WEBHOOK: post failed (%s); %zu notices not sent, not retried; next post "
                     "in %lld s at the earliest (trading is not affected)\n",
                     r.why.c_str(), notices, static_cast<long long>(backoff_ns_ / s_ns));
}

void Notifier::begin_stop(std::int64_t) noexcept {
    stopping_ = true;
}

bool Notifier::drained(std::int64_t) const noexcept {
    return upstream_finished() && ring_.empty() && lines_.empty();
}

}  // namespace cbtrade
