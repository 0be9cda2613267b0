import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import { resolve } from 'node:path';

const root = __dirname;

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          electron: resolve(root, 'main/electron/main.ts'),
          server: resolve(root, 'main/server/index.ts'),
          runtimeWorker: resolve(root, 'main/runtime/worker/host.ts'),
          indexWorker: resolve(root, 'main/index/worker.ts'),
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
    plugins: [react()],
    build: {
      outDir: resolve(root, 'out/renderer'),
      emptyOutDir: true,
      // Minified, and split: the galaxy's 3D layer (three, react-three-fiber, drei) is a
      // separate chunk the page fetches when a galaxy opens (GalaxyView's lazy canvas).
      minify: true,
      sourcemap: false,
      rollupOptions: { input: resolve(root, 'renderer/index.html') },
    },
  },
});
