#!/usr/bin/env bash
# think4j vs llama.cpp (de.kherud:llama, in-process) on the same GGUF: prefill/decode tokens/s side by side.
# Builds think4j-cli/target/think4j-vs-llamacpp.jar with the `llamacpp` Maven profile when it is missing or older than
# the sources, then runs it with the given arguments, e.g.
#   scripts/bench-vs-llamacpp.sh -m model.gguf -p 512 -n 128 --depth 0,4096 --kv "full;think:0.5" --out /tmp/sbs
# Options: -m/--model PATH, -p N, -n N, --depth LIST, -r N, -t N, --kv SPECS (';'), --llama-kv LIST (','),
#          --llama-fa auto|on|off, --interleave, --no-warmup, --out DIR, --help.
# The llama.cpp here is the one inside de.kherud:llama 4.2.0 (older, no AVX-512 repacking). For the current
# llama.cpp (its own llama-bench), llama3.java and files quantized by llama-quantize: scripts/bench-real-files.sh.
set -euo pipefail
echo "bench-vs-llamacpp: llama.cpp 4.2.0 in-process (de.kherud:llama); the current llama.cpp and llama3.java on real quantized files: scripts/bench-real-files.sh" >&2
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/scripts/find-jdk.sh"
jar="$root/think4j-cli/target/think4j-vs-llamacpp.jar"
if [ ! -f "$jar" ] || [ -n "$(find "$root"/pom.xml "$root"/think4j-*/pom.xml "$root"/think4j-*/src/main "$root/think4j-cli/src/llamacpp" -newer "$jar" -print -quit 2>/dev/null)" ]; then
  echo "bench-vs-llamacpp: building $jar (mvn -Pllamacpp)..." >&2
  if ! command -v mvn >/dev/null 2>&1; then
    echo "bench-vs-llamacpp: Maven (mvn) is needed to build the jar." >&2
    exit 1
  fi
  mkdir -p "$root/target"
  log="$root/target/bench-vs-llamacpp-build.log"
  (cd "$root" && mvn -q -B -Pllamacpp -DskipTests -pl think4j-cli -am package >"$log" 2>&1) || {
    echo "bench-vs-llamacpp: build failed; see $log" >&2; exit 1; }
  rm -f "$log"
fi
exec "$JAVA_HOME/bin/java" ${THINK4J_JAVA_OPTS:-} --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  -XX:+UseParallelGC -Xss4m -jar "$jar" "$@" 2> >(grep -v --line-buffered '^WARNING: Using incubator modules' >&2)
