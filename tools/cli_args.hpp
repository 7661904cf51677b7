// tools/: the command line after `cbtrade <command>`: --env-file FILE (every command, repeatable),
// the command's own --flags and --options VALUE (also --option=VALUE), and positional arguments.
// An unknown option or a missing value is a UsageError (exit 2).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cbtrade {

struct Args {
    std::vector<std::string> env_files;
    std::vector<std::string> positional;
    std::vector<std::pair<std::string, std::string>> options;  // --name value (value empty for flags)

    [[nodiscard]] bool flag(std::string_view name) const {
        for (const auto& [k, v] : options)
            if (k == name) return true;
        return false;
    }
    // The last value given for `name`, or empty.
    [[nodiscard]] std::string value(std::string_view name) const {
        std::string out;
        for (const auto& [k, v] : options)
            if (k == name) out = v;
        return out;
    }
};

// A --duration-like option's value: seconds from 0 to a year, else a UsageError naming the option.
[[nodiscard]] double parse_seconds(std::string_view option, std::string_view value);

[[nodiscard]] Args parse_args(int argc, char** argv, int first, std::initializer_list<std::string_view> flags,
                              std::initializer_list<std::string_view> valued);

}  // namespace cbtrade
