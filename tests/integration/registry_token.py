#!/usr/bin/python3
"""A tiny token issuer for docker-registry's auth.token (tests only, 127.0.0.1).

registry_token.py PORTFILE KEY CERT USER PASSWORD LOG
GET /token?service=S&scope=repository:a/b:pull,push ... with Basic USER:PASSWORD -> a JWT (RS256,
x5c = CERT) granting the scopes asked; without credentials -> a token granting nothing; with
wrong ones -> 401. Each request is logged as one line: "token <user|anonymous|bad> <scopes>"
(never the password). It listens on 127.0.0.1 on a free port and writes the port to PORTFILE.
"""
import base64
import http.server
import json
import sys
import time
import urllib.parse
import uuid

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

portfile, keyfile, certfile, user, password, logfile = sys.argv[1:7]
key = open(keyfile, "rb").read()
cert = x509.load_pem_x509_certificate(open(certfile, "rb").read())
x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def who(self):
        h = self.headers.get("Authorization", "")
        if not h.startswith("Basic "):
            return "anonymous"
        try:
            u, _, p = base64.b64decode(h[6:]).decode().partition(":")
        except Exception:
            return "bad"
        return u if (u, p) == (user, password) else "bad"

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query)
        scopes = q.get("scope", [])
        who = self.who()
        with open(logfile, "a") as f:
            f.write("token %s %s\n" % (who, " ".join(scopes)))
        if url.path != "/token" or who == "bad":
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        access = []
        if who != "anonymous":
            for s in scopes:
                parts = s.split(":")
                if len(parts) >= 3 and parts[0] == "repository":
                    access.append({"type": "repository", "name": ":".join(parts[1:-1]),
                                   "actions": parts[-1].split(",")})
        now = int(time.time())
        claims = {"iss": "berth-test-issuer", "sub": who, "aud": q.get("service", [""])[0],
                  "exp": now + 300, "nbf": now - 10, "iat": now, "jti": str(uuid.uuid4()), "access": access}
        token = jwt.encode(claims, key, algorithm="RS256", headers={"x5c": x5c})
        body = json.dumps({"token": token, "expires_in": 300}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
