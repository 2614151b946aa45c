#!/usr/bin/env python3
"""Renders fixed conversations with a model's own chat template through Jinja2 (the engine, and the
trim_blocks/lstrip_blocks settings, of transformers' apply_chat_template), as exact fixtures for
ChatFormatTest.

    tools/render_chat_template.py ../shared/chat-templates/HuggingFaceTB-SmolLM3-3B.jinja \
        src/test/resources/dev/think4j/tokenizer/smollm3-renderings.json
"""
import json
import sys

import jinja2

CONVERSATIONS = {
    "with_system": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi!"},
                    {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Tell me a story."}],
    "no_system": [{"role": "user", "content": "Hi!"}, {"role": "assistant", "content": "Hello."},
                  {"role": "user", "content": "Tell me a story."}],
    "no_think": [{"role": "system", "content": "Be brief. /no_think"}, {"role": "user", "content": "Hi!"},
                 {"role": "assistant", "content": "\n\nHello."}, {"role": "tool", "content": "42"},
                 {"role": "user", "content": "Thanks."}],
    "only_no_think": [{"role": "system", "content": "/no_think"}, {"role": "user", "content": "Hi!"}],
    "think_tool": [{"role": "user", "content": "Hi!"}, {"role": "assistant", "content": "\nHello."},
                   {"role": "tool", "content": "42"}],
}


def main(template_path, out_path):
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    template = env.from_string(open(template_path, encoding="utf-8").read())
    cases = []
    for name, messages in CONVERSATIONS.items():
        for gen in (True, False):
            cases.append({"name": name, "add_generation_prompt": gen, "messages": messages,
                          "rendered": template.render(messages=messages, add_generation_prompt=gen)})
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump({"template": template_path.split("/")[-1], "jinja2": jinja2.__version__, "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
