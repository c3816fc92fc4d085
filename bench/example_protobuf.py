"""python3-protobuf's side of the example/parse row of bench/bench.cpp (run by /usr/bin/python3).

  example_protobuf.py RECORDS_FILE

Reads the records of RECORDS_FILE (a TFRecord file the bench wrote; framing only) and prints
"ready <protobuf implementation>" ("cpp", "upb" or "python"). Then each line "pass" on standard
input parses every record with tensorflow.Example.ParseFromString and answers "done" (the bench
times it from outside, alternating with its own samples); "quit" ends. The message classes are
built here from a descriptor with TensorFlow's names and field numbers (lib/io/proto/*.proto).
"""
import struct
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.internal import api_implementation

F = descriptor_pb2.FieldDescriptorProto


def build_pool():
    fd = descriptor_pb2.FileDescriptorProto(name="bench_example.proto", package="tensorflow", syntax="proto3")

    def message(name, fields, nested=()):
        m = fd.message_type.add(name=name)
        for n in nested:
            m.nested_type.add().CopyFrom(n)
        for fname, num, ftype, label, type_name, extra in fields:
            f = m.field.add(name=fname, number=num, type=ftype, label=label)
            if type_name:
                f.type_name = type_name
            if extra.get("packed"):
                f.options.packed = True
            if "oneof" in extra:
                f.oneof_index = extra["oneof"]
        return m

    rep, opt = F.LABEL_REPEATED, F.LABEL_OPTIONAL
    message("BytesList", [("value", 1, F.TYPE_BYTES, rep, None, {})])
    message("FloatList", [("value", 1, F.TYPE_FLOAT, rep, None, {"packed": True})])
    message("Int64List", [("value", 1, F.TYPE_INT64, rep, None, {"packed": True})])
    feat = message("Feature", [("bytes_list", 1, F.TYPE_MESSAGE, opt, ".tensorflow.BytesList", {"oneof": 0}),
                               ("float_list", 2, F.TYPE_MESSAGE, opt, ".tensorflow.FloatList", {"oneof": 0}),
                               ("int64_list", 3, F.TYPE_MESSAGE, opt, ".tensorflow.Int64List", {"oneof": 0})])
    feat.oneof_decl.add(name="kind")
    entry = descriptor_pb2.DescriptorProto(name="FeatureEntry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, type=F.TYPE_STRING, label=opt)
    entry.field.add(name="value", number=2, type=F.TYPE_MESSAGE, label=opt, type_name=".tensorflow.Feature")
    message("Features", [("feature", 1, F.TYPE_MESSAGE, rep, ".tensorflow.Features.FeatureEntry", {})], [entry])
    message("Example", [("features", 1, F.TYPE_MESSAGE, opt, ".tensorflow.Features", {})])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    return pool


def main(path):
    pool = build_pool()
    desc = pool.FindMessageTypeByName("tensorflow.Example")
    if hasattr(message_factory, "GetMessageClass"):
        cls = message_factory.GetMessageClass(desc)
    else:
        cls = message_factory.MessageFactory(pool).GetPrototype(desc)
    data = open(path, "rb").read()
    records, pos = [], 0
    while pos + 12 <= len(data):
        (n,) = struct.unpack_from("<Q", data, pos)
        records.append(data[pos + 12:pos + 12 + n])
        pos += 16 + n
    print("ready", api_implementation.Type(), flush=True)
    for line in sys.stdin:
        if line.strip() != "pass":
            break
        for r in records:
            m = cls()
            m.ParseFromString(r)
        print("done", flush=True)

main(sys.argv[1])
