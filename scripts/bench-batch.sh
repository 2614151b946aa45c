#!/usr/bin/env bash
# Serving throughput against the number of concurrent requests: think4j's scheduler (think4j bench --batch)
# next to llama.cpp's llama-batched-bench on the same files, same lengths, same threads, the engines taking
# turns (the first one rotating per file and round) so that a drifting machine slows both alike.
#
#   scripts/bench-batch.sh -m ../models/llama1b-Q8_0.gguf -m ../models/llama1b-Q4_K_M.gguf
#   scripts/bench-batch.sh -m FILE -p 160 -n 48 -b 1,2,4,8,16,32 -t 2 --rounds 3 --out /tmp/batch
#
# S = B * (p + n) / wall time, as llama-batched-bench's "S t/s". Needs python3 (parsing, table).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  cat <<'USAGE'
Usage: scripts/bench-batch.sh -m FILE [-m FILE ...] [options]
  -m FILE          GGUF file (repeat for several)
  -p N             prompt tokens per request (default: 160)
  -n N             generated tokens per request (default: 48)
  -b LIST          concurrent requests, comma-separated (default: 1,2,4,8,16,32)
  -t N             threads for both engines (default: 2)
  --kv SPEC        think4j's --kv (default: full)
  --rounds K       repeat both engines K times, medians (default: 1)
  --engines LIST   think4j,llamacpp (default: both)
  --llama-run CMD  runs a llama.cpp tool as "CMD TOOL ARGS" (default: ../llamacpp/run when present,
                   else ../shared/llama.cpp/run)
  --out DIR        also write DIR/bench.md, DIR/bench.json and the logs
USAGE
}
die() { echo "error: $*" >&2; exit 2; }

files=(); p=160; n=48; batches="1,2,4,8,16,32"; threads=2; kv=full; rounds=1; engines="think4j,llamacpp"; out=""
llama_run=""
for cand in "$root/../llamacpp/run" "$root/../shared/llama.cpp/run"; do
  if [ -z "$llama_run" ] && [ -x "$cand" ]; then llama_run="$cand"; fi
done
while [ $# -gt 0 ]; do
  case "$1" in
    -m) [ $# -ge 2 ] || die "-m needs a file"; files+=("$2"); shift 2 ;;
    -p) [ $# -ge 2 ] || die "-p needs a value"; p="$2"; shift 2 ;;
    -n) [ $# -ge 2 ] || die "-n needs a value"; n="$2"; shift 2 ;;
    -b) [ $# -ge 2 ] || die "-b needs a list"; batches="$2"; shift 2 ;;
    -t) [ $# -ge 2 ] || die "-t needs a value"; threads="$2"; shift 2 ;;
    --kv) [ $# -ge 2 ] || die "--kv needs a spec"; kv="$2"; shift 2 ;;
    --rounds) [ $# -ge 2 ] || die "--rounds needs a value"; rounds="$2"; shift 2 ;;
    --engines) [ $# -ge 2 ] || die "--engines needs a list"; engines="$2"; shift 2 ;;
    --llama-run) [ $# -ge 2 ] || die "--llama-run needs a path"; llama_run="$2"; shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out needs a folder"; out="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
[ ${#files[@]} -gt 0 ] || die "no model file: give -m FILE"
for f in "${files[@]}"; do [ -f "$f" ] || die "no such file: $f"; done
case ",$engines," in *,llamacpp,*) use_lcpp=1 ;; *) use_lcpp=0 ;; esac
case ",$engines," in *,think4j,*) use_t4j=1 ;; *) use_t4j=0 ;; esac
if [ "$use_lcpp" = 1 ] && [ -z "$llama_run" ]; then
  echo "bench-batch: no llama.cpp runner found (--llama-run); measuring think4j only" >&2; use_lcpp=0
fi
max_b=$(echo "$batches" | tr ',' '\n' | sort -n | tail -n 1)
ctx=$(( (max_b * (p + n) + 1023) / 1024 * 1024 ))
[ "$ctx" -ge 8192 ] || ctx=8192
logs="${out:-$(mktemp -d)}/logs"
mkdir -p "$logs"
(cd "$root" && ./think4j --version >/dev/null)   # build outside the timings
load_before=$(cut -d' ' -f1 /proc/loadavg)
t4j_cmd="$root/think4j bench -m FILE --batch $batches -p $p -n $n -t $threads --kv '$kv' --json"
lcpp_cmd="$llama_run llama-batched-bench -m FILE -t $threads -tb $threads -c $ctx -npp $p -ntg $n -npl $batches --output-format jsonl"
for ((round = 0; round < rounds; round++)); do
  for i in "${!files[@]}"; do
    f="${files[$i]}"
    name=$(basename "$f" .gguf)
    order="t4j lcpp"
    if [ $(( (round + i) % 2 )) = 1 ]; then order="lcpp t4j"; fi
    for e in $order; do
      if [ "$e" = t4j ] && [ "$use_t4j" = 1 ]; then
        echo "bench-batch: round $((round + 1)) $name think4j" >&2
        "$root/think4j" bench -m "$f" --batch "$batches" -p "$p" -n "$n" -t "$threads" --kv "$kv" --json \
          > "$logs/$name.t4j.$round.json" 2> "$logs/$name.t4j.$round.log" || die "think4j failed on $f (see $logs)"
      elif [ "$e" = lcpp ] && [ "$use_lcpp" = 1 ]; then
        echo "bench-batch: round $((round + 1)) $name llama.cpp" >&2
        "$llama_run" llama-batched-bench -m "$f" -t "$threads" -tb "$threads" -c "$ctx" -npp "$p" -ntg "$n" -npl "$batches" \
          --output-format jsonl > "$logs/$name.lcpp.$round.jsonl" 2> "$logs/$name.lcpp.$round.log" \
          || die "llama-batched-bench failed on $f (see $logs)"
      fi
    done
  done
done
load_after=$(cut -d' ' -f1 /proc/loadavg)

python3 - "$logs" "$rounds" "$load_before" "$load_after" "$t4j_cmd" "$lcpp_cmd" "$out" "$(nproc)" "${files[@]}" <<'PY'
import json, os, statistics, sys, datetime
logs, rounds, lb, la, t4j_cmd, lcpp_cmd, out, ncpu = sys.argv[1:9]
files = sys.argv[9:]
rounds = int(rounds)
def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None
def fmt(x, d=1):
    return "n/a" if x is None else f"{x:.{d}f}"
lines = [f"date {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {ncpu} CPUs, 1-minute load {lb} before, {la} after",
         f"think4j: {t4j_cmd}", f"llama.cpp: {lcpp_cmd}", "",
         "| file | B | think4j S t/s | vs its B=1 | llama.cpp S t/s | vs its B=1 | think4j / llama.cpp | think4j decode t/s | llama.cpp S_TG t/s | think4j TTFT p50/p99 ms | think4j ITL p50/p99 ms |",
         "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
raw = {}
for f in files:
    name = os.path.basename(f)[:-5] if f.endswith(".gguf") else os.path.basename(f)
    t, l = {}, {}
    for r in range(rounds):
        p = os.path.join(logs, f"{name}.t4j.{r}.json")
        if os.path.exists(p):
            last = [x for x in open(p).read().splitlines() if x.startswith("[")]
            for row in json.loads(last[-1]) if last else []:
                t.setdefault(row["batch"], []).append(row)
        p = os.path.join(logs, f"{name}.lcpp.{r}.jsonl")
        if os.path.exists(p):
            for x in open(p):
                x = x.strip()
                if x.startswith("{"):
                    row = json.loads(x)
                    l.setdefault(row["pl"], []).append(row)
    raw[name] = {"think4j": t, "llamacpp": l}
    bs = sorted(set(t) | set(l))
    t1 = med([r["aggregate"] for r in t.get(1, [])])
    l1 = med([r["speed"] for r in l.get(1, [])])
    for b in bs:
        ts = med([r["aggregate"] for r in t.get(b, [])])
        ls = med([r["speed"] for r in l.get(b, [])])
        td = med([r["decode"] for r in t.get(b, [])])
        lt = med([r["speed_tg"] for r in l.get(b, [])])
        ttft = [med([r["ttftMs"][i] for r in t.get(b, [])]) for i in (0, 2)]
        itl = [med([r["itlMs"][i] for r in t.get(b, [])]) for i in (0, 2)]
        lines.append(f"| {name} | {b} | {fmt(ts)} | {fmt(ts / t1 if ts and t1 else None, 2)}x | {fmt(ls)} | "
                     f"{fmt(ls / l1 if ls and l1 else None, 2)}x | {fmt(ts / ls if ts and ls else None, 2)}x | {fmt(td)} | {fmt(lt)} | "
                     f"{fmt(ttft[0], 0)} / {fmt(ttft[1], 0)} | {fmt(itl[0], 0)} / {fmt(itl[1], 0)} |")
md = "\n".join(lines) + "\n"
print(md, end="")
if out:
    open(os.path.join(out, "bench.md"), "w").write(md)
    json.dump(raw, open(os.path.join(out, "bench.json"), "w"), indent=1)
PY
