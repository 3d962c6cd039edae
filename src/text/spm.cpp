#include "text/spm.h"

#include <algorithm>
#include <queue>

namespace rlx::text::detail {

int byte_piece_value(std::string_view p) {
  if (p.size() != 6 || p.substr(0, 3) != "<0x" || p[5] != '>') return -1;
  int v = 0;
  for (char c : p.substr(3, 2)) {
    v <<= 4;
    if (c >= '0' && c <= '9') {
      v |= c - '0';
    } else if (c >= 'A' && c <= 'F') {
      v |= c - 'A' + 10;
    } else if (c >= 'a' && c <= 'f') {
      v |= c - 'a' + 10;
    } else {
      return -1;
    }
  }
  return v;
}

SpmModel::SpmModel(const std::vector<std::string>& pieces, std::vector<float> scores,
                   const int32_t (&byte_ids)[256])
    : scores_(std::move(scores)) {
  piece_to_id_.reserve(pieces.size());
  for (size_t id = 0; id < pieces.size(); ++id) {
    if (!pieces[id].empty()) piece_to_id_.emplace(pieces[id], static_cast<int32_t>(id));
  }
  scores_.resize(pieces.size(), 0.0f);
  for (int b = 0; b < 256; ++b) byte_ids_[b] = byte_ids[b];
}

// SentencePiece's BPE as llama.cpp runs it: start from UTF-8 characters; repeatedly merge the
// adjacent pair whose concatenation is a vocabulary piece with the highest score (leftmost on
// ties); then emit each symbol as its piece, or as byte tokens for a character without one.
void SpmModel::encode(std::string_view text, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  struct Sym {
    int32_t prev, next;
    uint32_t off, n;  // bytes of text; n == 0 once merged into the left neighbour
  };
  struct Bigram {
    float score;
    int32_t left, right;
    uint32_t size;
  };
  struct Lower {  // priority_queue is a max-heap: highest score, then lowest left
    bool operator()(const Bigram& a, const Bigram& b) const {
      return a.score < b.score || (a.score == b.score && a.left > b.left);
    }
  };
  std::vector<Sym> syms;
  syms.reserve(text.size());
  for (size_t off = 0; off < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[off]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 1;
    len = std::min(len, text.size() - off);
    const int32_t idx = static_cast<int32_t>(syms.size());
    syms.push_back({idx - 1, off + len == text.size() ? -1 : idx + 1, static_cast<uint32_t>(off),
                    static_cast<uint32_t>(len)});
    off += len;
  }
  std::priority_queue<Bigram, std::vector<Bigram>, Lower> queue;
  auto try_add = [&](int32_t l, int32_t r) {
    if (l < 0 || r < 0) return;
    const std::string_view s = text.substr(syms[l].off, syms[l].n + syms[r].n);
    auto it = piece_to_id_.find(s);
    if (it == piece_to_id_.end()) return;
    queue.push({scores_[static_cast<size_t>(it->second)], l, r, static_cast<uint32_t>(s.size())});
  };
  for (int32_t i = 1; i < static_cast<int32_t>(syms.size()); ++i) try_add(i - 1, i);
  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Sym& l = syms[b.left];
    Sym& r = syms[b.right];
    if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;  // stale
    l.n += r.n;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) syms[r.next].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }
  // Merged symbols are pieces by construction; a lone character without a piece becomes its
  // bytes. (llama.cpp also keeps a map for re-splitting merged non-pieces, which never fires.)
  for (int32_t i = 0; i != -1; i = syms[i].next) {
    const std::string_view s = text.substr(syms[i].off, syms[i].n);
    if (auto it = piece_to_id_.find(s); it != piece_to_id_.end()) {
      out.push_back(it->second);
      continue;
    }
    for (unsigned char ch : s) {
      if (byte_ids_[ch] >= 0) out.push_back(byte_ids_[ch]);
    }
  }
}

}  // namespace rlx::text::detail
