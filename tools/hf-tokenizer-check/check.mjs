#!/usr/bin/env node
// Encode text with Hugging Face Tokenizers.js (@huggingface/tokenizers) from a local
// tokenizer.json, optionally comparing against ids produced by llmj.
//
//   node check.mjs TOKENIZER_JSON TEXT
//   node check.mjs --compare TOKENIZER_JSON TEXT EXPECTED_IDS_JSON
//
// Purely local: the tokenizer.json is read from disk, nothing is fetched.
// If a tokenizer_config.json sits next to TOKENIZER_JSON it is used, else {}.
import { readFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";

const usage = () => {
  console.error(
    "usage: node check.mjs TOKENIZER_JSON TEXT\n" +
      "       node check.mjs --compare TOKENIZER_JSON TEXT EXPECTED_IDS_JSON"
  );
  process.exit(2);
};

const args = process.argv.slice(2);
const compare = args[0] === "--compare";
if (compare) args.shift();
if (args.length !== (compare ? 3 : 2)) usage();
const [tokenizerPath, text, expectedJson] = args;

const tokenizerJson = JSON.parse(readFileSync(tokenizerPath, "utf8"));
const configPath = join(dirname(tokenizerPath), "tokenizer_config.json");
const tokenizerConfig = existsSync(configPath)
  ? JSON.parse(readFileSync(configPath, "utf8"))
  : {};

let tokenizer;
try {
  tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
} catch (e) {
  console.error(`LOAD FAILED: ${tokenizerPath}: ${e.message}`);
  process.exit(3);
}

// add_special_tokens=false: llmj's `tokenize` adds no BOS/EOS either.
const { ids, tokens } = tokenizer.encode(text, { add_special_tokens: false });
// clean_up_tokenization_spaces=false: match the Rust `tokenizers` decode (no cleanup).
// A token missing from the vocab with no unk id gives an undefined id (printed as
// null); decode is skipped then (Tokenizers.js rejects non-integer ids).
const decodable = ids.every(Number.isInteger);
const decoded = !decodable
  ? null
  : ids.length
    ? tokenizer.decode(ids, { clean_up_tokenization_spaces: false })
    : "";

console.log(JSON.stringify(ids));
console.log(JSON.stringify(tokens));
console.log(JSON.stringify(decoded));

if (compare) {
  const expected = JSON.parse(expectedJson);
  const same = JSON.stringify(ids) === JSON.stringify(expected);
  if (!same) {
    console.error(`MISMATCH\n  expected ${JSON.stringify(expected)}\n  got      ${JSON.stringify(ids)}`);
    process.exit(1);
  }
  console.error("OK");
}
