// core/numbers: strict, range-checked numbers from outside text, for configuration values and
// command-line flags alike (issue 9 item 10). The whole text must be the number (no sign games,
// no trailing text, no "inf"/"nan"), and it must lie in the stated range, so a value such as
// `--duration-sec 1e300` never reaches a float-to-integer conversion.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace cbtrade {

// A finite number in [min, max] (or (min, max] with min_exclusive), else nullopt.
[[nodiscard]] std::optional<double> parse_number_in(std::string_view text, double min, double max,
                                                    bool min_exclusive = false) noexcept;

// A decimal integer in [min, max], else nullopt.
[[nodiscard]] std::optional<std::int64_t> parse_int_in(std::string_view text, std::int64_t min,
                                                       std::int64_t max) noexcept;

// Command-line flags: the value, or a UsageError (exit 2) that names the flag, quotes the value
// short and escaped, and says what is accepted:
//   --duration-sec: 'inf' is invalid: expected seconds above 0 and at most 31536000
[[nodiscard]] double number_flag(std::string_view flag, std::string_view text, double min, double max,
                                 bool min_exclusive, std::string_view accepted);
[[nodiscard]] std::int64_t int_flag(std::string_view flag, std::string_view text, std::int64_t min, std::int64_t max,
                                    std::string_view accepted);

}  // namespace cbtrade
