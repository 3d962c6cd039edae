// rlx::Error is the one exception type for bad input (files, configs, flags, prompts).
// Bugs use RLX_ASSERT, which aborts with a message.
#pragma once
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace rlx {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <class... Args>
[[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(fmt::format(f, std::forward<Args>(args)...));
}

[[noreturn]] void assert_failed(const char* expr, const char* file, int line,
                                const std::string& msg);

}  // namespace rlx

// Throws rlx::Error with a formatted message when COND is false (for bad input).
#define RLX_CHECK(cond, ...)               \
  do {                                     \
    if (!(cond)) ::rlx::fail(__VA_ARGS__); \
  } while (0)

// Internal invariant; a failure is a bug in rlx, never the user's input.
#define RLX_ASSERT(cond, ...)                                                                  \
  do {                                                                                         \
    if (!(cond)) ::rlx::assert_failed(#cond, __FILE__, __LINE__, fmt::format("" __VA_ARGS__)); \
  } while (0)
