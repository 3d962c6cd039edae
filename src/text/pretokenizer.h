// Regex pre-tokenization (PCRE2, UTF + UCP + JIT), as HF's Split(behavior="Isolated").
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rlx::text::detail {

// One compiled split pattern. Thread-safe: matching state is per call.
class RegexSplitter {
 public:
  // `pattern` uses the Oniguruma/Rust syntax found in tokenizer.json files; `\s`/`\S` are
  // rewritten to the Unicode White_Space set that HF tokenizers and llama.cpp use (PCRE2's UCP
  // `\s` lacks U+0085).
  explicit RegexSplitter(const std::string& pattern);
  ~RegexSplitter();
  RegexSplitter(RegexSplitter&&) noexcept;
  RegexSplitter& operator=(RegexSplitter&&) noexcept;

  // Appends the pieces of `text` (valid UTF-8): every match, and every gap between matches, in
  // order. Empty matches are skipped.
  void split(std::string_view text, std::vector<std::string_view>& out) const;

  const std::string& pattern() const { return pattern_; }

 private:
  struct Impl;
  std::string pattern_;
  std::unique_ptr<Impl> impl_;
};

// Pre-tokenizer regexes by llama.cpp `tokenizer.ggml.pre` name (a sequence of splits applied in
// order). Throws rlx::Error for names it does not know.
std::vector<std::string> pre_patterns_for(const std::string& pre);

// The GPT-2 pattern, used by HF's ByteLevel pre-tokenizer when use_regex is true.
extern const char* const kGpt2Pattern;

// Rewrites `\s` and `\S` (outside and inside character classes) into explicit White_Space sets.
std::string rewrite_whitespace_classes(const std::string& pattern);

}  // namespace rlx::text::detail
