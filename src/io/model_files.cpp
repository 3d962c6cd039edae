#include "rlx/io/model_files.h"

#include <algorithm>
#include <filesystem>
#include <optional>

#include "rlx/core/error.h"
#include "rlx/io/gguf.h"
#include "rlx/io/safetensors.h"

namespace rlx::io {
namespace fs = std::filesystem;
namespace {

// "<stem>-<i>-of-<n>.gguf" with 5-digit i and n (llama.cpp's split naming).
struct SplitName {
  std::string stem;
  int index = 0, count = 0;
};

std::optional<SplitName> parse_split_name(const std::string& path) {
  static const std::string kSuffix = ".gguf";
  // ...-00001-of-00003.gguf: 1 + 5 + 4 + 5 + 5 characters after the stem.
  const size_t tail = 1 + 5 + 4 + 5 + kSuffix.size();
  if (path.size() <= tail) return std::nullopt;
  const std::string t = path.substr(path.size() - tail);
  auto digits = [](const std::string& d) {
    return d.find_first_not_of("0123456789") == std::string::npos;
  };
  if (t[0] != '-' || t.compare(6, 4, "-of-") != 0 || t.compare(15, 5, kSuffix) != 0 ||
      !digits(t.substr(1, 5)) || !digits(t.substr(10, 5)))
    return std::nullopt;
  return SplitName{path.substr(0, path.size() - tail), std::stoi(t.substr(1, 5)),
                   std::stoi(t.substr(10, 5))};
}

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

ModelFiles gguf_files(const std::string& path) {
  ModelFiles m{WeightFormat::Gguf, {path}, fs::path(path).parent_path().string()};
  GgufFile g = GgufFile::open(path);
  auto count = g.int_or("split.count");
  if (!count || *count <= 1) return m;
  auto names = split_gguf_names(path);
  RLX_CHECK(!names.empty(),
            "{}: split.count is {} but the file name is not of the form "
            "<name>-00001-of-{:05d}.gguf",
            path, *count, *count);
  RLX_CHECK(int64_t(names.size()) == *count, "{}: split.count is {} but the name says {} parts",
            path, *count, names.size());
  std::vector<std::string> missing;
  for (auto& n : names)
    if (!fs::exists(n)) missing.push_back(fs::path(n).filename().string());
  if (!missing.empty())
    fail("{}: split GGUF model is incomplete: missing {} of {} shard(s): {}", path, missing.size(),
         names.size(), fmt::join(missing, ", "));
  m.files = names;
  return m;
}

}  // namespace

std::vector<std::string> split_gguf_names(const std::string& path) {
  auto split = parse_split_name(path);
  if (!split) return {};
  std::vector<std::string> names;
  for (int i = 1; i <= split->count; ++i)
    names.push_back(fmt::format("{}-{:05d}-of-{:05d}.gguf", split->stem, i, split->count));
  return names;
}

ModelFiles resolve_model_files(const std::string& path, const std::string& prefer) {
  RLX_CHECK(fs::exists(path), "model path '{}' does not exist", path);
  if (fs::is_regular_file(path)) {
    if (ends_with(path, ".gguf")) return gguf_files(path);
    if (ends_with(path, ".index.json"))
      return {WeightFormat::Safetensors, safetensors_index_shards(path),
              fs::path(path).parent_path().string()};
    if (ends_with(path, ".safetensors"))
      return {WeightFormat::Safetensors, {path}, fs::path(path).parent_path().string()};
    fail("'{}': expected a .gguf or .safetensors file (or a model directory)", path);
  }
  RLX_CHECK(fs::is_directory(path), "'{}' is neither a file nor a directory", path);
  std::vector<std::string> st, ggufs, indexes;
  for (auto& e : fs::directory_iterator(path)) {
    if (!e.is_regular_file()) continue;
    std::string f = e.path().string();
    if (ends_with(f, ".safetensors.index.json"))
      indexes.push_back(f);
    else if (ends_with(f, ".safetensors"))
      st.push_back(f);
    else if (ends_with(f, ".gguf"))
      ggufs.push_back(f);
  }
  std::sort(st.begin(), st.end());
  std::sort(ggufs.begin(), ggufs.end());
  if (!indexes.empty()) {
    std::string idx = fs::path(path) / "model.safetensors.index.json";
    if (!fs::exists(idx)) idx = indexes.front();
    return {WeightFormat::Safetensors, safetensors_index_shards(idx), path};
  }
  if (fs::exists(fs::path(path) / "model.safetensors"))
    return {WeightFormat::Safetensors, {(fs::path(path) / "model.safetensors").string()}, path};
  if (st.size() == 1) return {WeightFormat::Safetensors, st, path};
  RLX_CHECK(st.empty(), "'{}' holds {} .safetensors files but no model.safetensors.index.json",
            path, st.size());
  // Each split series counts as one candidate, named by its first shard.
  std::vector<std::string> candidates;
  for (auto& g : ggufs) {
    if (auto split = parse_split_name(g); split && split->index != 1) continue;
    candidates.push_back(g);
  }
  RLX_CHECK(!candidates.empty(), "'{}' contains no .gguf or .safetensors weights", path);
  if (candidates.size() == 1) return gguf_files(candidates[0]);
  std::vector<std::string> matching;
  if (!prefer.empty())
    for (auto& c : candidates) {
      std::string name = fs::path(c).filename().string(), a = name, b = prefer;
      std::transform(a.begin(), a.end(), a.begin(), ::toupper);
      std::transform(b.begin(), b.end(), b.begin(), ::toupper);
      if (a.find(b) != std::string::npos) matching.push_back(c);
    }
  if (matching.size() == 1) return gguf_files(matching[0]);
  std::vector<std::string> names;
  for (auto& c : candidates) names.push_back(fs::path(c).filename().string());
  fail("'{}' holds {} GGUF models{}; choose one with --prefer TYPE or pass the file: {}", path,
       candidates.size(),
       prefer.empty() ? "" : fmt::format(" and {} match '{}'", matching.size(), prefer),
       fmt::join(names, ", "));
}

}  // namespace rlx::io
