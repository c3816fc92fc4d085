#!/usr/bin/python3
"""An independent decoder of a V2 TensorFlow checkpoint (tensor bundle), written from the format
description in docs/checkpoints.md with the standard library only: the LevelDB table of
PREFIX.index (footer, block handles, prefix-compressed block entries, masked CRC32C trailers), the
BundleHeaderProto / BundleEntryProto wire format (varints parsed by hand), and the raw
little-endian bytes of PREFIX.data-NNNNN-of-MMMMM. tests/io/test_bundle.cpp runs it on bundles
xflow wrote and compares its JSON with what xflow meant to write.

usage: bundle_decode.py PREFIX   -> JSON on stdout:
  {"num_shards": N, "version": {...}, "entries": [{"key", "dtype", "shape", "shard_id", "offset",
   "size", "crc32c", "crc_ok", "hex", "values"}]}
Only uncompressed table blocks are decoded (xflow writes no others); non-finite floats appear in
"values" as the strings "nan", "inf", "-inf"; "hex" holds the tensor's bytes.
"""
import json
import math
import struct
import sys

MAGIC = 0xdb4775248b80fb57

_TABLE = []
for _b in range(256):
    _c = _b
    for _ in range(8):
        _c = (_c >> 1) ^ (0x82F63B78 if _c & 1 else 0)
    _TABLE.append(_c)


def crc32c(data):
    c = 0xFFFFFFFF
    for byte in data:
        c = (c >> 8) ^ _TABLE[(c ^ byte) & 0xFF]
    return c ^ 0xFFFFFFFF


def unmask(m):
    rot = (m - 0xa282ead8) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


def varint(buf, pos):
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def block(f, offset, size):
    data = f[offset:offset + size]
    btype = f[offset + size]
    stored = struct.unpack_from('<I', f, offset + size + 1)[0]
    if unmask(stored) != crc32c(f[offset:offset + size + 1]):
        raise ValueError('block CRC mismatch at %d' % offset)
    if btype != 0:
        raise ValueError('compressed block (type %d) not supported by this decoder' % btype)
    return data


def block_entries(b):
    nrestarts = struct.unpack_from('<I', b, len(b) - 4)[0]
    end = len(b) - 4 - 4 * nrestarts
    pos, key, out = 0, b'', []
    while pos < end:
        shared, pos = varint(b, pos)
        unshared, pos = varint(b, pos)
        vlen, pos = varint(b, pos)
        key = key[:shared] + b[pos:pos + unshared]
        pos += unshared
        out.append((key, b[pos:pos + vlen]))
        pos += vlen
    return out


def fields(msg):
    """Protobuf wire format -> list of (field number, wire type, value)."""
    pos, out = 0, []
    while pos < len(msg):
        tag, pos = varint(msg, pos)
        num, wt = tag >> 3, tag & 7
        if wt == 0:
            v, pos = varint(msg, pos)
        elif wt == 1:
            v = msg[pos:pos + 8]
            pos += 8
        elif wt == 2:
            n, pos = varint(msg, pos)
            v = msg[pos:pos + n]
            pos += n
        elif wt == 5:
            v = msg[pos:pos + 4]
            pos += 4
        else:
            raise ValueError('wire type %d' % wt)
        out.append((num, wt, v))
    return out


def signed64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


# DataType -> struct format of one element (xflow's dtypes and a few more)
FORMATS = {1: 'f', 2: 'd', 3: 'i', 4: 'B', 5: 'h', 6: 'b', 9: 'q', 10: '?', 17: 'H', 22: 'I', 23: 'Q'}


def plain(v):
    if isinstance(v, float) and not math.isfinite(v):
        return 'nan' if math.isnan(v) else ('inf' if v > 0 else '-inf')
    return v


def decode(prefix):
    with open(prefix + '.index', 'rb') as fh:
        f = fh.read()
    if struct.unpack_from('<Q', f, len(f) - 8)[0] != MAGIC:
        raise ValueError('bad table magic')
    footer = f[len(f) - 48:]
    pos = 0
    _meta_off, pos = varint(footer, pos)
    _meta_size, pos = varint(footer, pos)
    idx_off, pos = varint(footer, pos)
    idx_size, pos = varint(footer, pos)
    kv = []
    for _sep, handle in block_entries(block(f, idx_off, idx_size)):
        off, p = varint(handle, 0)
        size, p = varint(handle, p)
        kv.extend(block_entries(block(f, off, size)))
    assert kv[0][0] == b'', 'first key is not the header'
    out = {'num_shards': 0, 'endianness': 0, 'version': {}, 'entries': []}
    for num, _wt, v in fields(kv[0][1]):
        if num == 1:
            out['num_shards'] = v
        elif num == 2:
            out['endianness'] = v
        elif num == 3:
            out['version'] = {{1: 'producer', 2: 'min_consumer'}.get(n, str(n)): x for n, _, x in fields(v)}
    for key, value in kv[1:]:
        e = {'key': key.decode(), 'dtype': 0, 'shape': [], 'shard_id': 0, 'offset': 0, 'size': 0, 'crc32c': 0}
        for num, _wt, v in fields(value):
            if num == 1:
                e['dtype'] = v
            elif num == 2:
                for dn, _, dv in fields(v):
                    if dn == 2:
                        size = 0
                        for sn, _, sv in fields(dv):
                            if sn == 1:
                                size = signed64(sv)
                        e['shape'].append(size)
            elif num == 3:
                e['shard_id'] = v
            elif num == 4:
                e['offset'] = signed64(v)
            elif num == 5:
                e['size'] = signed64(v)
            elif num == 6:
                e['crc32c'] = struct.unpack('<I', v)[0]
        path = '%s.data-%05d-of-%05d' % (prefix, e['shard_id'], out['num_shards'])
        with open(path, 'rb') as fh:
            fh.seek(e['offset'])
            data = fh.read(e['size'])
        e['crc_ok'] = len(data) == e['size'] and crc32c(data) == unmask(e['crc32c'])
        e['hex'] = data.hex()
        fmt = FORMATS.get(e['dtype'])
        if fmt:
            n = len(data) // struct.calcsize(fmt)
            e['values'] = [plain(x) for x in struct.unpack('<%d%s' % (n, fmt), data)]
        out['entries'].append(e)
    return out


if __name__ == '__main__':
    json.dump(decode(sys.argv[1]), sys.stdout, allow_nan=False)
    sys.stdout.write('\n')
