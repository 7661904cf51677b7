// The order journal: records round-trip through a real file written by io_uring; a torn end is cut
// at every possible length; corruption before the end is refused; rotation keeps one file with
// everything a restart needs; two writers on one journal are refused; a fill torn off before its
// books record is applied with the trader's arithmetic.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "core/error.hpp"
#include "exec/journal.hpp"
#include "io/append_file.hpp"
#include "io/uring_loop.hpp"

namespace cbtrade::journal {
namespace {

namespace fs = std::filesystem;

TraderParams params() {
    TraderParams p;
    p.stop_loss_pct = 1;
    p.take_profit_pct = 2;
    p.max_daily_loss_pct = 5;
    return p;
}

std::array<char, client_order_id_chars> cid(int n) {
    std::array<char, client_order_id_chars> id{};
    char text[40];
    std::snprintf(text, sizeof text, "00000000-0000-4000-8000-%012d", n);
    std::copy_n(text, client_order_id_chars, id.begin());
    return id;
}

OrderIntent intent(int n, Side side, double qty, double price) {
    OrderIntent i;
    i.client_order_id = cid(n);
    i.side = side;
    i.reason = side == Side::buy ? OrderReason::entry : OrderReason::signal_exit;
    i.qty = qty;
    i.ref_price = price;
    i.time_s = 1704067200 + n;
    return i;
}

class JournalTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/cbtrade_journal_XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir = tmpl;
        ASSERT_EQ(loop.init(), 0);
    }
    void TearDown() override {
        // CBTRADE_JOURNAL_SEED_DIR: keep each test's journal files as fuzz seeds
        // (tests/fuzz/corpus/journal was made this way).
        if (const char* seeds = std::getenv("CBTRADE_JOURNAL_SEED_DIR"); seeds != nullptr && fs::exists(dir)) {
            const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
            for (const auto& e : fs::directory_iterator(dir))
                if (e.is_regular_file() && e.path().extension() == ".cbj")
                    fs::copy_file(e.path(), fs::path(seeds) / (test + "-" + e.path().filename().string()),
                                  fs::copy_options::overwrite_existing);
        }
        fs::remove_all(dir);
    }

    std::string segment_path(std::uint64_t n) const { return dir + "/" + segment_file_name(n); }

    // A session: opens the journal, buys 0.01 at 40000 (intent, ack, fill, books, end), then
    // applies `extra` (more records), and closes it. Returns the trader's books at the end.
    TraderBooks session(const std::function<void(Writer&, Trader&)>& extra = {}, WriterOptions options = {}) {
        const Recovered before = recover(dir, "BTC-USD", params());
        Trader trader(params(), 1000);
        if (before.books) trader.restore(*before.books);
        Writer w(loop, options);
        w.open(dir, before, "BTC-USD", trader.books(), 1704067200);
        if (!before.found) buy(w, trader, 1);
        if (extra) extra(w, trader);
        EXPECT_TRUE(w.close());
        return trader.books();
    }

    void buy(Writer& w, Trader& trader, int n) {
        const OrderIntent i = intent(n, Side::buy, 0.01, 40000);
        EXPECT_TRUE(w.intent(i));
        const std::uint64_t target = w.sync();
        for (int k = 0; k < 10000 && !w.durable(target); ++k) (void)loop.wait(1'000'000);
        ASSERT_TRUE(w.durable(target)) << "the intent never became durable";
        OrderAck a;
        a.client_order_id = i.client_order_id;
        a.accepted = 1;
        EXPECT_TRUE(w.ack(a));
        const Fill f{i.time_s, 0.01, 40010, 0.24, Side::buy, OrderReason::entry};
        trader.on_fill(f);
        EXPECT_TRUE(w.fill(OrderFill{i.client_order_id, Side::buy, {}, f}));
        EXPECT_TRUE(w.books(trader.books(), f.time_s));
        EXPECT_TRUE(w.end(OrderEndRecord{i.client_order_id, OrderEnd::filled, OrderError::none, {}}));
    }

    std::uintmax_t size_of(const std::string& p) const { return fs::file_size(p); }

    std::string dir;
    io::UringLoop loop;
};

void expect_same_books(const TraderBooks& a, const TraderBooks& b) {
    EXPECT_DOUBLE_EQ(a.cash_usd, b.cash_usd);
    EXPECT_DOUBLE_EQ(a.position_qty, b.position_qty);
    EXPECT_DOUBLE_EQ(a.entry_price, b.entry_price);
    EXPECT_DOUBLE_EQ(a.stop_level, b.stop_level);
    EXPECT_DOUBLE_EQ(a.take_level, b.take_level);
    EXPECT_DOUBLE_EQ(a.fees_usd, b.fees_usd);
    EXPECT_DOUBLE_EQ(a.day_start_equity_usd, b.day_start_equity_usd);
    EXPECT_EQ(a.day_start_s, b.day_start_s);
    EXPECT_EQ(a.breaker_tripped, b.breaker_tripped);
}

TEST(JournalFormat, Crc32cMatchesTheStandardCheckValue) {
    const std::string text = "123456789";  // CRC-32C check value (RFC 3720): 0xE3069283
    EXPECT_EQ(crc32c(std::as_bytes(std::span<const char>(text.data(), text.size()))), 0xE3069283u);
}

TEST(JournalFormat, EncodeThenScanGivesTheRecordBack) {
    std::array<std::byte, 512> buf{};
    const OrderIntent i = intent(7, Side::sell, 0.5, 123.25);
    const std::size_t n = encode(RecordType::order_intent, i, buf);
    ASSERT_EQ(n, header_bytes + sizeof(OrderIntent));
    int seen = 0;
    const ScanResult r = scan(std::span<const std::byte>(buf.data(), n), [&](const RecordView& v) {
        ++seen;
        ASSERT_EQ(v.type, RecordType::order_intent);
        OrderIntent back;
        std::memcpy(&back, v.payload.data(), sizeof back);
        EXPECT_EQ(back.client_order_id, i.client_order_id);
        EXPECT_EQ(back.qty, 0.5);
    });
    EXPECT_EQ(seen, 1);
    EXPECT_TRUE(r.error.empty());
    EXPECT_EQ(r.good_bytes, n);
    // Every single-byte change is caught (checksum, type, format, reserved bytes or length).
    for (std::size_t at = 0; at < n; ++at) {
        auto copy = buf;
        copy[at] ^= std::byte{0x5a};
        const ScanResult bad = scan(std::span<const std::byte>(copy.data(), n), [](const RecordView&) {});
        EXPECT_EQ(bad.records, 0u) << "a change at byte " << at << " went unnoticed";
        EXPECT_FALSE(bad.error.empty());
    }
}

TEST_F(JournalTest, FreshJournalRoundTripsBooksAndClosesTheOrder) {
    EXPECT_FALSE(recover(dir, "BTC-USD", params()).found);
    const TraderBooks books = session();
    const Recovered r = recover(dir, "BTC-USD", params());
    ASSERT_TRUE(r.found);
    ASSERT_TRUE(r.books.has_value());
    expect_same_books(*r.books, books);
    EXPECT_DOUBLE_EQ(r.books->position_qty, 0.01);
    EXPECT_GT(r.books->stop_level, 0);
    EXPECT_TRUE(r.open_orders.empty());
    EXPECT_TRUE(r.warnings.empty());
    EXPECT_FALSE(r.halted);
    EXPECT_EQ(r.good_bytes, r.file_bytes);
    EXPECT_NE(describe(r).find("position 0.01000000"), std::string::npos) << describe(r);
}

TEST_F(JournalTest, AnIntentWithoutAnEndIsAnOpenOrderWithItsAckAndFills) {
    session([&](Writer& w, Trader&) {
        const OrderIntent i = intent(2, Side::sell, 0.01, 40500);
        EXPECT_TRUE(w.intent(i));
        OrderAck a;
        a.client_order_id = i.client_order_id;
        a.accepted = 1;
        std::copy_n("order-2", 7, a.order_id.begin());
        a.order_id_chars = 7;
        EXPECT_TRUE(w.ack(a));
        EXPECT_TRUE(w.halt(true, 1704067300));
    });
    const Recovered r = recover(dir, "BTC-USD", params());
    ASSERT_EQ(r.open_orders.size(), 1u);
    EXPECT_EQ(r.open_orders[0].intent.client_order_id, cid(2));
    ASSERT_TRUE(r.open_orders[0].ack.has_value());
    EXPECT_EQ(std::string(r.open_orders[0].ack->order_id.data(), 7), "order-2");
    EXPECT_TRUE(r.halted);
    EXPECT_DOUBLE_EQ(r.books->position_qty, 0.01);  // the sell's outcome is unknown: nothing applied
}

TEST_F(JournalTest, ATornEndIsCutAtEveryLengthAndWritingContinuesAfterIt) {
    const TraderBooks books = session();
    const std::string path = segment_path(1);
    const auto full = size_of(path);
    std::string original;
    {
        std::ifstream in(path, std::ios::binary);
        original.assign(std::istreambuf_iterator<char>(in), {});
    }
    // The last record (order_end) cut at every length: recovery keeps everything before it.
    const std::size_t last = header_bytes + sizeof(OrderEndRecord);
    for (std::size_t cut = 1; cut < last; ++cut) {
        {
            std::ofstream out(path, std::ios::binary | std::ios::trunc);
            out.write(original.data(), static_cast<std::streamsize>(full - cut));
        }
        const Recovered r = recover(dir, "BTC-USD", params());
        EXPECT_EQ(r.good_bytes, full - last) << "cut " << cut;
        ASSERT_EQ(r.warnings.size(), 1u) << "cut " << cut;
        EXPECT_NE(r.warnings[0].find("cut short by a crash"), std::string::npos) << r.warnings[0];
        ASSERT_EQ(r.open_orders.size(), 1u) << "the order's end was torn off: it is open again";
        expect_same_books(*r.books, books);
    }
    // Writer::open cuts the tail and appends after the last good record.
    session([&](Writer& w, Trader&) {
        EXPECT_TRUE(w.end(OrderEndRecord{cid(1), OrderEnd::filled, OrderError::none, {}}));
    });
    const Recovered r = recover(dir, "BTC-USD", params());
    EXPECT_TRUE(r.warnings.empty());
    EXPECT_TRUE(r.open_orders.empty());
    EXPECT_EQ(size_of(path), full);
}

TEST_F(JournalTest, ZerosOrGarbageAfterTheLastRecordAreATornEnd) {
    session();
    const std::string path = segment_path(1);
    const auto full = size_of(path);
    for (const char fill : {'\0', '\x7f'}) {
        {
            std::ofstream out(path, std::ios::binary | std::ios::app);
            out << std::string(4096, fill);
        }
        const Recovered r = recover(dir, "BTC-USD", params());
        EXPECT_EQ(r.good_bytes, full);
        EXPECT_EQ(r.warnings.size(), 1u);
        fs::resize_file(path, full);
    }
}

TEST_F(JournalTest, CorruptionBeforeTheEndStopsStartUp) {
    session();
    const std::string path = segment_path(1);
    // Flip a byte inside the first books record (after segment_start): good records follow it.
    {
        std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
        f.seekp(static_cast<std::streamoff>(header_bytes + sizeof(SegmentStart) + header_bytes + 20));
        f.put('\x55');
    }
    try {
        (void)recover(dir, "BTC-USD", params());
        FAIL() << "corruption before the end was accepted";
    } catch (const DataError& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("is corrupt at byte 68"), std::string::npos) << what;
        EXPECT_NE(what.find("Refusing to guess"), std::string::npos) << what;
    }
}

TEST_F(JournalTest, ACheckedRecordWithImpossibleValuesIsRefused) {
    // Checksums match, values do not: a position or cash no writer produces never becomes the books.
    std::array<std::byte, 512> buf{};
    SegmentStart start;
    start.segment = 1;
    std::copy_n("BTC-USD", 7, start.product_id.begin());
    std::size_t n = encode(RecordType::segment_start, start, buf);
    BooksRecord books;
    books.books.cash_usd = std::numeric_limits<double>::quiet_NaN();
    n += encode(RecordType::books, books, std::span<std::byte>(buf).subspan(n));
    const std::span<const std::byte> bytes(buf.data(), n);
    try {
        (void)recover_segment(bytes, "j", 1, "BTC-USD", params());
        FAIL() << "a NaN cash was accepted";
    } catch (const DataError& e) {
        EXPECT_NE(std::string(e.what()).find("holds an impossible cash"), std::string::npos) << e.what();
    }
    books.books.cash_usd = 100;
    books.books.position_qty = -1e300;
    n = encode(RecordType::segment_start, start, buf);
    n += encode(RecordType::books, books, std::span<std::byte>(buf).subspan(n));
    EXPECT_THROW((void)recover_segment(std::span<const std::byte>(buf.data(), n), "j", 1, "BTC-USD", params()),
                 DataError);
    books.books.position_qty = 0.5;
    n = encode(RecordType::segment_start, start, buf);
    n += encode(RecordType::books, books, std::span<std::byte>(buf).subspan(n));
    EXPECT_DOUBLE_EQ(
        recover_segment(std::span<const std::byte>(buf.data(), n), "j", 1, "BTC-USD", params()).books->position_qty,
        0.5);
}

TEST_F(JournalTest, AJournalOfAnotherProductIsRefused) {
    session();
    try {
        (void)recover(dir, "ETH-USD", params());
        FAIL();
    } catch (const DataError& e) {
        EXPECT_NE(std::string(e.what()).find("journal of 'BTC-USD', not of 'ETH-USD'"), std::string::npos) << e.what();
    }
}

TEST_F(JournalTest, TwoWritersOnOneJournalAreRefused) {
    const Recovered r = recover(dir, "BTC-USD", params());
    Writer first(loop);
    first.open(dir, r, "BTC-USD", Trader(params(), 1000).books(), 1704067200);
    io::UringLoop other_loop;
    ASSERT_EQ(other_loop.init(), 0);
    Writer second(other_loop);
    EXPECT_THROW(
        second.open(dir, recover(dir, "BTC-USD", params()), "BTC-USD", Trader(params(), 1000).books(), 1704067200),
        RunError);
}

TEST_F(JournalTest, RotationKeepsOneSegmentWithBooksHaltAndOpenOrders) {
    WriterOptions small;
    small.rotate_bytes = 2048;
    TraderBooks books;
    session(
        [&](Writer& w, Trader& trader) {
            for (int k = 0; k < 40; ++k) EXPECT_TRUE(w.books(trader.books(), 1704067200 + k));
            ASSERT_TRUE(w.wants_rotation());
            const OrderIntent open = intent(9, Side::sell, 0.01, 40100);
            EXPECT_TRUE(w.intent(open));
            w.rotate(trader.books(), 1704067300, true, std::span<const OrderIntent>(&open, 1));
            EXPECT_EQ(w.segment(), 2u);
            EXPECT_FALSE(w.wants_rotation());
            books = trader.books();
        },
        small);
    EXPECT_FALSE(fs::exists(segment_path(1)));
    ASSERT_TRUE(fs::exists(segment_path(2)));
    EXPECT_LT(size_of(segment_path(2)), 1024u);
    const Recovered r = recover(dir, "BTC-USD", params());
    EXPECT_EQ(r.segment, 2u);
    expect_same_books(*r.books, books);
    EXPECT_TRUE(r.halted);
    ASSERT_EQ(r.open_orders.size(), 1u);
    EXPECT_EQ(r.open_orders[0].intent.client_order_id, cid(9));
}

TEST_F(JournalTest, TheAccountBaselineAndOperatorAcksAreReadBackAndSurviveRotation) {
    WriterOptions small;
    small.rotate_bytes = 2048;
    AccountRecord a;
    a.time_s = 1704067200;
    a.base_total = 1.25;
    a.quote_total = 100000.5;
    a.position_qty = 0.01;
    a.cash_usd = 600;
    session(
        [&](Writer& w, Trader& trader) {
            EXPECT_TRUE(w.operator_ack(1704067200));
            EXPECT_TRUE(w.account(a));
            EXPECT_TRUE(w.drain(5'000'000'000));
            const Recovered before = recover(dir, "BTC-USD", params());
            ASSERT_TRUE(before.account);
            EXPECT_DOUBLE_EQ(before.account->quote_total, 100000.5);
            EXPECT_EQ(before.operator_acks, 1u);
            for (int k = 0; k < 40; ++k) EXPECT_TRUE(w.books(trader.books(), 1704067200 + k));
            w.rotate(trader.books(), 1704067300, false, {});
            EXPECT_EQ(w.segment(), 2u);
        },
        small);
    const Recovered r = recover(dir, "BTC-USD", params());
    EXPECT_EQ(r.segment, 2u);
    ASSERT_TRUE(r.account) << "the baseline is carried into the new segment";
    EXPECT_DOUBLE_EQ(r.account->base_total, 1.25);
    EXPECT_DOUBLE_EQ(r.account->position_qty, 0.01);
    EXPECT_DOUBLE_EQ(r.account->cash_usd, 600);
}

TEST_F(JournalTest, ANewSegmentTornWhileStartingFallsBackToTheOlderOne) {
    const TraderBooks books = session();
    // A rotation that crashed after segment_start: segment 2 holds no books.
    {
        std::array<std::byte, 128> buf{};
        SegmentStart s;
        s.segment = 2;
        std::copy_n("BTC-USD", 7, s.product_id.begin());
        const std::size_t n = encode(RecordType::segment_start, s, buf);
        std::ofstream out(segment_path(2), std::ios::binary);
        out.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(n));
    }
    const Recovered r = recover(dir, "BTC-USD", params());
    EXPECT_EQ(r.segment, 1u);
    expect_same_books(*r.books, books);
    ASSERT_FALSE(r.warnings.empty());
    // The writer continues segment 1 and removes the torn segment 2.
    session();
    EXPECT_FALSE(fs::exists(segment_path(2)));
}

TEST_F(JournalTest, AFillTornOffBeforeItsBooksIsAppliedWithTheTradersArithmetic) {
    TraderBooks expected;
    session([&](Writer& w, Trader& trader) {
        const OrderIntent i = intent(3, Side::sell, 0.01, 40400);
        EXPECT_TRUE(w.intent(i));
        const Fill f{i.time_s, 0.01, 40400, 0.24, Side::sell, OrderReason::signal_exit};
        trader.on_fill(f);
        EXPECT_TRUE(w.fill(OrderFill{i.client_order_id, Side::sell, {}, f}));
        expected = trader.books();  // no books record written: the crash came first
    });
    const Recovered r = recover(dir, "BTC-USD", params());
    expect_same_books(*r.books, expected);
    EXPECT_DOUBLE_EQ(r.books->position_qty, 0);
    ASSERT_EQ(r.open_orders.size(), 1u);  // no order_end: the reconciliation decides
    EXPECT_DOUBLE_EQ(r.open_orders[0].filled_qty, 0.01);
}

TEST_F(JournalTest, ASegmentThatIsNotARegularFileIsRefused) {
    ASSERT_EQ(::mkfifo(segment_path(1).c_str(), 0600), 0);
    EXPECT_THROW((void)recover(dir, "BTC-USD", params()), DataError);
}

// io/append_file: a write the kernel refuses fails the file; nothing becomes durable after it.
TEST(AppendFile, AWriteErrorFailsTheFileForGood) {
    io::UringLoop loop;
    ASSERT_EQ(loop.init(), 0);
    io::AppendFile file(loop, 4096);
    const int fd = ::open("/dev/null", O_RDONLY);  // writes fail with EBADF
    ASSERT_GE(fd, 0);
    file.adopt(fd, 0);
    const std::array<std::byte, 16> bytes{};
    ASSERT_TRUE(file.append(bytes));
    const std::uint64_t target = file.sync();
    file.pump();
    EXPECT_FALSE(file.drain(2'000'000'000));
    EXPECT_EQ(file.failed(), -EBADF);
    EXPECT_LT(file.durable_offset(), target);
    EXPECT_FALSE(file.append(bytes));
}

TEST(AppendFile, BytesThatWrapTheStagingRingLandInOrder) {
    io::UringLoop loop;
    ASSERT_EQ(loop.init(), 0);
    char path[] = "/tmp/cbtrade_append_XXXXXX";
    const int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    io::AppendFile file(loop, 64);
    file.adopt(fd, 0);
    std::string expected;
    for (int round = 0; round < 50; ++round) {
        std::array<std::byte, 40> chunk{};
        for (std::size_t k = 0; k < chunk.size(); ++k) chunk[k] = static_cast<std::byte>('a' + (round + k) % 26);
        ASSERT_TRUE(file.append(chunk)) << round;
        for (const std::byte b : chunk) expected.push_back(static_cast<char>(b));
        (void)file.sync();
        ASSERT_TRUE(file.drain(2'000'000'000)) << round;
        EXPECT_EQ(file.durable_offset(), expected.size());
    }
    EXPECT_EQ(file.close(), 0);
    std::ifstream in(path, std::ios::binary);
    const std::string got((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(got, expected);
    ::unlink(path);
}

}  // namespace
}  // namespace cbtrade::journal
