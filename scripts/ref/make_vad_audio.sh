#!/usr/bin/env bash
# Regenerates the small speech/silence clips used by the Silero VAD tests
# (tests/fixtures/silero_vad/*.wav|flac). Needs espeak-ng and sox. Output is deterministic
# for a given espeak-ng/sox version (sox -R: repeatable noise, no dither); the committed
# files are the reference, so rerunning is only needed to change the clips.
#
#   speech_a.wav          16 kHz mono s16: two sentences (en-us) with a 0.8 s pause
#   speech_b.wav          16 kHz mono s16: faster female voice over low white noise
#   silence.wav           16 kHz mono s16: 1 s of digital zeros, then 2 s of -46 dBFS noise
#   speech_b_44k_stereo.flac  speech_b's voice (no noise) at 44.1 kHz stereo (right = 0.5 x
#                         left): exercises load_audio_16k_mono's downmix + resampling
set -euo pipefail
out="${1:-$(cd "$(dirname "$0")/../.." && pwd)/tests/fixtures/silero_vad}"
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

espeak-ng -v en-us -s 150 -w "$tmp/a1.wav" "The quick brown fox jumps."
espeak-ng -v en-us -s 150 -w "$tmp/a2.wav" "Find the speech."
sox -R -n -r 22050 -c 1 -b 16 "$tmp/gap.wav" trim 0 0.8
sox -R -n -r 22050 -c 1 -b 16 "$tmp/lead.wav" trim 0 0.3
sox -R "$tmp/lead.wav" "$tmp/a1.wav" "$tmp/gap.wav" "$tmp/a2.wav" "$tmp/lead.wav" "$tmp/a.wav"
sox -R "$tmp/a.wav" -r 16000 -c 1 -b 16 -e signed-integer "$out/speech_a.wav"

espeak-ng -v en+f3 -s 190 -w "$tmp/b1.wav" "Testing one two three. Is anybody listening?"
sox -R "$tmp/b1.wav" -r 16000 -c 1 -b 16 "$tmp/b16.wav" pad 0.3 0.6
len="$(soxi -D "$tmp/b16.wav")"
sox -R -n -r 16000 -c 1 -b 16 "$tmp/noise.wav" synth "$len" whitenoise vol 0.01
sox -R -m "$tmp/b16.wav" "$tmp/noise.wav" -b 16 -e signed-integer "$out/speech_b.wav"

sox -R -n -r 16000 -c 1 -b 16 "$tmp/z.wav" trim 0 1
sox -R -n -r 16000 -c 1 -b 16 "$tmp/n.wav" synth 2 whitenoise vol 0.005
sox -R "$tmp/z.wav" "$tmp/n.wav" -b 16 -e signed-integer "$out/silence.wav"

sox -R "$tmp/b16.wav" -r 44100 "$tmp/b44.wav"
sox -R -M "$tmp/b44.wav" "$tmp/b44.wav" -c 2 -b 16 "$out/speech_b_44k_stereo.flac" remix 1 2v0.5
ls -l "$out"
