import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `vite` (dev) talks to a running `npm start` through the same paths the gateway serves in production.
const backend = 'http://127.0.0.1:3000';

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: {
    proxy: {
      '/api': { target: backend, changeOrigin: true },
      '/socket.io': { target: backend, ws: true, changeOrigin: true },
    },
  },
});
