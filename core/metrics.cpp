#include "core/metrics.hpp"

#include <bit>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace cbtrade {

namespace {

// Bit i set = exclusive slot i is free. writer: claim_slot (CAS) and thread exit (fetch_or); reader:
// claim_slot. Acquire on claim / release on give-back: a slot's next owner continues from the plain
// stores its previous owner made to the cells, so it must see them.
std::atomic<std::uint32_t> free_slots{(1u << shared_metric_slot) - 1};

// Gives the thread's slot back when the thread exits.
struct SlotReleaser {
    int slot = -1;
    ~SlotReleaser() {
        if (slot < 0) return;
        // An update from a later thread_local destructor must not write a slot that is no longer ours.
        metrics_detail::tls_slot = static_cast<int>(shared_metric_slot);
        if (slot != static_cast<int>(shared_metric_slot)) free_slots.fetch_or(1u << slot, std::memory_order_release);
    }
};
thread_local SlotReleaser releaser;

bool valid_metric_name(std::string_view n) {
    if (n.empty()) return false;
    for (std::size_t i = 0; i < n.size(); ++i) {
        const char c = n[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

bool valid_label_name(std::string_view n) {
    if (n.empty() || n.starts_with("__")) return false;
    for (std::size_t i = 0; i < n.size(); ++i) {
        const char c = n[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

const char* type_name(int t) {
    return t == 0 ? "counter" : t == 1 ? "gauge" : "histogram";
}

void append_uint(std::string& out, std::uint64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

// name{labels} or name{labels,extra} or name
void append_series(std::string& out, std::string_view name, std::string_view suffix, std::string_view labels,
                   std::string_view extra = {}) {
    out.append(name).append(suffix);
    if (!labels.empty() || !extra.empty()) {
        out.push_back('{');
        out.append(labels);
        if (!labels.empty() && !extra.empty()) out.push_back(',');
        out.append(extra);
        out.push_back('}');
    }
    out.push_back(' ');
}

}  // namespace

int metrics_detail::claim_slot() noexcept {
    std::uint32_t cur = free_slots.load(std::memory_order_acquire);
    int slot = static_cast<int>(shared_metric_slot);
    while (cur != 0) {
        const int bit = std::countr_zero(cur);
        if (free_slots.compare_exchange_weak(cur, cur & ~(1u << bit), std::memory_order_acquire,
                                             std::memory_order_acquire)) {
            slot = bit;
            break;
        }
    }
    tls_slot = slot;
    releaser.slot = slot;
    return slot;
}

void append_escaped_label_value(std::string& out, std::string_view v) {
    for (const char c : v) {
        if (c == '\\') out.append("\\\\");
        else if (c == '"') out.append("\\\"");
        else if (c == '\n') out.append("\\n");
        else out.push_back(c);
    }
}

void append_escaped_help(std::string& out, std::string_view v) {
    for (const char c : v) {
        if (c == '\\') out.append("\\\\");
        else if (c == '\n') out.append("\\n");
        else out.push_back(c);
    }
}

void append_sample_value(std::string& out, double v) {
    if (std::isnan(v)) {
        out.append("NaN");
    } else if (std::isinf(v)) {
        out.append(v > 0 ? "+Inf" : "-Inf");
    } else {
        char buf[32];
        const auto r = std::to_chars(buf, buf + sizeof buf, v);
        out.append(buf, r.ptr);
    }
}

void* MetricsRegistry::find_or_add(std::string_view name, const MetricLabels& labels, std::string_view help,
                                   Type type) {
    if (!valid_metric_name(name)) throw std::invalid_argument("metric name '" + std::string(name) + "' is not valid");
    std::string text;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const auto& [k, v] = labels[i];
        if (!valid_label_name(k))
            throw std::invalid_argument(std::string(name) + ": label name '" + k + "' is not valid");
        if (type == Type::histogram && k == "le")
            throw std::invalid_argument(std::string(name) + ": a histogram cannot have a label 'le'");
        for (std::size_t j = 0; j < i; ++j)
            if (labels[j].first == k)
                throw std::invalid_argument(std::string(name) + ": label '" + k + "' given twice");
        if (i) text.push_back(',');
        text.append(k).append("=\"");
        append_escaped_label_value(text, v);
        text.push_back('"');
    }

    const std::lock_guard lock(mutex_);
    Family* fam = nullptr;
    for (Family& f : families_)
        if (f.name == name) fam = &f;
    if (fam && fam->type != type)
        throw std::invalid_argument("metric '" + std::string(name) + "' already registered as a " +
                                    type_name(static_cast<int>(fam->type)));
    if (!fam) {
        // A histogram's _bucket/_sum/_count must not collide with another family, nor the reverse.
        for (const Family& f : families_) {
            const bool clash = (type == Type::histogram &&
                                (f.name == std::string(name) + "_bucket" || f.name == std::string(name) + "_sum" ||
                                 f.name == std::string(name) + "_count")) ||
                               (f.type == Type::histogram &&
                                (name == f.name + "_bucket" || name == f.name + "_sum" || name == f.name + "_count"));
            if (clash) throw std::invalid_argument("metric '" + std::string(name) + "' clashes with '" + f.name + "'");
        }
        fam = &families_.emplace_back(Family{std::string(name), std::string(help), type, {}});
    }
    for (const Series& s : fam->series)
        if (s.labels == text) return s.handle;
    void* handle = nullptr;
    switch (type) {
        case Type::counter:
            handle = &counters_.emplace_back();
            break;
        case Type::gauge:
            handle = &gauges_.emplace_back();
            break;
        case Type::histogram:
            handle = &histograms_.emplace_back();
            break;
    }
    fam->series.push_back(Series{std::move(text), handle});
    return handle;
}

Counter& MetricsRegistry::counter(std::string_view name, const MetricLabels& labels, std::string_view help) {
    return *static_cast<Counter*>(find_or_add(name, labels, help, Type::counter));
}

Gauge& MetricsRegistry::gauge(std::string_view name, const MetricLabels& labels, std::string_view help) {
    return *static_cast<Gauge*>(find_or_add(name, labels, help, Type::gauge));
}

Histogram& MetricsRegistry::histogram(std::string_view name, const MetricLabels& labels, std::string_view help) {
    return *static_cast<Histogram*>(find_or_add(name, labels, help, Type::histogram));
}

void MetricsRegistry::render_prometheus(std::string& out) const {
    // The `le` label texts, rendered once.
    static const std::array<std::string, latency_buckets> le = [] {
        std::array<std::string, latency_buckets> a;
        for (std::size_t i = 0; i < latency_bounds_s.size(); ++i) {
            a[i] = "le=\"";
            append_sample_value(a[i], latency_bounds_s[i]);
            a[i].push_back('"');
        }
        a[latency_buckets - 1] = "le=\"+Inf\"";
        return a;
    }();

    const std::lock_guard lock(mutex_);
    for (const Family& f : families_) {
        out.append("# HELP ").append(f.name).push_back(' ');
        append_escaped_help(out, f.help);
        out.append("\n# TYPE ").append(f.name).push_back(' ');
        out.append(type_name(static_cast<int>(f.type))).push_back('\n');
        for (const Series& s : f.series) {
            switch (f.type) {
                case Type::counter:
                    append_series(out, f.name, "", s.labels);
                    append_uint(out, static_cast<const Counter*>(s.handle)->value());
                    out.push_back('\n');
                    break;
                case Type::gauge:
                    append_series(out, f.name, "", s.labels);
                    append_sample_value(out, static_cast<const Gauge*>(s.handle)->value());
                    out.push_back('\n');
                    break;
                case Type::histogram: {
                    const Histogram::Snapshot snap = static_cast<const Histogram*>(s.handle)->snapshot();
                    std::uint64_t cumulative = 0;
                    for (std::size_t i = 0; i < latency_buckets; ++i) {
                        cumulative += snap.buckets[i];
                        append_series(out, f.name, "_bucket", s.labels, le[i]);
                        append_uint(out, cumulative);
                        out.push_back('\n');
                    }
                    append_series(out, f.name, "_sum", s.labels);
                    append_sample_value(out, static_cast<double>(snap.sum_ns) / 1e9);
                    out.push_back('\n');
                    append_series(out, f.name, "_count", s.labels);
                    append_uint(out, cumulative);
                    out.push_back('\n');
                    break;
                }
            }
        }
    }
}

}  // namespace cbtrade
