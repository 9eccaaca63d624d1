import { defineConfig } from 'vitest/config'
import react from '@vitejs/plugin-react'

// The build goes to dist/app, which the Go binary embeds (dashboard.go).
// `npm run dev` serves the app with hot reload and sends the API to a
// `concierge serve` on :8080 (CONCIERGE_URL to use another).
const api = process.env.CONCIERGE_URL ?? 'http://127.0.0.1:8080'

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist/app',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 900,
    rollupOptions: {
      input: { index: 'index.html', graphiql: 'graphiql.html' },
    },
  },
  server: {
    proxy: {
      '/graphql': { target: api, ws: true },
      '/files': api,
      '/widget.js': api,
      '/widget/test': api,
    },
  },
  test: {
    environment: 'jsdom',
    include: ['test/**/*.test.{ts,tsx}'],
  },
})
