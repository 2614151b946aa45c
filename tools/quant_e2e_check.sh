#!/usr/bin/env bash
# End-to-end check of the llama.cpp-only weight types (Q2_K, Q3_K_M, IQ4_NL, IQ4_XS): a random-weight
# mini-hd64 model (rows of 512, so 256-element K blocks apply) is written as F16 by think4j synth,
# quantized by llama-quantize, run greedily by llama-server (the reference), then teacher-forced
# through think4j (tools/QuantE2E.java). Random weights make logits nearly tied, so compare log-probs:
# llama.cpp rounds activations to 8 bits, so differences around 0.01-0.02 nats are expected.
# Usage: tools/quant_e2e_check.sh [WORKDIR]   (LLAMACPP_RUN: a command that runs a llama.cpp tool, by
# default ../shared/llama.cpp/bin/TOOL with the libraries of target/llamacpp-lib when that exists,
# the links scripts/bench-real-files.sh rebuilds when ../shared/llama.cpp/bin lost its .so symlinks)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lcpp_run() {  # lcpp_run TOOL ARGS...
  local tool="$1" lib="$root/target/llamacpp-lib"; shift
  [ -d "$lib" ] || lib="$root/../shared/llama.cpp/bin"
  LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$root/../shared/llama.cpp/bin/$tool" "$@"
}
run="${LLAMACPP_RUN:-lcpp_run}"
dir="${1:-$(mktemp -d)}"
mkdir -p "$dir"
port="${PORT:-18731}"
prompt="Once upon a time"
. "$root/scripts/find-jdk.sh"
"$root/think4j" synth --shape mini-hd64 --type F16 --out "$dir/m-F16.gguf" >/dev/null
for t in Q2_K Q3_K_M IQ4_NL IQ4_XS; do
  "$run" llama-quantize "$dir/m-F16.gguf" "$dir/m-$t.gguf" "$t" 1 >"$dir/quantize-$t.log" 2>&1
  "$run" llama-server -m "$dir/m-$t.gguf" --port "$port" -t 2 -c 512 --no-warmup >"$dir/server-$t.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 120); do curl -sf "localhost:$port/health" >/dev/null && break; sleep 0.5; done
  curl -sf "localhost:$port/completion" -d "{\"prompt\":\"$prompt\",\"n_predict\":24,\"temperature\":0,\"top_k\":1,\"n_probs\":1,\"cache_prompt\":false}" >"$dir/ref-$t.json"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp "$root/think4j-cli/target/think4j.jar" \
    "$root/tools/QuantE2E.java" "$dir/m-$t.gguf" "$dir/ref-$t.json" "$prompt" 2>&1 | grep -v '^WARNING'
done
