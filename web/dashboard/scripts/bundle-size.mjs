// Prints the built dashboard's size per file, raw and gzipped, and what the
// first screen (index.html's entry and its CSS) weighs. Run after `npm run build`.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

const dir = 'dist/app/assets'
const rows = readdirSync(dir)
  .filter((f) => /\.(js|css)$/.test(f))
  .map((f) => {
    const b = readFileSync(join(dir, f))
    return { f, raw: statSync(join(dir, f)).size, gz: gzipSync(b, { level: 9 }).length }
  })
  .sort((a, b) => b.gz - a.gz)
const kb = (n) => (n / 1024).toFixed(1).padStart(7) + ' KB'
for (const r of rows) console.log(`${kb(r.raw)} ${kb(r.gz)} gz  ${r.f}`)
const index = readFileSync('dist/app/index.html', 'utf8')
const first = rows.filter((r) => index.includes(r.f))
const sum = (xs) => xs.reduce((s, r) => s + r.gz, 0)
console.log(`\nfirst screen (index.html's scripts and styles): ${kb(sum(first)).trim()} gzipped`)
console.log(`everything: ${kb(sum(rows)).trim()} gzipped`)
