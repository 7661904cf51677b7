// core/file_write: output that is either complete or an error (issue 9 item 11).
//
// A report, JSON, HTML page or recording whose write failed (disk full, /dev/full, a closed pipe)
// must not end in exit 0 with the output silently lost. Files are written to a temporary name in
// the same directory, synced and renamed over the target, so a reader never sees half a file and a
// failed write leaves any earlier file in place. Standard output is checked once at the end.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace cbtrade {

// Writes `content` to `path` atomically. Throws RunError naming the path, `what` ("JSON report")
// and the system's reason. Cold path.
void write_file_atomically(const std::string& path, std::string_view content, std::string_view what);

// Flushes `stream` and throws RunError ("standard output: write failed: No space left on device")
// if any write to it failed since it was opened.
void flush_or_throw(std::FILE* stream, std::string_view name);

}  // namespace cbtrade
