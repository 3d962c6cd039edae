#include "rlx/text/tokenizer.h"

#include <algorithm>

#include "rlx/core/error.h"
#include "text/tokenizer_impl.h"
#include "text/unicode.h"

namespace rlx::text {
namespace detail {

namespace {

// Code point that ends at text[end) (end > 0), and its start offset.
uint32_t cp_before(std::string_view text, size_t end, size_t* start) {
  size_t s = end - 1;
  while (s > 0 && (static_cast<unsigned char>(text[s]) & 0xC0) == 0x80) --s;
  *start = s;
  return utf8_step(reinterpret_cast<const unsigned char*>(text.data()) + s, end - s).cp;
}

uint32_t cp_at(std::string_view text, size_t pos, int* len) {
  Utf8Step st =
      utf8_step(reinterpret_cast<const unsigned char*>(text.data()) + pos, text.size() - pos);
  *len = st.len;
  return st.cp;
}

}  // namespace

void AddedTokenMatcher::build(std::vector<const AddedToken*> tokens) {
  for (auto& v : by_first_) v.clear();
  count_ = 0;
  for (const AddedToken* t : tokens) {
    if (t->content.empty()) continue;
    by_first_[static_cast<unsigned char>(t->content[0])].push_back(t);
    ++count_;
  }
  for (auto& v : by_first_) {
    std::stable_sort(v.begin(), v.end(), [](const AddedToken* a, const AddedToken* b) {
      return a->content.size() > b->content.size();
    });
  }
}

void AddedTokenMatcher::split(std::string_view text, std::vector<Segment>& out) const {
  size_t off = 0;  // start of text not yet emitted
  size_t pos = 0;
  const size_t n = text.size();
  while (pos < n) {
    const auto& cands = by_first_[static_cast<unsigned char>(text[pos])];
    const AddedToken* hit = nullptr;
    for (const AddedToken* t : cands) {
      if (text.compare(pos, t->content.size(), t->content) != 0) continue;
      if (t->single_word) {
        // Only a whole word: no word character directly before or after.
        size_t s;
        int len;
        size_t stop = pos + t->content.size();
        if (pos > 0 && is_word_char(cp_before(text, pos, &s))) continue;
        if (stop < n && is_word_char(cp_at(text, stop, &len))) continue;
      }
      hit = t;
      break;
    }
    if (!hit) {
      ++pos;
      continue;
    }
    size_t start = pos, stop = pos + hit->content.size();
    if (hit->lstrip) {  // the token swallows the whitespace before it
      while (start > off) {
        size_t s;
        if (!is_white_space(cp_before(text, start, &s))) break;
        start = s;
      }
    }
    if (hit->rstrip) {  // ... or after it
      while (stop < n) {
        int len;
        if (!is_white_space(cp_at(text, stop, &len))) break;
        stop += static_cast<size_t>(len);
      }
    }
    if (start > off) out.push_back({-1, text.substr(off, start - off)});
    out.push_back({hit->id, text.substr(start, stop - start)});
    off = pos = stop;
  }
  if (off < n) out.push_back({-1, text.substr(off)});
}

}  // namespace detail

void Tokenizer::Impl::finalize(const std::vector<std::pair<std::string, std::string>>& merges,
                               bool ignore_merges) {
  const size_t n = pieces.size();
  bytes.assign(n, std::string());
  special.assign(n, 0);
  piece_to_id.clear();
  piece_to_id.reserve(n);
  std::vector<uint8_t> is_added(n, 0);
  for (const auto& a : added) {
    RLX_CHECK(a.id >= 0 && static_cast<size_t>(a.id) < n, "added token '{}' has bad id {}",
              a.content, a.id);
    is_added[a.id] = 1;
    special[a.id] = a.special ? 1 : 0;
  }
  const bool sentencepiece = kind != Kind::kByteLevelBpe;
  std::fill(std::begin(byte_tokens), std::end(byte_tokens), -1);
  for (size_t id = 0; id < n; ++id) {
    if (pieces[id].empty()) continue;
    piece_to_id.emplace(pieces[id], static_cast<int32_t>(id));
    if (is_added[id]) {  // added tokens decode to their literal content
      bytes[id] = pieces[id];
    } else if (!sentencepiece) {  // byte-level pieces
      if (!detail::byte_level_decode(pieces[id], bytes[id])) bytes[id] = pieces[id];
    } else if (int b = detail::byte_piece_value(pieces[id]);
               b >= 0 &&
               (token_types.empty() || token_types[id] == static_cast<int32_t>(TokenType::kByte))) {
      bytes[id] = std::string(1, static_cast<char>(b));  // byte fallback <0xNN>
      if (byte_tokens[b] < 0) byte_tokens[b] = static_cast<int32_t>(id);
    } else {  // "▁" is SentencePiece's space
      const std::string& p = pieces[id];
      for (size_t i = 0; i < p.size();) {
        if (p.compare(i, detail::kMetaSpace.size(), detail::kMetaSpace) == 0) {
          bytes[id] += ' ';
          i += detail::kMetaSpace.size();
        } else {
          bytes[id] += p[i++];
        }
      }
    }
  }
  if (kind == Kind::kSpm) {
    // llama.cpp's byte_to_token: the <0xNN> token, else a single-byte piece.
    for (int b = 0; b < 256; ++b) {
      if (byte_tokens[b] >= 0) continue;
      auto it = piece_to_id.find(std::string(1, static_cast<char>(b)));
      if (it != piece_to_id.end()) byte_tokens[b] = it->second;
    }
    spm = detail::SpmModel(pieces, scores, byte_tokens);
  }
  // Byte-level BPE works on raw bytes and leaves added tokens out; character BPE looks pieces up
  // as written, and HF's model vocabulary holds the added tokens too.
  std::vector<std::string> bpe_bytes(n);
  for (size_t id = 0; id < n; ++id) {
    if (kind == Kind::kCharBpe) {
      bpe_bytes[id] = pieces[id];
    } else if (!is_added[id]) {
      bpe_bytes[id] = bytes[id];
    }
  }
  std::vector<detail::Merge> resolved;
  resolved.reserve(merges.size());
  for (const auto& [a, b] : merges) {
    auto ia = piece_to_id.find(a), ib = piece_to_id.find(b), im = piece_to_id.find(a + b);
    // A merge naming unknown pieces can never fire; tokenizers in the wild have a few.
    if (ia == piece_to_id.end() || ib == piece_to_id.end() || im == piece_to_id.end()) continue;
    resolved.push_back({ia->second, ib->second, im->second});
  }
  bpe = detail::BpeModel(bpe_bytes, resolved, ignore_merges);

  std::vector<const detail::AddedToken*> raw, norm;
  for (const auto& a : added) (a.normalized && nfc ? norm : raw).push_back(&a);
  raw_matcher.build(raw);
  normalized_matcher.build(norm);
}

void Tokenizer::Impl::encode_plain(std::string_view text, std::vector<int32_t>& out) const {
  if (kind != Kind::kByteLevelBpe) {
    if (text.empty()) return;
    std::string s;
    s.reserve(text.size() + text.size() / 4 + 3);
    if (prepend_meta) s.append(detail::kMetaSpace);
    for (char c : text) {
      if (c == ' ' && escape_spaces) {
        s.append(detail::kMetaSpace);
      } else {
        s.push_back(c);
      }
    }
    // No pre-tokenization: the whole segment is one word, as in Gemma's and Llama 2's tokenizers.
    if (kind == Kind::kSpm) {
      spm.encode(s, out);
    } else {
      bpe.encode_chars(s, byte_tokens, out);
    }
    return;
  }
  std::string prefixed;
  if (add_prefix_space && !text.empty() && text[0] != ' ') {
    prefixed.reserve(text.size() + 1);
    prefixed.push_back(' ');
    prefixed.append(text);
    text = prefixed;
  }
  std::vector<std::string_view> pieces_a{text}, pieces_b;
  for (const auto& splitter : splitters) {
    pieces_b.clear();
    for (std::string_view p : pieces_a) splitter.split(p, pieces_b);
    std::swap(pieces_a, pieces_b);
  }
  for (std::string_view p : pieces_a) bpe.encode_word(p, out);
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special) const {
  const Impl& m = *impl_;
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  if (add_special && m.add_bos && m.bos) ids.push_back(*m.bos);
  // Everything below works on valid UTF-8 (the regex runs without per-call UTF checks).
  const std::string clean = detail::sanitize_utf8(text);
  std::vector<detail::Segment> outer, inner;
  m.raw_matcher.split(clean, outer);
  for (const auto& seg : outer) {
    if (seg.id >= 0) {
      ids.push_back(seg.id);
      continue;
    }
    const std::string normalized = m.nfc ? detail::nfc(seg.text) : std::string();
    std::string_view body = m.nfc ? std::string_view(normalized) : seg.text;
    if (m.normalized_matcher.empty()) {
      m.encode_plain(body, ids);
      continue;
    }
    inner.clear();
    m.normalized_matcher.split(body, inner);
    for (const auto& s : inner) {
      if (s.id >= 0) {
        ids.push_back(s.id);
      } else {
        m.encode_plain(s.text, ids);
      }
    }
  }
  if (add_special && m.add_eos && m.eos) ids.push_back(*m.eos);
  return ids;
}

std::string Tokenizer::decode_bytes(std::span<const int32_t> ids, bool skip_special) const {
  const Impl& m = *impl_;
  std::string out;
  for (int32_t id : ids) {
    RLX_CHECK(id >= 0 && static_cast<size_t>(id) < m.bytes.size(),
              "token id {} out of range (vocabulary size {})", id, m.bytes.size());
    if (skip_special && m.special[id]) continue;
    out += m.bytes[id];
  }
  if (m.strip_leading_space && !out.empty() && out[0] == ' ') out.erase(0, 1);
  return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  return detail::sanitize_utf8(decode_bytes(ids, skip_special));
}

const std::string& Tokenizer::token_bytes(int32_t id) const {
  RLX_CHECK(id >= 0 && static_cast<size_t>(id) < impl_->bytes.size(),
            "token id {} out of range (vocabulary size {})", id, impl_->bytes.size());
  return impl_->bytes[id];
}

std::string Tokenizer::token_text(int32_t id) const {
  RLX_CHECK(id >= 0 && static_cast<size_t>(id) < impl_->pieces.size(),
            "token id {} out of range (vocabulary size {})", id, impl_->pieces.size());
  return impl_->pieces[id];
}

int32_t Tokenizer::vocab_size() const {
  return static_cast<int32_t>(impl_->pieces.size());
}

std::optional<int32_t> Tokenizer::token_id(std::string_view piece) const {
  auto it = impl_->piece_to_id.find(piece);
  if (it == impl_->piece_to_id.end()) return std::nullopt;
  return it->second;
}

std::optional<int32_t> Tokenizer::bos_id() const {
  return impl_->bos;
}
std::optional<int32_t> Tokenizer::eos_id() const {
  return impl_->eos;
}
std::optional<int32_t> Tokenizer::pad_id() const {
  return impl_->pad;
}
bool Tokenizer::add_bos() const {
  return impl_->add_bos;
}
bool Tokenizer::add_eos() const {
  return impl_->add_eos;
}

bool Tokenizer::strips_leading_space() const {
  return impl_->strip_leading_space;
}

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < impl_->special.size() && impl_->special[id];
}

Tokenizer Tokenizer::from_vocab(const VocabSpec& spec) {
  auto m = std::make_unique<Impl>();
  const size_t n = spec.tokens.size();
  RLX_CHECK(n > 0, "vocabulary has no tokens");
  RLX_CHECK(spec.token_types.empty() || spec.token_types.size() == n,
            "vocabulary has {} tokens but {} token types", n, spec.token_types.size());
  m->pieces = spec.tokens;
  for (size_t id = 0; id < n; ++id) {
    auto type = spec.token_types.empty() ? TokenType::kNormal
                                         : static_cast<TokenType>(spec.token_types[id]);
    // llama.cpp matches control and user-defined tokens in the input text and prints them
    // verbatim; only control tokens count as special.
    // (llama.cpp also matches unknown-type tokens, e.g. "<unk>", when parsing special text.)
    if (type == TokenType::kControl || type == TokenType::kUserDefined ||
        type == TokenType::kUnknown) {
      detail::AddedToken a;
      a.content = spec.tokens[id];
      a.id = static_cast<int32_t>(id);
      a.special = type != TokenType::kUserDefined;
      m->added.push_back(std::move(a));
    }
  }
  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(spec.merges.size());
  for (const std::string& line : spec.merges) {
    size_t sp = line.find(' ', 1);
    RLX_CHECK(sp != std::string::npos, "merge '{}' is not of the form 'a b'", line);
    merges.emplace_back(line.substr(0, sp), line.substr(sp + 1));
  }
  if (spec.model == "llama") {
    // SentencePiece: spaces become "▁", a "▁" goes before each text segment when
    // add_space_prefix is set (llama.cpp), and decoding drops it again.
    RLX_CHECK(spec.scores.empty() || spec.scores.size() == n,
              "vocabulary has {} tokens but {} scores", n, spec.scores.size());
    m->kind = Impl::Kind::kSpm;
    m->scores = spec.scores;
    m->escape_spaces = true;
    m->prepend_meta = spec.add_space_prefix;
    m->strip_leading_space = spec.add_space_prefix;
    m->token_types = spec.token_types;
  } else {
    RLX_CHECK(spec.model == "gpt2", "unsupported tokenizer model '{}' (supported: gpt2, llama)",
              spec.model);
    for (const std::string& p : detail::pre_patterns_for(spec.pre)) m->splitters.emplace_back(p);
  }
  // llama.cpp applies ignore_merges for the Llama-3 family of pre-tokenizers.
  const bool ignore_merges = spec.pre == "llama3" || spec.pre == "llama-v3" ||
                             spec.pre == "llama-bpe" || spec.pre == "falcon3" ||
                             spec.pre == "pixtral";
  auto check_id = [n](std::optional<int32_t> id, const char* what) {
    RLX_CHECK(!id || (*id >= 0 && static_cast<size_t>(*id) < n), "{} id {} out of range", what,
              id.value_or(-1));
    return id;
  };
  m->bos = check_id(spec.bos, "bos");
  m->eos = check_id(spec.eos, "eos");
  m->pad = check_id(spec.pad, "padding");
  m->add_bos = spec.add_bos;
  m->add_eos = spec.add_eos;
  // GGUF does not record the normalizer; Qwen2/Qwen3 tokenizer.json files ask for NFC, which
  // llama.cpp skips. Following HF keeps non-NFC input (e.g. "e" + U+0301) tokenized as in HF.
  // (Qwen3.5's "qwen35" vocabulary has no normalizer: its regex keeps marks with letters.)
  m->nfc = spec.model == "gpt2" && (spec.pre == "qwen2" || spec.pre == "deepseek-r1-qwen");
  m->finalize(merges, ignore_merges);
  return Tokenizer(std::move(m));
}

std::string StreamDecoder::feed(int32_t id) {
  if (skip_special_ && tok_->is_special(id)) return {};
  const std::string& piece = tok_->token_bytes(id);
  if (at_start_ && !piece.empty()) {
    at_start_ = false;
    // Like decode(): the decoder drops the space SentencePiece put before the text.
    if (tok_->strips_leading_space() && piece[0] == ' ') {
      pending_.append(piece, 1);
    } else {
      pending_ += piece;
    }
  } else {
    pending_ += piece;
  }
  // Emit everything up to the last character that may still be completed by later bytes.
  std::string out;
  auto* p = reinterpret_cast<const unsigned char*>(pending_.data());
  size_t i = 0, n = pending_.size();
  while (i < n) {
    detail::Utf8Step st = detail::utf8_step(p + i, n - i);
    if (st.kind == detail::Utf8Step::kTruncated) break;
    if (st.kind == detail::Utf8Step::kValid) {
      out.append(pending_, i, st.len);
    } else {
      detail::append_utf8(out, 0xFFFD);
    }
    i += st.len;
  }
  pending_.erase(0, i);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out = detail::sanitize_utf8(pending_);
  pending_.clear();
  return out;
}

}  // namespace rlx::text
