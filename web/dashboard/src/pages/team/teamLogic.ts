// The team page's rules, kept apart from React so they are tested: how a
// member's presence and dates read, what an admin may do to a member (never
// lock themselves out by accident), and which fields an edit changes.
import type { Role } from '../../gql/graphql'

export function initials(name: string): string {
  const letters = name
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => [...w][0]!.toUpperCase())
    .join('')
  return letters || '?'
}

/** "just now", "5 min ago", "3 h ago", "yesterday", "4 days ago", else a date. */
export function timeAgo(iso: string, now: number = Date.now()): string {
  const t = Date.parse(iso)
  if (!Number.isFinite(t)) return ''
  const s = Math.max(0, (now - t) / 1000)
  if (s < 60) return 'just now'
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min ago`
  const h = Math.floor(m / 60)
  if (h < 24) return `${h} h ago`
  const d = Math.floor(h / 24)
  if (d === 1) return 'yesterday'
  if (d < 30) return `${d} days ago`
  return `on ${formatDate(iso)}`
}

export function formatDate(iso: string): string {
  const t = Date.parse(iso)
  if (!Number.isFinite(t)) return ''
  return new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' }).format(t)
}

export function formatDateTime(iso: string): string {
  const t = Date.parse(iso)
  if (!Number.isFinite(t)) return ''
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(t)
}

export interface PresenceInput {
  online: boolean
  isActive: boolean
  lastSeenAt?: string | null
}

/** What the presence column says about a member. */
export function presenceText(m: PresenceInput, now: number = Date.now()): string {
  if (!m.isActive) return 'deactivated'
  if (m.online) return 'online'
  if (!m.lastSeenAt) return 'never signed in'
  return `last seen ${timeAgo(m.lastSeenAt, now)}`
}

export const ROLE_LABEL: Record<Role, string> = { AGENT: 'Agent', COMPANY_ADMIN: 'Company admin' }

export const ROLE_HELP: Record<Role, string> = {
  AGENT: 'Answers conversations in the inbox; sees the knowledge, analytics and team.',
  COMPANY_ADMIN: 'Everything an agent does, plus the team, knowledge, settings, widget and API keys.',
}

export type MemberAction = 'deactivate' | 'remove' | 'role'

/**
 * Why the signed-in admin may not do an action to a member (null: they
 * may). An admin's own account is protected: deactivating, removing or
 * demoting oneself would lock one out, so another admin has to do it.
 */
export function selfGuard(action: MemberAction, memberId: string, viewerId: string | undefined): string | null {
  if (!viewerId || memberId !== viewerId) return null
  switch (action) {
    case 'deactivate':
      return "You can't deactivate your own account. Another company admin can."
    case 'remove':
      return "You can't remove your own account. Another company admin can."
    case 'role':
      return "You can't change your own role. Another company admin can."
  }
}

export interface MemberFields {
  fullName: string
  email: string
  role: Role
}

export interface EditDraft extends MemberFields {
  /** A new password; empty keeps the current one. */
  password: string
}

/** The updateAgent input of an edit: only what changed. */
export function changedFields(before: MemberFields, draft: EditDraft): Partial<EditDraft> {
  const out: Partial<EditDraft> = {}
  if (draft.fullName.trim() !== before.fullName) out.fullName = draft.fullName.trim()
  if (draft.email.trim().toLowerCase() !== before.email.toLowerCase()) out.email = draft.email.trim()
  if (draft.role !== before.role) out.role = draft.role
  if (draft.password !== '') out.password = draft.password
  return out
}

/** A random password of length characters (no look-alike characters). */
export function generatePassword(length = 16, rand: (n: number) => number = cryptoRandom): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'
  let s = ''
  for (let i = 0; i < length; i++) s += alphabet[rand(alphabet.length)]
  return s
}

function cryptoRandom(n: number): number {
  const a = new Uint32Array(1)
  // Rejection sampling keeps every character equally likely.
  const limit = Math.floor(0x100000000 / n) * n
  do crypto.getRandomValues(a)
  while (a[0]! >= limit)
  return a[0]! % n
}

/** Members matching a search (name or email), online ones first, then by name. */
export function filterMembers<T extends { fullName: string; email: string; online: boolean; isActive: boolean }>(
  list: T[],
  query: string,
): T[] {
  const q = query.trim().toLowerCase()
  const hits = q ? list.filter((m) => m.fullName.toLowerCase().includes(q) || m.email.toLowerCase().includes(q)) : list.slice()
  const rank = (m: T) => (m.isActive ? (m.online ? 0 : 1) : 2)
  return hits.sort((a, b) => rank(a) - rank(b) || a.fullName.localeCompare(b.fullName))
}
