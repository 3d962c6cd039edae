// Tokenizers built from llama.cpp's vocab-only GGUF files, checked against the test vectors that
// ship beside them (models/ggml-vocab-*.gguf.inp/.out, made with HF tokenizers).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "rlx/core/error.h"
#include "rlx/io/gguf.h"
#include "rlx/text/tokenizer.h"
#include "support/test_data.h"

namespace rlx::text {
namespace {

using Ids = std::vector<int32_t>;

std::string vocab_path(const std::string& name) {
  return test::data_dir() + "/llama.cpp/models/ggml-vocab-" + name + ".gguf";
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The .inp format of llama.cpp's tests/test-tokenizer-0: inputs separated by a
// "\n__ggml_vocab_test__\n" line; .out: one line of space-separated ids per input.
std::vector<std::pair<std::string, Ids>> read_vectors(const std::string& gguf) {
  const std::string raw = read_all(test::require_file(gguf + ".inp"));
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> inputs;
  for (size_t pos = 0; pos < raw.size();) {
    size_t next = raw.find(sep, pos);
    if (next == std::string::npos) {
      inputs.push_back(raw.substr(pos));
      break;
    }
    inputs.push_back(raw.substr(pos, next - pos));
    pos = next + sep.size();
  }
  std::ifstream out(test::require_file(gguf + ".out"));
  std::vector<std::pair<std::string, Ids>> tests;
  std::string line;
  for (size_t i = 0; std::getline(out, line); ++i) {
    Ids ids;
    std::istringstream ls(line);
    for (int32_t id; ls >> id;) ids.push_back(id);
    if (i < inputs.size()) tests.emplace_back(inputs[i], std::move(ids));
  }
  EXPECT_EQ(tests.size(), inputs.size()) << gguf;
  return tests;
}

class GgufVocab : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufVocab, MatchesLlamaCppVectors) {
  const std::string path = test::require_file(vocab_path(GetParam()));
  const io::GgufFile file = io::GgufFile::open(path);
  const Tokenizer tok = Tokenizer::from_gguf(file);
  const auto tests = read_vectors(path);
  ASSERT_FALSE(tests.empty());
  size_t ok = 0;
  for (const auto& [text, want] : tests) {
    const Ids got = tok.encode(text);
    if (got == want) {
      ++ok;
    } else {
      ADD_FAILURE() << GetParam() << ": mismatch for '" << text << "'";
    }
    // The vectors are valid UTF-8; none of these vocabularies normalizes ASCII-only changes.
    if (tok.encode(tok.decode(got)) != got) {
      ADD_FAILURE() << GetParam() << ": decode/encode round trip fails for '" << text << "'";
    }
  }
  std::printf("[parity] ggml-vocab-%s vs llama.cpp vectors: %zu/%zu match\n", GetParam().c_str(),
              ok, tests.size());
}

INSTANTIATE_TEST_SUITE_P(Vocabs, GgufVocab,
                         ::testing::Values("qwen2", "qwen35", "llama-bpe", "gpt-2", "llama-spm"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) c = (c == '-') ? '_' : c;
                           return n;
                         });

TEST(GgufVocab, Qwen2Metadata) {
  const io::GgufFile file = io::GgufFile::open(test::require_file(vocab_path("qwen2")));
  const Tokenizer tok = Tokenizer::from_gguf(file);
  EXPECT_EQ(tok.vocab_size(), 151936);
  EXPECT_EQ(tok.token_id("<|im_end|>"), 151645);
  EXPECT_TRUE(tok.is_special(151645));
  EXPECT_EQ(tok.encode("Hello world<|im_end|>"), (Ids{9707, 1879, 151645}));
  EXPECT_EQ(tok.decode(Ids{9707, 1879, 151645}, /*skip_special=*/true), "Hello world");
}

TEST(GgufVocab, LlamaSpmMetadata) {
  // SentencePiece vocabulary (tokenizer.ggml.model = "llama"): scores, <0xNN> byte tokens,
  // add_space_prefix, BOS added by default.
  const io::GgufFile file = io::GgufFile::open(test::require_file(vocab_path("llama-spm")));
  const Tokenizer tok = Tokenizer::from_gguf(file);
  EXPECT_EQ(tok.vocab_size(), 32000);
  EXPECT_EQ(tok.bos_id(), 1);
  EXPECT_EQ(tok.eos_id(), 2);
  EXPECT_TRUE(tok.add_bos());
  EXPECT_FALSE(tok.add_eos());
  EXPECT_TRUE(tok.strips_leading_space());
  EXPECT_EQ(tok.token_text(15043), "\xE2\x96\x81Hello");
  EXPECT_EQ(tok.encode("Hello world"), (Ids{15043, 3186}));
  EXPECT_EQ(tok.encode("Hello world", /*add_special=*/true), (Ids{1, 15043, 3186}));
  // Control tokens in the text are matched; the text after them gets its own "▁".
  EXPECT_EQ(tok.encode("<s>Hello</s>"), (Ids{1, 15043, 2}));
  EXPECT_EQ(tok.decode(Ids{1, 15043, 3186, 2}, /*skip_special=*/true), "Hello world");
  EXPECT_EQ(tok.decode(Ids{15043, 3186}), "Hello world");
  // A character without a piece falls back to its UTF-8 bytes, which decode reassembles.
  const Ids emoji = tok.encode("\xF0\x9F\xA6\x99");  // U+1F999
  EXPECT_EQ(emoji, (Ids{29871, 243, 162, 169, 156}));
  EXPECT_EQ(tok.decode(emoji), "\xF0\x9F\xA6\x99");
  EXPECT_EQ(tok.token_bytes(13), "\n");  // <0x0A>
  // Streaming never emits half a character, and drops the leading space like decode().
  StreamDecoder sd(tok, /*skip_special=*/true);
  std::string streamed;
  for (int32_t id : Ids{1, 29871, 243, 162, 169, 156, 15043}) {
    const std::string part = sd.feed(id);
    EXPECT_TRUE(part.empty() || part == "\xF0\x9F\xA6\x99" || part == " Hello") << part;
    streamed += part;
  }
  streamed += sd.flush();
  EXPECT_EQ(streamed, "\xF0\x9F\xA6\x99 Hello");
}

TEST(GgufVocab, RejectsOtherModels) {
  // A model type this tokenizer does not handle (BERT's WordPiece) is refused.
  const io::GgufFile file = io::GgufFile::open(test::require_file(vocab_path("bert-bge")));
  EXPECT_THROW(Tokenizer::from_gguf(file), Error);
}

}  // namespace
}  // namespace rlx::text
