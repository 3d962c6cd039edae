// Logging to stderr (stdout is reserved for results).
#pragma once
#include <fmt/format.h>

namespace rlx {

enum class LogLevel { Debug, Info, Warn, Error, Quiet };
void set_log_level(LogLevel level);
LogLevel log_level();
void log_line(LogLevel level, const std::string& msg);
// A one-line progress bar on stderr ("\r" updates on a terminal; on a pipe, a line at
// start and end only). `fraction` in [0, 1]; 1 finishes the line.
void log_progress(const std::string& what, double fraction, const std::string& detail = "");

template <class... A>
void log_info(fmt::format_string<A...> f, A&&... a) {
  if (log_level() <= LogLevel::Info)
    log_line(LogLevel::Info, fmt::format(f, std::forward<A>(a)...));
}
template <class... A>
void log_warn(fmt::format_string<A...> f, A&&... a) {
  if (log_level() <= LogLevel::Warn)
    log_line(LogLevel::Warn, fmt::format(f, std::forward<A>(a)...));
}
template <class... A>
void log_debug(fmt::format_string<A...> f, A&&... a) {
  if (log_level() <= LogLevel::Debug)
    log_line(LogLevel::Debug, fmt::format(f, std::forward<A>(a)...));
}

}  // namespace rlx
