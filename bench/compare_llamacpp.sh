#!/usr/bin/env bash
# compare_llamacpp.sh PATH_TO_LLAMA_BENCH MODEL.gguf [THREADS] [REPS]
# Runs llama-bench (its defaults: pp512, tg128, f16 KV cache; only -t is set) and
# `rlx bench --kv-type f16` on the same file, interleaved: REPS rounds (default 5) of one
# single-repetition run of each tool. Prints both tables and the ratio of medians rlx/llama.cpp.
# Extra arguments (e.g. for a GPU run: RLX_BENCH_ARGS="--device cuda", LLAMA_BENCH_ARGS="-ngl 99")
# are appended to each tool's command line and printed with the settings.
set -euo pipefail
llama_bench=${1:?usage: compare_llamacpp.sh PATH_TO_LLAMA_BENCH MODEL.gguf [THREADS] [REPS]}
model=${2:?usage: compare_llamacpp.sh PATH_TO_LLAMA_BENCH MODEL.gguf [THREADS] [REPS]}
threads=${3:-$(nproc)}
reps=${4:-5}
read -r -a rlx_extra <<< "${RLX_BENCH_ARGS:-}"
read -r -a llama_extra <<< "${LLAMA_BENCH_ARGS:-}"
here=$(cd "$(dirname "$0")" && pwd)
rlx=${RLX:-${RLX_BUILD_DIR:-$here/../build}/tools/rlx/rlx}
[[ -x $llama_bench ]] || { echo "compare_llamacpp.sh: $llama_bench: not an executable" >&2; exit 2; }
[[ -f $model ]] || { echo "compare_llamacpp.sh: $model: no such file" >&2; exit 2; }
[[ -x $rlx ]] || { echo "compare_llamacpp.sh: $rlx: build rlx_cli first (or set RLX)" >&2; exit 2; }
(( reps >= 5 )) || echo "compare_llamacpp.sh: warning: $reps rounds (the issue asks for >= 5)" >&2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for ((i = 1; i <= reps; i++)); do
  echo "round $i/$reps: llama-bench" >&2
  "$llama_bench" -m "$model" -t "$threads" -r 1 -o json "${llama_extra[@]}" > "$tmp/llama.$i.json" 2> "$tmp/llama.$i.err" ||
    { cat "$tmp/llama.$i.err" >&2; exit 1; }
  echo "round $i/$reps: rlx bench" >&2
  "$rlx" bench -m "$model" -p 512 -n 128 -t "$threads" -r 1 --kv-type f16 --json "${rlx_extra[@]}" > "$tmp/rlx.$i.json"
done

python3 - "$tmp" "$reps" "$model" "$threads" "${LLAMA_BENCH_ARGS:-}" "${RLX_BENCH_ARGS:-}" <<'PY'
import json, statistics, sys
tmp, reps, model, threads, llama_args, rlx_args = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
ll, rx = {}, {}
settings = None
for i in range(1, reps + 1):
    for t in json.load(open(f"{tmp}/llama.{i}.json")):
        test = f"pp{t['n_prompt']}" if t["n_gen"] == 0 else f"tg{t['n_gen']}"
        ll.setdefault(test, []).extend(t["samples_ts"])
        settings = t
    for t in json.load(open(f"{tmp}/rlx.{i}.json"))["results"]:
        rx.setdefault(t["test"], []).append(t["tokens_per_s"])
r0 = json.load(open(f"{tmp}/rlx.1.json"))
print(f"model: {model}")
print(f"llama.cpp: build {settings.get('build_commit')} ({settings.get('build_number')}), backend {settings.get('backends')}, "
      f"threads {settings.get('n_threads')}, type_k {settings.get('type_k')}, type_v {settings.get('type_v')}, "
      f"n_batch {settings.get('n_batch')}, n_ubatch {settings.get('n_ubatch')}, flash_attn {settings.get('flash_attn')}, "
      f"load_mode {settings.get('load_mode')}, n_gpu_layers {settings.get('n_gpu_layers')}, cpu {settings.get('cpu_info')}, gpu {settings.get('gpu_info')}"
      + (f", extra args: {llama_args}" if llama_args else ""))
rss = max(json.load(open(f"{tmp}/rlx.{i}.json"))["peak_rss_mib"] for i in range(1, reps + 1))
print(f"rlx:       threads {r0['threads'] or 'default'} (-t {threads}), kv {r0['kv_type']}, device {r0.get('device', 'cpu')}, load {r0['load_s']:.2f} s"
      + (f", extra args: {rlx_args}" if rlx_args else ""))
print(f"rlx peak RSS (max over rounds) {rss:.1f} MiB; budget (file {r0['file_mib']:.1f} + KV {r0['kv_mib']:.1f} MiB) x 1.15 = "
      f"{r0['rss_budget_mib']:.1f} MiB: {'within' if rss <= r0['rss_budget_mib'] else 'OVER'}")
print(f"{reps} interleaved rounds, one repetition per tool per round\n")
def table(name, d):
    print(f"| {name:<9} | test   | runs |   median t/s |     mean ± sd t/s | samples t/s")
    print("| --------- | ------ | ---: | -----------: | ----------------: | -----------")
    for test, v in d.items():
        sd = statistics.stdev(v) if len(v) > 1 else 0.0
        print(f"| {name:<9} | {test:<6} | {len(v):4d} | {statistics.median(v):12.2f} | {statistics.mean(v):8.2f} ± {sd:6.2f} | {' '.join(f'{x:.2f}' for x in v)}")
    print()
table("llama.cpp", ll)
table("rlx", rx)
for test in ("pp512", "tg128"):
    if test in ll and test in rx:
        print(f"ratio rlx/llama.cpp {test}: {statistics.median(rx[test]) / statistics.median(ll[test]):.3f}")
PY
