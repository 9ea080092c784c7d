#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A scriptable OpenAI-compatible chat-completions server for the tests (127.0.0.1 only).

The model name chooses the behaviour: "<scenario>[?key=value&...]", for example
"ok?chunks=20&delay_ms=10", "fail-then-ok?status=429&times=1&retry_after=0", "status?code=401",
"cut", "malformed", "slow-first?delay_ms=3000", "json", "judge?prefer=TAG&p=0.8",
"deep?depth=50000&field=code[&status=500]" (an error nested 50,000 deep, in the stream or as the body);
"dupkeys?where=choices|content|index|body" (a stream line, or a whole body, with a key given twice);
"ok?reply=TEXT" answers TEXT word for word; "ok?shorter_if=WORDS&longer_if=WORDS" answers with a third
(or three times) the words when the last user message holds WORDS. Otherwise the answer text is
"<model-tag> answers with <n> references" where n counts the numbered references in the
aggregation prompt, followed by filler words, so tests can check what each layer received;
"ok?text=..." answers exactly that (URL-encoded) text instead; "markup" answers with raw HTML and
javascript:/data: links (for the Markdown export), "escapes" with terminal control sequences.

Continuation (staircase streaming): a request that carries the answer so far (a trailing assistant
message, or the "ANSWER SO FAR" block of the instruction continuation) is answered with the rest of
the scripted answer after it ("repeat=N" first repeats its last N words); "max_tokens" stops a
stream after that many words with finish_reason "length". "delay_ms" paces every word (chunk).

GET /_requests returns every chat request body received (in order); GET /_stats the counts.
Prints "PORT <n>" on stdout once listening. Stops when stdin closes or on SIGTERM.
"""
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

LOCK = threading.Lock()
REQUESTS = []
MODELS_AUTH = []  # the Authorization header of every GET .../models, in order
COUNTS = {}
ABORTED = {}  # model -> streams the client closed before their end


def parse_model(model):
    name, _, query = model.partition("?")
    params = {k: v[-1] for k, v in parse_qs(query).items()}
    return name, params


def count_refs(messages):
    text = "\n".join(m.get("content", "") for m in messages if isinstance(m.get("content"), str))
    pos = text.find("Responses from models:")
    if pos < 0:
        return 0
    n = 0
    while ("\n%d. " % (n + 1)) in text[pos:]:
        n += 1
    return n


def judge_answer(params, messages):
    """A scripted judge. Pairwise: prefers the response holding `prefer`, else the longer one,
    with probability p (returned as logprobs when asked). Single: a [[rating]] from the length.
    Skills: one "<skill>: <grade>" line per skill listed as "- Skill"."""
    import math
    text = "\n".join(m.get("content", "") for m in messages if isinstance(m.get("content"), str))
    if params.get("garble"):
        return "Both responses have merits; I cannot decide.", None
    a = re.search(r"Response A:\n<<<\n(.*?)\n>>>", text, re.S)
    b = re.search(r"Response B:\n<<<\n(.*?)\n>>>", text, re.S)
    labels = ("A", "B")
    if not (a and b):  # AlpacaEval's own template: outputs in triple quotes, labels m and M
        outs = list(re.finditer(r'"output": """(.*?)"""', text, re.S))
        if len(outs) == 2:
            a, b = outs
            labels = ("m", "M")
    if a and b:
        prefer = params.get("prefer")
        def score(t):
            return len(t.split()) + (1000 if prefer and prefer in t else 0)
        sa, sb = score(a.group(1)), score(b.group(1))
        win = labels[0] if sa >= sb else labels[1]
        # p given: that confidence; else it grows with the length difference.
        p = float(params["p"]) if "p" in params else min(0.98, max(0.5, 1 / (1 + math.exp(-abs(sa - sb) / 25))))
        lose = labels[1] if win == labels[0] else labels[0]
        return win, [{"token": win, "logprob": math.log(p), "top_logprobs": [
            {"token": win, "logprob": math.log(p)}, {"token": lose, "logprob": math.log(1 - p)},
            {"token": "The", "logprob": -9.0}]}]
    if "[[N]]" in text:
        last = text.rsplit("[Assistant]", 1)[-1].strip().split("\n\n")[0]
        return "Clear and correct. Rating: [[%d]]" % min(10, 1 + len(last.split()) // 3), None
    skills = re.findall(r"^- ([A-Z][A-Za-z ]+?)(?::|$)", text, re.M)
    return "\n".join("%s: %d" % (sk, 3 + (i % 3)) for i, sk in enumerate(skills)), None


SO_FAR = re.compile(r"<<<ANSWER SO FAR\n(.*)\nANSWER SO FAR>>>", re.S)


def answer_so_far(messages):
    """The agent's own answer so far, when the request asks to continue it."""
    if messages and messages[-1].get("role") == "assistant":
        return messages[-1].get("content", "")
    for m in reversed(messages):
        if m.get("role") == "user":
            found = SO_FAR.search(m.get("content", ""))
            return found.group(1) if found else None
    return None


def answer_text(model, params, messages):
    if "reply" in params or "text" in params:  # a scripted answer, word for word (URL-encoded in the model name)
        reply = params.get("reply", params.get("text"))
        if "fill" in params:  # "{fill}" in the reply stands for `fill` repeated `n` times (a long run)
            reply = reply.replace("{fill}", params["fill"] * int(params.get("n", "1")))
        return reply
    tag = params.get("tag", model.split("?")[0])
    words = int(params.get("words", "12"))
    if "jitter" in params:  # a length that varies with the prompt, the same for the same prompt
        import zlib
        last = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
        words += zlib.crc32((tag + last).encode()) % max(1, int(params["jitter"]))
    last_user = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
    if params.get("shorter_if") and params["shorter_if"] in last_user:  # asked to be brief
        words = max(1, words // 3)
    elif params.get("longer_if") and params["longer_if"] in last_user:  # asked to say more
        words *= 3
    base = "%s answers with %d references." % (tag, count_refs(messages))
    filler = " ".join("w%d" % i for i in range(words))
    return base + " " + filler


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def send_json(self, code, obj, extra_headers=None):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra_headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def chunk(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def do_GET(self):
        if self.path == "/_requests":
            with LOCK:
                self.send_json(200, REQUESTS)
        elif self.path == "/_stats":
            with LOCK:
                self.send_json(200, {"chat_requests": len(REQUESTS), "per_model": COUNTS, "aborted": ABORTED,
                                     "models_authorization": MODELS_AUTH})
        elif self.path.endswith("/models"):
            with LOCK:
                MODELS_AUTH.append(self.headers.get("Authorization"))
            self.send_json(200, {"object": "list", "data": [{"id": "ok", "object": "model"},
                                                              {"id": "slow-first", "object": "model"}]})
        else:
            self.send_json(404, {"error": {"message": "no route " + self.path, "type": "not_found"}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        if not self.path.endswith("/chat/completions"):
            return self.send_json(404, {"error": {"message": "no route " + self.path}})
        try:
            req = json.loads(raw)
        except ValueError:
            return self.send_json(400, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}})
        model = req.get("model", "ok")
        name, params = parse_model(model)
        with LOCK:
            COUNTS[model] = COUNTS.get(model, 0) + 1
            seen = COUNTS[model]
            REQUESTS.append({"model": model, "body": req, "authorization": self.headers.get("Authorization"), "host": self.headers.get("Host"),
                             "t": time.time()})
        messages = req.get("messages", [])
        so_far = answer_so_far(messages)
        # The scripted answer is written as if from the first word on, so a continuation counts
        # the references of a prompt without the answer so far.
        text = answer_text(model, params, messages)
        if so_far is not None:
            if text.startswith(so_far):
                rest = text[len(so_far):]
            else:  # the answer would now begin otherwise (other references): go on from as many words
                rest = "".join(re.findall(r"\S+\s*", text)[len(so_far.split()):])
            if "repeat" in params:
                tail = re.findall(r"\S+\s*", so_far)[-int(params["repeat"]):]
                rest = "".join(tail) + rest
            text = rest

        if name == "echo-auth":  # a gateway that echoes the request's key in its error (issue 12 item 5)
            auth = self.headers.get("Authorization") or ""
            key = auth.split(" ", 1)[-1]
            msg = "denied %s; bearer %s; key=%s; cut %s" % (auth, key, key, key[:16])
            return self.send_json(int(params.get("code", "500")), {"error": {"message": msg, "type": "echo"}})
        if name == "echo-auth-encoded":  # the echoed key percent-encoded and with zero-width characters (issue 12)
            auth = self.headers.get("Authorization") or ""
            key = auth.split(" ", 1)[-1]
            pct = "".join(("%%%02X" if i % 2 else "%%%02x") % ord(c) for i, c in enumerate(key))
            zw = "\u200b\u2060\ufeff\u00ad\u200c\u200d"
            spaced = key[:1] + "".join(zw[i % len(zw)] + c for i, c in enumerate(key[1:]))
            msg = "denied %s; as sent: %s; partly %s" % (pct, spaced, key[:6] + pct[18:])
            return self.send_json(int(params.get("code", "401")), {"error": {"message": msg, "type": "echo"}})
        if name == "echo-auth-text":  # a 200 stream whose answer quotes the key, cut across chunks (issue 12)
            auth = self.headers.get("Authorization") or ""
            key = auth.split(" ", 1)[-1]
            pieces = ["You sent " + key[:5], key[5:19], key[19:] + " and ", auth[:12], auth[12:] + " end"]
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for p in pieces:
                self.wfile.write(("data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": p},
                                                                      "finish_reason": None}]}) + "\n\n").encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True
            return
        if name == "echo-auth-stream":  # the same echo as an error event inside a 200 stream
            auth = self.headers.get("Authorization") or ""
            body = ("data: " + json.dumps({"error": {"message": "stream denied " + auth, "code": auth}}) + "\n\n").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if name == "escapes":  # model text full of terminal control sequences (issue 12 item 14)
            text = ("title\x1b]0;pwned\x07 clip\x1b]52;c;c2VjcmV0\x07 clear\x1b[2J\x1b[H c1\u009b31m "
                    "del\x7f cr\r bell\x07 bidi \u202eexe.txt\u202c \u2066iso\u2069 \u200elrm\u200f \u061calm end")
        if name == "markup":  # model text that would act in a Markdown renderer (issue 12: exports)
            text = ("Intro <script>alert(1)</script> and <img src=x onerror=alert(2)>.\n"
                    "[click](javascript:alert(3)) [caps](JaVaScRiPt:alert(4)) ![img](data:text/html;base64,PHNjcmlwdD4=) "
                    "[vb](vbscript:msgbox(5)) [ent](&#106;avascript:alert(6)) [tab](java\tscript:alert(9)) "
                    "[ok](https://example.org/a?b=1) [rel](docs/page.md)\n"
                    "[ref]: javascript:alert(7)\n"
                    "Use `vector<int>` here, \\`<u>not code</u>`.\n"
                    "| `a | <b>x</b> | c` |\n"
                    "```html\n<div>code stays</div>\n```\n"
                    "- item\n  ```\n<iframe src=javascript:alert(8)>\n```\n<svg onload=alert(10)>")
        if name == "status":
            code = int(params.get("code", "500"))
            return self.send_json(code, {"error": {"message": params.get("message", "scripted failure %d" % code),
                                                   "type": "scripted", "code": str(code)}})
        if name == "fail-then-ok" and seen <= int(params.get("times", "1")):
            code = int(params.get("status", "503"))
            headers = {}
            if "retry_after" in params:
                headers["Retry-After"] = params["retry_after"]
            message = params.get("message", "scripted %d, attempt %d" % (code, seen))
            return self.send_json(code, {"error": {"message": message}}, headers)
        if name == "judge":
            verdict, logprobs = judge_answer(params, messages)
            choice = {"index": 0, "delta": {"content": verdict}, "finish_reason": None}
            if logprobs and req.get("logprobs"):
                choice["logprobs"] = {"content": logprobs}
            body = ("data: " + json.dumps({"choices": [choice]}) + "\n\n" +
                    "data: " + json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                                           "usage": {"prompt_tokens": 50, "completion_tokens": 1}}) + "\n\n" +
                    "data: [DONE]\n\n").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if name == "badutf8":  # a stream whose content bytes are not UTF-8 (raw, inside the JSON string)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.chunk(b'data: {"choices": [{"index": 0, "delta": {"content": "caf\xc3\xa9 "}}]}\n\n')
            self.chunk(b'data: {"choices": [{"index": 0, "delta": {"content": "bad \xff\xfe\xc0\xaf here"}}]}\n\n')
            self.chunk(b'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}\n\ndata: [DONE]\n\n')
            self.chunk(b"")
            return
        if name == "liar":  # a JSON body whose Content-Length lies (more: promises more than it sends)
            body = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                            "finish_reason": "stop"}]}).encode()
            claimed = len(body) * 2 if params.get("more") else len(body) // 2
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(claimed))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            return
        if name == "redirect":  # sends the client to another host (127.0.0.2's port, same server)
            self.send_response(int(params.get("code", "307")))
            self.send_header("Location", params.get("to", "http://localhost:%d/v1/chat/completions"
                                                    % self.server.server_address[1]))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if name == "dupkeys":  # a stream line (or body) with a key given twice (issue 12)
            where = params.get("where", "choices")
            one = '{"index": 0, "delta": {"content": "First "}, "finish_reason": null}'
            lines = {"choices": '{"choices": [%s], "choices": [{"index": 0, "delta": {"content": "Other "}}]}' % one,
                     "content": '{"choices": [{"index": 0, "delta": {"content": "Shown ", "content": "Hidden "}}]}',
                     "index": '{"choices": [{"index": 1, "index": 0, "delta": {"content": "Which "}}]}',
                     "body": '{"choices": [{"index": 0, "message": {"role": "assistant", "content": "A", "content": "B"}, '
                             '"finish_reason": "stop"}]}'}
            if where == "body":
                body = lines["body"].encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.chunk("data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": "Fine "}}]}) + "\n\n")
            self.chunk("data: " + lines[where] + "\n\n")
            self.chunk("data: " + json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}) +
                       "\n\ndata: [DONE]\n\n")
            self.chunk(b"")
            return
        if name == "deepdelta":  # a delta with an unknown field nested `depth` deep, between good ones
            depth = int(params.get("depth", "1500000"))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.chunk("data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": "Fine "}}]}) + "\n\n")
            self.chunk(b'data: {"choices": [{"index": 0, "delta": {"content": "x", "extra": ' + b'{"a":' * depth + b'1' +
                       b'}' * depth + b'}}]}\n\n')
            self.chunk("data: " + json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}) +
                       "\n\ndata: [DONE]\n\n")
            self.chunk(b"")
            return
        if name == "deep":  # an error whose message (or code) is a value nested `depth` deep
            depth = int(params.get("depth", "50000"))
            deep = "[" * depth + "]" * depth
            field = params.get("field", "message")
            err = '{"error": {"%s": %s%s}}' % (field, deep, ', "message": "deep"' if field != "message" else "")
            if "status" in params:  # as an error body instead of a stream line
                body = err.encode()
                self.send_response(int(params["status"]))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.chunk("data: " + err + "\n\n")
            self.chunk(b"")
            return
        if name == "json" or not req.get("stream"):
            return self.send_json(200, {
                "id": "x", "object": "chat.completion", "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 11, "completion_tokens": len(text.split()), "total_tokens": 0}})

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if name == "slow-first":
            time.sleep(int(params.get("delay_ms", "3000")) / 1000.0)
        if name == "endless":  # never stops sending content (bounded here by seconds, for safety)
            ev = {"choices": [{"index": 0, "delta": {"content": "x" * 4000}, "finish_reason": None}]}
            line = ("data: " + json.dumps(ev) + "\n\n").encode()
            end = time.time() + float(params.get("seconds", "20"))
            try:
                while time.time() < end:
                    self.chunk(line)
            except (BrokenPipeError, ConnectionResetError):
                with LOCK:
                    ABORTED[model] = ABORTED.get(model, 0) + 1
            return
        if name == "keepalive":  # one token, then only keep-alive comments, empty deltas or a trickle
            mode = params.get("mode", "comment")  # comment | empty | blank (whitespace) | zw | format | trickle (a real token each time)
            every = int(params.get("every_ms", "50")) / 1000.0
            filler = {"comment": b": keep-alive\n\n",
                      "empty": ("data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": ""},
                                                                   "finish_reason": None}]}) + "\n\n").encode(),
                      "blank": ("data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": " \n\t "},
                                                                   "finish_reason": None}]}) + "\n\n").encode(),
                      "trickle": ("data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": "more "},
                                                                     "finish_reason": None}]}) + "\n\n").encode(),
                      # zero-width space; and other format characters (joiners, BOM, soft hyphen, bidi)
                      "zw": ("data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": "\u200b"},
                                                                "finish_reason": None}]}) + "\n\n").encode(),
                      "format": ("data: " + json.dumps({"choices": [{"index": 0, "delta": {
                          "content": "\u200c\u200d\u2060\ufeff\u00ad\u202e\u2066\u200e \u00a0"},
                          "finish_reason": None}]}) + "\n\n").encode()}[mode]
            end = time.time() + float(params.get("seconds", "60"))
            try:
                self.chunk(("data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": "First "},
                                                                "finish_reason": None}]}) + "\n\n").encode())
                while time.time() < end:
                    time.sleep(every)
                    self.chunk(filler)
            except (BrokenPipeError, ConnectionResetError):
                with LOCK:
                    ABORTED[model] = ABORTED.get(model, 0) + 1
            return
        if name == "garbage":  # megabytes of bytes that are no event stream at all
            import os
            try:
                for _ in range(int(params.get("mb", "20"))):
                    self.chunk(os.urandom(1 << 20))
                self.chunk(b"")
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        if name == "longline":  # one data line of many megabytes, never finished
            try:
                self.chunk(b"data: {\"choices\": [{\"delta\": {\"content\": \"")
                for _ in range(int(params.get("mb", "50"))):
                    self.chunk(b"y" * (1 << 20))
                self.chunk(b"")
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        pieces = re.findall(r"\S+\s*", text)
        finish = "stop"
        if req.get("max_tokens") and len(pieces) > int(req["max_tokens"]):
            pieces = pieces[:int(req["max_tokens"])]
            finish = "length"
        chunks = int(params.get("chunks", str(len(pieces))))
        per = max(1, -(-len(pieces) // max(1, chunks)))
        groups = ["".join(pieces[i:i + per]) for i in range(0, len(pieces), per)]
        delay = int(params.get("delay_ms", "0")) / 1000.0 if name != "slow-first" else 0
        try:
            self.chunk(": keep-alive comment\n\n")
            for i, g in enumerate(groups):
                if name == "cut" and i >= len(groups) // 2:
                    self.wfile.flush()
                    self.close_connection = True
                    # Abort the chunked body without its terminating chunk.
                    self.connection.shutdown(2)
                    return
                if name == "malformed" and i == len(groups) // 2:
                    self.chunk('data: {"choices": [{"delta": {"content": "broken\n\n')
                    continue
                ev = {"id": "c", "object": "chat.completion.chunk", "model": model,
                      "choices": [{"index": 0, "delta": {"content": g}, "finish_reason": None}]}
                self.chunk("data: " + json.dumps(ev) + "\n\n")
                if delay:
                    time.sleep(delay)
            self.chunk("data: " + json.dumps({"id": "c", "object": "chat.completion.chunk", "model": model,
                                               "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}) + "\n\n")
            if "usage" in params:  # usage=none: no usage at all; else the usage object's text as given
                if params["usage"] != "none":
                    self.chunk('data: {"id": "c", "choices": [], "usage": %s}\n\n' % params["usage"])
            else:
                self.chunk("data: " + json.dumps({"id": "c", "choices": [], "usage": {
                    "prompt_tokens": sum(len(m.get("content", "").split()) for m in messages),
                    "completion_tokens": len(pieces), "total_tokens": 0}}) + "\n\n")
            self.chunk("data: [DONE]\n\n")
            self.chunk(b"")
        except (BrokenPipeError, ConnectionResetError):
            with LOCK:  # the client went away (cancel)
                ABORTED[model] = ABORTED.get(model, 0) + 1


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if "--tls" in sys.argv:  # --tls CERT KEY: HTTPS with the given (self-signed) certificate
        import ssl
        i = sys.argv.index("--tls")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[i + 1], sys.argv[i + 2])
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print("PORT %d" % server.server_address[1], flush=True)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        sys.stdin.read()  # the test closes stdin (or dies) to stop us
    except KeyboardInterrupt:
        pass
    server.shutdown()


if __name__ == "__main__":
    main()
