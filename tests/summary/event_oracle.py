#!/usr/bin/python3
"""Parses an event file with Python's protobuf (Debian's python3-protobuf), from descriptors that
protoc builds out of xflow's .proto files, for tests/summary/test_event_files.cpp.

  event_oracle.py PROTO_DIR PROTOC EVENT_FILE

prints one JSON object per event: wall_time, step, and file_version or the summary values (tag,
plugin, simple_value / histo / text). The TFRecord framing is read by hand (lengths and CRCs are
checked by the C++ tests). The protos are copied into a temporary package `xfproto` (their import
paths say "io/proto/...", and a Python package named `io` would shadow the standard library's)."""
import json
import os
import struct
import subprocess
import sys
import tempfile

proto_dir, protoc, path = sys.argv[1:4]
names = ["types", "tensor_shape", "tensor", "summary", "event"]
with tempfile.TemporaryDirectory() as tmp:
    pkg = os.path.join(tmp, "xfproto")
    os.mkdir(pkg)
    open(os.path.join(pkg, "__init__.py"), "w").close()
    for n in names:
        text = open(os.path.join(proto_dir, n + ".proto")).read().replace('import "io/proto/', 'import "xfproto/')
        open(os.path.join(pkg, n + ".proto"), "w").write(text)
    subprocess.check_call([protoc, "--proto_path=" + tmp, "--python_out=" + tmp] +
                          ["xfproto/%s.proto" % n for n in names])
    sys.path.insert(0, tmp)
    from xfproto import event_pb2  # noqa: E402

    data = open(path, "rb").read()
    o = 0
    while o + 12 <= len(data):
        (n,) = struct.unpack_from("<Q", data, o)
        rec = data[o + 12 : o + 12 + n]
        o += 16 + n
        ev = event_pb2.Event()
        ev.ParseFromString(rec)
        out = {"wall_time": ev.wall_time, "step": ev.step}
        if ev.HasField("file_version"):
            out["file_version"] = ev.file_version
        values = []
        for v in ev.summary.value:
            d = {"tag": v.tag, "plugin": v.metadata.plugin_data.plugin_name}
            kind = v.WhichOneof("value")
            if kind == "simple_value":
                d["simple_value"] = v.simple_value
            elif kind == "histo":
                d["histo"] = {"min": v.histo.min, "max": v.histo.max, "num": v.histo.num, "sum": v.histo.sum,
                              "sum_squares": v.histo.sum_squares, "bucket_limit": list(v.histo.bucket_limit),
                              "bucket": list(v.histo.bucket)}
            elif kind == "tensor":
                d["dtype"] = v.tensor.dtype
                d["rank"] = len(v.tensor.tensor_shape.dim)
                d["text"] = [s.decode("utf-8") for s in v.tensor.string_val]
            values.append(d)
        if values:
            out["values"] = values
        print(json.dumps(out))
