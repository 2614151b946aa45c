"""Greedy continuation of a prompt file by llama.cpp's server, as token ids (to compare with think4j).

Usage: python3 check_llamacpp.py --model M.gguf --prompt-file F [-n 12] [--run /work/llamacpp/run] [--port 18432]
"""
import argparse
import json
import subprocess
import time
import urllib.request


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', required=True)
    ap.add_argument('--prompt-file', required=True)
    ap.add_argument('-n', type=int, default=12)
    ap.add_argument('--run', default='/work/llamacpp/run')
    ap.add_argument('--port', type=int, default=18432)
    a = ap.parse_args()
    srv = subprocess.Popen([a.run, 'llama-server', '-m', a.model, '--port', str(a.port), '-c', '4096', '-np', '1', '-t', '1'],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f'http://127.0.0.1:{a.port}/health', timeout=2)
                break
            except OSError:
                time.sleep(1)
        body = json.dumps({'prompt': open(a.prompt_file).read(), 'n_predict': a.n, 'temperature': 0, 'top_k': 1,
                           'cache_prompt': False, 'return_tokens': True}).encode()
        req = urllib.request.Request(f'http://127.0.0.1:{a.port}/completion', body, {'content-type': 'application/json'})
        r = json.load(urllib.request.urlopen(req, timeout=900))
        print(json.dumps({'prompt_tokens': r.get('tokens_evaluated'), 'output_ids': r.get('tokens'), 'text': r['content']}))
    finally:
        srv.terminate()
        srv.wait()


if __name__ == '__main__':
    main()
