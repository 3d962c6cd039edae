// Tokenizer for chat templates. Whitespace control is applied here, to the text between tags:
// `-` on a tag strips all whitespace on that side; like transformers and @huggingface/jinja,
// trim_blocks (drop the newline after a block/comment tag) and lstrip_blocks (drop spaces and
// tabs before a block/comment tag that starts a line) are on, and one trailing newline of the
// template is dropped.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rlx::text::jinja {

struct Pos {
  int line = 0;
  int col = 0;
};

enum class Tok : uint8_t {
  Text,        // literal text between tags
  VarBegin,    // {{
  VarEnd,      // }}
  BlockBegin,  // {%
  BlockEnd,    // %}
  Name,
  String,
  Int,
  Float,
  Op,  // punctuation and operators: ( ) [ ] { } , . : | = == != < > <= >= + - * / // % ** ~
  Eof,
};

struct Token {
  Tok type;
  std::string text;  // text, name, decoded string literal, operator
  Pos pos;
  int64_t int_value = 0;
  double float_value = 0;
};

// Throws rlx::Error "chat template L:C: syntax error: ..." on malformed input.
std::vector<Token> tokenize(std::string_view source);

[[noreturn]] void syntax_error(Pos pos, const std::string& msg);

}  // namespace rlx::text::jinja
