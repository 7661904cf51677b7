// cbtrade backfill. See backfill.hpp.
#include "tools/backfill.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "core/error.hpp"
#include "core/file_read.hpp"
#include "core/rfc3339.hpp"
#include "core/text.hpp"
#include "feeds/csv_candles.hpp"

namespace cbtrade {

namespace {

std::int64_t floor_to(std::int64_t t, std::int64_t step) {
    return t >= 0 ? t / step * step : -((-t + step - 1) / step) * step;
}
std::int64_t ceil_to(std::int64_t t, std::int64_t step) {
    return -floor_to(-t, step);
}

std::string when(std::int64_t t) {
    return format_rfc3339_us(t * 1'000'000).substr(0, 19) + "Z";
}

class OutputFile {
public:
    OutputFile(const std::string& path, bool write_header) : path_(path) {
        fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd_ < 0) throw RunError(escape_path() + ": cannot open for writing: " + std::strerror(errno));
        if (write_header) append(candles_csv_header());
    }
    ~OutputFile() {
        if (fd_ >= 0) ::close(fd_);
    }
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;

    // Whole rows only, then on disk: an interruption leaves complete pages.
    void append(const std::string& text) {
        std::size_t done = 0;
        while (done < text.size()) {
            const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) throw RunError(escape_path() + ": write failed: " + std::strerror(errno));
            done += static_cast<std::size_t>(n);
        }
        if (::fdatasync(fd_) != 0) throw RunError(escape_path() + ": fdatasync failed: " + std::strerror(errno));
    }

private:
    [[nodiscard]] std::string escape_path() const { return quote_for_message(path_, 256); }
    std::string path_;
    int fd_ = -1;
};

struct ExistingFile {
    bool exists_with_header = false;
    std::optional<std::int64_t> last_s;
    bool truncated_partial_line = false;
};

// Reads what an earlier run wrote: its last candle, after cutting a half-written last line.
ExistingFile inspect_existing(const std::string& path, std::int64_t step) {
    ExistingFile out;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || st.st_size == 0) return out;
    const std::string shown = quote_for_message(path, 256);
    FileContents f = read_whole_file(path, max_csv_file_bytes, "backfill output file");
    if (!f.ok()) throw DataError(f.error);
    std::string& text = f.contents;
    if (text.back() != '\n') {
        const auto last_newline = text.rfind('\n');
        const std::size_t keep = last_newline == std::string::npos ? 0 : last_newline + 1;
        if (::truncate(path.c_str(), static_cast<off_t>(keep)) != 0)
            throw RunError(shown + ": cannot cut the half-written last line: " + std::strerror(errno));
        text.resize(keep);
        out.truncated_partial_line = true;
        if (text.empty()) return out;
    }
    const std::string header = candles_csv_header();
    if (text == header) {
        out.exists_with_header = true;
        return out;
    }
    const CsvCandles csv = parse_candles_csv(text, path);
    out.exists_with_header = true;
    out.last_s = csv.candles.back().time_s;
    if (*out.last_s % step != 0 || (csv.candles.size() >= 2 && csv.step_s != step))
        throw UsageError(shown + " holds candles " + std::to_string(csv.step_s) +
                         " s apart, not the requested granularity's " + std::to_string(step) +
                         " s: use another --out or --granularity");
    return out;
}

}  // namespace

BackfillReport run_backfill(rest::RestClient& client, const BackfillOptions& o, std::int64_t now_s,
                            const std::function<void(const BackfillPage&)>& on_page) {
    const std::int64_t step = granularity_seconds(o.granularity);
    if (o.limit < 1 || o.limit > rest::max_candles_per_request)
        throw UsageError("--limit must be from 1 to " + std::to_string(rest::max_candles_per_request) +
                         " (candles per request)");
    if (o.pages && *o.pages == 0) throw UsageError("--pages must be at least 1");
    if (o.out_path.empty()) throw UsageError("backfill needs --out FILE");
    if (!rest::valid_product_id(o.product_id))
        throw UsageError("--product " + quote_for_message(o.product_id) + " is not a product id such as BTC-USD");
    if (o.start_s && o.end_s && *o.end_s <= *o.start_s) throw UsageError("--end must be after --start");

    BackfillReport report;
    // The bucket in progress is not a candle yet: stop before it.
    const std::int64_t now_bucket = floor_to(now_s, step);
    const std::int64_t end = std::min(o.end_s ? ceil_to(*o.end_s, step) : now_bucket, now_bucket);
    const std::int64_t page_span = static_cast<std::int64_t>(o.limit) * step;

    const ExistingFile existing = inspect_existing(o.out_path, step);
    report.truncated_partial_line = existing.truncated_partial_line;
    std::int64_t start = 0;
    if (existing.last_s) {
        start = *existing.last_s + step;
        report.resumed_after_s = existing.last_s;
        if (o.start_s && ceil_to(*o.start_s, step) > start)
            throw UsageError(quote_for_message(o.out_path, 256) + " ends with the candle of " + when(*existing.last_s) +
                             "; --start " + when(*o.start_s) +
                             " would leave a gap: use an earlier --start or another --out");
    } else if (o.start_s) {
        start = ceil_to(*o.start_s, step);
    } else {
        start = end - static_cast<std::int64_t>(o.pages.value_or(default_backfill_pages)) * page_span;
    }
    report.range_start_s = start;
    report.range_end_s = end;

    const std::size_t wanted_pages =
        end > start ? static_cast<std::size_t>((end - start + page_span - 1) / page_span) : 0;
    const std::size_t planned = std::min(wanted_pages, o.pages.value_or(std::numeric_limits<std::size_t>::max()));
    OutputFile file(o.out_path, !existing.exists_with_header);

    std::string rows;
    std::int64_t last_written = existing.last_s.value_or(std::numeric_limits<std::int64_t>::min());
    for (std::size_t p = 0; p < planned; ++p) {
        const std::int64_t page_start = start + static_cast<std::int64_t>(p) * page_span;
        const std::int64_t page_end = std::min(rest::candle_page_end(page_start, step, o.limit), end - 1);
        rest::RestResult<std::vector<Candle>> r =
            client.candles(o.product_id, o.granularity, page_start, page_end, o.limit);
        if (!r.ok())
            throw RunError("backfill page " + std::to_string(p + 1) + "/" + std::to_string(planned) + " (" +
                           when(page_start) + " to " + when(page_end) + "): " + r.error.message + "; " +
                           std::to_string(report.candles) + " candles written so far: run again to resume");
        rows.clear();
        for (const Candle& c : *r.value) {
            // The decoder keeps each page inside its range and in order; across pages too, then.
            if (c.time_s <= last_written)
                throw DataError("backfill page " + std::to_string(p + 1) + ": candle " + when(c.time_s) +
                                " is not after the last one written");
            last_written = c.time_s;
            append_candle_csv_exact(rows, c);
        }
        if (!rows.empty()) file.append(rows);
        if (!r.value->empty()) {
            if (report.candles == 0) report.first_s = r.value->front().time_s;
            report.last_s = r.value->back().time_s;
        }
        report.candles += r.value->size();
        report.pages = p + 1;
        if (on_page) on_page(BackfillPage{p, planned, page_start, page_end, r.value->size(), report.candles});
    }
    report.next_start_s = std::min(end, start + static_cast<std::int64_t>(planned) * page_span);
    report.complete = report.next_start_s >= end;
    return report;
}

}  // namespace cbtrade
