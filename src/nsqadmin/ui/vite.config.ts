import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The nsqadmin single-page app. nsqadmin serves dist/nsqadmin-ui/ under {base-path}/static/ and
// rewrites '/static/' in index.html when --base-path is set, so the base here is fixed.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/static/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../../../dist/nsqadmin-ui/', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 200,
  },
  logLevel: 'warn',
});
