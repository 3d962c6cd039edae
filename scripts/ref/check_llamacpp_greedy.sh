#!/usr/bin/env bash
# Quantizes tiny-qwen3-F32.gguf with `rlx quantize` and checks that llama.cpp's runtime (the
# node-llama-cpp CPU binding, scripts/ref/llamacpp_greedy.mjs) loads each file and generates
# the same greedy tokens as `rlx run`.
#
#   scripts/ref/check_llamacpp_greedy.sh [BUILD_DIR] [TYPES...]   (default: build, Q4_K_M Q8_0)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$repo/build}"
shift || true
types=("$@")
[ ${#types[@]} -gt 0 ] || types=(Q4_K_M Q8_0)
rlx="$build/tools/rlx/rlx"
src="$repo/../shared/fixtures/gguf/tiny-qwen3-F32.gguf"
ids="1,5,9,100,200,300,7,8,42,77,3,11"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
status=0
for t in F32 "${types[@]}"; do
  f="$src"
  if [ "$t" != F32 ]; then
    f="$tmp/tiny-qwen3-$t.gguf"
    "$rlx" quantize "$src" "$f" --type "$t" -q -t 2
  fi
  a="$("$rlx" run qwen3 -m "$f" --prompt-ids "$ids" --temperature 0 --print-ids -n 16 -q -t 2)"
  b="$(node "$repo/scripts/ref/llamacpp_greedy.mjs" "$f" --prompt-ids "$ids" -n 16)"
  if [ "$a" == "$b" ]; then r=same; else r=DIFFERENT; status=1; fi
  printf '%-7s rlx      %s\n        llama.cpp %s  %s\n' "$t" "$a" "$b" "$r"
done
exit $status
