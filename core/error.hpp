// core/error: the one error style of the cold path (DESIGN.md section 4).
//
// Cold code (configuration, start-up, file loading, the CLI) throws one of these; the command
// boundary in tools/ catches them, prints what() as one line and exits with exit_code(). Hot code
// (poll(), decoders, the trader) never throws: it returns negative errno values or a small
// [[nodiscard]] status, and counts what it refused.
//
// what() is one line that names what and where (file:line, key, host:port) and never holds a secret;
// quote outside text only through quote_for_message() (core/text.hpp).
#pragma once

#include <stdexcept>
#include <string>

namespace cbtrade {

// Process exit codes (README): 0 success, 1 the input data or a run failed, 2 usage or configuration.
enum class ExitCode : int { ok = 0, failed = 1, usage = 2 };

class Error : public std::runtime_error {
public:
    Error(ExitCode code, const std::string& what) : std::runtime_error(what), code_(code) {}
    [[nodiscard]] ExitCode exit_code() const noexcept { return code_; }

private:
    ExitCode code_;
};

// A command line that cannot be run: unknown option, missing value, out-of-range flag (exit 2).
class UsageError : public Error {
public:
    explicit UsageError(const std::string& what) : Error(ExitCode::usage, what) {}
};

// A configuration key, env file or value that cannot be used (exit 2). Names the key and origin.
class ConfigError : public Error {
public:
    explicit ConfigError(const std::string& what) : Error(ExitCode::usage, what) {}
};

// Input data that cannot be used: a CSV, a recording, a journal, an answer from a server (exit 1).
class DataError : public Error {
public:
    explicit DataError(const std::string& what) : Error(ExitCode::failed, what) {}
};

// The run itself failed: I/O, network, a resource the system refused (exit 1).
class RunError : public Error {
public:
    explicit RunError(const std::string& what) : Error(ExitCode::failed, what) {}
};

}  // namespace cbtrade
