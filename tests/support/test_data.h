// Locations of test data. Missing data fails the test (never a silent pass).
#pragma once
#include <string>

namespace rlx::test {

std::string shared_fixtures_dir();  // ../shared/fixtures
std::string data_dir();             // $RLX_DATA_DIR or ~/.cache/rlx-data (scripts/fetch-test-data)
std::string repo_dir();
std::string binary_dir();
std::string rlx_binary();  // the built `rlx` CLI
// Returns the path and records a gtest failure if the file does not exist.
std::string require_file(const std::string& path);

}  // namespace rlx::test
