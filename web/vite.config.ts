import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The scoreboard page. `npm run web:build` writes web/dist, which the server
 * serves at `/`; `npm run web:dev` serves it with hot reload and forwards the
 * API (HTTP and WebSocket) to a server on localhost:4000 (or API_URL).
 */
const api = process.env.API_URL ?? 'http://localhost:4000';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
  },
  server: {
    port: 5173,
    proxy: {
      '/graphql': { target: api, ws: true, changeOrigin: true },
      '/auth': { target: api, changeOrigin: true },
    },
  },
  preview: { port: 4173 },
});
