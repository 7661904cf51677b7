#include "tools/cli_args.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "core/error.hpp"
#include "core/text.hpp"

namespace cbtrade {

double parse_seconds(std::string_view opt, std::string_view v) {
    const std::string s(v);
    char* end = nullptr;
    errno = 0;
    const double d = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || errno != 0 || !(d >= 0) || d > 365.0 * 86400)
        throw UsageError(std::string(opt) + " needs seconds from 0 to 31536000, got " + quote_for_message(v));
    return d;
}

Args parse_args(int argc, char** argv, int first, std::initializer_list<std::string_view> flags,
                std::initializer_list<std::string_view> valued) {
    Args a;
    for (int i = first; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg.rfind("--", 0) != 0) {
            a.positional.push_back(arg);
            continue;
        }
        std::string value;
        bool has_inline = false;
        if (const auto eq = arg.find('='); eq != std::string::npos) {
            value = arg.substr(eq + 1);
            arg.resize(eq);
            has_inline = true;
        }
        const bool is_valued = arg == "--env-file" || std::find(valued.begin(), valued.end(), arg) != valued.end();
        const bool is_flag = std::find(flags.begin(), flags.end(), arg) != flags.end();
        if (!is_valued && !is_flag) throw UsageError("unknown option " + arg);
        if (is_valued && !has_inline) {
            if (i + 1 >= argc) throw UsageError(arg + " needs a value");
            value = argv[++i];
        }
        if (arg == "--env-file") a.env_files.push_back(value);
        else a.options.emplace_back(arg, value);
    }
    return a;
}

}  // namespace cbtrade
