#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes a demonstration experiment (three configurations, a reference, a scripted judge) that
runs against tests/servers/openai_server.py on 127.0.0.1:PORT, into DIR. Used by
`tools/dev.sh screenshots`; the models are the test server's scripted ones, so the numbers show
how the views look, not how real models compare.

usage: experiment_demo.py PORT DIR
"""
import json
import os
import sys

port, out = sys.argv[1], sys.argv[2]
url = "http://127.0.0.1:%s/v1" % port
os.makedirs(out, exist_ok=True)


def config(name, layers, price, params_b):
    models = {}
    for layer in layers:
        for m in layer:
            models[m] = {"input_usd_per_mtok": price, "output_usd_per_mtok": 2 * price, "active_params_b": params_b}
    return {"schema": "moa-workbench/config@1", "name": name,
            "providers": {"local": {"base_url": url, "models": models}},
            "layers": [{"agents": [{"provider": "local", "model": m, "max_tokens": 256} for m in layer]} for layer in layers]}


def m(tag, words):
    return "ok?tag=%s&words=%d&jitter=40" % (tag, words)


files = {
    "single.moa.json": config("Single 8B model", [[m("single", 30)]], 0.2, 8),
    "lite.moa.json": config("MoA-Lite (3 proposers, 2 layers)", [[m("p0", 40), m("p1", 40), m("p2", 40)], [m("agg", 60)]], 0.6, 70),
    "moa.moa.json": config("MoA (3 layers)", [[m("p0", 40), m("p1", 40), m("p2", 40)],
                                                 [m("q0", 50), m("q1", 50), m("q2", 50)], [m("agg2", 70)]], 0.9, 70),
    "ref.moa.json": config("Reference model", [[m("ref", 50)]], 0.9, 70),
    # The scripted judge prefers answers built on three references (an aggregator's), else the longer.
    "judge.moa.json": config("Scripted judge", [["judge?prefer=3+references"]], 0.2, 8),
}
for name, c in files.items():
    with open(os.path.join(out, name), "w") as f:
        json.dump(c, f, indent=1)
with open(os.path.join(out, "demo.moa-experiment.json"), "w") as f:
    json.dump({"schema": "moa-workbench/experiment@1", "name": "Three configurations on 30 starter prompts",
               "configurations": ["single.moa.json", "lite.moa.json", "moa.moa.json"],
               "prompts": "starter", "sample": 30, "seed": 7,
               "reference": {"configuration": "ref.moa.json"},
               "judge": {"config": "judge.moa.json", "mode": "pairwise"},
               "concurrency": 4, "budget_usd": 1.0}, f, indent=1)
print(os.path.join(out, "demo.moa-experiment.json"))
