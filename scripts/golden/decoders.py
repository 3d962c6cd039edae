#!/usr/bin/env python3
"""Golden fixtures for the StandardDecoder families (llama, qwen2, gemma, gemma2, gemma3_text),
made with PyTorch + transformers on the reference's CPU in float32 (eager attention, TF32 off).

  python3 scripts/golden/decoders.py OUT_DIR

Writes OUT_DIR/<name>/{config.json, generation_config.json, model.safetensors, input_ids.npy,
logits.npy, greedy_ids.npy, greedy_margins.npy, meta.json}. config.json is what
save_pretrained writes (transformers 5 form); config.classic.json is the hub's classic form.
"""
import json
import os
import sys

import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM, AutoConfig

torch.backends.cuda.matmul.allow_tf32 = False
torch.set_default_dtype(torch.float32)

COMMON = dict(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
              num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
              rms_norm_eps=1e-6, bos_token_id=1, eos_token_id=2, pad_token_id=0)
CONFIGS = {
    "llama_rope_llama3": ("llama", dict(COMMON, head_dim=16, tie_word_embeddings=False, rope_theta=500000.0,
                                        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                      "high_freq_factor": 4.0,
                                                      "original_max_position_embeddings": 32})),
    "smollm2_tied": ("llama", dict(COMMON, num_key_value_heads=4, tie_word_embeddings=True, rope_theta=10000.0)),
    "qwen2_bias": ("qwen2", dict(COMMON, tie_word_embeddings=False, rope_theta=1000000.0,
                                 use_sliding_window=False)),
    "gemma": ("gemma", dict(COMMON, head_dim=32, num_key_value_heads=1, hidden_activation="gelu_pytorch_tanh",
                            tie_word_embeddings=True, rope_theta=10000.0)),
    "gemma2_softcap_window": ("gemma2", dict(COMMON, num_hidden_layers=3, head_dim=16,
                                             hidden_activation="gelu_pytorch_tanh", query_pre_attn_scalar=24,
                                             attn_logit_softcapping=5.0, final_logit_softcapping=3.0,
                                             sliding_window=5, tie_word_embeddings=True, rope_theta=10000.0)),
    "gemma3_local_global": ("gemma3_text", dict(COMMON, num_hidden_layers=4, head_dim=16,
                                                hidden_activation="gelu_pytorch_tanh", query_pre_attn_scalar=16,
                                                sliding_window=4, sliding_window_pattern=2,
                                                layer_types=["sliding_attention", "full_attention",
                                                             "sliding_attention", "full_attention"],
                                                rope_theta=1000000.0, rope_local_base_freq=10000.0,
                                                rope_scaling={"rope_type": "linear", "factor": 2.0},
                                                tie_word_embeddings=True)),
}
PROMPT = [3, 17, 42, 255, 7, 100, 31, 8, 500, 64, 1, 99]
N_NEW = 16


def main():
    out_dir = sys.argv[1]
    for name, (model_type, cfg) in CONFIGS.items():
        d = os.path.join(out_dir, name)
        os.makedirs(d, exist_ok=True)
        torch.manual_seed(1234)
        gen = torch.Generator().manual_seed(99)
        config = AutoConfig.for_model(model_type, **cfg)
        config._attn_implementation = "eager"
        model = AutoModelForCausalLM.from_config(config).eval()
        with torch.no_grad():
            for pname, p in model.named_parameters():
                if "norm" in pname:  # away from the init value (1 for RMSNorm, 0 for Gemma's 1+w)
                    base = 0.0 if model_type.startswith("gemma") else 1.0
                    p.copy_(base + 0.1 * torch.randn(p.shape, generator=gen))
                elif "bias" in pname:
                    p.copy_(0.05 * torch.randn(p.shape, generator=gen))
        model.save_pretrained(d, safe_serialization=True)
        classic = dict(cfg, model_type=model_type, architectures=[type(model).__name__])
        with open(os.path.join(d, "config.classic.json"), "w") as f:
            json.dump(classic, f, indent=2)
        with open(os.path.join(d, "generation_config.json"), "w") as f:
            json.dump({"bos_token_id": 1, "eos_token_id": 2, "do_sample": False}, f, indent=2)
        ids = torch.tensor([PROMPT])
        with torch.no_grad():
            logits = model(ids).logits[0].float().numpy()
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
        meta = {"torch": torch.__version__, "transformers": transformers.__version__, "device": "cpu",
                "dtype": "float32", "attn": "eager", "model_type": model_type, "prompt": PROMPT,
                "n_new": N_NEW, "min_greedy_margin": float(min(margins))}
        with open(os.path.join(d, "meta.json"), "w") as f:
            json.dump(meta, f, indent=2)
        print(name, model_type, "greedy", new, "min margin %.3g" % min(margins), flush=True)


if __name__ == "__main__":
    main()
