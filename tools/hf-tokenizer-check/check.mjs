#!/usr/bin/env node
// Encode text with a Hugging Face implementation loading a local tokenizer.json,
// optionally comparing the ids with those produced by llmj.
//
//   node check.mjs [--engine js|rust] TOKENIZER_JSON TEXT
//   node check.mjs [--engine js|rust] --compare TOKENIZER_JSON TEXT EXPECTED_IDS_JSON
//
// Engines (both read the file from disk; nothing is fetched from the network):
//   js   (default) @huggingface/tokenizers = Tokenizers.js, the pure-JS tokenizer
//        used by transformers.js. It also needs a tokenizer_config object: the
//        tokenizer_config.json next to TOKENIZER_JSON if there is one, else {}.
//   rust tokenizers = Hugging Face's official Node binding of the Rust `tokenizers`
//        crate (the reference implementation behind Python tokenizers/transformers).
//
// Prints three JSON lines: ids, tokens, decode(ids). Special tokens are not added
// (llmj's `tokenize` adds none either) and decode does no clean-up.
// Exit status: 0 ok, 1 mismatch (--compare), 2 usage, 3 load failure.
import { readFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";

const usage = () => {
  console.error(
    "usage: node check.mjs [--engine js|rust] TOKENIZER_JSON TEXT\n" +
      "       node check.mjs [--engine js|rust] --compare TOKENIZER_JSON TEXT EXPECTED_IDS_JSON"
  );
  process.exit(2);
};

const args = process.argv.slice(2);
let engine = "js";
if (args[0] === "--engine") {
  engine = args[1];
  args.splice(0, 2);
}
const compare = args[0] === "--compare";
if (compare) args.shift();
if (!["js", "rust"].includes(engine) || args.length !== (compare ? 3 : 2)) usage();
const [tokenizerPath, text, expectedJson] = args;

// Each engine: load(path) -> { encode(text) -> {ids, tokens}, decode(ids) -> string }
async function loadJs(path) {
  const { Tokenizer } = await import("@huggingface/tokenizers");
  const configPath = join(dirname(path), "tokenizer_config.json");
  const config = existsSync(configPath) ? JSON.parse(readFileSync(configPath, "utf8")) : {};
  const tok = new Tokenizer(JSON.parse(readFileSync(path, "utf8")), config);
  return {
    encode: (t) => tok.encode(t, { add_special_tokens: false }),
    // Tokenizers.js gives an undefined id for a token missing from the vocab when it
    // knows no unk id; such ids print as null and cannot be decoded.
    decode: (ids) =>
      !ids.every(Number.isInteger) ? null
        : ids.length ? tok.decode(ids, { clean_up_tokenization_spaces: false }) : "",
  };
}

async function loadRust(path) {
  const { Tokenizer } = createRequire(import.meta.url)("tokenizers");
  const tok = Tokenizer.fromFile(path);
  return {
    encode: async (t) => {
      const enc = await tok.encode(t, null, { addSpecialTokens: false });
      return { ids: enc.getIds(), tokens: enc.getTokens() };
    },
    decode: (ids) => tok.decode(ids, false),
  };
}

let tokenizer;
try {
  tokenizer = await (engine === "js" ? loadJs : loadRust)(tokenizerPath);
} catch (e) {
  console.error(`LOAD FAILED (${engine}): ${tokenizerPath}: ${e.message}`);
  process.exit(3);
}

const { ids, tokens } = await tokenizer.encode(text);
const decoded = await tokenizer.decode(ids);
console.log(JSON.stringify(ids));
console.log(JSON.stringify(tokens));
console.log(JSON.stringify(decoded));

if (compare) {
  const expected = JSON.parse(expectedJson);
  if (JSON.stringify(ids) !== JSON.stringify(expected)) {
    console.error(`MISMATCH (${engine})\n  expected ${JSON.stringify(expected)}\n  got      ${JSON.stringify(ids)}`);
    process.exit(1);
  }
  console.error(`OK (${engine})`);
}
