#!/usr/bin/env python3
"""GGUF twins (F16 and Q8_0) of the StandardDecoder golden fixtures, made by llama.cpp's own converter.

    python3 scripts/golden/decoder_gguf_twins.py FIXTURES_DIR OUT_DIR --llama-cpp LLAMA_CPP_DIR

FIXTURES_DIR is tests/fixtures/decoders (made by scripts/golden/decoders.py); for each fixture this
writes OUT_DIR/<name>/model-f16.gguf and model-q8_0.gguf, OUT_DIR/<name>/gguf.txt (the files'
metadata and tensor types, read back with gguf-py) and OUT_DIR/versions.json. LLAMA_CPP_DIR needs
only convert_hf_to_gguf.py, conversion/ and gguf-py/ of a llama.cpp checkout. Needs torch, numpy,
safetensors, transformers and tokenizers (the GPU machine has them; nothing runs on its GPU).
As run for the committed files: copy those three paths into a git-ignored folder of the work tree
(.scratch-llamacpp/, carried to the GPU machine), then
    python3 scripts/golden/decoder_gguf_twins.py tests/fixtures/decoders $OUT/twins \
        --llama-cpp .scratch-llamacpp --llama-cpp-commit <llama.cpp commit>
and copy OUT/twins/<name>/model-*.gguf into tests/fixtures/decoders/<name>/.

Same approach as scripts/golden/qwen3_gguf_twins.py. Each fixture's config.json (the form
transformers 5 saves) and model.safetensors are copied to a temporary directory together with a
small byte-level BPE tokenizer of exactly 512 tokens (ids 0..2 = pad, bos, eos, matching the
fixtures' pad 0 / bos 1 / eos 2, named as in SPECIAL_SETS; Qwen2's NFC + split regex + ByteLevel), and the converter runs
in this process, unchanged except for these monkeypatches (see tests/fixtures/decoders/README.md):

  * TextModel.get_vocab_base_pre returns "qwen2" (the vocabulary's hash is in no table; it only
    sets tokenizer.ggml.pre).
  * where sentencepiece is not installed, _create_vocab_sentencepiece raises FileNotFoundError, as
    it does without a tokenizer.model when it is installed (Llama's set_vocab falls through to BPE).
  * GemmaModel.set_vocab and Gemma2Model.set_vocab call _set_vocab_gpt2() instead of
    _set_vocab_sentencepiece() (which needs a SentencePiece tokenizer.model): the same thing
    Gemma3Model.set_vocab does when there is no tokenizer.model. Vocabulary only; no tensor or
    hyperparameter depends on it.
  * Gemma3Model.set_gguf_parameters additionally writes gemma3.attention.sliding_window_pattern as
    the per-layer bool array from config layer_types (as the converters of Mellum, Maple, EXAONE 4
    do for theirs). The Gemma3 converter does not write the pattern, and llama.cpp's gemma3 loader
    then assumes 5 local : 1 global (pattern 6), which the real Gemma 3 models use but this
    4-layer fixture (pattern 2) does not; llama.cpp's loader reads this key (array or uint32).

And one change to the copied weights, not to the converter: llama.cpp's gemma2/gemma3 scale queries
by 1/sqrt(head_dim) (1/sqrt(hidden/heads) for the 27B) and no GGUF key carries
query_pre_attn_scalar, so a config whose query_pre_attn_scalar differs from that (the
gemma2_softcap_window fixture: 24 vs head_dim 16) gets its q_proj weights multiplied by
sqrt(head_dim / query_pre_attn_scalar) and query_pre_attn_scalar set to head_dim in the temporary
copy. RoPE is linear, so q·k and every logit are the same function as the reference's.
"""
import argparse
import importlib
import json
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FIXTURES = ["llama_rope_llama3", "smollm2_tied", "qwen2_bias", "gemma", "gemma2_softcap_window",
            "gemma3_local_global"]
VOCAB = 512
# Qwen2's pre-tokenizer split (tokenizer.json of Qwen/Qwen2.5-* and Qwen/Qwen3-*).
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")

TRAIN_TEXT = """\
The quick brown fox jumps over the lazy dog. A small model is trained on a small text so that
its tokenizer has a fixed size: two hundred and fifty three merges on top of the byte alphabet.
Llama, Qwen2 and Gemma are decoder-only transformers with grouped-query attention, rotary position
embeddings, RMS normalization and a gated linear unit in every feed-forward block.
The reference runs in float32 on the CPU; the converted files store half-precision floats or
blocks of thirty-two signed bytes with one scale each. Numbers: 0 1 2 3 4 5 6 7 8 9 10 100 1000.
def main():\n    return [x * x for x in range(10) if x % 2 == 0]
Hello, world! I've been told he's there; we'll see. Is it working? Yes, it is working well.
"""


# Candidate special tokens (ids 0, 1, 2 = pad, bos, eos; a 4th is unk at id 3). AutoTokenizer picks
# its class from config.json's model_type, and some classes (Qwen2's, Gemma's) add their default
# unk/pad tokens when the vocabulary lacks them, which would make 513 tokens; the first set whose
# round trip through AutoTokenizer keeps exactly 512 tokens is used (gguf.txt shows which).
SPECIAL_SETS = [["<pad>", "<bos>", "<eos>"], ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                ["<pad>", "<bos>", "<eos>", "<unk>"]]


def make_tokenizer(model_dir: Path):
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    for specials in SPECIAL_SETS:
        tok = Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
        tok.normalizer = normalizers.NFC()
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
        ])
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=VOCAB, min_frequency=1, special_tokens=specials,
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
        tok.train_from_iterator(TRAIN_TEXT.splitlines(keepends=True) * 4, trainer)
        assert tok.get_vocab_size() == VOCAB, tok.get_vocab_size()
        for i, s in enumerate(specials):
            assert tok.token_to_id(s) == i, (s, tok.token_to_id(s))
        extra = {"unk_token": specials[3]} if len(specials) > 3 else {}
        fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token=specials[0], bos_token=specials[1],
                                       eos_token=specials[2], model_max_length=256, **extra)
        for f in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
            (model_dir / f).unlink(missing_ok=True)
        fast.save_pretrained(str(model_dir))
        back = AutoTokenizer.from_pretrained(str(model_dir))
        ids = (back.pad_token_id, back.bos_token_id, back.eos_token_id)
        print(f"{model_dir.name}: specials {specials}: {type(back).__name__}, {len(back)} tokens, "
              f"max id {max(back.get_vocab().values())}, pad/bos/eos {ids}")
        if len(back) == VOCAB and max(back.get_vocab().values()) == VOCAB - 1:
            return specials
    raise RuntimeError(f"{model_dir.name}: no special-token set gives exactly {VOCAB} tokens")


def patch_converter():
    import conversion.base as base
    import conversion.gemma as gemma

    def qwen2_pre(self, tokenizer) -> str:
        base.logger.info("decoder_gguf_twins: pre-tokenizer detection skipped, tokenizer.ggml.pre = 'qwen2'")
        return "qwen2"

    base.TextModel.get_vocab_base_pre = qwen2_pre
    try:
        importlib.import_module("sentencepiece")
    except ImportError:
        def no_spm(self):
            raise FileNotFoundError(f"File not found: {self.dir_model / 'tokenizer.model'}")
        base.TextModel._create_vocab_sentencepiece = no_spm

    def gpt2_vocab(self):
        base.logger.info("decoder_gguf_twins: no tokenizer.model, BPE vocabulary (as Gemma3Model without one)")
        self._set_vocab_gpt2()

    gemma.GemmaModel.set_vocab = gpt2_vocab
    gemma.Gemma2Model.set_vocab = gpt2_vocab

    orig = gemma.Gemma3Model.set_gguf_parameters

    def gemma3_params(self):
        orig(self)
        types = self.hparams.get("layer_types")
        if types:
            pattern = [t == "sliding_attention" for t in types]
            base.logger.info(f"decoder_gguf_twins: sliding_window_pattern = {pattern}")
            self.gguf_writer.add_sliding_window_pattern(pattern)

    gemma.Gemma3Model.set_gguf_parameters = gemma3_params


def fold_query_scale(model_dir: Path) -> str | None:
    """Gemma2/3 with query_pre_attn_scalar != llama.cpp's implied value: fold the ratio into q_proj."""
    import torch
    from safetensors.torch import load_file, save_file

    cfg_path = model_dir / "config.json"
    cfg = json.loads(cfg_path.read_text())
    if cfg.get("model_type") not in ("gemma2", "gemma3_text"):
        return None
    qpas = cfg.get("query_pre_attn_scalar")
    head_dim = cfg["head_dim"]
    big = {"gemma2": 46, "gemma3_text": 62}[cfg["model_type"]] == cfg["num_hidden_layers"]  # llama.cpp's 27B
    implied = cfg["hidden_size"] // cfg["num_attention_heads"] if big else head_dim
    if qpas is None or qpas == implied:
        return None
    ratio = math.sqrt(implied / qpas)
    sd = load_file(str(model_dir / "model.safetensors"))
    n = 0
    for k in sd:
        if k.endswith("self_attn.q_proj.weight"):
            sd[k] = (sd[k].to(torch.float64) * ratio).to(sd[k].dtype)
            n += 1
    save_file(sd, str(model_dir / "model.safetensors"), metadata={"format": "pt"})
    cfg["query_pre_attn_scalar"] = implied
    cfg_path.write_text(json.dumps(cfg, indent=2) + "\n")
    return f"query_pre_attn_scalar {qpas} -> {implied}: {n} q_proj weights x sqrt({implied}/{qpas}) = {ratio:.9f}"


def describe(path: Path) -> str:
    import gguf
    r = gguf.GGUFReader(str(path))
    lines = [f"# {path.name}"]
    for f in r.fields.values():
        if f.name.startswith("GGUF.") or f.name == "tokenizer.chat_template":
            continue
        if f.name in ("tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.token_type"):
            lines.append(f"{f.name}: [{len(f.data)} entries]")
            continue
        lines.append(f"{f.name}: {f.contents()!r}")
    for t in r.tensors:
        lines.append(f"tensor {t.name}: {t.tensor_type.name} {list(int(x) for x in t.shape)}")
        if t.name == "rope_freqs.weight":
            lines.append(f"  values {[float(x) for x in t.data]}")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fixtures")
    ap.add_argument("out")
    ap.add_argument("--llama-cpp", required=True)
    ap.add_argument("--llama-cpp-commit", default=None, help="recorded in versions.json")
    ap.add_argument("--only", nargs="*", default=None)
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
    folds, failed = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only or FIXTURES:
            try:
                src = Path(args.fixtures) / name
                model_dir = Path(tmp) / name
                model_dir.mkdir()
                for f in ("config.json", "generation_config.json", "model.safetensors"):
                    shutil.copy(src / f, model_dir / f)
                if (note := fold_query_scale(model_dir)):
                    folds[name] = note
                    print(f"{name}: {note}")
                specials = make_tokenizer(model_dir)
                dst = out / name
                dst.mkdir(exist_ok=True)
                report = [f"# tokenizer special tokens (ids 0..): {specials}\n"]
                if name in folds:
                    report.append(f"# weights changed before conversion: {folds[name]}\n")
                for outtype in ("f16", "q8_0"):
                    target = dst / f"model-{outtype}.gguf"
                    sys.argv = ["convert_hf_to_gguf.py", str(model_dir), "--outtype", outtype, "--outfile", str(target),
                                "--model-name", f"rlx-golden-{name}"]
                    convert_hf_to_gguf.main()
                    report.append(describe(target))
                (dst / "gguf.txt").write_text("\n".join(report))
            except Exception as e:  # keep going: report every fixture's failure in one run
                import traceback
                traceback.print_exc()
                failed[name] = repr(e)

    versions = {"llama.cpp": commit, "gguf-py": getattr(gguf, "__version__", None) or "in-tree",
                "torch": torch.__version__, "transformers": transformers.__version__,
                "tokenizers": tokenizers.__version__, "safetensors": safetensors.__version__,
                "numpy": numpy.__version__, "python": sys.version.split()[0], "query_scale_folds": folds}
    if failed:
        versions["failed"] = failed
    (out / "versions.json").write_text(json.dumps(versions, indent=2) + "\n")
    print(json.dumps(versions, indent=2))
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
