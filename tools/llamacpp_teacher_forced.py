#!/usr/bin/env python3
"""Greedy tokens and top-K log-probs of llama.cpp at every position, as a JSON fixture.

Starts llama-server on MODEL with a float32 KV cache and flash attention off (its CPU flash
attention rounds through FP16 and alone moves log-probs by ~5e-3), tokenizes the text with it, then asks for one token at a time: the reply's top-K log-probs
are llama.cpp's softmax of its raw logits, its first entry llama.cpp's greedy choice. With --text the
sequence is teacher-forced on that text (position i sees its first i tokens; random-weight models
left to themselves soon repeat one token, which would test little); with --prompt it continues on
llama.cpp's own argmax after the prompt. Asking
token by token (rather than one long completion) sidesteps the server's output parser, which rejects
text that is not valid UTF-8 (random-weight models emit lone byte tokens); --ban keeps those ids from
being sampled, which does not touch the reported raw log-probs.

  tools/llamacpp_teacher_forced.py --model f.gguf --prompt "Once upon a time" --positions 300 \
      --ban 3-258 --out src/test/resources/.../fixture.json
"""
import argparse, json, os, subprocess, sys, time, urllib.request

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--prompt", help="continue greedily after this prompt")
    src.add_argument("--text", help="file whose tokens are fed (teacher forcing); positions start after its first token")
    ap.add_argument("--positions", type=int, default=300)
    ap.add_argument("--top", type=int, default=5)
    ap.add_argument("--ban", default="", help="id ranges never sampled, e.g. 3-258 (byte tokens)")
    ap.add_argument("--port", type=int, default=8391)
    ap.add_argument("--llamacpp", default=os.environ.get("LLAMACPP_RUN", "/work/llamacpp/run"))
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    base = "http://127.0.0.1:%d" % a.port
    ctx = a.positions + 64
    server = subprocess.Popen([a.llamacpp, "llama-server", "-m", a.model, "-t", "2", "-c", str(ctx), "-np", "1",
                               "--host", "127.0.0.1", "--port", str(a.port), "-ctk", "f32", "-ctv", "f32", "-fa", "off"],
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
        bias = []
        for r in filter(None, a.ban.split(",")):
            lo, _, hi = r.partition("-")
            bias += [[i, False] for i in range(int(lo), int(hi or lo) + 1)]
        text = a.prompt if a.prompt is not None else open(a.text, encoding="utf-8").read()
        all_ids = post("/tokenize", {"content": text, "add_special": True})["tokens"]
        forced = a.text is not None
        prompt = all_ids[:1] if forced else all_ids
        if forced and len(all_ids) < a.positions + 1:
            sys.exit("text has %d tokens, fewer than --positions + 1" % len(all_ids))
        ids = list(prompt)
        tokens, tops = [], []
        for i in range(a.positions):
            r = post("/completion", {"prompt": ids, "n_predict": 1, "temperature": 0, "n_probs": a.top,
                                     "cache_prompt": True, "logit_bias": bias})
            top = [[t["id"], t["logprob"]] for t in r["completion_probabilities"][0]["top_logprobs"]]
            tops.append(top)
            tokens.append(top[0][0])
            ids.append(all_ids[len(ids)] if forced else top[0][0])
        props = json.load(urllib.request.urlopen(base + "/props"))
        out = {"model": os.path.basename(a.model), "llama_cpp": props.get("build_info", ""),
               "settings": "llama-server -ctk f32 -ctv f32 -fa off, top-%d log-probs of the raw logits, %s" % (
                   a.top, "teacher-forced on the text" if forced else "greedy after the prompt"),
               "input_ids": ids[:len(prompt) + a.positions - 1],
               "prompt_length": len(prompt), "greedy": tokens, "top": tops}
        with open(a.out, "w") as f:
            json.dump(out, f, separators=(",", ":"))
            f.write("\n")
        print("wrote %s: %d prompt + %d positions" % (a.out, len(prompt), len(tokens)), file=sys.stderr)
    finally:
        server.terminate()
        server.wait()

if __name__ == "__main__":
    main()
