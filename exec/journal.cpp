// The order journal. See journal.hpp for the format and the rules.
#include "exec/journal.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/crc.hpp>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstring>
#include <map>

#include "core/error.hpp"
#include "core/file_read.hpp"
#include "core/text.hpp"
#include "io/append_file.hpp"

namespace cbtrade::journal {

static_assert(std::endian::native == std::endian::little, "the journal is written little-endian as it is in memory");
static_assert(sizeof(SegmentStart) == 56);
static_assert(sizeof(BooksRecord) == 88);
static_assert(sizeof(OrderIntent) == 120);
static_assert(sizeof(OrderAck) == 104);
static_assert(sizeof(OrderFill) == 80);
static_assert(sizeof(OrderEndRecord) == 40);
static_assert(sizeof(HaltRecord) == 16);
static_assert(sizeof(OperatorAck) == 8);
static_assert(sizeof(AccountRecord) == 40);

namespace {

constexpr std::string_view segment_prefix = "journal-";
constexpr std::string_view segment_suffix = ".cbj";
constexpr std::size_t segment_digits = 8;

std::uint32_t load_u32(const std::byte* p) noexcept {
    std::uint32_t v = 0;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// The payload size each type must have (0: unknown type).
std::size_t payload_size(RecordType t) noexcept {
    switch (t) {
        case RecordType::segment_start:
            return sizeof(SegmentStart);
        case RecordType::books:
            return sizeof(BooksRecord);
        case RecordType::order_intent:
            return sizeof(OrderIntent);
        case RecordType::order_ack:
            return sizeof(OrderAck);
        case RecordType::order_fill:
            return sizeof(OrderFill);
        case RecordType::order_end:
            return sizeof(OrderEndRecord);
        case RecordType::halt:
            return sizeof(HaltRecord);
        case RecordType::operator_ack:
            return sizeof(OperatorAck);
        case RecordType::account:
            return sizeof(AccountRecord);
    }
    return 0;
}

// What is wrong with the record at `at`, if anything. One check for both uses: scan() asks it at
// every offset after a bad record (the torn-end search, so it builds no text), and flaw_message()
// words the first one found.
enum class Flaw : std::uint8_t {
    none,
    header_cut,
    reserved,
    format,
    unknown_type,
    wrong_length,
    payload_cut,
    checksum
};

Flaw record_flaw(std::span<const std::byte> bytes, std::size_t at) noexcept {
    const std::size_t left = bytes.size() - at;
    if (left < header_bytes) return Flaw::header_cut;
    const std::byte* h = bytes.data() + at;
    const std::uint32_t len = load_u32(h);
    const auto type = static_cast<RecordType>(h[8]);
    if (h[10] != std::byte{0} || h[11] != std::byte{0}) return Flaw::reserved;
    if (h[9] != static_cast<std::byte>(format_version)) return Flaw::format;
    const std::size_t want = payload_size(type);
    if (want == 0) return Flaw::unknown_type;
    if (len != want) return Flaw::wrong_length;
    if (left - header_bytes < len) return Flaw::payload_cut;
    // The checksum covers the type byte and the payload (the format and reserved bytes are checked
    // above).
    std::uint32_t sum = crc32c(bytes.subspan(at + 8, 1));
    sum = crc32c(bytes.subspan(at + header_bytes, len), sum);
    return sum == load_u32(h + 4) ? Flaw::none : Flaw::checksum;
}

std::string flaw_message(Flaw flaw, std::span<const std::byte> bytes, std::size_t at) {
    const std::size_t left = bytes.size() - at;
    if (flaw == Flaw::header_cut) return "a record header cut short (" + std::to_string(left) + " of 12 bytes)";
    const std::byte* h = bytes.data() + at;
    const std::uint32_t len = load_u32(h);
    const auto type = static_cast<RecordType>(h[8]);
    const std::string name(record_type_name(type));
    switch (flaw) {
        case Flaw::none:
        case Flaw::header_cut:
            break;
        case Flaw::reserved:
            return "a record header with non-zero reserved bytes";
        case Flaw::format:
            return "a record of format " + std::to_string(static_cast<unsigned>(h[9])) + " (this build reads format " +
                   std::to_string(format_version) + ")";
        case Flaw::unknown_type:
            return "a record of unknown type " + std::to_string(static_cast<unsigned>(type));
        case Flaw::wrong_length:
            return "a " + name + " record of " + std::to_string(len) + " bytes (expected " +
                   std::to_string(payload_size(type)) + ")";
        case Flaw::payload_cut:
            return "a " + name + " record cut short (" + std::to_string(left - header_bytes) + " of " +
                   std::to_string(len) + " bytes)";
        case Flaw::checksum:
            return "a " + name + " record whose checksum does not match";
    }
    return {};
}

std::size_t record_bytes(std::span<const std::byte> bytes, std::size_t at) noexcept {
    return header_bytes + load_u32(bytes.data() + at);
}

// A record that passed its checksum can still hold values no writer produces (a bug, a file
// written by hand): those stop start-up like corruption instead of becoming a position.
bool finite_within(double v, double limit) noexcept {
    return std::isfinite(v) && std::fabs(v) <= limit;
}

std::string impossible_value(const BooksRecord& b) {
    const TraderBooks& k = b.books;
    if (!finite_within(k.cash_usd, 1e12)) return "cash";
    if (!finite_within(k.position_qty, max_sane_size)) return "position";
    for (const double price : {k.entry_price, k.stop_level, k.take_level})
        if (!finite_within(price, max_sane_price) || price < 0) return "a price";
    if (!finite_within(k.entry_fee_usd, 1e12) || !finite_within(k.fees_usd, 1e12)) return "fees";
    if (!finite_within(k.day_start_equity_usd, 1e12)) return "day-start equity";
    if (k.breaker_tripped > 1) return "breaker";
    return {};
}

std::string impossible_value(const OrderIntent& i) {
    if (i.side != Side::buy && i.side != Side::sell) return "side";
    if (static_cast<unsigned>(i.reason) > static_cast<unsigned>(OrderReason::take_profit)) return "reason";
    if (!sane_size(i.qty)) return "quantity";
    if (!sane_price(i.ref_price)) return "price";
    if (i.size_chars > i.size.size()) return "size text";
    return {};
}

std::string impossible_value(const OrderFill& f) {
    if (f.fill.side != Side::buy && f.fill.side != Side::sell) return "side";
    if (static_cast<unsigned>(f.fill.reason) > static_cast<unsigned>(OrderReason::take_profit)) return "reason";
    if (!sane_size(f.fill.qty)) return "quantity";
    if (!sane_price(f.fill.price)) return "price";
    if (!finite_within(f.fill.fee_usd, 1e12)) return "fee";
    return {};
}

std::string impossible_value(const AccountRecord& a) {
    if (!finite_within(a.base_total, 1e15) || a.base_total < 0) return "base balance";
    if (!finite_within(a.quote_total, 1e15) || a.quote_total < 0) return "quote balance";
    if (!finite_within(a.position_qty, max_sane_size)) return "position";
    if (!finite_within(a.cash_usd, 1e12)) return "cash";
    return {};
}

template <class Payload>
Payload payload_as(const RecordView& r) noexcept {
    Payload p;
    std::memcpy(&p, r.payload.data(), sizeof p);
    return p;
}

std::string_view id_of(const std::array<char, client_order_id_chars>& id) noexcept {
    return {id.data(), id.size()};
}

std::string product_of(const SegmentStart& s) {
    const auto end = std::find(s.product_id.begin(), s.product_id.end(), '\0');
    return {s.product_id.begin(), end};
}

// Segment numbers of the journal files in `dir`, ascending. Other files are left alone.
std::vector<std::uint64_t> list_segments(const std::string& dir) {
    std::vector<std::uint64_t> out;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
        if (errno == ENOENT) return out;
        throw RunError("journal directory " + dir + ": " + std::strerror(errno));
    }
    while (const dirent* e = ::readdir(d)) {
        const std::string_view name(e->d_name);
        if (name.size() != segment_prefix.size() + segment_digits + segment_suffix.size() ||
            !name.starts_with(segment_prefix) || !name.ends_with(segment_suffix))
            continue;
        std::uint64_t n = 0;
        bool digits = true;
        for (const char c : name.substr(segment_prefix.size(), segment_digits)) {
            if (c < '0' || c > '9') digits = false;
            n = n * 10 + static_cast<std::uint64_t>(c - '0');
        }
        if (digits && n > 0) out.push_back(n);
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

Recovered recover_segment(std::span<const std::byte> bytes, const std::string& path, std::uint64_t segment,
                          std::string_view product_id, const TraderParams& params) {
    Recovered r;
    r.found = true;
    r.segment = segment;
    r.path = path;
    r.file_bytes = bytes.size();

    std::map<std::string, OpenOrder, std::less<>> open;
    std::vector<Fill> fills_after_books;
    bool started = false;
    std::string problem;
    const ScanResult scanned = scan(bytes, [&](const RecordView& rec) {
        if (!problem.empty()) return;
        if (!started) {
            if (rec.type != RecordType::segment_start) {
                problem = "it does not begin with a segment_start record";
                return;
            }
            const auto s = payload_as<SegmentStart>(rec);
            if (s.magic != SegmentStart{}.magic) {
                problem = "its segment_start record has the wrong magic";
                return;
            }
            if (s.segment != segment) {
                problem = "its segment_start says segment " + std::to_string(s.segment);
                return;
            }
            if (product_of(s) != product_id) {
                problem = "it is the journal of " + quote_for_message(product_of(s), 40) + ", not of " +
                          quote_for_message(product_id, 40) +
                          " (PRODUCT_ID changed: use another JOURNAL_DIR for another product)";
                return;
            }
            started = true;
            return;
        }
        switch (rec.type) {
            case RecordType::segment_start:
                problem = "a second segment_start record at byte " + std::to_string(rec.offset);
                return;
            case RecordType::books: {
                const auto b = payload_as<BooksRecord>(rec);
                if (const std::string bad = impossible_value(b); !bad.empty()) {
                    problem = "the books record at byte " + std::to_string(rec.offset) + " holds an impossible " + bad;
                    return;
                }
                r.books = b.books;
                r.books_time_s = b.time_s;
                fills_after_books.clear();
                return;
            }
            case RecordType::order_intent: {
                const auto i = payload_as<OrderIntent>(rec);
                if (const std::string bad = impossible_value(i); !bad.empty()) {
                    problem =
                        "the order_intent record at byte " + std::to_string(rec.offset) + " holds an impossible " + bad;
                    return;
                }
                ++r.orders_seen;
                open[std::string(id_of(i.client_order_id))] = OpenOrder{i, std::nullopt, 0};
                return;
            }
            case RecordType::order_ack: {
                const auto a = payload_as<OrderAck>(rec);
                if (auto it = open.find(id_of(a.client_order_id)); it != open.end()) it->second.ack = a;
                return;
            }
            case RecordType::order_fill: {
                const auto f = payload_as<OrderFill>(rec);
                if (const std::string bad = impossible_value(f); !bad.empty()) {
                    problem =
                        "the order_fill record at byte " + std::to_string(rec.offset) + " holds an impossible " + bad;
                    return;
                }
                if (auto it = open.find(id_of(f.client_order_id)); it != open.end())
                    it->second.filled_qty += f.fill.qty;
                fills_after_books.push_back(f.fill);
                return;
            }
            case RecordType::order_end: {
                const auto e = payload_as<OrderEndRecord>(rec);
                open.erase(std::string(id_of(e.client_order_id)));
                return;
            }
            case RecordType::halt:
                r.halted = payload_as<HaltRecord>(rec).halted != 0;
                return;
            case RecordType::operator_ack:
                ++r.operator_acks;
                return;
            case RecordType::account: {
                const auto a = payload_as<AccountRecord>(rec);
                if (const std::string bad = impossible_value(a); !bad.empty()) {
                    problem =
                        "the account record at byte " + std::to_string(rec.offset) + " holds an impossible " + bad;
                    return;
                }
                r.account = a;
                return;
            }
        }
    });
    r.records = scanned.records;
    r.good_bytes = scanned.good_bytes;
    const std::string where = "journal " + r.path;
    if (!problem.empty()) throw DataError(where + ": " + problem);
    if (!scanned.error.empty()) {
        if (!scanned.torn)
            throw DataError(where + " is corrupt at byte " + std::to_string(scanned.good_bytes) + ": " + scanned.error +
                            ", and good records follow it, so this is not a write cut short by a crash. Refusing "
                            "to guess the position: move the file aside to start from an empty journal (the "
                            "daemon then reconciles with the exchange) or restore it from a backup");
        r.warnings.push_back(where + ": the end was cut short by a crash (" + scanned.error + " at byte " +
                             std::to_string(scanned.good_bytes) + " of " + std::to_string(r.file_bytes) +
                             "); continuing from the last good record");
    }
    if (!started) throw DataError(where + ": no segment_start record");
    if (!fills_after_books.empty() && r.books) {
        // A write torn between a fill and the books after it: apply the fill the same way the exec
        // stage did (the trader's arithmetic, one copy).
        Trader t(params, 0);
        t.restore(*r.books);
        for (const Fill& f : fills_after_books) t.on_fill(f);
        r.books = t.books();
        r.warnings.push_back(where + ": " + std::to_string(fills_after_books.size()) +
                             " fill(s) after the last books record applied to the books");
    }
    for (auto& [id, order] : open) r.open_orders.push_back(order);
    return r;
}

namespace {

Recovered read_segment(const std::string& dir, std::uint64_t segment, std::string_view product_id,
                       const TraderParams& params) {
    const std::string path = dir + "/" + segment_file_name(segment);
    const FileContents file = read_whole_file(path, max_segment_bytes, "journal segment");
    if (!file.ok()) throw DataError(file.error);
    return recover_segment(std::as_bytes(std::span<const char>(file.contents.data(), file.contents.size())), path,
                           segment, product_id, params);
}

}  // namespace

std::string_view record_type_name(RecordType t) noexcept {
    switch (t) {
        case RecordType::segment_start:
            return "segment_start";
        case RecordType::books:
            return "books";
        case RecordType::order_intent:
            return "order_intent";
        case RecordType::order_ack:
            return "order_ack";
        case RecordType::order_fill:
            return "order_fill";
        case RecordType::order_end:
            return "order_end";
        case RecordType::halt:
            return "halt";
        case RecordType::operator_ack:
            return "operator_ack";
        case RecordType::account:
            return "account";
    }
    return "unknown";
}

std::uint32_t crc32c(std::span<const std::byte> bytes, std::uint32_t crc) noexcept {
    // Castagnoli polynomial, reflected, as iSCSI/ext4/LevelDB use (Boost.CRC, header-only).
    boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> c(crc ^ 0xFFFFFFFFu);
    c.process_bytes(bytes.data(), bytes.size());
    return c.checksum();
}

std::size_t encode(RecordType type, std::span<const std::byte> payload, std::span<std::byte> out) noexcept {
    if (payload.size() > max_payload_bytes || out.size() < header_bytes + payload.size()) return 0;
    const auto len = static_cast<std::uint32_t>(payload.size());
    std::memcpy(out.data(), &len, sizeof len);
    out[8] = static_cast<std::byte>(type);
    out[9] = static_cast<std::byte>(format_version);
    out[10] = out[11] = std::byte{0};
    std::memcpy(out.data() + header_bytes, payload.data(), payload.size());
    std::uint32_t sum = crc32c(out.subspan(8, 1));
    sum = crc32c(payload, sum);
    std::memcpy(out.data() + 4, &sum, sizeof sum);
    return header_bytes + payload.size();
}

ScanResult scan(std::span<const std::byte> bytes, const std::function<void(const RecordView&)>& on_record) {
    ScanResult out;
    std::size_t at = 0;
    while (at < bytes.size()) {
        if (const Flaw flaw = record_flaw(bytes, at); flaw != Flaw::none) {
            out.error = flaw_message(flaw, bytes, at);
            // A torn end: no good record starts anywhere after the bad one. (A crash tears only the
            // last write; corruption in the middle leaves good records behind it.)
            out.torn = true;
            for (std::size_t next = at + 1; next + header_bytes <= bytes.size(); ++next)
                if (record_flaw(bytes, next) == Flaw::none) {
                    out.torn = false;
                    break;
                }
            break;
        }
        const std::size_t n = record_bytes(bytes, at);
        on_record(
            RecordView{static_cast<RecordType>(bytes[at + 8]), bytes.subspan(at + header_bytes, n - header_bytes), at});
        ++out.records;
        at += n;
    }
    out.good_bytes = at;
    return out;
}

std::string segment_file_name(std::uint64_t segment) {
    char name[32];
    std::snprintf(name, sizeof name, "journal-%08" PRIu64 ".cbj", segment);
    return name;
}

Recovered recover(const std::string& dir, std::string_view product_id, const TraderParams& params) {
    const std::vector<std::uint64_t> segments = list_segments(dir);
    if (segments.empty()) return Recovered{};
    // The newest segment, unless it was torn while being started (rotation writes segment_start,
    // books and open orders, syncs, and only then removes the older segment): then the one before.
    Recovered r = read_segment(dir, segments.back(), product_id, params);
    if (r.books || segments.size() == 1) return r;
    Recovered older = read_segment(dir, segments[segments.size() - 2], product_id, params);
    older.warnings.push_back("journal " + r.path + " was started but holds no books yet: using " + older.path);
    return older;
}

std::string describe(const Recovered& r) {
    if (!r.found) return "journal: none yet (a fresh start)";
    char line[400];
    if (r.books) {
        std::snprintf(line, sizeof line,
                      "journal: %s, %" PRIu64
                      " records; position %.8f, cash %.2f USD, entry %.2f, stop %.2f, take "
                      "%.2f, day-start equity %.2f USD, breaker %s, %s; open orders %zu",
                      r.path.c_str(), r.records, r.books->position_qty, r.books->cash_usd, r.books->entry_price,
                      r.books->stop_level, r.books->take_level, r.books->day_start_equity_usd,
                      r.books->breaker_tripped ? "TRIPPED" : "ok", r.halted ? "HALTED" : "not halted",
                      r.open_orders.size());
    } else {
        std::snprintf(line, sizeof line, "journal: %s, %" PRIu64 " records, no books", r.path.c_str(), r.records);
    }
    return line;
}

// ---- Writer ----------------------------------------------------------------------------------------

Writer::Writer(io::UringLoop& loop, WriterOptions options) : loop_(loop), options_(options) {}

Writer::~Writer() {
    (void)close();
    if (lock_fd_ >= 0) ::close(lock_fd_);
}

bool Writer::is_open() const noexcept {
    return file_ && file_->is_open();
}

namespace {

int open_segment_file(const std::string& path, bool create) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0), 0600);
    if (fd < 0) throw RunError("journal " + path + ": cannot open for writing: " + std::strerror(errno));
    return fd;
}

void sync_directory(const std::string& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw RunError("journal directory " + dir + ": " + std::strerror(errno));
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) throw RunError("journal directory " + dir + ": fsync: " + std::strerror(err));
}

}  // namespace

void Writer::open(const std::string& dir, const Recovered& recovered, std::string_view product_id,
                  const TraderBooks& books, std::int64_t time_s) {
    if (product_id.size() > SegmentStart{}.product_id.size())
        throw ConfigError("PRODUCT_ID is too long for the journal (at most 32 characters)");
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw RunError("JOURNAL_DIR " + dir + ": cannot create it: " + std::strerror(errno));
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw RunError("JOURNAL_DIR " + dir + " is not a directory");
    const std::string lock_path = dir + "/LOCK";
    lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd_ < 0) throw RunError("journal lock " + lock_path + ": " + std::strerror(errno));
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0)
        throw RunError("journal " + dir + " is in use by another cbtrade process (lock " + lock_path +
                       "): two daemons must never share a journal");
    dir_ = dir;
    product_id_ = std::string(product_id);
    if (!recovered.found) {
        start_segment(1, books, time_s, false, {});
        return;
    }
    // Continue the recovered segment after its last good record; a torn tail is cut first.
    segment_ = recovered.segment;
    path_ = recovered.path;
    const int fd = open_segment_file(path_, false);
    if (recovered.good_bytes < recovered.file_bytes) {
        if (::ftruncate(fd, static_cast<off_t>(recovered.good_bytes)) != 0 || ::fdatasync(fd) != 0) {
            const int err = errno;
            ::close(fd);
            throw RunError("journal " + path_ + ": cannot cut the torn end: " + std::strerror(err));
        }
    }
    file_ = std::make_unique<io::AppendFile>(loop_, options_.staging_bytes);
    file_->adopt(fd, recovered.good_bytes);
    records_ = recovered.records;
    account_ = recovered.account;
    // A segment newer than the recovered one was torn while being started: remove it, so the next
    // rotation can take its number.
    for (const std::uint64_t s : list_segments(dir))
        if (s > segment_) (void)::unlink((dir + "/" + segment_file_name(s)).c_str());
}

void Writer::start_segment(std::uint64_t segment, const TraderBooks& books, std::int64_t time_s, bool halted,
                           std::span<const OrderIntent> open) {
    const std::string path = dir_ + "/" + segment_file_name(segment);
    auto file = std::make_unique<io::AppendFile>(loop_, options_.staging_bytes);
    file->adopt(open_segment_file(path, true), 0);
    std::array<std::byte, header_bytes + max_payload_bytes> buf{};
    auto put_on = [&](RecordType type, auto payload) {
        const std::size_t n = encode(type, payload, buf);
        if (n == 0 || !file->append(std::span<const std::byte>(buf.data(), n)))
            throw RunError("journal " + path + ": cannot stage the new segment's records");
    };
    SegmentStart start;
    start.segment = segment;
    start.created_unix_ns = time_s * 1'000'000'000;
    std::copy(product_id_.begin(), product_id_.end(), start.product_id.begin());
    put_on(RecordType::segment_start, start);
    put_on(RecordType::books, BooksRecord{time_s, books});
    if (account_) put_on(RecordType::account, *account_);
    if (halted) put_on(RecordType::halt, HaltRecord{time_s, 1, {}});
    for (const OrderIntent& i : open) put_on(RecordType::order_intent, i);
    file->sync();
    if (!file->drain(10'000'000'000))
        throw RunError("journal " + path + ": the new segment could not be written and synced (error " +
                       std::to_string(-file->failed()) + ")");
    sync_directory(dir_);
    if (file_) (void)file_->close();
    file_ = std::move(file);
    path_ = path;
    segment_ = segment;
    records_ = 2 + (account_ ? 1 : 0) + (halted ? 1 : 0) + open.size();
    // The new segment is durable and holds everything a restart needs: older ones can go.
    for (const std::uint64_t s : list_segments(dir_))
        if (s < segment_) (void)::unlink((dir_ + "/" + segment_file_name(s)).c_str());
}

template <class Payload>
bool Writer::put(RecordType type, const Payload& p) noexcept {
    if (!file_) return false;
    std::array<std::byte, header_bytes + sizeof(Payload)> buf;
    const std::size_t n = encode(type, p, buf);
    if (n == 0 || !file_->append(std::span<const std::byte>(buf.data(), n))) return false;
    ++records_;
    return true;
}

bool Writer::intent(const OrderIntent& i) noexcept {
    return put(RecordType::order_intent, i);
}
bool Writer::ack(const OrderAck& a) noexcept {
    return put(RecordType::order_ack, a);
}
bool Writer::fill(const OrderFill& f) noexcept {
    return put(RecordType::order_fill, f);
}
bool Writer::end(const OrderEndRecord& e) noexcept {
    return put(RecordType::order_end, e);
}
bool Writer::books(const TraderBooks& b, std::int64_t time_s) noexcept {
    return put(RecordType::books, BooksRecord{time_s, b});
}
bool Writer::halt(bool halted, std::int64_t time_s) noexcept {
    return put(RecordType::halt, HaltRecord{time_s, static_cast<std::uint8_t>(halted ? 1 : 0), {}});
}
bool Writer::operator_ack(std::int64_t time_s) noexcept {
    return put(RecordType::operator_ack, OperatorAck{time_s});
}
bool Writer::account(const AccountRecord& a) noexcept {
    account_ = a;
    return put(RecordType::account, a);
}

bool Writer::drain(std::int64_t timeout_ns) noexcept {
    if (!file_) return false;
    (void)file_->sync();
    return file_->drain(timeout_ns) && file_->failed() == 0;
}

std::uint64_t Writer::sync() noexcept {
    if (!file_) return 0;
    const std::uint64_t target = file_->sync();
    file_->pump();
    return target;
}

bool Writer::durable(std::uint64_t offset) const noexcept {
    return file_ && file_->durable_offset() >= offset;
}

int Writer::failed() const noexcept {
    return file_ ? file_->failed() : -EBADF;
}

void Writer::pump() noexcept {
    if (file_) file_->pump();
}

bool Writer::wants_rotation() const noexcept {
    return file_ && file_->appended_offset() >= options_.rotate_bytes;
}

void Writer::rotate(const TraderBooks& books, std::int64_t time_s, bool halted, std::span<const OrderIntent> open) {
    if (!file_) return;
    if (!file_->drain(10'000'000'000))
        throw RunError("journal " + path_ + ": could not finish writing before rotation");
    start_segment(segment_ + 1, books, time_s, halted, open);
}

bool Writer::close() noexcept {
    if (!file_) return true;
    const int rc = file_->close();
    file_.reset();
    return rc == 0;
}

}  // namespace cbtrade::journal
