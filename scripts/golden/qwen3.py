#!/usr/bin/env python3
"""Golden fixtures for rlx's Qwen3 parity tests, made with PyTorch + transformers.

Run on the GPU machine (the reference itself runs on its CPU in float32, eager attention,
TF32 off): python3 scripts/golden/qwen3.py OUT_DIR
Writes OUT_DIR/<config>/{config.json (classic hub form), config.tf5.json (as saved by
transformers 5), generation_config.json, model.safetensors, input_ids.npy, logits.npy,
greedy_ids.npy, greedy_margins.npy, meta.json}.
"""
import json
import os
import sys

import numpy as np
import torch
import transformers
from transformers import Qwen3Config, Qwen3ForCausalLM

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.set_default_dtype(torch.float32)

CONFIGS = {
    # tied embeddings, head_dim = hidden / heads
    "tied": dict(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                 tie_word_embeddings=True, rope_theta=1000000.0),
    # untied, head_dim != hidden / heads, GQA 3:1
    "untied_headdim": dict(vocab_size=512, hidden_size=48, intermediate_size=96, num_hidden_layers=3,
                           num_attention_heads=6, num_key_value_heads=2, head_dim=32,
                           tie_word_embeddings=False, rope_theta=10000.0),
    # YaRN rope scaling (Qwen3's long-context setting)
    "yarn": dict(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=4, head_dim=16,
                 tie_word_embeddings=False, rope_theta=1000000.0,
                 rope_scaling={"rope_type": "yarn", "factor": 4.0,
                               "original_max_position_embeddings": 64}),
}
PROMPT = [3, 17, 42, 255, 7, 100, 31, 8, 500, 64, 1, 99]
N_NEW = 16


def perturb_norms(model, gen):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=gen))


def classic_config(cfg: dict) -> dict:
    """config.json as the hub stores Qwen3 checkpoints (rope_theta / rope_scaling keys)."""
    out = {"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "hidden_act": "silu",
           "max_position_embeddings": 512, "rms_norm_eps": 1e-6, "attention_bias": False,
           "use_sliding_window": False, "torch_dtype": "float32", "bos_token_id": 1, "eos_token_id": 2}
    out.update({k: v for k, v in cfg.items()})
    if "rope_scaling" not in out:
        out["rope_scaling"] = None
    return out


def main():
    out_dir = sys.argv[1]
    for name, cfg in CONFIGS.items():
        d = os.path.join(out_dir, name)
        os.makedirs(d, exist_ok=True)
        torch.manual_seed(1234)
        gen = torch.Generator().manual_seed(99)
        classic = classic_config(cfg)
        config = Qwen3Config(**{k: v for k, v in classic.items() if k not in ("architectures", "model_type", "torch_dtype")})
        config._attn_implementation = "eager"
        model = Qwen3ForCausalLM(config).eval()
        perturb_norms(model, gen)
        model.save_pretrained(d, safe_serialization=True)
        os.replace(os.path.join(d, "config.json"), os.path.join(d, "config.tf5.json"))
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(classic, f, indent=2)
        with open(os.path.join(d, "generation_config.json"), "w") as f:
            json.dump({"bos_token_id": 1, "eos_token_id": 2, "do_sample": False}, f, indent=2)
        ids = torch.tensor([PROMPT])
        with torch.no_grad():
            logits = model(ids).logits[0].float().numpy()
            # Greedy continuation with the KV cache, recording the top-2 margin of each step.
            past, cur, new, margins = None, ids, [], []
            for _ in range(N_NEW):
                out = model(cur, past_key_values=past, use_cache=True)
                past = out.past_key_values
                step = out.logits[0, -1].float()
                top = torch.topk(step, 2)
                margins.append(float(top.values[0] - top.values[1]))
                nxt = int(top.indices[0])
                new.append(nxt)
                cur = torch.tensor([[nxt]])
        np.save(os.path.join(d, "input_ids.npy"), np.array(PROMPT, dtype=np.int32))
        np.save(os.path.join(d, "logits.npy"), logits.astype(np.float32))
        np.save(os.path.join(d, "greedy_ids.npy"), np.array(new, dtype=np.int32))
        np.save(os.path.join(d, "greedy_margins.npy"), np.array(margins, dtype=np.float32))
        meta = {"torch": torch.__version__, "transformers": transformers.__version__,
                "numpy": np.__version__, "device": "cpu", "dtype": "float32", "attn": "eager",
                "prompt": PROMPT, "n_new": N_NEW, "config": name,
                "min_greedy_margin": float(min(margins))}
        with open(os.path.join(d, "meta.json"), "w") as f:
            json.dump(meta, f, indent=2)
        print(name, "logits", logits.shape, "greedy", new, "min margin %.3g" % min(margins))


if __name__ == "__main__":
    main()
