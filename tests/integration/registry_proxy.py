#!/usr/bin/python3
"""A registry that lies or fails, in front of a real one (tests only, 127.0.0.1).

registry_proxy.py PORTFILE UPSTREAM MODE ARG LOG
Every request is forwarded to UPSTREAM (host:port, plain HTTP); blob and manifest GETs are
changed by MODE:
  pass        nothing changed
  interrupt N blob bodies are cut after N bytes (the connection closes), $CUTS times in all
  stall N     blob bodies stop after N bytes; the connection stays open (for a minute)
  corrupt     one byte of every blob body is flipped
  burst N     the first N blob GETs get 503 (odd) or 429 (even) with Retry-After: 1
  redirect    blob GETs redirect to themselves
  truncate    every blob body stops 10 bytes early (the connection closes)
  bigger      blob bodies get 100 bytes more than the registry has (Content-Length too)
  nonjson     manifests are "not json" with the manifest's Content-Type
  mediatype   manifests are served with the index media type
  schema1     manifests are a Docker schema 1 document
  selfindex   every manifest GET answers the index at the tag (children included)
  fivexx      every request gets 500
Each request is logged as "<METHOD> <path> range=<Range or -> -> <status>"; the port goes to
PORTFILE.
"""
import http.client
import http.server
import os
import sys
import threading
import time

portfile, upstream, mode, arg, logfile = sys.argv[1:6]
arg = int(arg)
lock = threading.Lock()
state = {"cuts": 0, "bursts": 0, "index": None}


def log(line):
    with lock:
        with open(logfile, "a") as f:
            f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self, method, body=None, path=None):
        c = http.client.HTTPConnection(upstream, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        c.request(method, path or self.path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        hdrs = [(k, v) for k, v in r.getheaders() if k.lower() not in ("connection", "transfer-encoding", "content-length")]
        c.close()
        return r.status, hdrs, data

    def reply(self, status, hdrs, data, length=None, send=None):
        # logged before the client can have the answer: a test reads the log once it has it
        log("%s %s range=%s -> %d" % (self.command, self.path, self.headers.get("Range", "-"), status))
        self.send_response(status)
        for k, v in hdrs:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data) if length is None else length))
        if send is not None:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data if send is None else data[:send])
        if send is not None:
            self.wfile.flush()
            self.close_connection = True

    def blob_get(self):
        status, hdrs, data = self.forward("GET")
        if status not in (200, 206):
            return self.reply(status, hdrs, data)
        if mode == "interrupt" and len(data) > arg and state["cuts"] < int(os.environ.get("CUTS", "3")):
            state["cuts"] += 1
            return self.reply(status, hdrs, data, send=arg)
        if mode == "stall" and len(data) > arg:
            self.send_response(status)
            for k, v in hdrs:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            log("GET %s stalled after %d bytes" % (self.path, arg))
            self.wfile.write(data[:arg])
            self.wfile.flush()
            time.sleep(60)
            self.close_connection = True
            return
        if mode == "corrupt" and len(data) > 0:
            i = len(data) // 2
            data = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]
        if mode == "truncate" and len(data) > 10:
            return self.reply(status, hdrs, data, send=len(data) - 10)
        if mode == "bigger":
            data = data + b"\0" * 100
        return self.reply(status, hdrs, data)

    def manifest_get(self):
        if mode == "selfindex":
            if state["index"] is None:
                state["index"] = self.forward("GET")
            return self.reply(*state["index"])
        status, hdrs, data = self.forward("GET")
        if status == 200 and mode == "nonjson":
            data = b"not json"
            hdrs = [(k, v) for k, v in hdrs if k.lower() != "docker-content-digest"]
        if status == 200 and mode == "schema1":
            data = b'{"schemaVersion":1,"name":"x","tag":"1","architecture":"amd64","fsLayers":[],"history":[]}'
            hdrs = [(k, v) for k, v in hdrs if k.lower() not in ("content-type", "docker-content-digest")]
            hdrs.append(("Content-Type", "application/vnd.docker.distribution.manifest.v1+prettyjws"))
        if status == 200 and mode == "mediatype":
            hdrs = [(k, v) for k, v in hdrs if k.lower() != "content-type"]
            hdrs.append(("Content-Type", "application/vnd.oci.image.index.v1+json"))
        return self.reply(status, hdrs, data)

    def do_GET(self):
        if mode == "fivexx":
            return self.reply(500, [], b"")
        if "/blobs/sha256:" in self.path:
            if mode == "burst" and state["bursts"] < arg:
                state["bursts"] += 1
                code = 503 if state["bursts"] % 2 else 429
                return self.reply(code, [("Retry-After", "1")], b"")
            if mode == "redirect":
                return self.reply(302, [("Location", self.path)], b"")
            return self.blob_get()
        if "/manifests/" in self.path:
            return self.manifest_get()
        self.reply(*self.forward("GET"))

    def do_HEAD(self):
        self.reply(*self.forward("HEAD"))

    def body(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(n) if n else None

    def do_PUT(self):
        self.reply(*self.forward("PUT", self.body()))

    def do_POST(self):
        self.reply(*self.forward("POST", self.body()))

    def do_PATCH(self):
        self.reply(*self.forward("PATCH", self.body()))


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
