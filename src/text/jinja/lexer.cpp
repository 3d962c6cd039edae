#include "text/jinja/lexer.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "rlx/core/error.h"

namespace rlx::text::jinja {

void syntax_error(Pos pos, const std::string& msg) {
  rlx::fail("chat template {}:{}: syntax error: {}", pos.line, pos.col, msg);
}

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) {
  return is_name_start(c) || is_digit(c);
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xc0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += char(0xe0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3f));
    out += char(0x80 | (cp & 0x3f));
  } else {
    out += char(0xf0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3f));
    out += char(0x80 | ((cp >> 6) & 0x3f));
    out += char(0x80 | (cp & 0x3f));
  }
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {
    // Jinja's default keep_trailing_newline=False: one trailing newline is dropped.
    if (!src_.empty() && src_.back() == '\n') src_.remove_suffix(1);
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i)
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
  }

  std::vector<Token> run() {
    size_t pos = 0;
    bool strip_left = false;    // previous tag ended with '-'
    bool trim_newline = false;  // previous tag was a block/comment (trim_blocks)
    while (pos < src_.size()) {
      size_t tag = find_tag(pos);
      if (tag == std::string_view::npos) break;
      const char kind = src_[tag + 1];  // '{', '%' or '#'
      const char mod = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
      bool strip_right = mod == '-';
      bool lstrip = (kind == '%' || kind == '#') && mod != '+' && !strip_right;
      emit_text(pos, tag, strip_left, trim_newline, strip_right, lstrip);
      size_t p = tag + 2 + ((mod == '-' || mod == '+') ? 1 : 0);
      if (kind == '#') {
        size_t end = src_.find("#}", p);
        if (end == std::string_view::npos) syntax_error(pos_of(tag), "unterminated comment");
        strip_left = end > p && src_[end - 1] == '-';
        trim_newline = true;
        pos = end + 2;
        continue;
      }
      const bool block = kind == '%';
      add(block ? Tok::BlockBegin : Tok::VarBegin, block ? "{%" : "{{", tag);
      pos = lex_inside(p, block, tag, strip_left);
      trim_newline = block;
      if (block) pos = maybe_raw(pos, strip_left, trim_newline);
    }
    if (pos < src_.size()) emit_text(pos, src_.size(), strip_left, trim_newline, false, false);
    add(Tok::Eof, "", src_.size());
    return std::move(tokens_);
  }

 private:
  Pos pos_of(size_t offset) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    size_t line = size_t(it - line_starts_.begin());
    return Pos{int(line), int(offset - line_starts_[line - 1] + 1)};
  }

  Token& add(Tok type, std::string text, size_t offset) {
    tokens_.push_back(Token{type, std::move(text), pos_of(offset)});
    return tokens_.back();
  }

  size_t find_tag(size_t from) const {
    for (size_t i = src_.find('{', from); i != std::string_view::npos; i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#'))
        return i;
    }
    return std::string_view::npos;
  }

  // Text [begin, end) with the whitespace rules of the tags on both sides applied.
  void emit_text(size_t begin, size_t end, bool strip_left, bool trim_newline, bool strip_right,
                 bool lstrip) {
    std::string_view text = src_.substr(begin, end - begin);
    if (strip_right) {
      while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    } else if (lstrip) {
      // Only when the tag is the first thing on its line (spaces/tabs since the line start).
      size_t nl = text.rfind('\n');
      size_t line_begin = nl == std::string_view::npos ? 0 : nl + 1;
      bool at_line_start = nl != std::string_view::npos || begin == 0 || src_[begin - 1] == '\n';
      std::string_view tail = text.substr(line_begin);
      if (at_line_start && tail.find_first_not_of(" \t") == std::string_view::npos)
        text = text.substr(0, line_begin);
    }
    size_t skipped = 0;
    if (strip_left) {
      while (skipped < text.size() && is_space(text[skipped])) ++skipped;
    } else if (trim_newline && !text.empty() && text[0] == '\n') {
      skipped = 1;
    }
    text.remove_prefix(skipped);
    if (!text.empty()) add(Tok::Text, std::string(text), begin + skipped);
  }

  // Lexes the tokens of one {{ }} or {% %} tag starting at P; returns the offset after it.
  size_t lex_inside(size_t p, bool block, size_t tag_start, bool& strip_left) {
    int depth = 0;  // open brackets: "}}" inside a dict literal closes the dict, not the tag
    const char close = block ? '%' : '}';
    while (true) {
      while (p < src_.size() && is_space(src_[p])) ++p;
      if (p >= src_.size())
        syntax_error(pos_of(tag_start), block ? "unterminated '{%' tag" : "unterminated '{{' tag");
      auto rest = src_.substr(p);
      auto ends_here = [&](size_t at) {
        return at + 1 < src_.size() && src_[at] == close && src_[at + 1] == '}';
      };
      if ((rest[0] == '-' || rest[0] == '+') && ends_here(p + 1) && (block || depth == 0)) {
        strip_left = rest[0] == '-';
        add(block ? Tok::BlockEnd : Tok::VarEnd, block ? "%}" : "}}", p);
        return p + 3;
      }
      if (ends_here(p) && (block || depth == 0)) {
        strip_left = false;
        add(block ? Tok::BlockEnd : Tok::VarEnd, block ? "%}" : "}}", p);
        return p + 2;
      }
      const char c = rest[0];
      if (is_name_start(c)) {
        size_t e = p;
        while (e < src_.size() && is_name_char(src_[e])) ++e;
        add(Tok::Name, std::string(src_.substr(p, e - p)), p);
        p = e;
      } else if (is_digit(c)) {
        p = lex_number(p);
      } else if (c == '\'' || c == '"') {
        p = lex_string(p);
      } else {
        static const char* kOps[] = {"**", "//", "==", "!=", "<=", ">=", "(", ")", "[",
                                     "]",  "{",  "}",  ",",  ".",  ":",  "|", "=", "<",
                                     ">",  "+",  "-",  "*",  "/",  "%",  "~"};
        const char* op = nullptr;
        for (const char* o : kOps) {
          if (rest.substr(0, std::strlen(o)) == o) {
            op = o;
            break;
          }
        }
        if (!op) syntax_error(pos_of(p), std::string("unexpected character '") + c + "'");
        if (*op == '(' || *op == '[' || *op == '{') ++depth;
        if ((*op == ')' || *op == ']' || *op == '}') && depth > 0) --depth;
        add(Tok::Op, op, p);
        p += std::strlen(op);
      }
    }
  }

  size_t lex_number(size_t p) {
    size_t e = p;
    while (e < src_.size() && (is_digit(src_[e]) || src_[e] == '_')) ++e;
    bool is_float = false;
    // `foo.0.1` is two integer subscripts, not the float 0.1.
    bool after_dot =
        !tokens_.empty() && tokens_.back().type == Tok::Op && tokens_.back().text == ".";
    if (!after_dot && e + 1 < src_.size() && src_[e] == '.' && is_digit(src_[e + 1])) {
      is_float = true;
      ++e;
      while (e < src_.size() && (is_digit(src_[e]) || src_[e] == '_')) ++e;
    }
    if (!after_dot && e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
      size_t f = e + 1;
      if (f < src_.size() && (src_[f] == '+' || src_[f] == '-')) ++f;
      if (f < src_.size() && is_digit(src_[f])) {
        is_float = true;
        e = f;
        while (e < src_.size() && is_digit(src_[e])) ++e;
      }
    }
    std::string text;
    for (size_t i = p; i < e; ++i)
      if (src_[i] != '_') text += src_[i];
    Token& t = add(is_float ? Tok::Float : Tok::Int, text, p);
    if (is_float) {
      t.float_value = std::strtod(text.c_str(), nullptr);
    } else {
      errno = 0;
      t.int_value = std::strtoll(text.c_str(), nullptr, 10);
      if (errno == ERANGE) syntax_error(t.pos, "integer literal out of range");
    }
    return e;
  }

  size_t lex_string(size_t p) {
    const char quote = src_[p];
    std::string out;
    size_t i = p + 1;
    while (true) {
      if (i >= src_.size()) syntax_error(pos_of(p), "unterminated string literal");
      char c = src_[i];
      if (c == quote) break;
      if (c != '\\') {
        out += c;
        ++i;
        continue;
      }
      if (i + 1 >= src_.size()) syntax_error(pos_of(p), "unterminated string literal");
      char e = src_[i + 1];
      i += 2;
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'v':
          out += '\v';
          break;
        case '0':
          out += '\0';
          break;
        case '\\':
          out += '\\';
          break;
        case '\'':
          out += '\'';
          break;
        case '"':
          out += '"';
          break;
        case '\n':
          break;  // line continuation
        case 'x':
        case 'u':
        case 'U': {
          size_t len = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (i + len > src_.size()) syntax_error(pos_of(i - 2), "bad escape sequence");
          std::string hex(src_.substr(i, len));
          if (hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
            syntax_error(pos_of(i - 2), "bad escape sequence \\" + std::string(1, e) + hex);
          uint32_t cp = uint32_t(std::strtoul(hex.c_str(), nullptr, 16));
          if (cp > 0x10ffff) syntax_error(pos_of(i - 2), "escape sequence out of range");
          append_utf8(out, cp);
          i += len;
          break;
        }
        default:  // Python keeps unknown escapes as written
          out += '\\';
          out += e;
      }
    }
    add(Tok::String, std::move(out), p);
    return i + 1;
  }

  // `{% raw %}...{% endraw %}`: the body is text, not template code.
  size_t maybe_raw(size_t pos, bool& strip_left, bool& trim_newline) {
    size_t n = tokens_.size();
    if (n < 3 || tokens_[n - 3].type != Tok::BlockBegin || tokens_[n - 2].type != Tok::Name ||
        tokens_[n - 2].text != "raw" || tokens_[n - 1].type != Tok::BlockEnd)
      return pos;
    Pos start = tokens_[n - 3].pos;
    tokens_.resize(n - 3);
    for (size_t tag = find_tag(pos); tag != std::string_view::npos; tag = find_tag(tag + 1)) {
      if (src_[tag + 1] != '%') continue;
      size_t p = tag + 2;
      bool strip_right = p < src_.size() && src_[p] == '-';
      if (strip_right || (p < src_.size() && src_[p] == '+')) ++p;
      while (p < src_.size() && is_space(src_[p])) ++p;
      if (src_.substr(p, 6) != "endraw") continue;
      p += 6;
      while (p < src_.size() && is_space(src_[p])) ++p;
      bool strip_after = p < src_.size() && src_[p] == '-';
      if (strip_after) ++p;
      if (src_.substr(p, 2) != "%}") continue;
      emit_text(pos, tag, strip_left, trim_newline, strip_right, !strip_right);
      strip_left = strip_after;
      trim_newline = true;
      return p + 2;
    }
    syntax_error(start, "missing '{% endraw %}'");
  }

  std::string_view src_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) {
  return Lexer(source).run();
}

}  // namespace rlx::text::jinja
