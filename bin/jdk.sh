# Sourced by ./llmj and ./test: finds a JDK 25 or newer and sets LLMJ_JAVA_HOME.
# Order: $JAVA_HOME if it is new enough, then the standard JDK folders (newest first).

llmj_java_major() { # prints the feature version of the JDK at $1, or nothing
  local rel="$1/release" v
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
  if [ -f "$rel" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$rel")
  else
    v=$("$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
  fi
  [ "$v" = "1" ] && v=8
  printf '%s' "$v"
}

llmj_find_jdk() {
  local need=25 best="" best_v=0 d v
  if [ -n "${JAVA_HOME:-}" ]; then
    v=$(llmj_java_major "$JAVA_HOME")
    if [ -n "$v" ] && [ "$v" -ge "$need" ]; then LLMJ_JAVA_HOME="$JAVA_HOME"; return 0; fi
  fi
  for d in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* /usr/local/jdk* "$HOME"/.sdkman/candidates/java/* \
           "$HOME"/.jdks/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -d "$d" ] || continue
    v=$(llmj_java_major "$d")
    if [ -n "$v" ] && [ "$v" -ge "$need" ] && [ "$v" -gt "$best_v" ]; then best="$d"; best_v="$v"; fi
  done
  if [ -z "$best" ] && [ -x /usr/libexec/java_home ]; then # macOS
    d=$(/usr/libexec/java_home -v "$need+" 2>/dev/null || true)
    [ -n "$d" ] && [ -n "$(llmj_java_major "$d")" ] && best="$d"
  fi
  if [ -z "$best" ] && command -v javac >/dev/null 2>&1; then
    d=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    v=$(llmj_java_major "$d")
    if [ -n "$v" ] && [ "$v" -ge "$need" ]; then best="$d"; fi
  fi
  if [ -z "$best" ]; then
    echo "llmj: needs a JDK $need or newer (with javac); none found in JAVA_HOME${JAVA_HOME:+ ($JAVA_HOME)} or /usr/lib/jvm. Install one (e.g. Temurin 25) or set JAVA_HOME to it." >&2
    return 2
  fi
  LLMJ_JAVA_HOME="$best"
}

llmj_need_maven() {
  if ! command -v mvn >/dev/null 2>&1; then
    echo "llmj: needs Apache Maven (mvn) on the PATH to build; install it (e.g. apt-get install maven)." >&2
    return 2
  fi
}

# Maven itself runs on the JDK it builds with; JDK 24+ warns about Maven's use of sun.misc.Unsafe.
llmj_maven_opts() {
  printf '%s' "${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
}
