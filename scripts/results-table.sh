#!/usr/bin/env bash
# Runs `think4j eval ppl --compress-after 0.5` for each --kv spec given and prints a Markdown table.
# Usage: scripts/results-table.sh TEXT_FILE MAX_DOCS SPEC [SPEC ...]
# Needs python3 only to format the table.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
text="$1"; docs="$2"; shift 2
out="$(mktemp)"
for spec in "$@"; do
  echo "running --kv $spec" >&2
  "$root/think4j" eval ppl --text "$text" --max-docs "$docs" --compress-after 0.5 --kv "$spec" --json 2>/dev/null | tail -n 1 >> "$out"
done
python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
full = next((r for r in rows if r["kv_spec"] == "full"), None)
print("| --kv | KV bytes after compression | vs full | KV bytes at document end | vs full | perplexity | Δ ppl vs full | KL to full (nats/token) |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for r in rows:
    ratio = r["kv_bytes"] / r["kv_bytes_uncompressed"]
    dppl = r["perplexity"] - full["perplexity"] if full else float("nan")
    kl = r["kl_to_full"]
    end_ratio = r["kv_bytes_end"] / r["kv_bytes_end_uncompressed"]
    print(f'| `{r["kv_spec"]}` | {r["kv_bytes"]:.0f} | {ratio*100:.1f}% | {r["kv_bytes_end"]:.0f} | {end_ratio*100:.1f}% | {r["perplexity"]:.4f} | {dppl:+.4f} | {"-" if kl is None else f"{kl:.5f}"} |')
PY
rm -f "$out"
