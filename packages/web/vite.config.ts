import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
  },
  // `npx vite` in this folder serves the dashboard with live reload against a batchd started by `npm start`.
  server: {
    proxy: { '/v1': 'http://127.0.0.1:8787' },
  },
});
