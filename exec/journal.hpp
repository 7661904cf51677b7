// exec/journal: the order journal. An append-only file under JOURNAL_DIR of checksummed,
// length-prefixed records that lets a restart get back exactly what the daemon had: the trader's
// books (position, cash, entry price, exit levels, day start, breaker), the operator's halt, and
// every order whose outcome it did not see (issue 13; DESIGN.md section 5).
//
// Record on disk (little-endian):
//   u32 payload_bytes | u32 crc32c(type, payload) | u8 type | u8 format (1) | u16 zero | payload
// The first record of every file is segment_start (magic, segment number, product). Files are
// journal-NNNNNNNN.cbj; a new one starts (rotation) with segment_start, the books and the orders
// still open, so a restart reads one file whatever the journal's age.
//
// What a crash can leave: the last write torn (a record cut short, or garbage or zeros after the
// last good record). recover() cuts that tail with a warning. A bad record with a good one after
// it is not a torn end: recover() refuses to start rather than guess (DataError naming the file
// and byte offset), and says how to start over.
//
// Writing: Writer appends through io/append_file (the exec thread's io_uring): no syscall on the
// exec thread; an order's intent is synced before the order may be sent (durable()).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/decimal.hpp"
#include "core/records.hpp"
#include "exec/trader.hpp"

namespace cbtrade::io {
class AppendFile;
class UringLoop;
}  // namespace cbtrade::io

namespace cbtrade::journal {

inline constexpr std::uint8_t format_version = 1;
inline constexpr std::size_t header_bytes = 12;
inline constexpr std::size_t max_payload_bytes = 256;
inline constexpr std::size_t client_order_id_chars = 36;         // a UUID, as rest::client_order_id_chars
inline constexpr std::size_t max_segment_bytes = 64u << 20;      // a file larger than this is refused
inline constexpr std::uint64_t default_rotate_bytes = 4u << 20;  // a new segment after this much

enum class RecordType : std::uint8_t {
    segment_start = 1,
    books = 2,         // the trader's books (after every fill, day start, breaker trip, at start)
    order_intent = 3,  // before the order is sent; synced first
    order_ack = 4,     // the exchange's first answer: accepted (order_id) or refused
    order_fill = 5,    // a fill applied to the books
    order_end = 6,     // the order is over: nothing more will fill
    halt = 7,          // the operator's halt set or cleared
    operator_ack = 8,  // the operator accepted a reconciliation difference
    account = 9,       // the exchange's balances at a live start: the next start's baseline
};
[[nodiscard]] std::string_view record_type_name(RecordType t) noexcept;

// How an order ended.
enum class OrderEnd : std::uint8_t {
    filled = 1,      // filled (in full or, for IOC, in part): fills are in order_fill records
    refused = 2,     // refused by the exchange or our own checks: nothing filled
    not_sent = 3,    // never reached the exchange
    not_found = 4,   // reconciliation: the exchange has no order with this client_order_id
    no_outcome = 5,  // paper: a restart found an intent with no recorded fill; nothing was filled
};

// Payloads: plain structs written as they are (fixed sizes, explicit padding, static_asserts below).
struct SegmentStart {
    std::array<char, 8> magic{'C', 'B', 'T', 'J', 'R', 'N', 'L', '1'};
    std::uint64_t segment = 0;
    std::int64_t created_unix_ns = 0;
    std::array<char, 32> product_id{};  // NUL-padded
};
struct BooksRecord {
    std::int64_t time_s = 0;
    TraderBooks books;
};
struct OrderIntent {
    std::array<char, client_order_id_chars> client_order_id{};
    Side side = Side::buy;
    OrderReason reason = OrderReason::entry;
    std::uint8_t size_chars = 0;
    std::uint8_t live = 0;                            // 1: sent to an exchange; 0: paper
    std::array<char, decimal_text_max_chars> size{};  // quote_size (BUY) / base_size (SELL) as sent; empty: paper
    double qty = 0;
    double ref_price = 0;
    std::int64_t time_s = 0;
    std::int64_t unix_ns = 0;
};
struct OrderAck {
    std::array<char, client_order_id_chars> client_order_id{};
    std::uint8_t accepted = 0;
    OrderError error = OrderError::none;
    std::uint8_t order_id_chars = 0;
    std::uint8_t padding = 0;
    std::array<char, 64> order_id{};
};
struct OrderFill {
    std::array<char, client_order_id_chars> client_order_id{};
    Side side = Side::buy;
    std::array<std::uint8_t, 3> padding{};
    Fill fill{};
};
struct OrderEndRecord {
    std::array<char, client_order_id_chars> client_order_id{};
    OrderEnd end = OrderEnd::filled;
    OrderError error = OrderError::none;
    std::array<std::uint8_t, 2> padding{};
};
struct HaltRecord {
    std::int64_t time_s = 0;
    std::uint8_t halted = 0;
    std::array<std::uint8_t, 7> padding{};
};
struct OperatorAck {
    std::int64_t time_s = 0;
};
// What the account held (base and quote currency, available + on hold) when a live start had
// reconciled (or the operator accepted a difference), with the books at that moment. The next live
// start expects the exchange to hold this plus what the books moved since (exec/reconcile.hpp).
struct AccountRecord {
    std::int64_t time_s = 0;
    double base_total = 0;
    double quote_total = 0;
    double position_qty = 0;  // the books'
    double cash_usd = 0;      // the books'
};

// ---- encoding ------------------------------------------------------------------------------------

// CRC-32C (Castagnoli) of `bytes`, continuing from `crc` (0 to start).
[[nodiscard]] std::uint32_t crc32c(std::span<const std::byte> bytes, std::uint32_t crc = 0) noexcept;

// One record, header and payload, into `out` (at least header_bytes + payload size). Returns the
// bytes written, 0 if the payload is larger than max_payload_bytes or out is too small.
[[nodiscard]] std::size_t encode(RecordType type, std::span<const std::byte> payload,
                                 std::span<std::byte> out) noexcept;
template <class Payload>
[[nodiscard]] std::size_t encode(RecordType type, const Payload& p, std::span<std::byte> out) noexcept {
    static_assert(std::is_trivially_copyable_v<Payload>);
    return encode(type, std::span<const std::byte>(reinterpret_cast<const std::byte*>(&p), sizeof p), out);
}

// One record as read back.
struct RecordView {
    RecordType type;
    std::span<const std::byte> payload;
    std::uint64_t offset;  // of the header in the file
};

// Walks `bytes` (one segment file) record by record, handing each good record to `on_record`.
// good_bytes: the leading bytes that are good records. When that is less than bytes.size(), `error`
// says why the next record is bad, and `torn` whether it looks like a torn end (no good record
// starts anywhere after it) rather than corruption.
struct ScanResult {
    std::uint64_t good_bytes = 0;
    std::uint64_t records = 0;
    bool torn = false;
    std::string error;  // "" when every byte is a good record
};
[[nodiscard]] ScanResult scan(std::span<const std::byte> bytes,
                              const std::function<void(const RecordView&)>& on_record);

// ---- recovery ------------------------------------------------------------------------------------

// An order the journal holds no end for: its outcome must come from the exchange (live) or is
// "nothing filled" (paper).
struct OpenOrder {
    OrderIntent intent;
    std::optional<OrderAck> ack;
    double filled_qty = 0;  // fills journaled for it so far (already in the books)
};

struct Recovered {
    bool found = false;  // false: no journal yet (a fresh start)
    std::string path;    // the segment read
    std::uint64_t segment = 0;
    std::uint64_t good_bytes = 0;  // where writing continues (the torn tail, if any, is cut here)
    std::uint64_t file_bytes = 0;
    std::uint64_t records = 0;
    std::optional<TraderBooks> books;
    std::int64_t books_time_s = 0;
    bool halted = false;
    std::optional<AccountRecord> account;  // the last live start's baseline
    std::uint64_t operator_acks = 0;       // operator_ack records in this segment
    std::vector<OpenOrder> open_orders;
    std::uint64_t orders_seen = 0;      // intents in this segment (and carried into it)
    std::vector<std::string> warnings;  // a torn tail cut, an older segment used
};

// Reads the journal in `dir` for `product_id`: the newest segment (or, when the newest was torn
// while it was being started, the one before), its books, halt state and open orders. Fills journaled
// after the last books record (a write torn between the two) are applied through a Trader with
// `params`, so the arithmetic has one copy. Throws DataError for corruption before the tail, a
// segment of another product, an unknown format or a file over max_segment_bytes, and RunError
// for I/O. Changes nothing on disk (Writer::open cuts the torn tail).
[[nodiscard]] Recovered recover(const std::string& dir, std::string_view product_id, const TraderParams& params);

// recover()'s reading of one segment whose bytes are already in memory (`path` names it in messages).
[[nodiscard]] Recovered recover_segment(std::span<const std::byte> bytes, const std::string& path,
                                        std::uint64_t segment, std::string_view product_id, const TraderParams& params);

// What start-up prints: "journal: segment 3, 120 records; position 0.01, cash 512.20 USD, ...".
[[nodiscard]] std::string describe(const Recovered& r);

// ---- writing -------------------------------------------------------------------------------------

struct WriterOptions {
    std::uint64_t rotate_bytes = default_rotate_bytes;
    std::size_t staging_bytes = 1 << 20;
};

// The exec thread's journal. open() is cold (files, lock); the record calls are hot: they encode
// into the staging ring of an io::AppendFile on the caller's io_uring loop, no syscall. The loop's
// poll() (the exec stage's) moves the bytes to disk.
class Writer {
public:
    Writer(io::UringLoop& loop, WriterOptions options = {});
    ~Writer();
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    // Cold. Takes the journal directory's lock (another daemon on the same journal is refused with
    // an error naming the directory), cuts a torn tail found by recover(), and continues the
    // recovered segment, or starts segment 1 with `books` when there was none. Throws RunError.
    void open(const std::string& dir, const Recovered& recovered, std::string_view product_id, const TraderBooks& books,
              std::int64_t time_s);
    [[nodiscard]] bool is_open() const noexcept;

    // Hot. Each returns false when the record could not be staged (file failed, staging full):
    // the caller must then not send the order.
    [[nodiscard]] bool intent(const OrderIntent& i) noexcept;
    [[nodiscard]] bool ack(const OrderAck& a) noexcept;
    [[nodiscard]] bool fill(const OrderFill& f) noexcept;
    [[nodiscard]] bool end(const OrderEndRecord& e) noexcept;
    [[nodiscard]] bool books(const TraderBooks& b, std::int64_t time_s) noexcept;
    [[nodiscard]] bool halt(bool halted, std::int64_t time_s) noexcept;
    [[nodiscard]] bool operator_ack(std::int64_t time_s) noexcept;
    // Cold (start-up): the account's baseline; kept and written again at the head of every new segment.
    [[nodiscard]] bool account(const AccountRecord& a) noexcept;
    // Cold: waits (at most timeout_ns) until everything staged is on disk; false if it is not.
    [[nodiscard]] bool drain(std::int64_t timeout_ns) noexcept;

    // Hot. Asks that everything so far become durable; returns the offset to wait for.
    std::uint64_t sync() noexcept;
    [[nodiscard]] bool durable(std::uint64_t offset) const noexcept;
    // 0, or the negative errno that broke the file: no order may be sent any more.
    [[nodiscard]] int failed() const noexcept;
    // Hot: queues writes (the loop's poll() submits them). Call once per exec-stage turn.
    void pump() noexcept;

    // Cold: whether the segment is over the rotation size, and the rotation itself: a new segment
    // with segment_start, `books`, the halt state and `open` (orders still open), synced before
    // the old segment is removed.
    [[nodiscard]] bool wants_rotation() const noexcept;
    void rotate(const TraderBooks& books, std::int64_t time_s, bool halted, std::span<const OrderIntent> open);

    // Cold: everything durable, file closed. false if anything failed.
    bool close() noexcept;

    [[nodiscard]] std::uint64_t segment() const noexcept { return segment_; }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] std::uint64_t records() const noexcept { return records_; }

private:
    template <class Payload>
    bool put(RecordType type, const Payload& p) noexcept;
    void start_segment(std::uint64_t segment, const TraderBooks& books, std::int64_t time_s, bool halted,
                       std::span<const OrderIntent> open);

    io::UringLoop& loop_;
    WriterOptions options_;
    std::unique_ptr<io::AppendFile> file_;
    std::string dir_;
    std::string path_;
    std::string product_id_;
    int lock_fd_ = -1;
    std::uint64_t segment_ = 0;
    std::uint64_t records_ = 0;
    std::optional<AccountRecord> account_;  // written at the head of each new segment
};

// "journal-00000012.cbj"
[[nodiscard]] std::string segment_file_name(std::uint64_t segment);

}  // namespace cbtrade::journal
