// Runs the built `rlx` binary and captures its exit code, stdout and stderr.
#pragma once
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "support/test_data.h"

namespace rlx::clitest {

struct Result {
  int code = -1;
  std::string out, err;
};

inline std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

inline std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Fails the test (fatally for the caller via ASSERT on the result) when the binary is missing:
// build it with `ninja rlx_cli`.
inline bool binary_present() {
  bool ok = std::filesystem::exists(rlx::test::rlx_binary());
  if (!ok)
    ADD_FAILURE() << "the rlx binary is missing: " << rlx::test::rlx_binary()
                  << " (build the rlx_cli target first)";
  return ok;
}

// `args` is appended verbatim (quote paths with quote()).
inline Result run_rlx(const std::string& args) {
  static std::atomic<int> counter{0};
  Result r;
  if (!binary_present()) return r;
  auto base = std::filesystem::temp_directory_path() /
              ("rlx-cli-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::string out = base.string() + ".out", err = base.string() + ".err";
  std::string cmd =
      quote(rlx::test::rlx_binary()) + " " + args + " >" + quote(out) + " 2>" + quote(err);
  int status = std::system(cmd.c_str());
  r.code =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  r.out = slurp(out);
  r.err = slurp(err);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}

}  // namespace rlx::clitest
