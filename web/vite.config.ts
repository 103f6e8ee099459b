import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The scoreboard page and the operator console. `npm run web:build` writes
 * web/dist, which the server serves: index.html at `/`, admin.html at
 * `/admin`. `npm run web:dev` serves both with hot reload and forwards the
 * API (HTTP and WebSocket) to a server on localhost:4000 (or API_URL).
 */
const api = process.env.API_URL ?? 'http://localhost:4000';

const page = (name: string) => fileURLToPath(new URL(name, import.meta.url));

export default defineConfig({
  root: page('.'),
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    rollupOptions: {
      // Two pages, one bundle graph: shared code (api.ts, the client) lands in shared chunks.
      input: { main: page('index.html'), admin: page('admin.html') },
    },
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
