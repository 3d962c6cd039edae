#!/usr/bin/env bash
# cuda_session.sh RLX RLX_CUDA_TESTS [LLAMA_BENCH]
# Everything issue 8 measures, in one call on a GPU machine (device time is scarce, machines
# are bare): writes Qwen3-0.6B F16 / Q4_K_M and Llama-3.2-1B F16 files with `rlx synth`, runs
# the CUDA tests, compute-sanitizer memcheck over a short `rlx bench` of each Qwen3 file, the
# per-run GPU time (RLX_CUDA_RUN_TIMING), and with LLAMA_BENCH the back-to-back comparisons and
# the Llama-3.2-1B decode against the HBM limit. Pass "" for RLX_CUDA_TESTS to skip the tests.
# Environment: VOCAB_QWEN, VOCAB_LLAMA (llama.cpp's ggml-vocab-qwen2.gguf / -llama-bpe.gguf;
# default: $RLX_DATA_DIR/llama.cpp/models), OUT (files: tests.log, compare-*.txt), REPS (5).
# decode_bandwidth.sh reads the file with llama.cpp's gguf-py from $RLX_DATA_DIR/llama.cpp/gguf-py
# (numpy needed). Files already in $TMPDIR (default /tmp) are reused.
set -u
rlx=${1:?usage: cuda_session.sh RLX RLX_CUDA_TESTS [LLAMA_BENCH]}
tests=${2-}
llama=${3-}
here=$(cd "$(dirname "$0")" && pwd)
data=${RLX_DATA_DIR:-$HOME/.cache/rlx-data}
vq=${VOCAB_QWEN:-$data/llama.cpp/models/ggml-vocab-qwen2.gguf}
vl=${VOCAB_LLAMA:-$data/llama.cpp/models/ggml-vocab-llama-bpe.gguf}
out=${OUT:-/tmp/cuda-session}
reps=${REPS:-5}
tmp=${TMPDIR:-/tmp}
mkdir -p "$out"
t0=$(date +%s)
since() { echo "$(($(date +%s) - t0)) s"; }
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
case $gpu in *H200*) bw=4800 ;; *H100*) bw=3350 ;; *) bw=${RLX_BANDWIDTH_GBPS:-3350} ;; esac
echo "GPU: $gpu (HBM ${bw} GB/s)"

for spec in "q-f16 Qwen3-0.6B F16 $vq" "q-q4 Qwen3-0.6B Q4_K_M $vq" "l-f16 Llama-3.2-1B F16 $vl"; do
  read -r name like type vocab <<< "$spec"
  [[ -f $tmp/$name.gguf ]] ||
    "$rlx" synth --like "$like" --type "$type" "$tmp/$name.gguf" --vocab "$vocab" -q -t 8 &
done
wait
echo "== files written ($(since))"

if [[ -n $tests ]]; then
  timeout 300 "$tests" > "$out/tests.log" 2>&1
  echo "== tests rc=$? ($(since))"
  grep -E "^\[  (PASSED|FAILED) |^\[  FAILED" "$out/tests.log"
  grep -B1 -A3 "Failure" "$out/tests.log" | head -30
fi

for f in q-q4 q-f16; do
  timeout 150 compute-sanitizer --tool memcheck "$rlx" bench -m "$tmp/$f.gguf" --device cuda \
    -p 16 -n 8 -r 1 > "$out/memcheck-$f.log" 2>&1
  echo "== memcheck $f rc=$?: $(grep "ERROR SUMMARY" "$out/memcheck-$f.log") ($(since))"
done

for f in q-f16 q-q4 l-f16; do
  echo "== GPU time per decode step, $f"
  RLX_CUDA_RUN_TIMING=1 "$rlx" bench -m "$tmp/$f.gguf" --device cuda -p 0 -n 128 -r 3 2>&1 |
    grep -E "graph: GPU|tg128"
done

if [[ -n $llama ]]; then
  for f in q-f16 q-q4; do
    echo "== compare $f ($(since))"
    RLX=$rlx RLX_BENCH_ARGS="--device cuda" LLAMA_BENCH_ARGS="-ngl 99" \
      "$here/compare_llamacpp.sh" "$llama" "$tmp/$f.gguf" 16 "$reps" 2> /dev/null |
      tee "$out/compare-$f.txt" | grep -E "^ratio|^\| (llama.cpp|rlx) +\| (pp|tg)"
  done
  echo "== Llama-3.2-1B F16 decode ($(since))"
  "$llama" -m "$tmp/l-f16.gguf" -p 0 -n 128 -r 3 -ngl 99 2> /dev/null | grep tg128
  PYTHON=${PYTHON:-python3} RLX=$rlx RLX_BENCH_ARGS="--device cuda" RLX_BANDWIDTH_GBPS=$bw \
    RLX_BENCH_REPS=3 "$here/decode_bandwidth.sh" "$tmp/l-f16.gguf" 2>&1 | tail -3
fi
echo "total $(since)"
