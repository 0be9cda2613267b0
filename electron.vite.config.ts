import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import { resolve } from 'node:path';
import type { Plugin } from 'vite';

const root = __dirname;

/**
 * The galaxy's 3D chunk (GalaxyView's lazy canvas) named in index.html as a modulepreload, so
 * the browser fetches and compiles it beside the page's own script instead of after the first
 * API calls (cold start); it still runs only when a galaxy opens.
 */
function preloadGalaxyChunk(): Plugin {
  let base = '/';
  return {
    name: 'orrery-preload-galaxy-chunk',
    apply: 'build',
    configResolved: (c) => {
      base = c.base;
    },
    transformIndexHtml: {
      order: 'post',
      handler: (_html, ctx) => {
        const chunk = Object.values(ctx.bundle ?? {}).find(
          (c) => c.type === 'chunk' && c.facadeModuleId?.endsWith('/galaxy/GalaxyCanvas.tsx'),
        );
        if (!chunk) throw new Error('the build has no GalaxyCanvas chunk to preload');
        return [
          {
            tag: 'link',
            attrs: { rel: 'modulepreload', crossorigin: true, href: `${base}${chunk.fileName}` },
            injectTo: 'head',
          },
        ];
      },
    },
  };
}

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      // zod is bundled, not required at run time: from node_modules it is ~60 small files (its
      // locales among them) that every thread resolves, reads and compiles, 0.25-0.3 s of CPU
      // on the API thread's start and as much in each worker (cold start); bundled, only what
      // the contract uses is kept. (pngjs and ssim.js bundled too saved nothing measurable.)
      externalizeDeps: { exclude: ['zod'] },
      rollupOptions: {
        input: {
          electron: resolve(root, 'main/electron/main.ts'),
          server: resolve(root, 'main/server/index.ts'),
          runtimeWorker: resolve(root, 'main/runtime/worker/host.ts'),
          indexWorker: resolve(root, 'main/index/worker.ts'),
          indexReader: resolve(root, 'main/index/readerEntry.ts'),
          sessionsWorker: resolve(root, 'main/sessions/worker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: { input: { index: resolve(root, 'preload/index.ts') } },
    },
  },
  renderer: {
    root: resolve(root, 'renderer'),
    plugins: [react(), preloadGalaxyChunk()],
    build: {
      outDir: resolve(root, 'out/renderer'),
      emptyOutDir: true,
      // Minified, and split: the galaxy's 3D layer (three, react-three-fiber, drei) is a
      // separate chunk (GalaxyView's lazy canvas), preloaded beside the page's script.
      minify: true,
      sourcemap: false,
      rollupOptions: { input: resolve(root, 'renderer/index.html') },
    },
  },
});
