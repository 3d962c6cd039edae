#!/usr/bin/python3
"""Writes tests/fixtures/io/numpy_dtypes.safetensors with numpy alone (header + raw bytes),
one tensor per safetensors dtype, plus numpy_dtypes.expected.npy: every tensor's values as
float64 in file order (flattened, concatenated), computed by numpy independently of rlx."""
import json
import os
import struct
import sys

import numpy as np

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../tests/fixtures/io")
base = np.arange(24, dtype=np.float64).reshape(2, 3, 4) * 0.75 - 7.5


def e4m3(b):  # OCP FP8 E4M3FN decoding, for the expected values
    s, e, m = b >> 7, (b >> 3) & 15, b & 7
    if e == 15 and m == 7:
        return np.nan
    v = m / 8 * 2.0 ** -6 if e == 0 else (1 + m / 8) * 2.0 ** (e - 7)
    return -v if s else v


f32 = base.astype(np.float32)
bf16_bits = (f32.view(np.uint32) >> 16).astype(np.uint16)  # exact: values have short mantissas
fp8 = np.array([b for b in range(256) if not ((b & 0x7f) == 0x7f)], dtype=np.uint8)
tensors = [
    ("a_f64", "F64", base, base),
    ("b_f32", "F32", f32, f32.astype(np.float64)),
    ("c_f16", "F16", base.astype(np.float16), base.astype(np.float16).astype(np.float64)),
    ("d_bf16", "BF16", bf16_bits, (bf16_bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64)),
    ("e_i64", "I64", (base * 4).astype(np.int64), (base * 4).astype(np.int64).astype(np.float64)),
    ("f_i32", "I32", (base * 4).astype(np.int32), (base * 4).astype(np.int32).astype(np.float64)),
    ("g_i16", "I16", (base * 4).astype(np.int16), (base * 4).astype(np.int16).astype(np.float64)),
    ("h_i8", "I8", (base * 4).astype(np.int8), (base * 4).astype(np.int8).astype(np.float64)),
    ("i_u8", "U8", np.arange(24, dtype=np.uint8).reshape(2, 3, 4), np.arange(24, dtype=np.float64)),
    ("j_bool", "BOOL", (np.arange(24) % 3 == 0).reshape(2, 3, 4), (np.arange(24) % 3 == 0).astype(np.float64)),
    ("k_u16", "U16", np.arange(24, dtype=np.uint16) * 1000, np.arange(24, dtype=np.float64) * 1000),
    ("l_u32", "U32", np.arange(24, dtype=np.uint32) * 100000, np.arange(24, dtype=np.float64) * 100000),
    ("m_u64", "U64", np.arange(24, dtype=np.uint64) * 7, np.arange(24, dtype=np.float64) * 7),
    ("n_f8e4m3", "F8_E4M3", fp8, np.array([e4m3(int(b)) for b in fp8])),
]
header, blobs, off = {"__metadata__": {"format": "pt", "made_by": "scripts/ref/make_numpy_safetensors.py"}}, [], 0
for name, dt, arr, _ in tensors:
    raw = np.ascontiguousarray(arr).tobytes()
    header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [off, off + len(raw)]}
    blobs.append(raw)
    off += len(raw)
hb = json.dumps(header).encode()
hb += b" " * ((8 - len(hb) % 8) % 8)
with open(os.path.join(out, "numpy_dtypes.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(hb)) + hb + b"".join(blobs))
np.save(os.path.join(out, "numpy_dtypes.expected.npy"), np.concatenate([np.ravel(e) for *_, e in tensors]))
print("wrote", len(tensors), "tensors")
