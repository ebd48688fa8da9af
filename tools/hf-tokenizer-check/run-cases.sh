#!/usr/bin/env bash
# Compare llmj and Tokenizers.js on a fixed set of texts for each tokenizer.json given.
#   ./run-cases.sh path/to/tokenizer.json [more.json ...]
# Expected ids come from `llmj tokenize --json`; exits 1 if any text mismatches.
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
)
pass=0; fail=0
for f in "$@"; do
  for t in "${texts[@]}"; do
    exp=""
    for _ in 1 2 3; do  # retry: llmj may print nothing while (re)building
      exp=$("$LLMJ" tokenize --tokenizer "$f" --text "$t" --json 2>/dev/null | grep '^{"ids"' |
            node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.stringify(JSON.parse(s).ids)))' 2>/dev/null)
      [ -n "$exp" ] && break
    done
    out=$(node "$HERE/check.mjs" --compare "$f" "$t" "${exp:-null}" 2>&1); rc=$?
    if [ $rc -eq 0 ]; then pass=$((pass+1)); s=OK; else fail=$((fail+1)); s="FAIL"; fi
    printf '%-4s %s %s\n' "$s" "$(basename "$f")" "$(printf '%q' "$t")"
    [ $rc -ne 0 ] && echo "$out" | sed 's/^/     /'
  done
done
echo "pass=$pass fail=$fail"
[ $fail -eq 0 ]
