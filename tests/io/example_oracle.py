"""Independent decoder for the Example tests: Debian's python3-protobuf parses the records of a
TFRecord file (framing read here, CRCs ignored) with message classes built from a descriptor set
that protoc made from lib/io/proto/example.proto, and prints them as JSON (floats as their uint32
bits, bytes as hex).

usage: example_oracle.py DESCRIPTOR_SET FILE {NONE|GZIP|ZLIB} {example|sequence|json}

json: each record as json_format.MessageToDict gives it (as a SequenceExample when it has
feature_lists, else as an Example), one JSON document per line.
"""
import gzip
import json
import struct
import sys
import zlib

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory


def message_class(pool, name):
    desc = pool.FindMessageTypeByName(name)
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(desc)
    return message_factory.MessageFactory(pool).GetPrototype(desc)


def records(data):
    pos = 0
    while pos + 12 <= len(data):
        (n,) = struct.unpack_from("<Q", data, pos)
        yield data[pos + 12:pos + 12 + n]
        pos += 12 + n + 4


def feature(f):
    kind = f.WhichOneof("kind")
    if kind == "bytes_list":
        return {"kind": kind, "value": [v.hex() for v in f.bytes_list.value]}
    if kind == "float_list":
        return {"kind": kind, "value": [struct.unpack("<I", struct.pack("<f", v))[0] for v in f.float_list.value]}
    if kind == "int64_list":
        return {"kind": kind, "value": list(f.int64_list.value)}
    return {"kind": "none", "value": []}


def main():
    fds = descriptor_pb2.FileDescriptorSet()
    with open(sys.argv[1], "rb") as f:
        fds.ParseFromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for fd in fds.file:
        pool.Add(fd)
    with open(sys.argv[2], "rb") as f:
        data = f.read()
    if sys.argv[3] == "GZIP":
        data = gzip.decompress(data)
    elif sys.argv[3] == "ZLIB":
        data = zlib.decompress(data)
    out = []
    if sys.argv[4] == "json":
        ex_cls = message_class(pool, "tensorflow.Example")
        seq_cls = message_class(pool, "tensorflow.SequenceExample")
        for r in records(data):
            m = seq_cls()
            m.ParseFromString(r)
            if not m.feature_lists.feature_list:
                m = ex_cls()
                m.ParseFromString(r)
            print(json.dumps(json_format.MessageToDict(m)))
        return
    if sys.argv[4] == "example":
        cls = message_class(pool, "tensorflow.Example")
        for r in records(data):
            m = cls()
            m.ParseFromString(r)
            out.append({"features": {k: feature(v) for k, v in m.features.feature.items()}})
    else:
        cls = message_class(pool, "tensorflow.SequenceExample")
        for r in records(data):
            m = cls()
            m.ParseFromString(r)
            out.append({"context": {k: feature(v) for k, v in m.context.feature.items()},
                        "feature_lists": {k: [feature(x) for x in v.feature]
                                          for k, v in m.feature_lists.feature_list.items()}})
    json.dump(out, sys.stdout)


main()
