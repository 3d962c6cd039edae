// Logging to stderr (stdout is reserved for results).
#pragma once
#include <fmt/format.h>

namespace rlx {

enum class LogLevel { Debug, Info, Warn, Error, Quiet };
void set_log_level(LogLevel level);
LogLevel log_level();
void log_line(LogLevel level, const std::string& msg);

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
