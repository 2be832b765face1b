#!/usr/bin/env python3
"""Generate evil layer archives for berth's malicious-layer suite.

usage: gen.py OUTDIR OUTSIDE

OUTSIDE is the absolute path of a directory beside the extraction root that the layers try
to reach (absolute names, symlink targets). Writes OUTDIR/<case>.tar[.gz] and
OUTDIR/cases.tsv with one line per case:

    file <TAB> expect (refuse|ok) <TAB> limits (ratio=N,bytes=N,entries=N or -) <TAB> message

For "refuse" the apply must fail with an error containing the message; for "ok" it must
succeed. Either way nothing outside the extraction root may change (the test compares a
full listing of OUTSIDE and the state of /etc/passwd before and after).
"""
import gzip
import io
import os
import sys
import tarfile
import zlib

MTIME = 1700000000


def info(name, kind=tarfile.REGTYPE, data=b"", **kw):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mtime = MTIME
    ti.mode = kw.pop("mode", 0o755 if kind == tarfile.DIRTYPE else 0o644)
    for k, v in kw.items():
        setattr(ti, k, v)
    if kind == tarfile.REGTYPE:
        ti.size = len(data)
    return ti, (io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def tar_bytes(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for e in entries:
            t.addfile(*e)
    return buf.getvalue()


def gz(data):
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, compresslevel=6) as g:
        g.write(data)
    return out.getvalue()


class Zeros(io.RawIOBase):
    def __init__(self, n):
        self.left = n

    def readable(self):
        return True

    def readinto(self, b):
        n = min(len(b), self.left)
        b[:n] = bytes(n)
        self.left -= n
        return n


def gzip_bomb(size):
    """a tar holding one file of size zero bytes, gzip'd while streaming (a few MB)"""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, compresslevel=9) as g:
        with tarfile.open(fileobj=g, mode="w|", format=tarfile.PAX_FORMAT) as t:
            ti = tarfile.TarInfo("zeros")
            ti.size = size
            ti.mtime = MTIME
            t.addfile(ti, io.BufferedReader(Zeros(size), 1 << 20))
    return out.getvalue()


def cases(outside):
    sym, lnk, chr_, dir_ = tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.DIRTYPE
    valid = tar_bytes([info("etc", dir_), info("etc/file", data=b"x" * 5000), info("etc/b", data=b"y" * 3000)])
    c = []
    add = lambda name, data, expect, msg, limits="-": c.append((name, data, expect, limits, msg))
    add("dotdot-file.tar", tar_bytes([info("../outside/pwned", data=b"pwned")]), "refuse",
        "entry `../outside/pwned`: name with a `..` component refused")
    add("dotdot-deep.tar.gz", gz(tar_bytes([info("a/b/../../../outside/pwned", data=b"p")])), "refuse",
        "`..` component refused")
    add("absolute-file.tar", tar_bytes([info(outside + "/pwned", data=b"p")]), "refuse", "absolute name refused")
    add("absolute-device.tar", tar_bytes([info("/dev/evil", chr_, devmajor=1, devminor=3)]), "refuse",
        "entry `/dev/evil`: absolute name refused")
    add("symlink-write-through.tar", tar_bytes([info("a", sym, linkname=outside), info("a/pwned", data=b"p")]),
        "refuse", "entry `a/pwned`: parent `a` is a symlink to a missing directory")
    add("symlink-write-through-rel.tar",
        tar_bytes([info("a", sym, linkname="../outside"), info("a/pwned", data=b"p")]), "refuse",
        "parent `a` is a symlink to a missing directory")
    add("symlink-dotdot-chain.tar", tar_bytes([
        info("l1", sym, linkname=".."), info("l2", sym, linkname="l1/../.."),
        info("l3", sym, linkname="l2/../../.."), info("l3/outside/pwned", data=b"p")]), "refuse",
        "would be created through the symlink `l3`")
    add("symlink-then-file.tar", tar_bytes([info("s", sym, linkname=outside + "/sentinel"),
                                            info("s", data=b"pwned")]), "ok", "")
    add("symlink-then-dir.tar", tar_bytes([info("d", sym, linkname=outside),
                                           info("d", dir_, mode=0o777, uid=1234, gid=1234)]), "ok", "")
    add("symlink-then-whiteout.tar", tar_bytes([info("a", sym, linkname=outside),
                                                info("a/.wh.sentinel")]), "refuse",
        "parent `a` is a symlink to a missing directory")
    add("symlink-then-device.tar", tar_bytes([info("a", sym, linkname=outside),
                                              info("a/null", chr_, devmajor=1, devminor=3)]), "refuse",
        "parent `a` is a symlink to a missing directory")
    add("hardlink-etc-passwd.tar", tar_bytes([info("h", lnk, linkname="/etc/passwd")]), "refuse",
        "hardlink target `/etc/passwd`: absolute name refused")
    add("hardlink-dotdot.tar", tar_bytes([info("h", lnk, linkname="../" * 12 + "etc/passwd")]), "refuse",
        "`..` component refused")
    add("hardlink-via-symlink-dir.tar", tar_bytes([info("d", sym, linkname="/etc"),
                                                   info("h", lnk, linkname="d/passwd")]), "refuse",
        "hardlink target `d/passwd`")
    add("hardlink-outside-sentinel.tar", tar_bytes([info("d", sym, linkname=outside),
                                                    info("h", lnk, linkname="d/sentinel")]), "refuse",
        "hardlink target `d/sentinel`")
    add("hardlink-to-symlink.tar", tar_bytes([info("s", sym, linkname="/etc/passwd"),
                                              info("h", lnk, linkname="s")]), "ok", "")
    add("whiteout-dotdot.tar", tar_bytes([info("../.wh.outside")]), "refuse", "`..` component refused")
    add("whiteout-absolute.tar", tar_bytes([info(outside + "/.wh.sentinel")]), "refuse", "absolute name refused")
    add("device-outside.tar", tar_bytes([info("../outside/null", chr_, devmajor=1, devminor=3)]), "refuse",
        "`..` component refused")
    add("pax-long-dotdot.tar", tar_bytes([info("x" * 120 + "/../../outside/pwned", data=b"p")]), "refuse",
        "`..` component refused")
    add("gnu-long-hardlink.tar", tar_bytes([info("h", lnk, linkname="/etc/" + "y" * 120)],
                                           fmt=tarfile.GNU_FORMAT), "refuse", "absolute name refused")
    add("root-not-a-dir.tar", tar_bytes([info(".", data=b"not a dir")]), "refuse",
        "the layer root can only be a directory")
    add("gzip-bomb.tar.gz", gzip_bomb(1 << 30), "refuse", "decompression bomb", "ratio=100")
    add("size-cap.tar.gz", gzip_bomb(8 << 20), "refuse", "exceeds the limit of 1048576 bytes", "bytes=1048576")
    add("entry-cap.tar", tar_bytes([info("f%d" % i, data=b"") for i in range(20)]), "refuse",
        "too many entries", "entries=10")
    add("truncated.tar", valid[:1536], "refuse", "truncated")
    add("truncated.tar.gz", gz(valid)[:60], "refuse", "truncated")
    bad = bytearray(gz(valid))
    bad[20:40] = b"\xff" * 20
    add("corrupt.tar.gz", bytes(bad), "refuse", "")
    crc = bytearray(gz(valid))
    crc[-8] ^= 0xff
    add("corrupt-crc.tar.gz", bytes(crc), "refuse", "")
    add("not-an-archive.bin", bytes(range(256)) * 8, "refuse", "unrecognized archive format")
    add("empty.tar", b"", "refuse", "empty layer stream")
    return c


def main():
    if len(sys.argv) != 3 or not os.path.isabs(sys.argv[2]):
        sys.exit(__doc__)
    out, outside = sys.argv[1], sys.argv[2].rstrip("/")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "cases.tsv"), "w") as tsv:
        for name, data, expect, limits, msg in cases(outside):
            with open(os.path.join(out, name), "wb") as f:
                f.write(data)
            tsv.write("%s\t%s\t%s\t%s\n" % (name, expect, limits, msg))


if __name__ == "__main__":
    main()
