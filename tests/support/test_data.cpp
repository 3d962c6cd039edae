#include "support/test_data.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace rlx::test {

std::string shared_fixtures_dir() {
  return RLX_SHARED_FIXTURES;
}

std::string data_dir() {
  const char* env = std::getenv("RLX_DATA_DIR");
  return env && *env ? env : RLX_DATA_DIR_DEFAULT;
}

std::string repo_dir() {
  return RLX_REPO_DIR;
}
std::string binary_dir() {
  return RLX_BINARY_DIR;
}
std::string rlx_binary() {
  return std::string(RLX_BINARY_DIR) + "/tools/rlx/rlx";
}

std::string require_file(const std::string& path) {
  if (!std::filesystem::exists(path))
    ADD_FAILURE() << "missing test data: " << path
                  << " (run scripts/fetch-test-data, or check ../shared/fixtures)";
  return path;
}

}  // namespace rlx::test
