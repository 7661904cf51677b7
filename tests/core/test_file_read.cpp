// core/file_read: every whole-file read refuses non-regular files, files over the limit and files
// that change while read (issue 9 items 1-3).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/file_read.hpp"

namespace {

using cbtrade::read_whole_file;

class FileRead : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/cbtrade-file-read-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        // A read that blocks is a failure, not a hang: the alarm kills the test.
        ::alarm(20);
    }
    void TearDown() override {
        ::alarm(0);
        std::filesystem::remove_all(dir_);
    }
    std::string write(const std::string& name, const std::string& content) {
        std::string p = dir_ + "/" + name;
        std::ofstream(p, std::ios::binary) << content;
        return p;
    }
    std::string dir_;
};

TEST_F(FileRead, reads_a_regular_file_whole) {
    const std::string body = std::string("a\0b\nline two\n", 13);
    const auto r = read_whole_file(write("f.txt", body), 1024, "test file");
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.contents, body);
}

TEST_F(FileRead, empty_file_is_empty_contents) {
    const auto r = read_whole_file(write("e.txt", ""), 10, "test file");
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_TRUE(r.contents.empty());
}

TEST_F(FileRead, fifo_is_refused_at_once_not_waited_on) {
    const std::string p = dir_ + "/p";
    ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
    const auto r = read_whole_file(p, 1024, "env file");
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error, p + ": env file is a FIFO (named pipe), not a regular file");
}

TEST_F(FileRead, directory_is_refused_not_read_as_empty) {
    const auto r = read_whole_file(dir_, 1024, "env file");
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error, dir_ + ": env file is a directory, not a regular file");
}

TEST_F(FileRead, endless_device_is_refused) {
    const auto r = read_whole_file("/dev/zero", 1024, "env file");
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error, "/dev/zero: env file is a character device, not a regular file");
    EXPECT_TRUE(r.contents.empty());
}

TEST_F(FileRead, socket_is_refused) {
    const std::string p = dir_ + "/s";
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    ASSERT_LT(p.size(), sizeof addr.sun_path);
    std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    const auto r = read_whole_file(p, 1024, "CSV file");
    ::close(fd);
    EXPECT_EQ(r.error, p + ": CSV file is a socket, not a regular file");
}

TEST_F(FileRead, file_over_the_limit_is_refused_before_reading) {
    const std::string p = write("big", std::string(1025, 'x'));
    const auto r = read_whole_file(p, 1024, "env file");
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error, p + ": env file is 1025 bytes, over the 1 KiB limit");
    EXPECT_TRUE(r.contents.empty());
    EXPECT_TRUE(read_whole_file(write("fits", std::string(1024, 'x')), 1024, "env file").ok());
}

TEST_F(FileRead, missing_file_names_path_and_reason) {
    const auto r = read_whole_file(dir_ + "/nope", 1024, "env file");
    EXPECT_EQ(r.error, dir_ + "/nope: env file cannot be read: No such file or directory");
}

TEST_F(FileRead, path_in_the_error_is_escaped) {
    const auto r = read_whole_file(dir_ + "/a\nb\x1b[2J", 1024, "env file");
    EXPECT_EQ(r.error.find('\n'), std::string::npos) << r.error;
    EXPECT_EQ(r.error.find('\x1b'), std::string::npos) << r.error;
    EXPECT_NE(r.error.find("a\\nb\\x1b[2J"), std::string::npos) << r.error;
}

// A file whose stated size is larger than what reading gives: sysfs attributes claim 4096 bytes
// and hold a few, exactly what a file truncated under the reader looks like.
TEST_F(FileRead, file_shorter_than_its_size_at_open_is_an_error) {
    const char* p = "/sys/kernel/mm/transparent_hugepage/enabled";
    struct stat st {};
    if (::stat(p, &st) != 0 || st.st_size != 4096) GTEST_SKIP() << p << " not a 4096-byte sysfs attribute here";
    const auto r = read_whole_file(p, 1 << 20, "CSV file");
    EXPECT_FALSE(r.ok());
    EXPECT_NE(r.error.find("CSV file changed while it was read (it shrank: end of file after "), std::string::npos)
        << r.error;
}

// procfs files state size 0 and hold text: what a file appended to under the reader looks like.
TEST_F(FileRead, file_longer_than_its_size_at_open_is_an_error) {
    const auto r = read_whole_file("/proc/self/status", 1 << 20, "CSV file");
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error,
              "/proc/self/status: CSV file changed while it was read (it grew past 0 bytes); read it "
              "again once nothing is writing it");
}

// Blocks of whole lines through a small buffer: every block ends after a newline, together they are
// the file exactly, and the last line without a newline comes last.
TEST_F(FileRead, line_blocks_are_whole_lines_that_rebuild_the_file) {
    std::string body;
    for (int i = 0; i < 500; ++i)
        body += std::string(static_cast<std::size_t>(i % 37), static_cast<char>('a' + i % 26)) + "\n";
    body += "no newline at the end";
    const std::string p = write("lines.txt", body);
    std::string rebuilt;
    std::size_t blocks = 0;
    const std::string error =
        cbtrade::read_file_lines(p, 1 << 20, "test file", 64, [&](std::string_view lines, std::size_t file_bytes) {
            EXPECT_EQ(file_bytes, body.size());
            EXPECT_LE(lines.size(), 64u);
            if (rebuilt.size() + lines.size() < body.size()) {
                EXPECT_EQ(lines.back(), '\n');
            }
            rebuilt += lines;
            ++blocks;
        });
    EXPECT_EQ(error, "");
    EXPECT_EQ(rebuilt, body);
    EXPECT_GT(blocks, body.size() / 64);
}

TEST_F(FileRead, line_blocks_refuse_a_line_longer_than_the_buffer) {
    const std::string p = write("long.txt", "short\n" + std::string(100, 'x') + "\n");
    std::string seen;
    const std::string error = cbtrade::read_file_lines(p, 1 << 20, "CSV file", 32,
                                                       [&](std::string_view lines, std::size_t) { seen += lines; });
    EXPECT_EQ(seen, "short\n");
    EXPECT_NE(error.find("long.txt: CSV file has a line longer than 32 bytes near byte 6"), std::string::npos) << error;
}

TEST_F(FileRead, line_blocks_refuse_what_a_whole_read_refuses) {
    const std::string fifo = dir_ + "/p";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    int calls = 0;
    const auto count = [&](std::string_view, std::size_t) { ++calls; };
    EXPECT_NE(cbtrade::read_file_lines(fifo, 1024, "CSV file", 64, count).find("FIFO"), std::string::npos);
    EXPECT_NE(cbtrade::read_file_lines(write("big", std::string(2000, 'x')), 1024, "CSV file", 64, count)
                  .find("over the 1 KiB limit"),
              std::string::npos);
    EXPECT_EQ(calls, 0);
    EXPECT_NE(cbtrade::read_file_lines("/proc/self/status", 1 << 20, "CSV file", 4096, count).find("grew past 0"),
              std::string::npos);
}

// A file cut short while it is read (here by the first block's consumer, mid-line): the fragment
// left at the end is not handed on as a last line; the error is the shrink, not whatever the caller
// would make of a cut row.
TEST_F(FileRead, line_blocks_do_not_hand_on_the_fragment_of_a_file_cut_short) {
    std::string body;
    for (int i = 0; i < 20; ++i) body += "abcdefghi\n";  // 200 bytes, lines of 10
    const std::string p = write("cut.txt", body);
    std::string seen;
    const std::string error =
        cbtrade::read_file_lines(p, 1 << 20, "CSV file", 64, [&](std::string_view lines, std::size_t) {
            if (seen.empty()) {
                EXPECT_EQ(::truncate(p.c_str(), 95), 0);  // mid-line, after 9 whole lines
            }
            seen += lines;
        });
    EXPECT_NE(error.find("changed while it was read (it shrank: end of file after 95 of its 200 bytes)"),
              std::string::npos)
        << error;
    EXPECT_EQ(seen, body.substr(0, 90));
}

TEST_F(FileRead, limits_are_described_in_binary_units) {
    EXPECT_EQ(cbtrade::describe_byte_limit(4ull << 30), "4 GiB");
    EXPECT_EQ(cbtrade::describe_byte_limit(1u << 20), "1 MiB");
    EXPECT_EQ(cbtrade::describe_byte_limit(64u << 10), "64 KiB");
    EXPECT_EQ(cbtrade::describe_byte_limit(1000), "1000 bytes");
}

}  // namespace
