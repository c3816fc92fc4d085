// Builds the viewer into one self-contained page, dist/index.html: the sources bundled by
// esbuild as a classic script (an IIFE, so the page also works when opened from file://, where
// ES modules cannot load), inlined with the style sheet into the HTML template.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const result = await build({
  entryPoints: [join(here, 'src/main.js')],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome100', 'firefox100', 'safari15'],
  minify: true,
  legalComments: 'none',
  write: false,
  logLevel: 'warning',
});
// "</script" inside the script would end the inline element early.
const js = result.outputFiles[0].text.replace(/<\/script/gi, '<\\/script');
const css = readFileSync(join(here, 'src/style.css'), 'utf8');
const html = readFileSync(join(here, 'src/index.html'), 'utf8')
  .replace('<!--STYLE-->', () => `<style>\n${css}</style>`)
  .replace('<!--SCRIPT-->', () => `<script>\n${js}</script>`);
mkdirSync(join(here, 'dist'), { recursive: true });
writeFileSync(join(here, 'dist/index.html'), html);
console.log(`viewer: wrote dist/index.html (${(html.length / 1024).toFixed(0)} KiB)`);
