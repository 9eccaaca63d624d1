// API keys' logic: the scopes a key may carry, what each allows, and how a
// key's beginning is shown.

import type { ApiKeyScope } from '../../gql/graphql'

export const SCOPES: { scope: ApiKeyScope; label: string; description: string }[] = [
  { scope: 'KNOWLEDGE_READ', label: 'Read knowledge', description: 'List resources and their passages, and ask test questions.' },
  { scope: 'KNOWLEDGE_WRITE', label: 'Write knowledge', description: 'Add texts, PDFs, websites and Facebook pages; change and delete them.' },
  { scope: 'CONVERSATIONS_READ', label: 'Read conversations', description: 'Read conversations, their messages and visitors, the inbox and the analytics.' },
  { scope: 'CONVERSATIONS_WRITE', label: 'Write conversations', description: 'Send messages in conversations, ask for a human and close them.' },
  { scope: 'AGENTS_READ', label: 'Read the team', description: 'List your agents: names, emails, roles and who is online.' },
]

/** Whether a scope lets a key change data (shown as a warning). */
export function isWriteScope(scope: ApiKeyScope): boolean {
  return scope.endsWith('_WRITE')
}

/** What the server stores of a key ("3fa9c1d2e4b5") as the key starts ("ck_3fa9c1d2e4b5_…"). */
export function keyStart(prefix: string): string {
  return `ck_${prefix}_…`
}

/** Checks the create form; returns field errors. */
export function validateNewKey(name: string, scopes: readonly ApiKeyScope[]): Record<string, string> {
  const e: Record<string, string> = {}
  if (!name.trim()) e.name = 'Give the key a name, e.g. the system that will use it.'
  else if ([...name.trim()].length > 200) e.name = 'At most 200 characters.'
  if (scopes.length === 0) e.scopes = 'Choose at least one scope.'
  return e
}

/** The scopes in the order of SCOPES (unknown ones, from a newer server, last). */
export function sortScopes(scopes: readonly ApiKeyScope[]): ApiKeyScope[] {
  const order: string[] = SCOPES.map((s) => s.scope)
  const rank = (s: string) => (order.includes(s) ? order.indexOf(s) : order.length)
  return [...scopes].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
}

export function curlExample(origin: string, key: string): string {
  return `curl -s ${origin}/graphql \\
  -H "Authorization: Bearer ${key}" \\
  -H 'Content-Type: application/json' \\
  -d '{"query":"{ resources(first: 1) { totalCount } }"}'`
}

/** "3 minutes ago", "yesterday", "12 Mar 2026" for a time. */
export function relativeTime(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'Never'
  const t = Date.parse(iso)
  if (!Number.isFinite(t)) return '—'
  const s = Math.round((now - t) / 1000)
  if (s < 45) return 'Just now'
  const m = Math.round(s / 60)
  if (m < 60) return `${m} minute${m === 1 ? '' : 's'} ago`
  const h = Math.round(m / 60)
  if (h < 24) return `${h} hour${h === 1 ? '' : 's'} ago`
  const d = Math.round(h / 24)
  if (d === 1) return 'Yesterday'
  if (d < 7) return `${d} days ago`
  return new Date(t).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' })
}
