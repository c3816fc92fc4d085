#!/usr/bin/python3
"""meson install: copies the viewer page (tools/viewer/dist/index.html, built by ./dev.sh
build_viewer with npm) to <prefix>/<datadir>/xflow/viewer/ when it was built; otherwise says so."""
import os
import shutil
import sys

page, rel_dir = sys.argv[1], sys.argv[2]
prefix = os.environ.get('MESON_INSTALL_DESTDIR_PREFIX') or os.environ['MESON_INSTALL_PREFIX']
dest = rel_dir if os.path.isabs(rel_dir) else os.path.join(prefix, rel_dir)
if os.environ.get('DESTDIR') and os.path.isabs(rel_dir):
    dest = os.environ['DESTDIR'] + rel_dir
if not os.path.isfile(page):
    print(f'xflow: the viewer page {page} is not built (./dev.sh build_viewer); `xflow view` will serve a '
          'placeholder')
    sys.exit(0)
os.makedirs(dest, exist_ok=True)
shutil.copy2(page, os.path.join(dest, 'index.html'))
print(f'Installing {page} to {dest}')
