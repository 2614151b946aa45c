#!/usr/bin/env python3
"""Renders the committed chat templates with Python's jinja2 the way transformers' apply_chat_template
does (sandboxed, trim_blocks, lstrip_blocks, loopcontrols, raise_exception), over a fixed set of
conversations, into the JSON fixture ChatTemplateRenderingTest compares think4j's formats with.

  tools/render_chat_templates.py src/test/resources/dev/think4j/tokenizer
"""
import json, os, sys
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

TEMPLATES = {
    "google-gemma-3-it.jinja": {"bos_token": "<bos>", "eos_token": "<eos>"},
    "microsoft-Phi-3-mini-4k-instruct.jinja": {"bos_token": "<s>", "eos_token": "<|endoftext|>"},
    "microsoft-Phi-3.5-mini-instruct.jinja": {"bos_token": "<s>", "eos_token": "<|endoftext|>"},
    "microsoft-Phi-4-mini-instruct.jinja": {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>"},
}

S = {"role": "system", "content": "You are terse."}
U1 = {"role": "user", "content": "Hi!"}
A1 = {"role": "assistant", "content": "Hello."}
U2 = {"role": "user", "content": "Tell me a story."}
CONVERSATIONS = [
    ([S, U1, A1, U2], True),
    ([U1, A1, U2], True),
    ([U1], True),
    ([S, U1], True),
    ([S, U1, A1], False),
    ([U1, A1], False),
    # whitespace around contents (Gemma trims it, Phi keeps it) and multi-line text
    ([{"role": "system", "content": "  Rules:\n- be brief\n"}, {"role": "user", "content": "\n  two\nlines  \t"},
      {"role": "assistant", "content": " ok \n"}, {"role": "user", "content": "\u00a0nbsp\u3000"}], True),
    ([{"role": "system", "content": ""}, U1], True),
    # roles that do not alternate: Gemma's template raises (rendered is null)
    ([U1, U2], True),
]


def raise_exception(message):
    raise ValueError(message)


def main():
    folder = sys.argv[1]
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.globals["raise_exception"] = raise_exception
    out = []
    for name, tokens in TEMPLATES.items():
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            template = env.from_string(f.read())
        for messages, gen in CONVERSATIONS:
            try:
                text = template.render(messages=messages, add_generation_prompt=gen, **tokens)
            except ValueError as e:
                text = None
            out.append({"template": name, "messages": messages, "add_generation_prompt": gen, "rendered": text})
    with open(os.path.join(folder, "chat-template-renderings.json"), "w", encoding="utf-8") as f:
        json.dump({"renderer": "jinja2 " + __import__("jinja2").__version__, "cases": out}, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
