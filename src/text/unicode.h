// UTF-8 helpers for the tokenizers: validation with replacement, NFC, GPT-2 byte-level mapping.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace rlx::text::detail {

// Result of looking at the UTF-8 sequence that starts at s[0] (n > 0 bytes available).
struct Utf8Step {
  enum Kind { kValid, kInvalid, kTruncated } kind;
  int len;          // kValid: sequence length; kInvalid: maximal invalid subpart (>= 1);
                    // kTruncated: bytes seen, all a valid prefix cut short by the end of the buffer
  uint32_t cp = 0;  // kValid only
};
Utf8Step utf8_step(const unsigned char* s, size_t n);

// True when every sequence is valid UTF-8 (no surrogates, no overlongs, <= U+10FFFF).
bool is_valid_utf8(std::string_view s);

// Replaces each maximal invalid subpart by U+FFFD, the policy of Python's
// bytes.decode("utf-8", errors="replace") and of WHATWG decoders.
std::string sanitize_utf8(std::string_view s);

// Appends the UTF-8 encoding of cp.
void append_utf8(std::string& out, uint32_t cp);

// Unicode NFC of valid UTF-8 input (utf8proc); ASCII input is returned unchanged quickly.
std::string nfc(std::string_view s);

// GPT-2 byte-level alphabet: every byte maps to one printable code point.
uint32_t byte_to_cp(uint8_t b);
// Inverse mapping; -1 when cp is not in the alphabet.
int cp_to_byte(uint32_t cp);

// Byte-level piece ("Ġhello") -> raw bytes (" hello"). Returns false when some character is
// outside the byte-level alphabet (out is then unspecified).
bool byte_level_decode(std::string_view piece, std::string& out);
// Raw bytes -> byte-level piece.
std::string byte_level_encode(std::string_view bytes);

// True for Unicode letters, numbers and '_' (the "word" class of single_word added tokens).
bool is_word_char(uint32_t cp);
// Unicode White_Space property.
bool is_white_space(uint32_t cp);

}  // namespace rlx::text::detail
