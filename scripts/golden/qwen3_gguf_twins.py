#!/usr/bin/env python3
"""GGUF twins (F16 and Q8_0) of the Qwen3 golden fixtures, made by llama.cpp's own converter.

    python3 scripts/golden/qwen3_gguf_twins.py FIXTURES_DIR OUT_DIR --llama-cpp LLAMA_CPP_DIR

FIXTURES_DIR is tests/fixtures/qwen3 (made by scripts/golden/qwen3.py); for each of its configs
this writes OUT_DIR/<config>/model-f16.gguf and model-q8_0.gguf, plus OUT_DIR/<config>/gguf.txt
(the files' metadata and tensor types, read back with gguf-py) and OUT_DIR/versions.json.
LLAMA_CPP_DIR needs only convert_hf_to_gguf.py, conversion/ and gguf-py/ of a llama.cpp checkout.
Needs torch, numpy, safetensors, transformers and tokenizers (the GPU machine has them; nothing
runs on its GPU). As run for the committed files: copy those three paths of the checkout into a
git-ignored folder of the work tree (e.g. .scratch-llamacpp/, carried to the GPU machine), then
    python3 scripts/golden/qwen3_gguf_twins.py tests/fixtures/qwen3 $OUT/twins \
        --llama-cpp .scratch-llamacpp --llama-cpp-commit <llama.cpp commit>
and copy OUT/twins/<config>/model-*.gguf into tests/fixtures/qwen3/<config>/.

The fixtures have no tokenizer (vocab_size 512, ids only), but convert_hf_to_gguf.py needs one, so
each config is copied to a temporary directory together with a small byte-level BPE tokenizer made
here: Qwen2's normalizer/pre-tokenizer/decoder (NFC, the Qwen2 split regex, ByteLevel), trained
on a fixed text to exactly 512 tokens: ids 0..2 are <|endoftext|> (pad), <|im_start|> and
<|im_end|> (eos), matching the fixtures' config (bos 1, eos 2), then the 256 byte symbols and 253
merges. The converter is then run in this process, unchanged except for:

  * get_vocab_base_pre (the pre-tokenizer detection by hashing the encoding of a check string)
    returns "qwen2": this vocabulary's hash is naturally in no table, and its pre-tokenizer is
    Qwen2's. It only sets the GGUF key tokenizer.ggml.pre; no tensor or hyperparameter depends on it.
  * where the sentencepiece module is not installed, _create_vocab_sentencepiece raises
    FileNotFoundError (what it raises without a tokenizer.model when sentencepiece is installed),
    so Qwen2Model.set_vocab falls through to its GPT-2 BPE path as it would anyway.
"""
import argparse
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CONFIGS = ["tied", "untied_headdim", "yarn"]
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
VOCAB = 512
# Qwen2's pre-tokenizer split (tokenizer.json of Qwen/Qwen2.5-* and Qwen/Qwen3-*).
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")

TRAIN_TEXT = """\
The quick brown fox jumps over the lazy dog. A small model is trained on a small text so that
its tokenizer has a fixed size: two hundred and fifty three merges on top of the byte alphabet.
Qwen3 is a decoder-only transformer with grouped-query attention, rotary position embeddings,
RMS normalization of queries and keys, and a gated linear unit in every feed-forward block.
The reference runs in float32 on the CPU; the converted files store half-precision floats or
blocks of thirty-two signed bytes with one scale each. Numbers: 0 1 2 3 4 5 6 7 8 9 10 100 1000.
def main():\n    return [x * x for x in range(10) if x % 2 == 0]
Hello, world! I've been told he's there; we'll see. Is it working? Yes, it is working well.
"""


def make_tokenizer(model_dir: Path):
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, min_frequency=1, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    lines = TRAIN_TEXT.splitlines(keepends=True) * 4
    tok.train_from_iterator(lines, trainer)
    assert tok.get_vocab_size() == VOCAB, tok.get_vocab_size()
    for i, s in enumerate(SPECIALS):
        assert tok.token_to_id(s) == i, (s, tok.token_to_id(s))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   bos_token=None, model_max_length=512)
    fast.save_pretrained(str(model_dir))
    back = AutoTokenizer.from_pretrained(str(model_dir))
    assert len(back) == VOCAB and back.eos_token_id == 2 and back.pad_token_id == 0, (len(back), back.eos_token_id)
    assert max(back.get_vocab().values()) == VOCAB - 1


def patch_converter():
    import conversion.base as base

    def qwen2_pre(self, tokenizer) -> str:
        base.logger.info("qwen3_gguf_twins: pre-tokenizer detection skipped, tokenizer.ggml.pre = 'qwen2'")
        return "qwen2"

    base.TextModel.get_vocab_base_pre = qwen2_pre
    try:
        importlib.import_module("sentencepiece")
    except ImportError:
        def no_spm(self):
            raise FileNotFoundError(f"File not found: {self.dir_model / 'tokenizer.model'}")
        base.TextModel._create_vocab_sentencepiece = no_spm
        base.logger.info("qwen3_gguf_twins: sentencepiece not installed; no tokenizer.model, so the BPE path is taken")


def describe(path: Path) -> str:
    import gguf
    r = gguf.GGUFReader(str(path))
    lines = [f"# {path.name}"]
    for f in r.fields.values():
        if f.name.startswith("GGUF.") or f.name in ("tokenizer.ggml.tokens", "tokenizer.ggml.merges",
                                                     "tokenizer.ggml.token_type", "tokenizer.chat_template"):
            if f.name in ("tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.token_type"):
                lines.append(f"{f.name}: [{len(f.data)} entries]")
            continue
        v = f.contents()
        lines.append(f"{f.name}: {v!r}")
    for t in r.tensors:
        lines.append(f"tensor {t.name}: {t.tensor_type.name} {list(int(x) for x in t.shape)}")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fixtures")
    ap.add_argument("out")
    ap.add_argument("--llama-cpp", required=True)
    ap.add_argument("--llama-cpp-commit", default=None, help="recorded in versions.json")
    args = ap.parse_args()

    llama = Path(args.llama_cpp).resolve()
    sys.path.insert(0, str(llama / "gguf-py"))
    sys.path.insert(0, str(llama))
    import convert_hf_to_gguf  # noqa: E402  (llama.cpp's converter, as shipped)
    patch_converter()

    import gguf
    import numpy
    import safetensors
    import tokenizers
    import torch
    import transformers
    commit = args.llama_cpp_commit
    if commit is None:
        try:
            commit = subprocess.check_output(["git", "-C", str(llama), "rev-parse", "HEAD"], text=True).strip()
        except Exception:
            commit = "unknown"

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in CONFIGS:
            src = Path(args.fixtures) / name
            model_dir = Path(tmp) / f"qwen3-golden-{name}"
            model_dir.mkdir()
            for f in ("config.json", "generation_config.json", "model.safetensors"):
                shutil.copy(src / f, model_dir / f)
            make_tokenizer(model_dir)
            dst = out / name
            dst.mkdir(exist_ok=True)
            report = []
            for outtype in ("f16", "q8_0"):
                target = dst / f"model-{outtype}.gguf"
                sys.argv = ["convert_hf_to_gguf.py", str(model_dir), "--outtype", outtype, "--outfile", str(target),
                            "--model-name", f"qwen3-golden-{name}"]
                convert_hf_to_gguf.main()
                report.append(describe(target))
            (dst / "gguf.txt").write_text("\n".join(report))

    versions = {"llama.cpp": commit, "gguf-py": getattr(gguf, "__version__", None) or "in-tree",
                "torch": torch.__version__, "transformers": transformers.__version__,
                "tokenizers": tokenizers.__version__, "safetensors": safetensors.__version__,
                "numpy": numpy.__version__, "python": sys.version.split()[0]}
    (out / "versions.json").write_text(json.dumps(versions, indent=2) + "\n")
    print(json.dumps(versions, indent=2))


if __name__ == "__main__":
    main()
