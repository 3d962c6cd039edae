#include "rlx/core/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace rlx {
namespace {
// RLX_LOG=debug shows debug lines (program sizes and the like) without a flag on every command.
LogLevel initial_level() {
  const char* env = std::getenv("RLX_LOG");
  return env && std::strcmp(env, "debug") == 0 ? LogLevel::Debug : LogLevel::Info;
}
std::atomic<LogLevel> g_level{initial_level()};
}  // namespace

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

void log_progress(const std::string& what, double fraction, const std::string& detail) {
  if (log_level() > LogLevel::Info) return;
  static const bool tty = isatty(STDERR_FILENO);
  const bool done = fraction >= 1.0;
  if (!tty) {
    if (fraction <= 0.0 || done)
      std::fprintf(stderr, "%s: %s%s\n", what.c_str(), done ? "done" : "started",
                   detail.empty() ? "" : (" (" + detail + ")").c_str());
    return;
  }
  constexpr int kWidth = 30;
  int filled = int(fraction * kWidth + 0.5);
  std::fprintf(stderr, "\r%s [%.*s%*s] %3d%% %s%s", what.c_str(), filled,
               "##############################", kWidth - filled, "", int(fraction * 100 + 0.5),
               detail.c_str(), done ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace rlx
