// Fails when src/gql (GraphQL Code Generator's output) is not what the
// current schema and documents generate: run `npm run codegen` and commit.
import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const dir = 'src/gql'
const saved = mkdtempSync(join(tmpdir(), 'gql-'))
cpSync(dir, saved, { recursive: true })
execFileSync('npx', ['graphql-codegen', '--config', 'codegen.yml', '--silent'], { stdio: 'inherit' })
const names = new Set([...readdirSync(dir), ...readdirSync(saved)])
const stale = [...names].filter((n) => {
  try {
    return readFileSync(join(dir, n), 'utf8') !== readFileSync(join(saved, n), 'utf8')
  } catch {
    return true
  }
})
rmSync(saved, { recursive: true, force: true })
if (stale.length) {
  console.error(`src/gql is out of date (${stale.join(', ')}): it was regenerated now; commit it.`)
  process.exit(1)
}
console.log('src/gql is up to date')
