#!/usr/bin/env bash
# decode_bandwidth.sh MODEL.gguf [THREADS] [LLAMA_BENCH_TG_TPS]
# Decode's share of the memory-bandwidth limit: limit t/s = read bandwidth (rlx_membw) / bytes
# read per token. Bytes per token = file size - token_embd.weight (decode reads one row of it,
# unless the LM head reuses it: tied models read it all) + the KV cache at half the tg length.
# Measures rlx decode with `rlx bench -n 128`; a llama-bench tg128 figure can be passed to compare.
# GPU: RLX_BENCH_ARGS="--device cuda" and RLX_BANDWIDTH_GBPS=3350 (H100 HBM3; 4800 for H200), the
# card's nominal bandwidth, in place of the CPU's measured one.
set -euo pipefail
model=${1:?usage: decode_bandwidth.sh MODEL.gguf [THREADS] [LLAMA_BENCH_TG_TPS]}
threads=${2:-$(nproc)}
llama_tg=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
build=${RLX_BUILD_DIR:-$here/../build}
rlx=${RLX:-$build/tools/rlx/rlx}
membw=${RLX_MEMBW:-$build/bench/rlx_membw}
[[ -f $model ]] || { echo "decode_bandwidth.sh: $model: no such file" >&2; exit 2; }
read -r -a rlx_extra <<< "${RLX_BENCH_ARGS:-}"
if [[ -n ${RLX_BANDWIDTH_GBPS:-} ]]; then
  [[ -x $rlx ]] || { echo "decode_bandwidth.sh: build rlx_cli first ($rlx)" >&2; exit 2; }
  bw=$RLX_BANDWIDTH_GBPS
  bw_source="nominal, RLX_BANDWIDTH_GBPS"
else
  [[ -x $rlx && -x $membw ]] || { echo "decode_bandwidth.sh: build rlx_cli and rlx_membw first ($rlx, $membw)" >&2; exit 2; }
  bw=$("$membw" -t "$threads" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["read_gbps"])')
  bw_source="rlx_membw, $threads threads"
fi
json=$("$rlx" bench -m "$model" -p 0 -n 128 -t "$threads" -r "${RLX_BENCH_REPS:-3}" --json "${rlx_extra[@]}")
# gguf-py needs numpy: Debian's python3 has it (DATA.md).
"${PYTHON:-/usr/bin/python3}" - "$model" "$bw" "$llama_tg" "$json" "$bw_source" <<'PY'
import json, os, sys
sys.path.insert(0, os.path.expanduser(os.environ.get("RLX_DATA_DIR", "~/.cache/rlx-data")) + "/llama.cpp/gguf-py")
import gguf  # llama.cpp's reader, from the fetched test data
model, bw, llama_tg, js = sys.argv[1], float(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
r = gguf.GGUFReader(model)
arch = bytes(r.fields["general.architecture"].parts[-1]).decode()
def u(k):
    f = r.fields[f"{arch}.{k}"]
    return int(f.parts[f.data[0]][0])
layers, kvh = u("block_count"), u("attention.head_count_kv")
hd = u("attention.key_length") if f"{arch}.attention.key_length" in r.fields else u("embedding_length") // u("attention.head_count")
names = {t.name: t for t in r.tensors}
size = os.path.getsize(model)
emb = int(names["token_embd.weight"].n_bytes)
tied = "output.weight" not in names
rows = int(names["token_embd.weight"].shape[-1])
weights = size if tied else size - emb + emb // rows
n = 128
kv = 2 * layers * kvh * hd * 2 * (n // 2)  # f16 K and V, average position n/2
per_tok = weights + kv
limit = bw * 1e9 / per_tok
tg = next(x for x in js["results"] if x["test"].startswith("tg"))["tokens_per_s"]
print(f"model            {model} ({arch}, {size / 2**20:.1f} MiB, {'tied' if tied else 'untied'} embeddings)")
print(f"bytes/token      {per_tok / 2**20:.1f} MiB (weights {weights / 2**20:.1f} MiB + f16 KV at pos {n // 2} {kv / 2**20:.2f} MiB)")
print(f"read bandwidth   {bw:.2f} GB/s ({sys.argv[5]}), device {js.get('device', 'cpu')}")
print(f"limit            {limit:.2f} tokens/s")
print(f"rlx tg{n}         {tg:.2f} tokens/s = {100 * tg / limit:.1f}% of the limit")
if llama_tg:
    print(f"llama.cpp tg{n}   {float(llama_tg):.2f} tokens/s = {100 * float(llama_tg) / limit:.1f}% of the limit")
PY
