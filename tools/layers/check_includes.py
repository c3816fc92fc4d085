#!/usr/bin/python3
"""The include check of xflow's layers (docs/decisions.md).

Every file of lib/<layer>/ belongs to that layer, every public header include/xflow/<h> to the
layer meson.build's layer table lists it under. A file may include its own layer and the layers
under it, never one above: an upward #include fails the build (this runs as a build step and as
the meson test `layer_includes`).

It also checks what installing needs: public headers include only public headers (xflow/...) and
system headers, never lib/ internals; the kernel headers that generated kernels include
(--kernel-headers) include only each other.

meson.build passes the table:
  --layer NAME:BELOW:HEADERS   one per layer; BELOW and HEADERS are comma-separated
  --umbrella HEADERS           headers that may include every layer (xflow.hpp)
  --kernel-headers PATHS       lib/-relative kernel headers (ops/elementwise_loops.hpp, ...)
  --stamp FILE                 written when the check passes
  --list-files                 prints the files the check reads (meson's dependencies) and exits
"""
import argparse
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
SOURCE_EXT = ('.cpp', '.hpp', '.h', '.cc', '.hh', '.ipp')


def files_to_check(root):
    out = []
    for sub in ('lib', os.path.join('include', 'xflow')):
        base = os.path.join(root, sub)
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            for f in sorted(filenames):
                if f.endswith(SOURCE_EXT):
                    out.append(os.path.join(dirpath, f))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--source-root', required=True)
    ap.add_argument('--layer', action='append', default=[])
    ap.add_argument('--umbrella', default='')
    ap.add_argument('--kernel-headers', default='')
    ap.add_argument('--stamp')
    ap.add_argument('--list-files', action='store_true')
    args = ap.parse_args()
    root = os.path.abspath(args.source_root)
    files = files_to_check(root)
    if args.list_files:
        print('\n'.join(files))
        return 0

    order = []              # layers, lowest first
    below = {}              # layer -> set of layers under it
    header_layer = {}       # public header name -> layer
    for spec in args.layer:
        name, under, headers = (spec.split(':') + ['', ''])[:3]
        order.append(name)
        below[name] = {x for x in under.split(',') if x}
        for h in headers.split(','):
            if h:
                header_layer[h] = name
    umbrella = {h for h in args.umbrella.split(',') if h}
    kernel = {h for h in args.kernel_headers.split(',') if h}

    def allowed(layer):
        return [x for x in reversed(order) if x == layer or x in below[layer]]

    errors = []
    for path in files:
        rel = os.path.relpath(path, root)
        parts = rel.split(os.sep)
        public = parts[0] == 'include'
        if public:
            h = parts[-1]
            if h in umbrella:
                layer = None  # may include everything
            elif h in header_layer:
                layer = header_layer[h]
            else:
                errors.append(f'{rel}: a public header no layer lists: add it to a row of layer_table in meson.build')
                continue
        else:
            layer = parts[1]
            if layer not in below:
                errors.append(f'{rel}: lib/{layer}/ is not a layer: add a row to layer_table in meson.build')
                continue
        lib_rel = '/'.join(parts[1:]) if not public else None
        with open(path, encoding='utf-8', errors='replace') as fh:
            for lineno, line in enumerate(fh, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                quote, target = m.groups()
                first = target.split('/')[0]
                if first == 'xflow':
                    h = target[len('xflow/'):]
                    if h in umbrella:
                        to = 'umbrella'
                    elif h in header_layer:
                        to = header_layer[h]
                    else:
                        errors.append(f'{rel}:{lineno}: includes "{target}", a public header no layer lists')
                        continue
                elif quote == '"' and first in below:
                    to = first
                    if public:
                        errors.append(f'{rel}:{lineno}: a public header includes "{target}", which is internal '
                                      '(lib/) and not installed')
                        continue
                else:
                    continue  # system and third-party headers, generated build configuration
                if lib_rel in kernel and quote == '"' and target not in kernel:
                    errors.append(f'{rel}:{lineno}: a kernel header (installed for generated kernels) includes '
                                  f'"{target}", which is not one')
                    continue
                if layer is None:
                    continue
                if to == 'umbrella':
                    errors.append(f'{rel}:{lineno}: includes the umbrella header "{target}"; include the '
                                  'headers it needs')
                elif to != layer and to not in below[layer]:
                    errors.append(f'{rel}:{lineno}: layer {layer} includes "{target}" of layer {to}, which is above '
                                  f'it; {layer} may include only: {", ".join(allowed(layer))}')
    if errors:
        print('layer include check failed (docs/design.md, "Layers"):', file=sys.stderr)
        for e in errors:
            print('  ' + e, file=sys.stderr)
        return 1
    if args.stamp:
        with open(args.stamp, 'w') as fh:
            fh.write(f'{len(files)} files checked\n')
    print(f'layer include check: {len(files)} files, {len(order)} layers, no upward include')
    return 0


if __name__ == '__main__':
    sys.exit(main())
