#!/usr/bin/python3
"""registry-image.py DIR: an OCI image layout of 3 gzip layers for bench/registry.

Each layer holds 200 files of random bytes (incompressible: 40 MB) and 200 files of text
(102 MB of a 16-word vocabulary, compressing ~1:10), so the image is ~150 MB compressed and ~425 MB unpacked, with
enough files that extraction is not one big write. Seeded: the same bytes on every run.
"""
import gzip
import hashlib
import io
import json
import os
import random
import sys
import tarfile

out = sys.argv[1]
os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
rng = random.Random(42)
WORDS = [("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))) for _ in range(16)]


def put(data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(out, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return "sha256:" + d, len(data)


def text(n):
    lines, size = [], 0
    while size < n:
        line = " ".join(rng.choice(WORDS) for _ in range(12)) + "\n"
        lines.append(line)
        size += len(line)
    return "".join(lines).encode()[:n]


def layer(i):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        def add(name, data):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime, ti.mode = len(data), 1700000000, 0o644
            t.addfile(ti, io.BytesIO(data))
        d = tarfile.TarInfo("layer%d" % i)
        d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o755, 1700000000
        t.addfile(d)
        block = text(510 * 1024)
        for k in range(200):
            add("layer%d/bin%03d" % (i, k), rng.randbytes(200 * 1024))
            add("layer%d/txt%03d" % (i, k), block[k:] + block[:k])
    tar = raw.getvalue()
    gz = gzip.compress(tar, compresslevel=6, mtime=0)
    return gz, "sha256:" + hashlib.sha256(tar).hexdigest()


layers, diff_ids = [], []
for i in range(3):
    gz, diff = layer(i)
    layers.append(put(gz))
    diff_ids.append(diff)
config = json.dumps({"architecture": "amd64", "os": "linux", "created": "2026-01-01T00:00:00Z",
                     "config": {"Cmd": ["/bin/sh"]},
                     "rootfs": {"type": "layers", "diff_ids": diff_ids}}, separators=(",", ":")).encode()
cd, cs = put(config)
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
                       "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": s}
                                  for d, s in layers]}, separators=(",", ":")).encode()
md, ms = put(manifest)
with open(os.path.join(out, "oci-layout"), "w") as f:
    f.write('{"imageLayoutVersion":"1.0.0"}')
with open(os.path.join(out, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                                   "digest": md, "size": ms,
                                                   "annotations": {"org.opencontainers.image.ref.name": "bench"}}]}, f)
print("%d %d" % (sum(s for _, s in layers), sum(len(d) for d in diff_ids)))
