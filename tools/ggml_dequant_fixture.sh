#!/usr/bin/env bash
# Regenerates src/test/resources/dev/think4j/tensor/ggml-*.bin from llama.cpp's quantizer and
# dequantizer (see tools/ggml_dequant_fixture.c). LLAMACPP_LIB defaults to /work/llamacpp/bin.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lib="${LLAMACPP_LIB:-/work/llamacpp/bin}"
out="$root/src/test/resources/dev/think4j/tensor"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
gcc -O1 -std=c11 -Wall -o "$tmp/fixture" "$root/tools/ggml_dequant_fixture.c" -L"$lib" -l:libggml-base.so -lm -Wl,-rpath,"$lib"
"$tmp/fixture" "$out"
