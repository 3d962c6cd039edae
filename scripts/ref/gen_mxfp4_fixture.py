#!/usr/bin/env python3
"""Writes the MXFP4 reference fixture (tests/fixtures/quant/mxfp4.*) with gguf-py.

There is no MXFP4 GGUF among the shared fixtures, so rlx's MXFP4 (de)quantizer is checked
against gguf-py's: random floats (with a few zero / tiny / power-of-two blocks) are quantized
by gguf.quants.quantize, and the raw blocks plus gguf.quants.dequantize of them are stored.

  python3 scripts/ref/gen_mxfp4_fixture.py [--llama-cpp ~/.cache/rlx-data/llama.cpp]
"""
import argparse
import os
import sys

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-cpp", default=os.path.expanduser("~/.cache/rlx-data/llama.cpp"))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "../../tests/fixtures/quant"))
    args = ap.parse_args()
    sys.path.insert(0, os.path.join(args.llama_cpp, "gguf-py"))
    from gguf import GGMLQuantizationType, quants

    rng = np.random.default_rng(7)
    x = (rng.standard_normal((8, 32)) * 0.05).astype(np.float32)
    x[1] = 0.0                                   # all-zero block (exponent 0)
    x[2] *= 1e-30                                # tiny values
    x[3] = np.float32(2.0) ** rng.integers(-6, 3, 32)  # exact powers of two (ties)
    x[4, :16] *= 100.0                           # wide range inside one block
    x = x.reshape(-1)

    q = quants.quantize(x.reshape(1, -1), GGMLQuantizationType.MXFP4)
    d = quants.dequantize(q, GGMLQuantizationType.MXFP4).astype(np.float32).reshape(-1)

    os.makedirs(args.out, exist_ok=True)
    q.tofile(os.path.join(args.out, "mxfp4.bin"))
    np.save(os.path.join(args.out, "mxfp4.src.npy"), x)
    np.save(os.path.join(args.out, "mxfp4.deq.npy"), d)
    print(f"{x.size} values -> {q.size} bytes; max |x - deq| = {np.abs(x - d).max():.3g}")


if __name__ == "__main__":
    main()
