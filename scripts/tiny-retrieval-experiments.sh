#!/usr/bin/env bash
# The paper's experiments on models/tiny-retrieval.gguf (issue 16), each a `think4j eval` run whose
# report.md, summary.json, heatmaps and Pareto chart land in OUT/<experiment>/.
# Usage: scripts/tiny-retrieval-experiments.sh [OUT] [EXPERIMENT ...]
#   experiments: capability multikey think think-high eviction quant ppl (default: all)
# Needs ../shared/data (haystacks). Every run is deterministic (seeded keys, numbers and needle depths,
# greedy decoding) and resumable: an interrupted run picks up from its results.jsonl.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/eval-out/tiny-retrieval}"
shift || true
experiments=("$@")
[ ${#experiments[@]} -eq 0 ] && experiments=(capability multikey think think-high eviction quant ppl)
model="$root/models/tiny-retrieval.gguf"
data="$root/../shared/data"
if [ ! -d "$data/haystack" ] || [ ! -d "$data/tinystories" ]; then
  echo "error: $data/haystack and $data/tinystories are needed (the shared eval data)" >&2
  exit 2
fi
t4j() { "$root/think4j" "$@"; }
niah() { t4j eval niah -m "$model" --format ruler --max-new-tokens 12 --json "$@"; }
grid=(--lengths 500,1000,2000,4000 --depths 0,25,50,75,100)

for e in "${experiments[@]}"; do
  echo "== $e" >&2
  case "$e" in
    capability)
      for h in tinystories haystack; do
        niah --haystack "$data/$h" --lengths 500,1000,2000,3000,4000 --depths 0,25,50,75,100 --samples 2 \
          --out "$out/capability-$h"
      done ;;
    multikey)
      for n in 2 4; do
        niah --haystack "$data/tinystories" --needles "$n" --lengths 500,1000,2000,4000 --depths 0,50,100 --samples 2 \
          --out "$out/multikey-$n"
      done ;;
    think)
      niah --haystack "$data/tinystories" "${grid[@]}" --out "$out/think" \
        --kv "full;think:0.4;think:0.5;think:0.6;think:0.7;keynorm:0.4;keynorm:0.5;keynorm:0.6;keynorm:0.7;think:k=0,v=0.5;think:0.5,v=0.5" ;;
    think-high)
      # where think and keynorm might part ways: most channels dropped, 2 prompts per cell
      niah --haystack "$data/tinystories" --lengths 1000,2000,4000 --depths 0,25,50,75,100 --samples 2 --out "$out/think-high" \
        --kv "think:0.8;think:0.9;keynorm:0.8;keynorm:0.9" ;;
    eviction)
      specs="full"
      for b in 128 256 512 1024; do
        for m in snapkv pyramidkv h2o; do specs="$specs;$m:$b;$m:$b+think:0.5"; done
        specs="$specs;streamingllm:4,$((b - 4));streamingllm:4,$((b - 4))+think:0.5"
      done
      niah --haystack "$data/tinystories" --lengths 1000,2000,4000 --depths 0,25,50,75,100 --out "$out/eviction" --kv "$specs" ;;
    quant)
      niah --haystack "$data/tinystories" "${grid[@]}" --out "$out/quant" \
        --kv "full;kivi:2;kivi:4;q8_0;q4_0;think:0.5+kivi:2;think:0.5+kivi:4;think:0.5+q8_0;think:0.5+q4_0" ;;
    ppl)
      mkdir -p "$out/ppl"
      : > "$out/ppl/results.jsonl"
      for spec in full think:0.5 keynorm:0.5 think:0.7 snapkv:64+think:0.5 kivi:2 think:0.5+kivi:2; do
        t4j eval ppl -m "$model" --text "$data/tinystories/tinystories_val_500.txt" --max-docs 100 --compress-after 0.5 \
          --kv "$spec" --out "$out/ppl/$spec" --json | tail -n 1 >> "$out/ppl/results.jsonl"
      done ;;
    *) echo "error: unknown experiment '$e' (capability multikey think think-high eviction quant ppl)" >&2; exit 2 ;;
  esac
done
