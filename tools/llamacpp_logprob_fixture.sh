#!/usr/bin/env bash
# Writes a llama.cpp reference fixture for ArchitectureReferenceTest: a synthetic model written by
# `think4j synth`, llama.cpp's greedy continuation of a fixed prompt and its top-5 log-probabilities
# (raw model probabilities, before any sampler) at every generated position.
#
#   tools/llamacpp_logprob_fixture.sh --shape tiny-qwen2 [--name NAME] [--ctx 512] [--std 0.25] [--seed 1] [-n 256] [--ban 3-258] [--type F32]
#
# The fixture lands in src/test/resources/dev/think4j/model/reference/NAME.json (NAME defaults to
# the shape). It records how the model was made (shape, type, std, seed) and the file's SHA-256, so
# the test rebuilds the same file in-process and notices when synth's output changed. llama.cpp is
# started here on loopback and stopped on exit; LLAMACPP_RUN names its launcher (a `run TOOL ARGS`
# script, default /work/llamacpp/run when present, else ../shared/llama.cpp/run).
#
# llama.cpp runs with an F32 KV cache and without flash attention, so on F32 weights the only
# differences left are float summation orders.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shape="" name="" ctx=512 std=0.25 seed=1 n=256 type=F32 ban=3-258
die() { echo "error: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --shape) shape="$2"; shift 2 ;;
    --name) name="$2"; shift 2 ;;
    --ctx) ctx="$2"; shift 2 ;;
    --std) std="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    -n) n="$2"; shift 2 ;;
    --ban) ban="$2"; shift 2 ;;
    --type) type="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
[ -n "$shape" ] || die "--shape is required"
name="${name:-$shape}"
run="${LLAMACPP_RUN:-}"
if [ -z "$run" ]; then
  if [ -x /work/llamacpp/run ]; then run=/work/llamacpp/run; else run="$root/../shared/llama.cpp/run"; fi
fi
[ -x "$run" ] || die "llama.cpp launcher not found: $run (set LLAMACPP_RUN)"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

model="$work/model.gguf"
"$root/think4j" synth --shape "$shape" --type "$type" --std "$std" --seed "$seed" --out "$model" >&2
sha="$(sha256sum "$model" | cut -d' ' -f1)"
version="$("$run" llama-server --version 2>&1 | grep -m1 -i 'version' || true)"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
# one slot, so the per-sequence context (which picks LongRoPE's factor set) is --ctx itself
"$run" llama-server -m "$model" --host 127.0.0.1 --port "$port" -c "$ctx" -np 1 -t 2 \
  -ctk f32 -ctv f32 -fa off --no-warmup >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 120); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { tail -n 20 "$work/server.log" >&2; die "llama-server exited"; }
  sleep 0.5
done
curl -sf "http://127.0.0.1:$port/health" >/dev/null || { tail -n 20 "$work/server.log" >&2; die "llama-server did not start"; }

prompt="[1, 300, 411, 269, 286, 370, 275, 402, 261, 296, 311, 263, 451, 338, 285, 267]"
# ignore_eos: the continuation runs the full length. --ban: the byte tokens (<0x00>..<0xFF> in the
# bundled vocabulary) are never chosen, because a continuation that leaves invalid UTF-8 makes the
# server's output parser fail ("does not match the expected Content-only format"). Both are logit
# biases that act on sampling only: n_probs stays the model's raw distribution. They are recorded
# as masked_ids, which the test excludes from its argmax as llama.cpp did.
bias="$(python3 -c "import json; a,b='$ban'.split('-'); print(json.dumps([[i, False] for i in range(int(a), int(b) + 1)]))")"
curl -sf "http://127.0.0.1:$port/completion" -H 'content-type: application/json' -d "{
  \"prompt\": $prompt, \"n_predict\": $n, \"n_probs\": 5, \"temperature\": 0, \"cache_prompt\": false,
  \"ignore_eos\": true, \"post_sampling_probs\": false, \"logit_bias\": $bias}" >"$work/response.json" \
  || { tail -n 20 "$work/server.log" >&2; die "/completion failed"; }

out_dir="$root/src/test/resources/dev/think4j/model/reference"
mkdir -p "$out_dir"
python3 - "$work/response.json" "$out_dir/$name.json" <<EOF
import json, sys
r = json.load(open(sys.argv[1]))
probs = r["completion_probabilities"]
masked = sorted({b["token"] for b in r["generation_settings"].get("logit_bias", []) if b.get("bias") is None})
fixture = {
    "about": "llama.cpp reference for ArchitectureReferenceTest; regenerate with tools/llamacpp_logprob_fixture.sh",
    "shape": "$shape", "type": "$type", "std": $std, "seed": $seed, "sha256": "$sha",
    "ctx": $ctx, "llama_cpp": "$version".strip(),
    "server": "-c $ctx -np 1 -ctk f32 -ctv f32 -fa off; /completion n_probs=5 temperature=0 post_sampling_probs=false",
    "prompt_ids": $prompt,
    "masked_ids": masked,
    "tokens": [p["id"] for p in probs],
    "top5": [[[t["id"], round(t["logprob"], 7)] for t in p["top_logprobs"]] for p in probs],
}
assert len(fixture["tokens"]) == $n, "llama.cpp generated %d tokens, not $n" % len(fixture["tokens"])
with open(sys.argv[2], "w") as f:
    f.write("{\n")
    items = list(fixture.items())
    for i, (k, v) in enumerate(items):
        sep = "," if i < len(items) - 1 else ""
        if k == "top5":
            f.write('  "top5": [\n' + ",\n".join("    " + json.dumps(x, separators=(",", ":")) for x in v) + "\n  ]" + sep + "\n")
        else:
            f.write("  %s: %s%s\n" % (json.dumps(k), json.dumps(v, separators=(", ", ": ")), sep))
    f.write("}\n")
EOF
echo "wrote $out_dir/$name.json ($n positions, model sha256 $sha)" >&2
