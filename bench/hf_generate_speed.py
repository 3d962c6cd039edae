#!/usr/bin/env python3
"""HF transformers baseline for `rlx bench`: pp512 and tg128 of a randomly initialised model with a
real model's shapes (no download), in bf16 on CUDA (or CPU), as llama-bench measures them:
ppN = N prompt tokens in one forward from an empty cache; tgN = N greedy tokens after a 1-token
prompt, time / N. Median of --reps runs after one warm-up.

  bench/hf_generate_speed.py --like Qwen3-0.6B [--dtype bf16] [--device cuda] [-p 512] [-n 128] [--reps 5]
"""
import argparse
import statistics
import time

import torch
import transformers

# Shapes of the models `rlx synth --like` knows (the published config.json values).
LIKE = {
    "Qwen3-0.6B": ("Qwen3Config", dict(vocab_size=151936, hidden_size=1024, intermediate_size=3072,
                                        num_hidden_layers=28, num_attention_heads=16, num_key_value_heads=8,
                                        head_dim=128, rms_norm_eps=1e-6, rope_theta=1000000.0,
                                        max_position_embeddings=40960, tie_word_embeddings=True)),
    "Qwen3-1.7B": ("Qwen3Config", dict(vocab_size=151936, hidden_size=2048, intermediate_size=6144,
                                        num_hidden_layers=28, num_attention_heads=16, num_key_value_heads=8,
                                        head_dim=128, rms_norm_eps=1e-6, rope_theta=1000000.0,
                                        max_position_embeddings=40960, tie_word_embeddings=True)),
    "Llama-3.2-1B": ("LlamaConfig", dict(vocab_size=128256, hidden_size=2048, intermediate_size=8192,
                                          num_hidden_layers=16, num_attention_heads=32, num_key_value_heads=8,
                                          head_dim=64, rms_norm_eps=1e-5, rope_theta=500000.0,
                                          max_position_embeddings=131072, tie_word_embeddings=True)),
}


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--like", default="Qwen3-0.6B", choices=sorted(LIKE))
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "f16", "f32"])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("-p", type=int, default=512)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    dtype = {"bf16": torch.bfloat16, "f16": torch.float16, "f32": torch.float32}[a.dtype]
    cls, kw = LIKE[a.like]
    config = getattr(transformers, cls)(**kw)
    torch.manual_seed(0)
    with torch.device(a.device):
        model = transformers.AutoModelForCausalLM.from_config(config, dtype=dtype).eval()
    vocab = kw["vocab_size"]
    gen = torch.Generator(device="cpu").manual_seed(1)

    def prefill():
        ids = torch.randint(0, vocab, (1, a.p), generator=gen).to(a.device)
        sync(a.device)
        t0 = time.perf_counter()
        with torch.no_grad():
            model(ids, use_cache=True, logits_to_keep=1)
        sync(a.device)
        return time.perf_counter() - t0

    def decode():
        ids = torch.randint(0, vocab, (1, 1), generator=gen).to(a.device)
        sync(a.device)
        t0 = time.perf_counter()
        with torch.no_grad():
            out = model.generate(ids, max_new_tokens=a.n, min_new_tokens=a.n, do_sample=False,
                                 pad_token_id=0, eos_token_id=None)
        sync(a.device)
        assert out.shape[1] == a.n + 1
        return time.perf_counter() - t0

    prefill(), decode()  # warm-up
    pp = [a.p / prefill() for _ in range(a.reps)]
    tg = [a.n / decode() for _ in range(a.reps)]
    name = torch.cuda.get_device_name() if a.device.startswith("cuda") else "cpu"
    print(f"transformers {transformers.__version__}, torch {torch.__version__}, {a.like} shapes, "
          f"random {a.dtype} weights, {name}, eager generate (default cache)")
    print(f"pp{a.p}: median {statistics.median(pp):.1f} t/s  samples {' '.join(f'{x:.1f}' for x in pp)}")
    print(f"tg{a.n}: median {statistics.median(tg):.1f} t/s  samples {' '.join(f'{x:.1f}' for x in tg)}")


if __name__ == "__main__":
    main()
