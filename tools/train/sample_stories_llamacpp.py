"""Samples children's stories from the bundled stories260K model through llama.cpp's server (much faster
than sampling it in PyTorch). One request per seed, so the corpus is reproducible from --seed.

Usage: python3 sample_stories_llamacpp.py --out work/data/stories.txt --n 4096 [--seed 1]
        [--server /work/llamacpp/run] [--port 18431]
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def one(port, seed):
    body = json.dumps({'prompt': 'Once', 'n_predict': 400, 'temperature': 1.0, 'top_k': 0, 'top_p': 1.0, 'min_p': 0.0,
                       'seed': seed, 'cache_prompt': False}).encode()
    req = urllib.request.Request(f'http://127.0.0.1:{port}/completion', body, {'content-type': 'application/json'})
    return 'Once' + json.load(urllib.request.urlopen(req, timeout=600))['content']


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--n', type=int, default=4096)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--run', default='/work/llamacpp/run', help="llama.cpp launcher: RUN TOOL ARGS")
    ap.add_argument('--port', type=int, default=18431)
    a = ap.parse_args()
    srv = subprocess.Popen([a.run, 'llama-server', '-m', os.path.join(ROOT, 'models/stories260K.gguf'), '--port', str(a.port),
                            '-np', '16', '-c', str(16 * 512), '-t', '2'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f'http://127.0.0.1:{a.port}/health', timeout=2)
                break
            except OSError:
                time.sleep(1)
        with concurrent.futures.ThreadPoolExecutor(16) as ex:
            texts = list(ex.map(lambda i: one(a.port, a.seed * 1_000_003 + i), range(a.n)))
    finally:
        srv.terminate()
        srv.wait()
    stories = []
    for t in texts:
        # a story ends where the model starts the next one; keep only finished ones
        for s in t.split('Once upon a time')[:-1] if t.count('Once upon a time') > 1 else [t.rsplit('.', 1)[0] + '.']:
            s = s.strip()
            if len(s) > 100:
                stories.append(s if s.startswith('Once') else 'Once upon a time' + s)
    open(a.out, 'w').write('\n\n'.join(stories) + '\n')
    print(f'{len(stories)} stories, {sum(map(len, stories))} chars')


if __name__ == '__main__':
    main()
