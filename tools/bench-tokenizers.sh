#!/usr/bin/env bash
# Encode MB/s of llmj's byte-level BPE beside jtokkit's on the bundled corpora, and BPE training time.
# Usage: tools/bench-tokenizers.sh [RUNS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/bin/jdk.sh"
llmj_find_jdk
cd "$root"
JAVA_HOME="$LLMJ_JAVA_HOME" MAVEN_OPTS="$(llmj_maven_opts)" mvn -B -q -pl core test-compile
cpfile="$(mktemp)"
JAVA_HOME="$LLMJ_JAVA_HOME" MAVEN_OPTS="$(llmj_maven_opts)" mvn -B -q -pl core dependency:build-classpath -Dmdep.outputFile="$cpfile" -Dmdep.includeScope=test
cp="$(cat "$cpfile")"; rm -f "$cpfile"
exec "$LLMJ_JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -Xmx4g \
  -cp "core/target/classes:core/target/test-classes:$cp" dev.llmj.tokenizer.TokenizerBench "$@" 2>&1 \
  | grep -v '^WARNING: Using incubator modules'
