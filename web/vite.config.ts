import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    // Resolved against `root`, i.e. <repo>/dist/web; the server serves this folder.
    outDir: '../dist/web',
    emptyOutDir: true,
    // AG Grid alone is ~1.1 MB minified. It lands in its own chunk, loaded only by the grid
    // pages (see src/nav.tsx), so the default 500 kB warning would just repeat that known size.
    chunkSizeWarningLimit: 1600,
  },
  server: {
    proxy: {
      '/api': { target: 'http://127.0.0.1:3000', changeOrigin: false },
    },
  },
});
