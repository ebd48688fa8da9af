#!/usr/bin/env node
// Writes the Hugging Face reference ids that llmj's tests compare against:
// for every FOLDER/tokenizer.json given, encodes the texts below with Hugging Face's
// Rust `tokenizers` (its Node binding, the implementation behind transformers) and
// writes FOLDER/expected.json. Run after changing a fixture tokenizer:
//
//   npm ci && node make-fixtures.mjs ../../core/src/test/resources/hf/*/
import { writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";

const { Tokenizer } = createRequire(import.meta.url)("tokenizers");
const version = JSON.parse(readFileSync(new URL("./node_modules/tokenizers/package.json", import.meta.url))).version;

const TEXTS = [
  "First Citizen: we are accounted poor citizens, the patricians good.",
  "猫 在 垫子 上",
  "床前明月光，疑是地上霜。",
  "猫 在 垫子 上\n书 在 桌子 上",
  "Hello, world! How are you?\nI'm fine -- thanks.\n\nBye...",
  "don't you'll WE'LL I'D",
  "a   b",
  "  leading and trailing  ",
  "emoji 😀👍🏽 ok",
  "中文，English混合 123 456789 3.14159",
  "tab\there\r\nCRLF\r\n\r\n  x",
  "<|endoftext|>Hi<eos> there<unk>",
  "猫\u3000在", "猫\u00a0在", "猫\u0085在", "猫\ufeff在", "猫\u001c在",
  "ÆØÅ straße İstanbul e\u0301 ﷺ",
  "    indented code();\n\tif (x) { return y; }\n",
];

for (const dir of process.argv.slice(2)) {
  const tok = Tokenizer.fromFile(join(dir, "tokenizer.json"));
  const cases = [];
  for (const text of TEXTS) {
    const enc = await tok.encode(text, null, { addSpecialTokens: false });
    cases.push({ text, ids: enc.getIds() });
  }
  const out = { reference: `Hugging Face tokenizers ${version} (Rust, Node binding), encode without added special tokens`, cases };
  writeFileSync(join(dir, "expected.json"), JSON.stringify(out, null, 1) + "\n");
  console.log(`wrote ${join(dir, "expected.json")} (${cases.length} cases)`);
}
