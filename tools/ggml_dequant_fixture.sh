#!/usr/bin/env bash
# Regenerates think4j-core/src/test/resources/dev/think4j/tensor/ggml-*.bin from llama.cpp's quantizer and
# dequantizer (see tools/ggml_dequant_fixture.c). LLAMACPP_LIB is the folder with libggml-base.so:
# by default target/llamacpp-lib (the links scripts/bench-real-files.sh rebuilds when
# ../shared/llama.cpp/bin lost its .so symlinks), else ../shared/llama.cpp/bin.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
default_lib="$root/target/llamacpp-lib"
[ -e "$default_lib/libggml-base.so" ] || default_lib="$root/../shared/llama.cpp/bin"
lib="${LLAMACPP_LIB:-$default_lib}"
out="$root/think4j-core/src/test/resources/dev/think4j/tensor"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
gcc -O1 -std=c11 -Wall -o "$tmp/fixture" "$root/tools/ggml_dequant_fixture.c" -L"$lib" -l:libggml-base.so -lm -Wl,-rpath,"$lib"
"$tmp/fixture" "$out"
