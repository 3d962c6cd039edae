#!/usr/bin/env node
// Greedy generation in llama.cpp's own runtime (the prebuilt CPU binding of node-llama-cpp),
// to check that GGUF files written by `rlx quantize` load in llama.cpp and give the same tokens
// as `rlx run ... --temperature 0 --print-ids`.
//
//   node scripts/ref/llamacpp_greedy.mjs MODEL.gguf --prompt-ids 1,5,9 [-n 16] [--threads 2]
//                                        [--kv-type F32|F16]
//
// Prints the generated ids comma-separated on one line (like rlx's --print-ids). node-llama-cpp
// comes from the fetched test data ($RLX_DATA_DIR, default ~/.cache/rlx-data/npm/node_modules).
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const model = args[0];
if (!model || model.startsWith("-") || !opt("--prompt-ids")) {
  console.error("usage: llamacpp_greedy.mjs MODEL.gguf --prompt-ids 1,2,3 [-n 16] [--threads N]");
  process.exit(1);
}
const promptIds = opt("--prompt-ids").split(",").map((s) => Number.parseInt(s, 10));
const n = Number.parseInt(opt("-n", "16"), 10);
const threads = Number.parseInt(opt("--threads", "2"), 10);
const dataDir = process.env.RLX_DATA_DIR || path.join(os.homedir(), ".cache/rlx-data");
const pkg = path.join(dataDir, "npm/node_modules/node-llama-cpp/dist/index.js");
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(pkg).href);

const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const m = await llama.loadModel({ modelPath: path.resolve(model), gpuLayers: 0 });
// F32 K/V cache, as rlx's default and the fixtures' logits (llama.cpp's own default is F16,
// which moves logits by ~1e-3 and flips near-ties of these random-weight models).
const kvType = opt("--kv-type", "F32");
const ctx = await m.createContext({
  contextSize: 512,
  batchSize: 512,
  threads,
  flashAttention: false,
  experimentalKvCacheKeyType: kvType,
  experimentalKvCacheValueType: kvType,
});
const seq = ctx.getSequence();
const out = [];
// temperature 0: greedy (argmax); no repeat penalty; the EOG token is yielded and stops.
for await (const tok of seq.evaluate(promptIds, { temperature: 0, yieldEogToken: true })) {
  out.push(tok);
  if (out.length >= n || m.isEogToken(tok)) break;
}
console.log(out.join(","));
await ctx.dispose();
await m.dispose();
await llama.dispose();
