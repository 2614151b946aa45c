#!/usr/bin/env bash
# think4j against the current llama.cpp (its own llama-bench) and llama3.java on GGUF files made the way
# users get them: a random-weight F16 file of a real model's shape with the real vocabulary, quantized by
# llama.cpp's own llama-quantize. One Markdown table (decode and prefill t/s, ratios, peak RSS) on stdout.
#
#   scripts/bench-real-files.sh --dir ~/.cache/think4j-bench --out /tmp/real      # defaults: see --help
#   scripts/bench-real-files.sh --shape mini-hd64 --types Q8_0 -p 32 -n 8 -r 1     # a quick check of the script
#
# Needs python3 (parsing, table) and GNU time (/usr/bin/time, peak RSS). The llama.cpp tools and llama3.java
# come from ../shared (--shared DIR); either may be missing, its columns then read "n/a".
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  cat <<'EOF'
Usage: scripts/bench-real-files.sh [options]
Benchmark think4j, llama.cpp (llama-bench) and llama3.java on the same GGUF files, one file per type,
and print one Markdown table with ratios and peak RSS.

Files:
  --dir DIR          working folder for the GGUF files; existing files are reused
                     (default: $HOME/.cache/think4j-bench)
  --shape NAME       think4j synth shape (default: llama-3.2-1b)
  --vocab FILE|bundled
                     tokenizer for the F16 file (default: ../shared/tokenizers/ggml-vocab-llama-bpe.gguf
                     for llama-3* shapes, else think4j's bundled one; llama3.java needs a Llama 3 vocabulary)
  --types LIST       llama-quantize types, comma-separated; F16 means the unquantized file itself
                     (default: Q4_K_M,Q5_K_M,Q6_K,Q8_0,Q4_0,IQ4_XS)
Runs:
  -t N               threads for every engine (default: 2)
  -p N               prefill tokens (think4j and llama-bench; default: 512)
  -n N               decode tokens (default: 128)
  -r N               repetitions inside each think4j / llama-bench run, and llama3.java runs (default: 3)
  --rounds K         repeat the whole set K times and take medians (default: 1)
  --engines LIST     any of think4j,llamacpp,llama3java (default: all three)
  --prompt TEXT      llama3.java's prompt (default: a short fixed question)
  --shared DIR       folder holding llama.cpp/ and peers/llama3.java/ (default: ../shared next to the repo)
Output:
  --out DIR          also write DIR/bench.md and DIR/bench.json (all raw numbers and logs)
  -h, --help         this help
EOF
}

die() { echo "error: $*" >&2; exit 2; }
say() { echo "bench-real-files: $*" >&2; }

dir="${HOME:-/tmp}/.cache/think4j-bench"
shape="llama-3.2-1b"
vocab=""
types="Q4_K_M,Q5_K_M,Q6_K,Q8_0,Q4_0,IQ4_XS"
threads=2; n_prompt=512; n_gen=128; reps=3; rounds=1
engines="think4j,llamacpp,llama3java"
prompt="Why is the sky blue? Explain it in a few short paragraphs."
shared="$root/../shared"
out=""
argv=("$@")

need_value() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) need_value "$@"; dir="$2"; shift 2 ;;
    --shape) need_value "$@"; shape="$2"; shift 2 ;;
    --vocab) need_value "$@"; vocab="$2"; shift 2 ;;
    --types) need_value "$@"; types="$2"; shift 2 ;;
    -t|--threads) need_value "$@"; threads="$2"; shift 2 ;;
    -p|--n-prompt) need_value "$@"; n_prompt="$2"; shift 2 ;;
    -n|--n-gen) need_value "$@"; n_gen="$2"; shift 2 ;;
    -r|--repetitions) need_value "$@"; reps="$2"; shift 2 ;;
    --rounds) need_value "$@"; rounds="$2"; shift 2 ;;
    --engines) need_value "$@"; engines="$2"; shift 2 ;;
    --prompt) need_value "$@"; prompt="$2"; shift 2 ;;
    --shared) need_value "$@"; shared="$2"; shift 2 ;;
    --out) need_value "$@"; out="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done

for v in -t:"$threads" -p:"$n_prompt" -n:"$n_gen" -r:"$reps" --rounds:"$rounds"; do
  [[ "${v#*:}" =~ ^[0-9]+$ ]] || die "${v%%:*} must be a whole number, got '${v#*:}'"
done
[ "$threads" -ge 1 ] || die "-t must be at least 1"
[ "$reps" -ge 1 ] || die "-r must be at least 1"
[ "$rounds" -ge 1 ] || die "--rounds must be at least 1"
[ "$n_gen" -ge 1 ] || [ "$n_prompt" -ge 1 ] || die "-p and -n are both 0: nothing to measure"
use_t4j=0; use_lcpp=0; use_l3j=0
IFS=',' read -r -a engine_list <<<"$engines"
for e in "${engine_list[@]}"; do
  case "$e" in
    think4j) use_t4j=1 ;; llamacpp|llama.cpp) use_lcpp=1 ;; llama3java|llama3.java) use_l3j=1 ;;
    *) die "unknown engine '$e' in --engines (think4j, llamacpp, llama3java)" ;;
  esac
done
IFS=',' read -r -a type_list <<<"$types"
[ ${#type_list[@]} -ge 1 ] || die "--types is empty"
for ty in "${type_list[@]}"; do
  [[ "$ty" =~ ^[A-Za-z0-9_]+$ ]] || die "bad type '$ty' in --types"
done
command -v python3 >/dev/null 2>&1 || die "python3 is needed (parsing and the table)"
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time) is needed for peak RSS; install it (e.g. apt-get install time)"
/usr/bin/time -f %M true 2>/dev/null || die "/usr/bin/time does not take -f (GNU time is needed for peak RSS)"

. "$root/scripts/find-jdk.sh"
mkdir -p "$dir" || die "cannot create --dir $dir"
dir="$(cd "$dir" && pwd)"
if [ -n "$out" ]; then
  mkdir -p "$out" || die "cannot create --out $out"
  out="$(cd "$out" && pwd)"
fi
shared_abs=""
[ -d "$shared" ] && shared_abs="$(cd "$shared" && pwd)"

# llama-3.2-1b -> llama1b, so that files made by hand as llama1b-Q4_K_M.gguf are found and reused
case "$shape" in
  llama-*-[0-9]*b) prefix="llama${shape##*-}" ;;
  *) prefix="$shape" ;;
esac
if [ -z "$vocab" ]; then
  case "$shape" in
    llama-3*) vocab="${shared_abs:-$shared}/tokenizers/ggml-vocab-llama-bpe.gguf" ;;
    *) vocab="bundled" ;;
  esac
fi
if [ "$vocab" != bundled ]; then
  [ -f "$vocab" ] || die "vocabulary file $vocab not found (give --vocab FILE, or --vocab bundled)"
  vocab="$(cd "$(dirname "$vocab")" && pwd)/$(basename "$vocab")"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/bench-real-files.XXXXXX")"
trap 'rm -rf "$work"' EXIT
raw="$work/raw"; mkdir -p "$raw"

# ---------------------------------------------------------------- llama.cpp tools
# The shared build's bin/ may have lost its .so symlinks (each is then a small text file naming its target)
# and is read-only, so the loader fails with "file too short": rebuild the links in a private folder.
lcpp_bin=""; lcpp_lib=""; lcpp_note=""
find_llamacpp() {
  local bin="${shared_abs:+$shared_abs/llama.cpp/bin}" f name target broken=0
  if [ -z "$bin" ] || [ ! -x "$bin/llama-bench" ] || [ ! -x "$bin/llama-quantize" ]; then
    lcpp_note="llama.cpp not found (expected ${shared}/llama.cpp/bin/llama-bench and llama-quantize)"
    return 1
  fi
  for f in "$bin"/lib*.so*; do
    [ -f "$f" ] && [ ! -L "$f" ] || continue
    [ "$(head -c 4 "$f" | tail -c 3)" = ELF ] || broken=1
  done
  if [ "$broken" = 0 ]; then
    lcpp_lib="$bin"
  else
    lcpp_lib="$root/target/llamacpp-lib"
    say "$bin has text files where its .so symlinks were; linking its libraries in $lcpp_lib"
    rm -rf "$lcpp_lib"; mkdir -p "$lcpp_lib"
    for f in "$bin"/lib*.so*; do
      name="$(basename "$f")"
      if [ -L "$f" ] || [ "$(head -c 4 "$f" | tail -c 3)" = ELF ]; then
        ln -s "$f" "$lcpp_lib/$name"
      elif [ "$(stat -c %s "$f")" -lt 4096 ]; then
        target="$(head -n 1 "$f" | tr -d '\r\n')"
        case "$target" in
          /*) ln -s "$target" "$lcpp_lib/$name" ;;
          */*) ln -s "$bin/$target" "$lcpp_lib/$name" ;;
          *) ln -s "$target" "$lcpp_lib/$name" ;;   # a sibling: resolved inside the private folder
        esac
      fi
    done
    for f in "$lcpp_lib"/*; do
      [ -e "$f" ] || say "warning: $(basename "$f") points at $(readlink "$f"), which does not exist"
    done
  fi
  if LD_LIBRARY_PATH="$lcpp_lib" ldd "$bin/llama-bench" 2>&1 | grep -q 'not found'; then
    lcpp_note="llama.cpp's llama-bench cannot load its libraries: $(LD_LIBRARY_PATH="$lcpp_lib" ldd "$bin/llama-bench" 2>&1 | grep 'not found' | head -n 1 | sed 's/^[[:space:]]*//')"
    return 1
  fi
  lcpp_bin="$bin"
}
lcpp() {  # lcpp TOOL ARGS...
  local tool="$1"; shift
  LD_LIBRARY_PATH="$lcpp_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$lcpp_bin/$tool" "$@"
}
if ! find_llamacpp; then
  say "$lcpp_note: no llama.cpp columns, and no new quantized files can be made"
  use_lcpp=0
fi

# ---------------------------------------------------------------- llama3.java
l3j_run="${shared_abs:+$shared_abs/peers/llama3.java/run}"
l3j_note=""
if [ "$use_l3j" = 1 ]; then
  if [ -z "$l3j_run" ] || [ ! -x "$l3j_run" ]; then
    l3j_note="llama3.java not found (expected ${shared}/peers/llama3.java/run): no llama3.java columns"
  elif [ "$vocab" = bundled ]; then
    l3j_note="the files use think4j's bundled SentencePiece vocabulary, which llama3.java does not read: no llama3.java columns"
  fi
  if [ -n "$l3j_note" ]; then
    say "$l3j_note"
    use_l3j=0
  else
    # its first call compiles Llama3.java; that must not fall into a measured run
    "$l3j_run" --help >/dev/null 2>&1 || true
  fi
fi

# ---------------------------------------------------------------- think4j jar
# built before anything is measured, or the launcher's Maven build would be what gets timed
say "building think4j (if needed)"
t4j_version="$("$root/think4j" --version 2>/dev/null | tail -n 1)" || die "think4j does not build or run (try ./think4j --version)"
t4j_commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git -C "$root" status --porcelain -- src pom.xml 2>/dev/null)" ]; then t4j_commit="$t4j_commit+changes"; fi

# ---------------------------------------------------------------- files
f16="$dir/$prefix-f16.gguf"
synth_cmd=("$root/think4j" synth --shape "$shape" --type F16)
[ "$vocab" = bundled ] || synth_cmd+=(--vocab "$vocab")
make_f16() {
  [ -s "$f16" ] && return 0
  say "writing $f16 (think4j synth --shape $shape --type F16)"
  local tmp="$dir/.$prefix-f16.partial.gguf"
  rm -f "$tmp"
  "${synth_cmd[@]}" --out "$tmp" >&2 || die "think4j synth failed"
  mv "$tmp" "$f16"
}
files=(); file_types=()
for ty in "${type_list[@]}"; do
  if [ "${ty^^}" = F16 ]; then
    make_f16; files+=("$f16"); file_types+=(F16); continue
  fi
  f="$dir/$prefix-$ty.gguf"
  if [ -s "$f" ]; then
    say "reusing $f"
  elif [ -z "$lcpp_bin" ]; then
    say "skipping $ty: $f is missing and llama-quantize is not available"
    continue
  else
    make_f16
    say "quantizing to $ty: $f"
    tmp="$dir/.$prefix-$ty.partial.gguf"
    rm -f "$tmp"
    if ! lcpp llama-quantize "$f16" "$tmp" "$ty" >"$dir/quantize-$ty.log" 2>&1; then
      rm -f "$tmp"
      say "llama-quantize $ty failed (last line: $(tail -n 1 "$dir/quantize-$ty.log")); skipping $ty"
      continue
    fi
    mv "$tmp" "$f"
  fi
  files+=("$f"); file_types+=("$ty")
done
[ ${#files[@]} -ge 1 ] || die "no GGUF file to measure (llama.cpp's llama-quantize is needed to make them: $lcpp_note)"
[ "$use_t4j" = 1 ] || [ "$use_lcpp" = 1 ] || [ "$use_l3j" = 1 ] || die "no engine can run (see the notes above)"

# ---------------------------------------------------------------- runs
l3j_opts="-XX:ActiveProcessorCount=$threads -Duser.language=en -Duser.country=US"
l3j_prompt_tokens=""   # learnt from llama3.java's first run: its --max-tokens counts the prompt too

# the weight types llama3.java reads (other files fail at load, some with an out-of-bounds access)
l3j_reads() {
  case "${1^^}" in
    F16|BF16|F32|Q4_0|Q8_0|Q4_K|Q4_K_S|Q4_K_M|Q5_K|Q5_K_S|Q5_K_M|Q6_K) return 0 ;;
    *) return 1 ;;
  esac
}
# one untimed llama3.java call with --max-tokens 1 learns how many tokens its chat prompt has
l3j_calibrate() {
  local i n
  for i in "${!files[@]}"; do
    l3j_reads "${file_types[$i]}" || continue
    n="$(JAVA_TOOL_OPTIONS="$l3j_opts" "$l3j_run" --model "${files[$i]}" --max-tokens 1 --stream false --seed 1 \
      --prompt "$prompt" 2>&1 >/dev/null | sed -n 's/.*prompt: [^ ]* tokens\/s (\([0-9]*\)).*/\1/p' | tail -n 1)" || true
    [ -n "$n" ] && l3j_prompt_tokens="$n" && say "llama3.java's chat prompt is $n tokens"
    return 0
  done
}

# run_one ENGINE INDEX ROUND: one measured process, stdout/stderr/peak RSS (KiB) kept under $raw
run_one() {
  local engine="$1" i="$2" round="$3" f="${files[$2]}" base rc=0 rep max_tokens
  base="$raw/$i.$round.$engine"
  case "$engine" in
    think4j)
      /usr/bin/time -f %M -o "$base.rss" "$root/think4j" bench -m "$f" -p "$n_prompt" -n "$n_gen" -r "$reps" -t "$threads" --json \
        >"$base.out" 2>"$base.err" || rc=$?
      echo "$rc" >"$base.rc" ;;
    llamacpp)
      /usr/bin/time -f %M -o "$base.rss" env LD_LIBRARY_PATH="$lcpp_lib" "$lcpp_bin/llama-bench" -m "$f" -t "$threads" \
        -p "$n_prompt" -n "$n_gen" -r "$reps" -o json >"$base.out" 2>"$base.err" || rc=$?
      echo "$rc" >"$base.rc" ;;
    llama3java)
      if ! l3j_reads "${file_types[$i]}"; then
        echo "type" >"$base.skipped"
        python3 "$work/report.py" line "$raw" "$i" "$round" "$engine" "${file_types[$i]}" >&2 || true
        return 0
      fi
      for rep in $(seq 1 "$reps"); do
        rc=0
        # N forward passes after the prompt (it counts the prompt in --max-tokens, and its first new token
        # comes from the prompt's logits)
        max_tokens=$(( ${l3j_prompt_tokens:-$(( $(wc -w <<<"$prompt") * 2 + 12 ))} + n_gen ))
        JAVA_TOOL_OPTIONS="$l3j_opts" /usr/bin/time -f %M -o "$base.$rep.rss" "$l3j_run" --model "$f" --max-tokens "$max_tokens" \
          --stream false --seed 1 --prompt "$prompt" >"$base.$rep.out" 2>"$base.$rep.err" || rc=$?
        echo "$rc" >"$base.$rep.rc"
        [ "$rc" = 0 ] || break
        if [ -z "$l3j_prompt_tokens" ]; then
          l3j_prompt_tokens="$(sed -n 's/.*prompt: [^ ]* tokens\/s (\([0-9]*\)).*/\1/p' "$base.$rep.err" | tail -n 1)"
        fi
      done ;;
  esac
  python3 "$work/report.py" line "$raw" "$i" "$round" "$engine" "${file_types[$i]}" >&2 || true
}

cat >"$work/report.py" <<'PY'
import json, os, re, statistics, sys, glob

L3J_RE = re.compile(r"prompt: ([0-9.]+) tokens/s \((\d+)\) generation: ([0-9.]+) tokens/s \((\d+)\)")

def read(path, default=""):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return default

def last_line(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1] if lines else ""

def rss_kib(path):
    # GNU time may print a "Command exited with non-zero status" line before the figure
    for l in reversed(read(path).strip().splitlines()):
        if l.strip().isdigit():
            return int(l.strip())
    return None

def parse_think4j(base, n_prompt, n_gen):
    r = {"rc": int(read(base + ".rc", "1").strip() or 1), "peak_rss_kib": rss_kib(base + ".rss")}
    if r["rc"] != 0:
        r["error"] = last_line(read(base + ".err"))
        return r
    try:
        rows = json.loads(last_line(read(base + ".out")))
    except ValueError:
        r["rc"], r["error"] = -1, "no JSON on think4j's last stdout line"
        return r
    r["raw"] = rows
    for row in rows:
        if row.get("test") == f"pp{n_prompt}":
            r["pp_ts"] = row["medianTokensPerSecond"]
        if row.get("test") == f"tg{n_gen}":
            r["tg_ts"] = row["medianTokensPerSecond"]
    r["kv_bytes"] = max((row.get("kvBytes", 0) for row in rows), default=0)
    r["in_process_peak_rss_bytes"] = max((row.get("peakRssBytes", 0) for row in rows), default=0)
    return r

def parse_llamacpp(base, n_prompt, n_gen):
    r = {"rc": int(read(base + ".rc", "1").strip() or 1), "peak_rss_kib": rss_kib(base + ".rss")}
    if r["rc"] != 0:
        r["error"] = last_line(read(base + ".err"))
        return r
    try:
        rows = json.loads(read(base + ".out"))
    except ValueError:
        r["rc"], r["error"] = -1, "llama-bench printed no JSON"
        return r
    r["raw"] = rows
    for row in rows:
        if row.get("n_prompt") == n_prompt and row.get("n_gen") == 0 and n_prompt > 0:
            r["pp_ts"] = row["avg_ts"]
        if row.get("n_gen") == n_gen and row.get("n_prompt") == 0 and n_gen > 0:
            r["tg_ts"] = row["avg_ts"]
    if rows:
        r["build"] = f'{rows[0].get("build_commit", "?")} (build {rows[0].get("build_number", "?")})'
    return r

def parse_llama3java(base):
    if os.path.exists(base + ".skipped"):
        return {"runs": [], "unsupported": read(base + ".skipped").strip(), "peak_rss_kib": None}
    runs = []
    for rc_path in sorted(glob.glob(base + ".*.rc"), key=lambda p: int(p.split(".")[-2])):
        b = rc_path[:-3]
        err = read(b + ".err")
        run = {"rc": int(read(rc_path, "1").strip() or 1), "peak_rss_kib": rss_kib(b + ".rss")}
        m = L3J_RE.findall(err)
        if run["rc"] == 0 and m:
            p_ts, p_n, g_ts, g_n = m[-1]
            g_ts, g_n = float(g_ts), int(g_n)
            # its figure counts the first new token, which costs no forward pass: per forward pass, as llama-bench
            run.update(prompt_ts=float(p_ts), prompt_tokens=int(p_n), printed_tg_ts=g_ts, generated=g_n,
                       tg_ts=g_ts * (g_n - 1) / g_n if g_n > 1 else g_ts)
        else:
            lines = [l for l in err.splitlines() if l.strip() and not l.startswith("Picked up JAVA_TOOL_OPTIONS")]
            exc = next((l for l in lines if "Exception" in l), lines[-1] if lines else "")
            run["error"] = exc.strip()
            if "UnsupportedOperationException" in err or "Quantization format" in err:
                run["unsupported"] = "type"
            elif "expected gpt2" in err:
                run["unsupported"] = "vocab"
        runs.append(run)
    r = {"runs": runs}
    ok = [x for x in runs if "tg_ts" in x]
    if ok:
        r["tg_ts"] = statistics.median(x["tg_ts"] for x in ok)
        r["prompt_ts"] = statistics.median(x["prompt_ts"] for x in ok)
    elif runs:
        r["error"] = runs[-1].get("error", "")
        r["unsupported"] = runs[-1].get("unsupported")
    rss = [x["peak_rss_kib"] for x in runs if x.get("peak_rss_kib")]
    r["peak_rss_kib"] = max(rss) if rss else None
    return r

def parse(raw, i, rnd, engine, n_prompt, n_gen):
    base = os.path.join(raw, f"{i}.{rnd}.{engine}")
    if engine == "think4j":
        return parse_think4j(base, n_prompt, n_gen)
    if engine == "llamacpp":
        return parse_llamacpp(base, n_prompt, n_gen)
    return parse_llama3java(base)

def fmt_ts(x):
    return "-" if x is None else f"{x:.2f}"

def cmd_line(raw, i, rnd, engine, ty):
    meta = json.loads(read(os.path.join(raw, "meta.json")))
    r = parse(raw, int(i), int(rnd), engine, meta["n_prompt"], meta["n_gen"])
    if "tg_ts" in r or "pp_ts" in r:
        rss = r.get("peak_rss_kib")
        extra = f', prompt {fmt_ts(r.get("prompt_ts"))} t/s' if engine == "llama3java" else f', pp {fmt_ts(r.get("pp_ts"))} t/s'
        print(f'  {ty} round {rnd} {engine}: decode {fmt_ts(r.get("tg_ts"))} t/s{extra}, peak RSS '
              f'{"-" if rss is None else f"{rss / 1024:.0f} MiB"}')
    else:
        what = f'cannot read this file ({r["unsupported"]})' if r.get("unsupported") else "failed"
        err = r.get("error") or ""
        print(f'  {ty} round {rnd} {engine}: {what}{": " + err if err else ""}')

def median_of(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None

def ratio(a, b):
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}x"

def mib(kib):
    return "-" if kib is None else f"{kib / 1024:,.0f} MiB"

def cmd_report(raw, out_md, out_json):
    meta = json.loads(read(os.path.join(raw, "meta.json")))
    n_prompt, n_gen, rounds = meta["n_prompt"], meta["n_gen"], meta["rounds"]
    engines = meta["engines"]
    files = []
    for i, (path, ty) in enumerate(zip(meta["files"], meta["types"])):
        entry = {"type": ty, "path": path, "size_bytes": os.path.getsize(path)}
        for e in engines:
            per_round = [parse(raw, i, rnd, e, n_prompt, n_gen) for rnd in range(1, rounds + 1)]
            rss = [r.get("peak_rss_kib") for r in per_round if r.get("peak_rss_kib") and ("tg_ts" in r or "pp_ts" in r)]
            entry[e] = {
                "rounds": per_round,
                "tg_ts": median_of([r.get("tg_ts") for r in per_round]),
                "pp_ts": median_of([r.get("pp_ts") for r in per_round]) if e != "llama3java" else None,
                "prompt_ts": median_of([r.get("prompt_ts") for r in per_round]) if e == "llama3java" else None,
                "peak_rss_kib": max(rss) if rss else None,
                "unsupported": per_round[0].get("unsupported") if all(r.get("unsupported") for r in per_round) else None,
            }
            if e == "think4j":
                kv = max((r.get("kv_bytes", 0) for r in per_round), default=0)
                entry[e]["kv_bytes"] = kv
                entry[e]["rss_bound_kib"] = (entry["size_bytes"] + kv) / 1024 + 300 * 1024
            if e == "llamacpp" and not meta.get("llamacpp_build"):
                meta["llamacpp_build"] = next((r["build"] for r in per_round if r.get("build")), None)
        files.append(entry)

    def cell(entry, e, key):
        if e not in engines:
            return "n/a"
        d = entry[e]
        if d[key] is not None:
            return fmt_ts(d[key])
        if d["unsupported"]:
            return f'n/a ({d["unsupported"]})'
        return "failed"

    def val(entry, e, key):
        return entry[e][key] if e in engines else None

    md = []
    md.append(f"# think4j, llama.cpp and llama3.java on the same GGUF files\n")
    md.append(f"- **Date:** {meta['date']}")
    md.append(f"- **Machine:** {meta['cpu']}, {meta['cores']} CPUs ({meta['threads']} threads used by every engine), "
              f"{meta['mem']} RAM; {meta['jdk']}; 1-minute load average {meta['load_average_1min']['before']} before "
              f"the runs, {meta['load_average_1min']['after']} after")
    md.append(f"- **think4j:** {meta['think4j_version']} at {meta['think4j_commit']}; "
              f"**llama.cpp:** {meta.get('llamacpp_build') or 'not run'}; **llama3.java:** "
              f"{'run' if 'llama3java' in engines else 'not run'}")
    md.append(f"- **Files:** `{meta['shape']}` shape, random weights, vocabulary {meta['vocab']}; "
              f"F16 written by think4j synth, then quantized by llama.cpp's llama-quantize")
    md.append(f"- **Settings:** -p {n_prompt} -n {n_gen} -r {meta['reps']}, {rounds} round(s); engines alternate per file; "
              f"figures are medians over rounds (think4j: median of its repetitions; llama.cpp: llama-bench's avg_ts; "
              f"llama3.java: median of {meta['reps']} runs)")
    md.append("\nCommands (`$F` = each file below):\n")
    md.append("```bash")
    for c in meta["commands"]:
        md.append(c)
    md.append("```\n")
    pp = f"pp{n_prompt}"
    md.append(f"| file (type, size MiB) | think4j decode t/s | llama.cpp decode | ratio | llama3.java decode | ratio "
              f"| think4j {pp} | llama.cpp {pp} | ratio | think4j peak RSS | file + KV + 300 MiB bound | llama.cpp peak RSS |")
    md.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for entry in files:
        name = os.path.basename(entry["path"])
        t_tg, l_tg, j_tg = val(entry, "think4j", "tg_ts"), val(entry, "llamacpp", "tg_ts"), val(entry, "llama3java", "tg_ts")
        t_pp, l_pp = val(entry, "think4j", "pp_ts"), val(entry, "llamacpp", "pp_ts")
        t_rss = val(entry, "think4j", "peak_rss_kib")
        bound = entry["think4j"]["rss_bound_kib"] if "think4j" in engines else None
        rss_cell = mib(t_rss) if "think4j" in engines else "n/a"
        if t_rss is not None and bound is not None and t_rss > bound:
            rss_cell = f"**{rss_cell} (over)**"
        md.append(f"| {name} ({entry['type']}, {entry['size_bytes'] / 2**20:,.0f}) | {cell(entry, 'think4j', 'tg_ts')} "
                  f"| {cell(entry, 'llamacpp', 'tg_ts')} | {ratio(t_tg, l_tg)} | {cell(entry, 'llama3java', 'tg_ts')} "
                  f"| {ratio(t_tg, j_tg)} | {cell(entry, 'think4j', 'pp_ts')} | {cell(entry, 'llamacpp', 'pp_ts')} "
                  f"| {ratio(t_pp, l_pp)} | {rss_cell} | {mib(bound)} "
                  f"| {mib(val(entry, 'llamacpp', 'peak_rss_kib')) if 'llamacpp' in engines else 'n/a'} |")
    md.append("")
    md.append("Ratios are think4j / other engine. Peak RSS is the whole process's (GNU time %M), the largest over rounds; "
              "the bound is file size + think4j's KV bytes + 300 MiB. llama3.java's decode figure is its own "
              "\"generation tokens/s\" after a short chat prompt (no prefill column: its prompt is not "
              f"{n_prompt} tokens); \"n/a (type)\" means it does not read that quantization.")
    for note in meta.get("notes", []):
        md.append(f"\nNote: {note}")
    text = "\n".join(md) + "\n"
    sys.stdout.write(text)
    if out_md:
        with open(out_md, "w") as f:
            f.write(text)
        meta["results"] = files
        with open(out_json, "w") as f:
            json.dump(meta, f, indent=1)

if __name__ == "__main__":
    if sys.argv[1] == "line":
        cmd_line(*sys.argv[2:7])
    else:
        cmd_report(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "", sys.argv[4] if len(sys.argv) > 4 else "")
PY

active=()
[ "$use_t4j" = 1 ] && active+=(think4j)
[ "$use_lcpp" = 1 ] && active+=(llamacpp)
[ "$use_l3j" = 1 ] && active+=(llama3java)

notes=()
[ -n "$lcpp_note" ] && notes+=("$lcpp_note")
[ -n "$l3j_note" ] && notes+=("$l3j_note")

q() { printf '%q ' "$@" | sed 's/ $//'; }
commands=("# $(q scripts/bench-real-files.sh "${argv[@]}")")
commands+=("$(q "${synth_cmd[@]}" --out "$f16")")
[ -n "$lcpp_bin" ] && commands+=("LD_LIBRARY_PATH=$lcpp_lib $lcpp_bin/llama-quantize $f16 $dir/$prefix-TYPE.gguf TYPE")
[ "$use_t4j" = 1 ] && commands+=("/usr/bin/time -f %M ./think4j bench -m \$F -p $n_prompt -n $n_gen -r $reps -t $threads --json")
[ "$use_lcpp" = 1 ] && commands+=("/usr/bin/time -f %M env LD_LIBRARY_PATH=$lcpp_lib $lcpp_bin/llama-bench -m \$F -t $threads -p $n_prompt -n $n_gen -r $reps -o json")
[ "$use_l3j" = 1 ] && commands+=("JAVA_TOOL_OPTIONS='$l3j_opts' /usr/bin/time -f %M $l3j_run --model \$F --max-tokens <prompt tokens + $n_gen> --stream false --seed 1 --prompt $(q "$prompt")   # x$reps")

cpu="$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)"
mem="$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo 2>/dev/null || echo '?')"
jdk="$("$JAVA_HOME/bin/java" -version 2>&1 | head -n 1)"
export BRF_DATE="$(date -u '+%Y-%m-%d %H:%M UTC')" BRF_CPU="${cpu:-unknown}" BRF_CORES="$(nproc)" BRF_MEM="$mem" BRF_JDK="$jdk"
export BRF_T4J_VERSION="$t4j_version" BRF_T4J_COMMIT="$t4j_commit" BRF_SHAPE="$shape" BRF_VOCAB="$vocab"
python3 - "$raw/meta.json" "$n_prompt" "$n_gen" "$reps" "$rounds" "$threads" \
  "$(printf '%s\n' "${files[@]}")" "$(printf '%s\n' "${file_types[@]}")" "$(printf '%s\n' "${active[@]}")" \
  "$(printf '%s\n' "${commands[@]}")" "$(printf '%s\n' "${notes[@]+"${notes[@]}"}")" <<'PY'
import json, os, sys
a = sys.argv
split = lambda s: [x for x in s.split("\n") if x]
env = os.environ
meta = {"date": env["BRF_DATE"], "cpu": env["BRF_CPU"], "cores": int(env["BRF_CORES"]), "mem": env["BRF_MEM"],
        "jdk": env["BRF_JDK"], "think4j_version": env["BRF_T4J_VERSION"], "think4j_commit": env["BRF_T4J_COMMIT"],
        "shape": env["BRF_SHAPE"], "vocab": env["BRF_VOCAB"],
        "n_prompt": int(a[2]), "n_gen": int(a[3]), "reps": int(a[4]), "rounds": int(a[5]), "threads": int(a[6]),
        "files": split(a[7]), "types": split(a[8]), "engines": split(a[9]), "commands": split(a[10]), "notes": split(a[11])}
json.dump(meta, open(a[1], "w"), indent=1)
PY

[ "$use_l3j" = 1 ] && l3j_calibrate
read -r load_before _ </proc/loadavg || load_before="?"
say "measuring ${#files[@]} file(s) x ${#active[@]} engine(s) x $rounds round(s): ${active[*]}"
for round in $(seq 1 "$rounds"); do
  for i in "${!files[@]}"; do
    # the engines take turns per file (and the first one rotates per file and round), so drift of the
    # shared machine falls on all of them alike
    n=${#active[@]}
    for k in $(seq 0 $((n - 1))); do
      engine="${active[$(( (k + i + round - 1) % n ))]}"
      say "${file_types[$i]} round $round: $engine"
      run_one "$engine" "$i" "$round"
    done
  done
done

read -r load_after _ </proc/loadavg || load_after="?"
python3 - "$raw/meta.json" "$load_before" "$load_after" <<'PY'
import json, sys
meta = json.load(open(sys.argv[1]))
meta["load_average_1min"] = {"before": sys.argv[2], "after": sys.argv[3]}
json.dump(meta, open(sys.argv[1], "w"), indent=1)
PY
if [ -n "$out" ]; then
  python3 "$work/report.py" report "$raw" "$out/bench.md" "$out/bench.json"
  mkdir -p "$out/logs" && cp -r "$raw"/. "$out/logs/"
  say "wrote $out/bench.md, $out/bench.json and the raw logs in $out/logs"
else
  python3 "$work/report.py" report "$raw"
fi
