#include "rlx/core/log.h"

#include <atomic>
#include <cstdio>

namespace rlx {
namespace {
std::atomic<LogLevel> g_level{LogLevel::Info};
}

void set_log_level(LogLevel level) {
  g_level = level;
}
LogLevel log_level() {
  return g_level;
}

void log_line(LogLevel level, const std::string& msg) {
  const char* prefix = level == LogLevel::Warn    ? "warning: "
                       : level == LogLevel::Error ? "error: "
                                                  : "";
  std::fprintf(stderr, "%s%s\n", prefix, msg.c_str());
}

}  // namespace rlx
