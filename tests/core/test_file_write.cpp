// core/file_write: a failed write is an error, never a silent loss (issue 9 item 11).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/error.hpp"
#include "core/file_write.hpp"

namespace cbtrade {
namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

class FileWrite : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/cbtrade-file-write-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string dir_;
};

TEST_F(FileWrite, writes_the_whole_content_and_leaves_no_temporary) {
    const std::string p = dir_ + "/r.json";
    write_file_atomically(p, "{\"a\":1}\n", "JSON report");
    EXPECT_EQ(slurp(p), "{\"a\":1}\n");
    write_file_atomically(p, "second", "JSON report");
    EXPECT_EQ(slurp(p), "second");
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir_)) ++files;
    EXPECT_EQ(files, 1u);
}

TEST_F(FileWrite, a_full_device_is_an_error_naming_the_path) {
    try {
        write_file_atomically("/dev/full", std::string(100000, 'x'), "HTML report");
        FAIL() << "writing to /dev/full succeeded";
    } catch (const RunError& e) {
        EXPECT_EQ(std::string(e.what()), "/dev/full: HTML report write failed: No space left on device");
    }
}

TEST_F(FileWrite, a_missing_directory_is_an_error) {
    EXPECT_THROW(write_file_atomically(dir_ + "/no/such/dir/r.json", "x", "JSON report"), RunError);
}

// A write cut short (here by RLIMIT_FSIZE, as a full disk would) leaves the earlier file whole.
TEST_F(FileWrite, a_failed_write_keeps_the_earlier_file) {
    const std::string p = dir_ + "/r.json";
    write_file_atomically(p, "old report", "JSON report");
    rlimit old{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
    auto* const previous = std::signal(SIGXFSZ, SIG_IGN);
    rlimit small = old;
    small.rlim_cur = 4096;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
    EXPECT_THROW(write_file_atomically(p, std::string(100000, 'n'), "JSON report"), RunError);
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
    std::signal(SIGXFSZ, previous);
    EXPECT_EQ(slurp(p), "old report");
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir_)) ++files;
    EXPECT_EQ(files, 1u) << "the temporary file was left behind";
}

TEST(FlushOrThrow, buffered_output_to_a_full_device_is_an_error) {
    std::FILE* f = std::fopen("/dev/full", "w");
    ASSERT_NE(f, nullptr);
    std::fputs("report that cannot be written\n", f);
    try {
        flush_or_throw(f, "standard output");
        FAIL() << "no error";
    } catch (const RunError& e) {
        EXPECT_EQ(std::string(e.what()), "standard output: write failed: No space left on device");
    }
    std::fclose(f);
}

}  // namespace
}  // namespace cbtrade
