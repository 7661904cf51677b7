// `cbtrade live`'s configuration check: everything the configuration names that can be found wrong
// without trading, checked before the daemon prints, connects, or opens its journal, so that a bad
// value is one error line and exit 2 with nothing started (issue 13 item 7). core/config checks each
// value's form; this checks what needs the other subsystems: the URLs as io/url parses them, the TLS
// settings as wolfSSL takes them, the bridge and webhook URLs as their clients use them, the files.
#pragma once

#include <string_view>

#include "core/config.hpp"

namespace cbtrade {

// Throws ConfigError (exit 2) naming the key. `history_key` names where history_file came from
// (HISTORY_FILE or --history).
void check_live_configuration(const Config& c, std::string_view history_key);

}  // namespace cbtrade
