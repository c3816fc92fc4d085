#!/usr/bin/python3
"""An independent TFRecord implementation for tests/io/test_tfrecord.cpp, written from the format
description alone (no xflow code): CRC32C bit by bit through a table, TensorFlow's mask, Python's
zlib and gzip modules.

Records lists (LIST files) are the records one after the other, each as a uint64 little-endian
length and its bytes.

  tfrecord_oracle.py write LIST PREFIX     writes PREFIX.none (the framing), PREFIX.zlib (zlib,
                                           TensorFlow's parameters: level -1, window 15, memLevel
                                           9), PREFIX.zlib_compress (zlib.compress of PREFIX.none),
                                           PREFIX.gzip (gzip wrapper, same parameters)
  tfrecord_oracle.py check FILE COMP LIST  reads FILE (COMP: NONE, ZLIB, GZIP) with Python's zlib /
                                           gzip, checks every CRC, compares with LIST; prints "ok"
  tfrecord_oracle.py sha256 FILE           the SHA-256 of FILE, in hex
"""
import gzip
import hashlib
import struct
import sys
import zlib

POLY = 0x82F63B78
TABLE = []
for b in range(256):
    c = b
    for _ in range(8):
        c = (c >> 1) ^ (POLY if c & 1 else 0)
    TABLE.append(c)


def crc32c(data):
    c = 0xFFFFFFFF
    for byte in data:
        c = (c >> 8) ^ TABLE[(c ^ byte) & 0xFF]
    return c ^ 0xFFFFFFFF


def mask(crc):
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def frame(record):
    header = struct.pack("<Q", len(record))
    return header + struct.pack("<I", mask(crc32c(header))) + record + struct.pack("<I", mask(crc32c(record)))


def read_list(path):
    data = open(path, "rb").read()
    out, o = [], 0
    while o < len(data):
        (n,) = struct.unpack_from("<Q", data, o)
        out.append(data[o + 8 : o + 8 + n])
        o += 8 + n
    return out


def parse(stream):
    out, o = [], 0
    while o + 12 <= len(stream):
        (n,) = struct.unpack_from("<Q", stream, o)
        (hc,) = struct.unpack_from("<I", stream, o + 8)
        if hc != mask(crc32c(stream[o : o + 8])):
            raise SystemExit("bad length crc at %d" % o)
        data = stream[o + 12 : o + 12 + n]
        (dc,) = struct.unpack_from("<I", stream, o + 12 + n)
        if dc != mask(crc32c(data)):
            raise SystemExit("bad data crc at %d" % (o + 12))
        out.append(data)
        o += 16 + n
    if o != len(stream):
        raise SystemExit("trailing bytes at %d" % o)
    return out


def main():
    cmd = sys.argv[1]
    if cmd == "write":
        records, prefix = read_list(sys.argv[2]), sys.argv[3]
        plain = b"".join(frame(r) for r in records)
        open(prefix + ".none", "wb").write(plain)
        z = zlib.compressobj(-1, zlib.DEFLATED, 15, 9)
        open(prefix + ".zlib", "wb").write(z.compress(plain) + z.flush())
        open(prefix + ".zlib_compress", "wb").write(zlib.compress(plain))
        g = zlib.compressobj(-1, zlib.DEFLATED, 31, 9)
        open(prefix + ".gzip", "wb").write(g.compress(plain) + g.flush())
    elif cmd == "check":
        path, comp, records = sys.argv[2], sys.argv[3], read_list(sys.argv[4])
        raw = open(path, "rb").read()
        if comp == "ZLIB":
            raw = zlib.decompress(raw)
        elif comp == "GZIP":
            raw = gzip.decompress(raw)
        got = parse(raw)
        if got != records:
            raise SystemExit("records differ: %d read, %d expected" % (len(got), len(records)))
        print("ok")
    elif cmd == "sha256":
        print(hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest())
    else:
        raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    main()
