// Starts a real `concierge serve` on a fresh data directory and Debian's
// Chromium for the end-to-end tests; nothing is mocked.
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer as createHTTPServer } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.unref()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

/**
 * Serves a small website on 127.0.0.1 for the crawler: pages maps a path
 * ("/", "/gift-cards") to its HTML; anything else (robots.txt, sitemap.xml)
 * is a 404. hits counts the requests per path, so a test can tell a crawl
 * happened.
 */
export async function startSite(pages) {
  const hits = {}
  const srv = createHTTPServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    hits[path] = (hits[path] ?? 0) + 1
    const html = pages[path]
    if (html === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
      return
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html)
  })
  await new Promise((r) => srv.listen(0, '127.0.0.1', r))
  const host = `127.0.0.1:${srv.address().port}`
  return { url: `http://${host}/`, host, hits, stop: () => new Promise((r) => srv.close(r)) }
}

/**
 * Starts the server; resolves once /readyz answers. allowHosts are the
 * loopback hosts its crawler may fetch (INGEST_ALLOW_HOSTS): the SSRF guard
 * refuses every other private address.
 */
export async function startServer({ allowHosts = [] } = {}) {
  const bin = process.env.CONCIERGE_BIN
  if (!bin) throw new Error('CONCIERGE_BIN must name a concierge binary built with the dashboard (make build)')
  const port = await freePort()
  const data = mkdtempSync(join(tmpdir(), 'concierge-e2e-'))
  const url = `http://127.0.0.1:${port}`
  let log = ''
  const child = spawn(bin, ['serve', '--addr', `127.0.0.1:${port}`, '--data', data], {
    env: { ...process.env, CONCIERGE_ENV: 'development', CONCIERGE_DATA_DIR: data, DATABASE_URL: '', WEAVIATE_URL: '', INGEST_ALLOW_HOSTS: allowHosts.join(',') },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout.on('data', (b) => (log += b))
  child.stderr.on('data', (b) => (log += b))
  const exited = new Promise((r) => child.once('exit', (code) => r(code)))
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`concierge exited with ${child.exitCode}:\n${log}`)
    try {
      const r = await fetch(`${url}/readyz`)
      if (r.ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`concierge did not become ready in 60 s:\n${log}`)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  const creds = readFileSync(join(data, 'demo-credentials.txt'), 'utf8')
  const sup = /Super admin:\s+(\S+) \/ (\S+)/.exec(creds)
  return {
    url,
    data,
    log: () => log,
    superAdmin: sup ? { username: sup[1], password: sup[2] } : null,
    async stop() {
      child.kill('SIGTERM')
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(t)
      rmSync(data, { recursive: true, force: true })
    },
  }
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  })
}

/** Screenshots go to e2e/screenshots (or E2E_SCREENSHOTS), numbered in order; opts.of: one element only. */
export function screenshotter(dir = process.env.E2E_SCREENSHOTS ?? new URL('./screenshots/', import.meta.url).pathname) {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  let n = 0
  return async (page, name, opts = {}) => {
    n++
    const file = join(dir, `${String(n).padStart(2, '0')}-${name}.png`)
    if (opts.of) await opts.of.screenshot({ path: file })
    else await page.screenshot({ path: file, fullPage: opts.fullPage ?? false })
    return file
  }
}

/** Collects a page's console errors and uncaught exceptions (a test fails on them). */
export function watchErrors(page, label, into) {
  page.on('pageerror', (e) => into.push(`${label}: uncaught ${e.message}`))
  page.on('console', (m) => {
    if (m.type() !== 'error') return
    const t = m.text()
    // The browser logs refused requests the test provokes on purpose (a
    // deactivated company's 401s); those are asserted on elsewhere.
    if (/status of 40[13]/.test(t)) return
    into.push(`${label}: console error: ${t}`)
  })
}
