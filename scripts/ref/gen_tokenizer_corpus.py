#!/usr/bin/env python3
"""Writes a deterministic corpus of tokenizer test strings, one JSON string per line.

Usage: scripts/ref/gen_tokenizer_corpus.py [--gemma] > corpus.jsonl   (then scripts/ref/tokenize_ref.mjs)

--gemma appends strings aimed at SentencePiece-style vocabularies (Gemma): Gemma's special and
added tokens (<start_of_turn>, HTML tags, newline/tab runs), literal "▁" and "<0xNN>" text, rare
characters that need byte fallback. The first COUNT strings stay the same.

The strings cover English, CJK, Arabic/Hebrew/Indic/Thai, emoji with ZWJ sequences, code, long
whitespace runs, numbers, special-token text, decomposed (non-NFC) Unicode and mixtures. Only
characters assigned since Unicode 13 or earlier are used, so regex engines built on different
Unicode versions (PCRE2 in rlx, V8/ICU in the reference) agree on their categories.

U+0085 (NEL) and U+FEFF (BOM) are left out: JavaScript's \\s differs from the Oniguruma/Rust \\s
that HF tokenizers and llama.cpp use (JS: U+FEFF yes, U+0085 no), so transformers.js tokenizes
them differently from the Python library. rlx follows HF tokenizers there; its unit tests check
both characters against llama.cpp (tests/text/tokenizer_test.cpp).
"""
import json
import random
import sys

SEED = 20240611
COUNT = 2400

WORDS = """the of and to in is was he for it with as his on be at by had are but from or have an
they which one you were her all she there would their we him been has when who will more no if
out so said what up its about into than them can only other new some could time these two may
then do first any my now such like our over man me even most made after also did many before
must through back years where much your way well down should because each just those people
how too little state good very make world still own see men work long get here between both
life being under never day same another know while last might us great old year off come since
against go came right used take three tokenizer model merges vocabulary neural network weights
checkpoint inference quantization gradient attention transformer""".split()

CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Ve", "'LL",
                "'D", "'M", "n't", "N'T"]
PUNCT = list(".,;:!?-()[]{}\"'/\\@#$%^&*_+=<>|~`") + ["...", "--", "—", "–", "…", "«", "»", "“",
                                                      "”", "‘", "’", "¿", "¡", "·", "§", "©"]

# (start, end) code point ranges of long-established scripts.
RANGES = {
    "cjk": [(0x4E00, 0x9FA5)],
    "hiragana": [(0x3041, 0x3096)],
    "katakana": [(0x30A1, 0x30FA)],
    "hangul": [(0xAC00, 0xD7A3)],
    "arabic": [(0x0621, 0x064A)],
    "hebrew": [(0x05D0, 0x05EA)],
    "cyrillic": [(0x0410, 0x044F)],
    "greek": [(0x0391, 0x03A9), (0x03B1, 0x03C9)],
    "devanagari": [(0x0905, 0x0939), (0x093E, 0x094C)],
    "thai": [(0x0E01, 0x0E30), (0x0E31, 0x0E3A)],
    "latin_ext": [(0x00C0, 0x00FF), (0x0100, 0x017F)],
}
EMOJI = ["😀", "😂", "🥲", "👍", "👍🏽", "❤️", "🔥", "🎉", "🚀", "🤖", "🇺🇸", "🇯🇵", "🇩🇪", "1️⃣",
         "#️⃣", "👩‍💻", "👨‍👩‍👧‍👦", "🧑🏿‍🚀", "🏳️‍🌈", "🏴‍☠️", "👁️‍🗨️", "🐈‍⬛", "☺", "✌🏻", "🫶", "💯"]
SPECIAL = ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<think>", "</think>", "<tool_call>",
           "</tool_call>", "<|fim_prefix|>", "<|vision_pad|>", "<|begin_of_text|>", "<|eot_id|>",
           "<|start_header_id|>", "<|end_header_id|>", "<|im_end", "<|IM_END|>", "<|",
           "|>", "< think>", "<<|im_end|>>", "<|im_start|><|im_end|>"]
SPACES = [" ", "  ", "\t", "\n", "\r\n", "\n\n", " \n", "\u00a0", "\u3000", "\u2009", "\u202f",
          "\u2028", "\u200b", "\v", "\f", "\r"]
CODE = [
    "def f(x):\n    return x ** 2 + 1\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i] * b[i];\n}\n",
    '{"key": [1, 2.5e-3, null, true], "nested": {"a": "b"}}',
    "<div class=\"row\"><span id='x'>&amp; &lt;tag&gt;</span></div>",
    "SELECT name, COUNT(*) FROM users WHERE age >= 18 GROUP BY name;",
    "#include <vector>\nstd::vector<int32_t> v{1,2,3};  // init\n",
    "x=>x*2;let y=`t ${x}`;/* c */",
    "    if err != nil {\n        return fmt.Errorf(\"bad: %w\", err)\n    }\n",
    "$ ls -la | grep '\\.py$' && echo \"done\" >> log.txt",
    "fn main() { println!(\"{:?}\", vec![1u8; 4]); }",
    "@@ -1,3 +1,4 @@\n-old line\n+new line\n",
    "a_b_c __init__ CamelCaseName snake_case_name kebab-case-name SCREAMING_CASE",
]
NFD = ["e\u0301", "a\u0308", "o\u0302\u0323", "\u1100\u1161\u11a8", "\u212b", "\u2126",
       "n\u0303", "A\u030a", "\u0065\u0301\u0301", "\u0301x", "\ufb01", "\u00c5", "\u1e9b\u0323"]
NUMBERS = ["0", "7", "42", "1234", "1234567890123", "3.14159", "-0.5", "1,000,000", "1e-9",
           "0x1F", "٣٤٥", "４２", "²", "½", "Ⅻ", "१२३", "2024-06-11", "12:30:45", "+1 (555) 010-9999"]


def rand_chars(rng, script, n):
    out = []
    for _ in range(n):
        lo, hi = rng.choice(RANGES[script])
        out.append(chr(rng.randint(lo, hi)))
    return "".join(out)


def english(rng):
    words = []
    for i in range(rng.randint(1, 25)):
        w = rng.choice(WORDS)
        r = rng.random()
        if r < 0.15:
            w = w.capitalize()
        elif r < 0.2:
            w = w.upper()
        if rng.random() < 0.1:
            w += rng.choice(CONTRACTIONS)
        words.append(w)
        if rng.random() < 0.15:
            words[-1] += rng.choice(PUNCT)
    return " ".join(words)


def script_text(rng):
    script = rng.choice(list(RANGES))
    if script in ("cjk", "hiragana", "katakana"):
        return rand_chars(rng, script, rng.randint(1, 30))
    return " ".join(rand_chars(rng, script, rng.randint(1, 8)) for _ in range(rng.randint(1, 8)))


def emoji(rng):
    return "".join(rng.choice(EMOJI) + rng.choice(["", "", " ", "\u200d"])
                   for _ in range(rng.randint(1, 8)))


def whitespace(rng):
    parts = []
    for _ in range(rng.randint(1, 6)):
        if rng.random() < 0.3:
            parts.append(" " * rng.randint(1, 300))
        else:
            parts.append("".join(rng.choice(SPACES) for _ in range(rng.randint(1, 12))))
        if rng.random() < 0.7:
            parts.append(rng.choice(WORDS + ["x", "1", "!", "中"]))
    return "".join(parts)


def numbers(rng):
    return rng.choice([" ", "", ", ", "\n", "+", "x"]).join(
        rng.choice(NUMBERS) if rng.random() < 0.6 else str(rng.randint(0, 10**rng.randint(1, 20)))
        for _ in range(rng.randint(1, 6)))


def special(rng):
    parts = []
    for _ in range(rng.randint(1, 6)):
        parts.append(rng.choice(SPECIAL) if rng.random() < 0.5 else english(rng)[:40])
        parts.append(rng.choice(["", " ", "\n", "  "]))
    return "".join(parts)


def code(rng):
    s = rng.choice(CODE)
    if rng.random() < 0.3:
        s = s.replace("    ", "\t")
    return s * rng.randint(1, 2)


def nfd(rng):
    return "".join(rng.choice(NFD) + rng.choice(["", " ", "x"]) for _ in range(rng.randint(1, 6)))


def control(rng):
    return "".join(rng.choice([chr(rng.randint(0, 31)), "\x7f", "a", " ", "\u0080", "\u009f"])
                   for _ in range(rng.randint(1, 10)))


def mixed(rng):
    gens = [english, script_text, emoji, whitespace, numbers, special, code, nfd]
    return rng.choice(["", " ", "\n"]).join(rng.choice(gens)(rng) for _ in range(rng.randint(2, 5)))


FIXED = ["", " ", "  ", "\n", "a", "A", "'s", "'S", "'ſ", "'K", "DON'T WON'T", "i'm", "you're",
         "Hello world", " Hello world", "Hello  world", "hello\n\nworld", "\t\ttab", "trailing   ",
         "   leading", "\u00a0\u00a0nbsp", "".join(chr(c) for c in range(32, 127)),
         "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n",
         "<think>\n\n</think>\n\n", "A" * 500, "ab" * 300, "1" * 200, "é" * 100, "中" * 100,
         "😀" * 50, " " * 1000, "\n" * 100, "\r\n" * 50, "!" * 120, ".\n" * 40]

GENERATORS = [english, english, script_text, emoji, whitespace, numbers, special, code, nfd,
              control, mixed, mixed]


GEMMA_SPECIAL = ["<start_of_turn>", "<end_of_turn>", "<bos>", "<eos>", "<pad>", "<unk>", "<mask>",
                 "[multimodal]", "<unused0>", "<unused99>", "<start_of_image>", "<end_of_image>",
                 "<image_soft_token>", "<div>", "</div>", "<li>", "</code>", "<h1>", "<table>",
                 "\n", "\n\n", "\n\n\n", "\t", "\t\t\t", "\u2581\u2581", "\u2581", "<0x41>", "<0x0A>",
                 "<start_of_turn", "<end_of_turn>>", "< bos>", "<BOS>"]
GEMMA_FIXED = [
    "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n4<end_of_turn>\n",
    "<bos><start_of_turn>user\nHi<end_of_turn>", "\u2581Hello\u2581world", "\u2581\u2581\u2581",
    " \u2581 ", "<0x41><0xE4><0xB8><0xAD>", "\U0001f999\U0001f9a0\U0001fa90", "\ud7a3\ua4d0\u16a0",
    "\U0001d11e \U0001d400\U0001d7ff", "\u0fd0\u0f00\u1680\u2d30", "\U00010330\U00013000", "\t\t\t\t",
    "\n" * 40, "\t" * 40, " \n \n", "<div><p>text</p></div>", "\u2581" * 40, " " * 40 + "x",
]


def gemma(rng):
    parts = []
    for _ in range(rng.randint(1, 6)):
        r = rng.random()
        if r < 0.4:
            parts.append(rng.choice(GEMMA_SPECIAL))
        elif r < 0.55:
            parts.append(chr(rng.choice([rng.randint(0x10000, 0x1342e), rng.randint(0x1f300, 0x1faff),
                                         rng.randint(0xa000, 0xd7a3), rng.randint(0x2e80, 0x2fdf)])))
        else:
            parts.append(rng.choice([english, script_text, whitespace, code, numbers])(rng)[:60])
        parts.append(rng.choice(["", " ", "\n", "  ", "\t", "\u2581"]))
    return "".join(parts)


def main():
    rng = random.Random(SEED)
    out = list(FIXED)
    while len(out) < COUNT:
        out.append(rng.choice(GENERATORS)(rng))
    if "--gemma" in sys.argv[1:]:
        out += GEMMA_FIXED
        rng = random.Random(SEED + 1)
        while len(out) < COUNT + 300:
            out.append(gemma(rng))
    for s in out:
        sys.stdout.write(json.dumps(s) + "\n")


if __name__ == "__main__":
    main()
