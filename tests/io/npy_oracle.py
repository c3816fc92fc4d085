"""NumPy's side of tests/io/test_npy.cpp (run by Debian's /usr/bin/python3, which has NumPy 1.24).

  npy_oracle.py write DIR   writes .npy/.npz files of every dtype, byte order, memory order, format
                            version and shape case, files NumPy refuses to give xflow (float16,
                            complex, strings, pickles...), and DIR/manifest.json describing them:
                            for each array its dtype, shape, the file with its values as
                            little-endian row-major bytes, and the file np.save writes for it.
  npy_oracle.py check DIR   reads DIR/xflow_manifest.json (written by the test) and checks every
                            xflow-written file with np.load: dtype, shape, values (bytes), the .npz
                            member names and compression, and that each .npy file is byte for
                            byte what np.save writes for the array it holds. Exit status 1 and a
                            list of failures otherwise.
"""
import io
import json
import os
import sys
import zipfile

import numpy as np

XFLOW_DTYPES = {
    'bool': np.bool_, 'uint8': np.uint8, 'int32': np.int32,
    'int64': np.int64, 'float32': np.float32, 'float64': np.float64,
}
SHAPES = [(), (0,), (5,), (2, 3), (2, 0, 3), (3, 4, 5), (1, 1, 1, 2)]


def values(dtype, shape, salt):
    n = int(np.prod(shape)) if shape else 1
    i = np.arange(n, dtype=np.int64) * 37 + salt
    if dtype == np.bool_:
        v = (i % 3) == 0
    elif dtype == np.uint8:
        v = (i % 256).astype(np.uint8)
    elif dtype == np.int32:
        v = ((i * 1000003) % 4294967296 - 2147483648).astype(np.int32)
    elif dtype == np.int64:
        v = (i * 0x9E3779B97F4A7C15 % (1 << 64)).astype(np.uint64).view(np.int64)
    else:
        v = ((i % 1000) * 0.006 - 3.0).astype(dtype)
        specials = np.array([-0.0, np.nan, np.inf, -np.inf, np.finfo(dtype).max, np.finfo(dtype).tiny], dtype)
        v[::5] = specials[(np.arange(len(v[::5])) + salt) % len(specials)]
    return v.reshape(shape)


def canonical_bytes(a):
    return a.astype(a.dtype.newbyteorder('<')).tobytes(order='C')


def canonical_npy(a):
    buf = io.BytesIO()
    # copy(order='C'), not ascontiguousarray, which makes a 0-d array 1-d.
    np.save(buf, a.astype(a.dtype.newbyteorder('<')).copy(order='C'))
    return buf.getvalue()


def npy_with_header(header_text, data, version=(1, 0), align=64):
    """An .npy file with a hand-made header text, padded to `align` as NumPy pads it."""
    fmt_len = 2 if version == (1, 0) else 4
    text = header_text.encode('latin1' if version < (3, 0) else 'utf8')
    hlen = len(text) + 1
    pad = align - ((8 + fmt_len + hlen) % align)
    out = b'\x93NUMPY' + bytes(version) + (hlen + pad).to_bytes(fmt_len, 'little')
    return out + text + b' ' * pad + b'\n' + data


def write(d):
    os.makedirs(d, exist_ok=True)
    good, bad = [], []

    def record(name, kind, arrays, **extra):
        members = []
        for key, a in arrays:
            raw = f'{name}.{len(members)}.raw'
            with open(os.path.join(d, raw), 'wb') as f:
                f.write(canonical_bytes(a))
            canon = f'{name}.{len(members)}.canon.npy'
            with open(os.path.join(d, canon), 'wb') as f:
                f.write(canonical_npy(a))
            dname = [k for k, t in XFLOW_DTYPES.items() if np.dtype(t) == a.dtype.newbyteorder('=')][0]
            members.append({'name': key, 'dtype': dname, 'shape': list(a.shape), 'raw': raw, 'canon': canon})
        good.append(dict({'file': name, 'kind': kind, 'members': members}, **extra))

    salt = 0
    for dname, dt in XFLOW_DTYPES.items():
        for shape in SHAPES:
            for order in ('C', 'F'):
                for endian in ('<', '>'):
                    salt += 1
                    a = values(dt, shape, salt)
                    a = a.astype(np.dtype(dt).newbyteorder(endian))
                    a = a.copy(order=order)
                    name = f'{dname}_{"x".join(map(str, shape)) or "scalar"}_{order}{"le" if endian == "<" else "be"}.npy'
                    np.save(os.path.join(d, name), a)
                    record(name, 'npy', [('', a)],
                           native=(order == 'C' or a.ndim < 2) and (endian == '<' or a.dtype.itemsize == 1))
    # Format versions 2.0 and 3.0, written by NumPy on request.
    for version in ((1, 0), (2, 0), (3, 0)):
        for fortran in (False, True):
            a = values(np.float64, (3, 4), 7)
            a = a.copy(order='F') if fortran else a
            name = f'version{version[0]}_{"F" if fortran else "C"}.npy'
            with open(os.path.join(d, name), 'wb') as f:
                np.lib.format.write_array(f, a, version=version)
            record(name, 'npy', [('', a)], version=version[0])
    # Hand-made headers NumPy reads: '=' and '|' byte orders, the older 16-byte alignment, the
    # keys in another order, double quotes, no trailing comma, Python 2's long integers.
    a = values(np.int32, (2, 3), 3)
    hand = {
        'descr_equals.npy': ("{'descr': '=i4', 'fortran_order': False, 'shape': (2, 3), }", (1, 0)),
        'descr_bar.npy': ("{'descr': '|i4', 'fortran_order': False, 'shape': (2, 3), }", (1, 0)),
        'keys_reordered.npy': ('{"shape": (2, 3), "fortran_order": False, "descr": "<i4"}', (1, 0)),
        'long_ints.npy': ("{'descr': '<i4', 'fortran_order': False, 'shape': (2L, 3L), }", (1, 0)),
    }
    for name, (text, version) in hand.items():
        with open(os.path.join(d, name), 'wb') as f:
            f.write(npy_with_header(text, a.tobytes(), version))
        assert np.array_equal(np.load(os.path.join(d, name)), a), name
        record(name, 'npy', [('', a)])
    with open(os.path.join(d, 'align16.npy'), 'wb') as f:
        f.write(npy_with_header("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", a.tobytes(),
                                align=16))
    record('align16.npy', 'npy', [('', a)])

    # .npz archives: stored and deflated, named and positional arrays, names holding '/'.
    arrays = [('dense1/kernel', values(np.float32, (4, 3), 1)), ('dense1/bias', values(np.float32, (3,), 2)),
              ('step', values(np.int64, (), 3)), ('mask', values(np.bool_, (2, 2), 4)),
              ('empty', values(np.float64, (0, 3), 5)),
              ('fortran', values(np.int32, (3, 2), 6).copy(order='F')),
              ('bigendian', values(np.float64, (5,), 7).astype('>f8'))]
    np.savez(os.path.join(d, 'stored.npz'), **dict(arrays))
    record('stored.npz', 'npz', arrays)
    np.savez_compressed(os.path.join(d, 'deflated.npz'), **dict(arrays))
    record('deflated.npz', 'npz', arrays)
    pos = [values(np.uint8, (6,), 8), values(np.float32, (2, 2), 9)]
    np.savez(os.path.join(d, 'positional.npz'), *pos)
    record('positional.npz', 'npz', [('arr_0', pos[0]), ('arr_1', pos[1])])
    np.savez(os.path.join(d, 'empty.npz'))
    record('empty.npz', 'npz', [])

    # Files NumPy writes that xflow refuses: (file, exception, a phrase of the message).
    def bad_npy(name, arr, error, phrase, **kw):
        np.save(os.path.join(d, name), arr, **kw)
        bad.append({'file': name, 'error': error, 'phrase': phrase})
    bad_npy('float16.npy', np.ones((2, 2), np.float16), 'Unimplemented', 'float16')
    bad_npy('complex.npy', np.ones(3, np.complex64), 'Unimplemented', 'complex')
    bad_npy('int16.npy', np.ones(3, np.int16), 'Unimplemented', 'int16')
    bad_npy('uint64.npy', np.ones(3, np.uint64), 'Unimplemented', 'uint64')
    bad_npy('bytes.npy', np.array([b'ab', b'c']), 'Unimplemented', 'strings')
    bad_npy('unicode.npy', np.array(['ab', 'c']), 'Unimplemented', 'strings')
    bad_npy('datetime.npy', np.array(['2020-01-01'], 'datetime64[D]'), 'Unimplemented', 'datetimes')
    bad_npy('structured.npy', np.zeros(2, [('x', '<f4'), ('y', '<i4')]), 'Unimplemented', 'structured')
    bad_npy('void.npy', np.zeros(2, 'V4'), 'Unimplemented', 'void')
    bad_npy('object.npy', np.array([{'a': 1}, None], dtype=object), 'Unimplemented', 'pickled',
            allow_pickle=True)
    np.savez(os.path.join(d, 'object.npz'), ok=np.ones(2), obj=np.array([1, 'x'], dtype=object))
    bad.append({'file': 'object.npz', 'error': 'Unimplemented', 'phrase': 'pickled'})
    np.savez(os.path.join(d, 'float16.npz'), h=np.ones(2, np.float16))
    bad.append({'file': 'float16.npz', 'error': 'Unimplemented', 'phrase': 'float16'})
    with zipfile.ZipFile(os.path.join(d, 'not_npy_member.npz'), 'w') as z:
        z.writestr('a.npy', canonical_npy(np.ones(2)))
        z.writestr('readme.txt', 'not an array')
    bad.append({'file': 'not_npy_member.npz', 'error': 'InvalidArgument', 'phrase': "'readme.txt' is not an .npy"})
    with zipfile.ZipFile(os.path.join(d, 'bzip2.npz'), 'w', compression=zipfile.ZIP_BZIP2) as z:
        z.writestr('a.npy', canonical_npy(np.ones(2)))
    bad.append({'file': 'bzip2.npz', 'error': 'Unimplemented', 'phrase': 'compression method'})

    with open(os.path.join(d, 'manifest.json'), 'w') as f:
        json.dump({'good': good, 'bad': bad}, f, indent=1)


def check(d):
    with open(os.path.join(d, 'xflow_manifest.json')) as f:
        manifest = json.load(f)
    failures = []
    count = 0
    for entry in manifest:
        path = os.path.join(d, entry['file'])
        try:
            if entry['kind'] == 'npy':
                loaded = [('', np.load(path, allow_pickle=False))]
                buf = io.BytesIO()
                np.save(buf, loaded[0][1])
                with open(path, 'rb') as f:
                    if f.read() != buf.getvalue():
                        failures.append(f'{entry["file"]}: not the bytes np.save writes')
            else:
                with zipfile.ZipFile(path) as z:
                    if z.testzip() is not None:
                        failures.append(f'{entry["file"]}: zipfile finds a bad CRC')
                    want = zipfile.ZIP_DEFLATED if entry['compressed'] else zipfile.ZIP_STORED
                    for info in z.infolist():
                        if info.compress_type != want:
                            failures.append(f'{entry["file"]}: {info.filename} compress_type {info.compress_type}')
                with np.load(path, allow_pickle=False) as npz:
                    names = list(npz.files)
                    if names != [m['name'] for m in entry['members']]:
                        failures.append(f'{entry["file"]}: names {names}')
                    loaded = [(k, npz[k]) for k in names]
            for (key, a), m in zip(loaded, entry['members']):
                count += 1
                if a.dtype != np.dtype(XFLOW_DTYPES[m['dtype']]).newbyteorder('<') and a.dtype.itemsize > 1:
                    failures.append(f'{entry["file"]}[{key}]: dtype {a.dtype}, expected {m["dtype"]}')
                if a.dtype.newbyteorder('=') != np.dtype(XFLOW_DTYPES[m['dtype']]):
                    failures.append(f'{entry["file"]}[{key}]: dtype {a.dtype}, expected {m["dtype"]}')
                if list(a.shape) != m['shape']:
                    failures.append(f'{entry["file"]}[{key}]: shape {a.shape}, expected {m["shape"]}')
                with open(os.path.join(d, m['raw']), 'rb') as f:
                    if canonical_bytes(a) != f.read():
                        failures.append(f'{entry["file"]}[{key}]: values differ')
        except Exception as e:  # noqa: BLE001 - every failure is reported
            failures.append(f'{entry["file"]}: {type(e).__name__}: {e}')
    for f in failures:
        print(f)
    print(f'checked {count} arrays in {len(manifest)} files, {len(failures)} failures')
    return 1 if failures else 0


if __name__ == '__main__':
    if len(sys.argv) != 3 or sys.argv[1] not in ('write', 'check'):
        sys.exit(__doc__)
    if sys.argv[1] == 'write':
        write(sys.argv[2])
    else:
        sys.exit(check(sys.argv[2]))
