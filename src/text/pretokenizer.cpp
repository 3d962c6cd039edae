#include "text/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "rlx/core/error.h"
#include "text/unicode.h"

namespace rlx::text::detail {

const char* const kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

namespace {

// Unicode White_Space, written for use inside a character class.
constexpr const char* kWhiteSpaceSet =
    R"(\t\n\x{0B}\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";

constexpr const char* kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen35Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kChatGlm4Pattern =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(code, buf, sizeof(buf));
  return reinterpret_cast<const char*>(buf);
}

}  // namespace

std::string rewrite_whitespace_classes(const std::string& pattern) {
  std::string out;
  out.reserve(pattern.size() + 64);
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      char e = pattern[++i];
      if (e == 's') {
        out += in_class ? std::string(kWhiteSpaceSet) : "[" + std::string(kWhiteSpaceSet) + "]";
      } else if (e == 'S') {
        RLX_CHECK(!in_class,
                  "pre-tokenizer regex: \\S inside a character class is not supported: {}",
                  pattern);
        out += "[^" + std::string(kWhiteSpaceSet) + "]";
      } else {
        out += c;
        out += e;
      }
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal member, not the end of the class.
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];
      continue;
    }
    if (in_class && c == ']') in_class = false;
    out += c;
  }
  return out;
}

struct RegexSplitter::Impl {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Impl() {
    if (code) pcre2_code_free(code);
  }
};

RegexSplitter::RegexSplitter(const std::string& pattern)
    : pattern_(pattern), impl_(std::make_unique<Impl>()) {
  const std::string rewritten = rewrite_whitespace_classes(pattern);
  int err = 0;
  PCRE2_SIZE err_off = 0;
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(rewritten.data()), rewritten.size(),
                              PCRE2_UTF | PCRE2_UCP, &err, &err_off, nullptr);
  RLX_CHECK(impl_->code != nullptr, "pre-tokenizer regex does not compile ({} at offset {}): {}",
            pcre2_message(err), err_off, pattern);
  impl_->jit = pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE) == 0;
}

RegexSplitter::~RegexSplitter() = default;
RegexSplitter::RegexSplitter(RegexSplitter&&) noexcept = default;
RegexSplitter& RegexSplitter::operator=(RegexSplitter&&) noexcept = default;

void RegexSplitter::split(std::string_view text, std::vector<std::string_view>& out) const {
  auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  const size_t n = text.size();
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(impl_->code, nullptr);
  pcre2_match_context* mctx = nullptr;
  pcre2_jit_stack* big_stack = nullptr;
  auto run = [&](size_t pos) {
    // The subject was validated once by the caller; per-call UTF checks would make splitting
    // quadratic in the text length.
    int rc = impl_->jit ? pcre2_jit_match(impl_->code, subject, n, pos, 0, md, mctx)
                        : pcre2_match(impl_->code, subject, n, pos, PCRE2_NO_UTF_CHECK, md, mctx);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !big_stack) {
      // Pathological inputs (huge runs) can exhaust the default 32 KiB JIT stack.
      big_stack = pcre2_jit_stack_create(64 * 1024, 64 * 1024 * 1024, nullptr);
      mctx = pcre2_match_context_create(nullptr);
      pcre2_jit_stack_assign(mctx, nullptr, big_stack);
      rc = pcre2_jit_match(impl_->code, subject, n, pos, 0, md, mctx);
    }
    return rc;
  };
  size_t last = 0, pos = 0;
  while (pos < n) {
    int rc = run(pos);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      pcre2_match_data_free(md);
      if (mctx) pcre2_match_context_free(mctx);
      if (big_stack) pcre2_jit_stack_free(big_stack);
      fail("pre-tokenizer regex failed: {}", pcre2_message(rc));
    }
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    size_t ms = ov[0], me = ov[1];
    if (me == ms) {  // empty match: not a piece; retry one character later
      if (ms >= n) break;
      Utf8Step st = utf8_step(reinterpret_cast<const unsigned char*>(text.data()) + ms, n - ms);
      pos = ms + static_cast<size_t>(st.len);
      continue;
    }
    if (ms > last) out.push_back(text.substr(last, ms - last));
    out.push_back(text.substr(ms, me - ms));
    last = pos = me;
  }
  if (last < n) out.push_back(text.substr(last));
  pcre2_match_data_free(md);
  if (mctx) pcre2_match_context_free(mctx);
  if (big_stack) pcre2_jit_stack_free(big_stack);
}

std::vector<std::string> pre_patterns_for(const std::string& pre) {
  if (pre == "gpt2" || pre == "gpt-2" || pre == "phi-2" || pre == "mpt" || pre == "olmo" ||
      pre == "jina-es" || pre == "jina-de" || pre == "roberta-bpe") {
    return {kGpt2Pattern};
  }
  if (pre == "llama3" || pre == "llama-v3" || pre == "llama-bpe" || pre == "falcon3" ||
      pre == "pixtral" || pre == "smaug-bpe" || pre == "dbrx") {
    return {kLlama3Pattern};
  }
  if (pre == "qwen2" || pre == "deepseek-r1-qwen" || pre == "stablelm2" || pre == "hunyuan") {
    return {kQwen2Pattern};
  }
  if (pre == "qwen35") return {kQwen35Pattern};
  if (pre == "chatglm-bpe" || pre == "glm4") return {kChatGlm4Pattern};
  if (pre == "default") {
    // llama.cpp's fallback for BPE vocabularies without a known pre-tokenizer.
    return {R"([\p{P}\$\+<=>\^~\|]+)",
            R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))",
            R"(\p{N}+)", "[0-9][0-9][0-9]"};
  }
  fail("unsupported BPE pre-tokenizer '{}' (tokenizer.ggml.pre)", pre);
}

}  // namespace rlx::text::detail
