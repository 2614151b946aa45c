#!/usr/bin/env python3
"""A llama.cpp reference fixture for ArchitectureReferenceTest, teacher-forced on a text.

Writes the synthetic model with `think4j synth` (shape, F32, --std, --seed), starts llama-server on
it on loopback (F32 KV cache, flash attention off: its CPU flash attention rounds through FP16),
tokenizes TEXT with it and, for every prefix of the first N+1 tokens, asks for one token with
n_probs=5: the reply's top-5 are llama.cpp's raw log-probs, their first entry its greedy choice.
Unlike tools/llamacpp_logprob_fixture.sh, which feeds llama.cpp's own greedy continuation, the
model here reads a real text: random-weight models of some architectures (gemma3: its sqrt(dim)
embedding scale and tied output make a token predict itself) repeat one token when left to
themselves, which would leave sliding windows and RoPE bases untested. The fixture's "tokens" are
the fed text tokens and "greedy" llama.cpp's choices. Asking one token per request also sidesteps
the server's output parser, which rejects text that is not valid UTF-8 (random models emit lone
byte tokens); --ban keeps those ids from being sampled, which leaves the reported raw log-probs alone.

  tools/llamacpp_teacher_forced.py --shape tiny-gemma3 --std 0.1 --text docs/examples/story.txt -n 300
"""
import argparse, hashlib, json, os, socket, subprocess, sys, tempfile, time, urllib.request


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", required=True)
    ap.add_argument("--name")
    ap.add_argument("--std", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--text", default=os.path.join(root, "docs/examples/story.txt"))
    ap.add_argument("-n", type=int, default=300)
    ap.add_argument("--ban", default="3-258", help="id range never sampled (the byte tokens of the bundled vocabulary)")
    ap.add_argument("--out")
    a = ap.parse_args()
    run = os.environ.get("LLAMACPP_RUN") or ("/work/llamacpp/run" if os.access("/work/llamacpp/run", os.X_OK)
                                              else os.path.join(root, "../shared/llama.cpp/run"))
    out = a.out or os.path.join(root, "src/test/resources/dev/think4j/model/reference", (a.name or a.shape) + ".json")
    with tempfile.TemporaryDirectory() as work:
        model = os.path.join(work, "model.gguf")
        subprocess.run([os.path.join(root, "think4j"), "synth", "--shape", a.shape, "--type", "F32", "--std", str(a.std),
                        "--seed", str(a.seed), "--out", model], check=True, stdout=sys.stderr)
        sha = hashlib.sha256(open(model, "rb").read()).hexdigest()
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        base = "http://127.0.0.1:%d" % port
        server = subprocess.Popen([run, "llama-server", "-m", model, "--host", "127.0.0.1", "--port", str(port), "-c", str(a.ctx),
                                   "-np", "1", "-t", "2", "-ctk", "f32", "-ctv", "f32", "-fa", "off", "--no-warmup"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(600):
                try:
                    if json.load(urllib.request.urlopen(base + "/health")).get("status") == "ok":
                        break
                except Exception:
                    time.sleep(0.1)

            def post(path, body):
                req = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers={"content-type": "application/json"})
                return json.load(urllib.request.urlopen(req))

            lo, _, hi = a.ban.partition("-")
            bias = [[i, False] for i in range(int(lo), int(hi or lo) + 1)]
            ids = post("/tokenize", {"content": open(a.text, encoding="utf-8").read(), "add_special": True})["tokens"]
            if len(ids) < a.n + 1:
                sys.exit("error: the text has %d tokens, fewer than -n + 1" % len(ids))
            top5, greedy = [], []
            for i in range(1, a.n + 1):
                r = post("/completion", {"prompt": ids[:i], "n_predict": 1, "temperature": 0, "n_probs": 5,
                                         "cache_prompt": True, "post_sampling_probs": False, "logit_bias": bias})
                top = [[t["id"], round(t["logprob"], 7)] for t in r["completion_probabilities"][0]["top_logprobs"]]
                top5.append(top)
                greedy.append(top[0][0])
            version = subprocess.run([run, "llama-server", "--version"], capture_output=True, text=True)
            version = next((l for l in (version.stdout + version.stderr).splitlines() if "version" in l.lower()), "")
        finally:
            server.terminate()
            server.wait()
    fixture = {
        "about": "llama.cpp reference for ArchitectureReferenceTest, teacher-forced on a text; regenerate with tools/llamacpp_teacher_forced.py",
        "shape": a.shape, "type": "F32", "std": a.std, "seed": a.seed, "sha256": sha, "ctx": a.ctx, "llama_cpp": version.strip(),
        "server": "-c %d -np 1 -ctk f32 -ctv f32 -fa off; /completion per prefix, n_predict=1 n_probs=5 post_sampling_probs=false" % a.ctx,
        "text": os.path.relpath(a.text, root),
        "prompt_ids": ids[:1],
        "masked_ids": [],
        "tokens": ids[1:a.n + 1],
        "greedy": greedy,
        "top5": top5,
    }
    with open(out, "w") as f:
        f.write("{\n")
        items = list(fixture.items())
        for i, (k, v) in enumerate(items):
            sep = "," if i < len(items) - 1 else ""
            if k == "top5":
                f.write('  "top5": [\n' + ",\n".join("    " + json.dumps(x, separators=(",", ":")) for x in v) + "\n  ]" + sep + "\n")
            else:
                f.write("  %s: %s%s\n" % (json.dumps(k), json.dumps(v, separators=(", ", ": ")), sep))
        f.write("}\n")
    print("wrote %s (%d positions, model sha256 %s)" % (out, a.n, sha), file=sys.stderr)


if __name__ == "__main__":
    main()
