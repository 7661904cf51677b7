// core/file_read: the one way a whole input file is read (issue 9 items 1-3).
//
// Every file read whole (env files, CSV candles, key files, CA bundles, recordings) goes through
// read_whole_file so that the same hazards are refused everywhere, with a clear error instead of a
// hang, a signal or unbounded memory:
//   - anything but a regular file (a FIFO would block forever, /dev/zero never ends, a directory
//     reads as empty) is refused before it is read;
//   - a file larger than the caller's stated limit is refused before any memory is taken;
//   - a file that shrinks, grows or is rewritten while it is read is an error (it is read with
//     read(2) into memory, never mapped, so a truncation cannot raise SIGBUS).
// The contents never appear in an error (a key file is a secret); the path is escaped and cut.
#pragma once

#include <cstddef>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

namespace cbtrade {

struct FileContents {
    std::string contents;  // the whole file when error is empty
    std::string error;     // one line, e.g. "p: env file is a FIFO (named pipe), not a regular file"

    [[nodiscard]] bool ok() const noexcept { return error.empty(); }
};

// Reads the regular file at `path` whole. `what` names it in errors ("env file", "CSV file").
// Cold path: allocates, may block on disk I/O, never throws for a file problem.
[[nodiscard]] FileContents read_whole_file(const std::string& path, std::size_t max_bytes, std::string_view what);

// Reads the regular file at `path` (the same refusals as read_whole_file) through one reused buffer of
// `block_bytes`, handing `on_lines` blocks of whole lines: each block ends just after a '\n', except the
// last one when the file does not end with a newline. Memory stays at one block whatever the file's
// size, and nothing is mapped. `file_bytes` is the file's size (for reserving output). A line longer
// than `block_bytes` is an error. Returns "" or a one-line error; exceptions thrown by on_lines pass
// through. A file that changes while it is read is an error after the last block (so a caller that
// builds a result from the blocks discards it).
using LineBlockSink = std::function<void(std::string_view lines, std::size_t file_bytes)>;
[[nodiscard]] std::string read_file_lines(const std::string& path, std::size_t max_bytes, std::string_view what,
                                          std::size_t block_bytes, const LineBlockSink& on_lines);

// For a reader that streams a file itself (a recording, a decision log): the refusals of
// read_whole_file (anything but a regular file, or a file over `max_bytes`), then the file opened
// for reading as a stdio stream. Returns the stream (the caller fcloses it) or null with `error` set
// to one line naming the path and `what`.
[[nodiscard]] std::FILE* open_regular_file(const std::string& path, std::size_t max_bytes, std::string_view what,
                                           std::string& error);

// "4 GiB", "1 MiB", "512 KiB" or "100 bytes": how README and errors state a limit.
[[nodiscard]] std::string describe_byte_limit(std::size_t bytes);

}  // namespace cbtrade
