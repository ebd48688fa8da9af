#!/usr/bin/env bash
# Compare llmj with both Hugging Face engines on a fixed set of texts.
#   ./run-cases.sh TOKENIZER_JSON [MORE.json ...]
# Expected ids come from `llmj tokenize --specials --json` (Hugging Face splits out added tokens by default) (override the binary with LLMJ=...).
# Prints one line per file and text; exits 1 if anything mismatches.
HERE=$(cd "$(dirname "$0")" && pwd)
LLMJ=${LLMJ:-$HERE/../../llmj}
texts=(
  "First Citizen: we are accounted poor citizens, the patricians good."
  "猫 在 垫子 上"
  "床前明月光，疑是地上霜。"
  $'猫 在 垫子 上\n书 在 桌子 上'
  $'Hello, world! How are you?\nI\'m fine -- thanks.\n\nBye...'
  "don't you'll"
  "a   b"
  "  leading and trailing  "
  "emoji 😀👍🏽 ok"
  "中文，English混合 123 456789"
  $'tab\there\r\nCRLF'
  "<|endoftext|>Hi<eos> there<unk>"
  $'猫\u3000在' $'猫\u00a0在' $'猫\u0085在' $'猫\ufeff在' $'猫\x1c在'
)
ids_of() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const l of s.split("\n"))if(l.startsWith("{\"ids\""))console.log(JSON.stringify(JSON.parse(l).ids))})'; }
fail=0
for f in "$@"; do
  for t in "${texts[@]}"; do
    exp=""
    for _ in 1 2 3; do  # llmj may print nothing while another build runs
      exp=$("$LLMJ" tokenize --tokenizer "$f" --text "$t" --specials --json 2>/dev/null | ids_of)
      [ -n "$exp" ] && break
    done
    line=""; details=""
    for e in js rust; do
      out=$(node "$HERE/check.mjs" --engine "$e" --compare "$f" "$t" "${exp:-null}" 2>&1)
      if [ $? -eq 0 ]; then line+="$e:OK   "; else line+="$e:FAIL "; fail=1; details+=$'\n'"  [$e] $(echo "$out" | head -2 | tr '\n' ' ')"; fi
    done
    printf '%s %s %q' "$line" "$(basename "$f")" "$t"
    [ -n "$details" ] && printf '%s\n  [llmj] %s' "$details" "$exp"
    echo
  done
done
exit $fail
