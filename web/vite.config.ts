import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

// `vite` (dev) talks to a running `npm start` through the same paths the gateway serves in production.
const backend = 'http://127.0.0.1:3000';

export default defineConfig({
  plugins: [react()],
  // The same `@/` as web/tsconfig.json's paths; Vitest's web project extends this file, so tests resolve it too.
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No source maps in what is deployed: they would publish the app's source. `npm run dev` (vite) still
    // serves them to a developer's browser.
    sourcemap: false,
    rolldownOptions: {
      output: {
        // Libraries change less often than the app: separate chunks stay cached (the gateway serves hashed
        // assets as immutable) when only app code changes.
        codeSplitting: {
          groups: [
            { name: 'react', test: /node_modules[\\/](react|react-dom|scheduler|react-router|cookie|set-cookie-parser)[\\/]/ },
            { name: 'vendor', test: /node_modules[\\/]/ },
          ],
        },
      },
    },
  },
  server: {
    proxy: {
      '/api': { target: backend, changeOrigin: true },
      '/socket.io': { target: backend, ws: true, changeOrigin: true },
    },
  },
});
