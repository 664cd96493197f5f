"""An OpenAI-shaped upstream that misbehaves on request, by model name, for the fault part of
the reliability suite. Standard library only; one thread per connection.

  ok            a chat completion (streamed when asked)
  error-500     a 500 in OpenAI's error shape;   error-429: a 429 with retry-after
  stall         accepts, then says nothing (Deja's provider timeout must fire)
  garbage       200 with HTML instead of JSON;   wrong-shape: 200 JSON that is not a completion
  empty         200 with an empty body;          short-body: Content-Length larger than the body
  reset         closes the connection with a TCP reset before answering
  cut-stream    a stream that stops after two events, without [DONE]
  stall-stream  a stream that goes silent after one event
"""

import json
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ["ok", "error-500", "error-429", "stall", "garbage", "wrong-shape", "empty", "short-body", "reset",
         "cut-stream", "stall-stream"]


def completion(prompt, model):
    text = f"Answer to: {prompt}"
    return {"id": "chatcmpl-f", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}}


def chunk(text, model, finish=None):
    return {"id": "chatcmpl-f", "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "delta": {"content": text} if text else {}, "finish_reason": finish}]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_json(self, status, body, extra=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.send_json(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in MODES]})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        model = body.get("model", "ok")
        mode = model.split("/")[-1] if model.split("/")[-1] in MODES else "ok"
        prompt = (body.get("messages") or [{}])[-1].get("content", "")
        if mode == "error-500":
            return self.send_json(500, {"error": {"message": "upstream broke", "type": "server_error"}})
        if mode == "error-429":
            return self.send_json(429, {"error": {"message": "slow down", "type": "rate_limit_error"}},
                                  {"retry-after": "1"})
        if mode == "stall":
            time.sleep(30)
            return
        if mode == "garbage":
            data = b"<html>this is not JSON</html>"
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if mode == "wrong-shape":
            return self.send_json(200, {"hello": "world"})
        if mode == "empty":
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", "0")
            self.end_headers()
            return
        if mode == "short-body":
            data = json.dumps(completion(prompt, model)).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data) + 100))
            self.end_headers()
            self.wfile.write(data)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if mode == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if body.get("stream"):
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("connection", "close")
            self.end_headers()
            events = [chunk("Answer ", model), chunk("to: ", model), chunk(prompt, model), chunk(None, model, "stop")]
            for i, event in enumerate(events):
                if mode == "cut-stream" and i == 2:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if mode == "stall-stream" and i == 1:
                    time.sleep(30)
                    return
                self.wfile.write(b"data: " + json.dumps(event).encode() + b"\n\n")
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            self.close_connection = True
            return
        self.send_json(200, completion(prompt, model))


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    server.serve_forever()
