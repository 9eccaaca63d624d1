// The audit log in words: an entry's action ("company.update") and summary
// ("fields: name, greeting") become a sentence a person reads ("Updated
// company settings: name, greeting"), and the page's filters become an
// AuditLogWhereInput.
import type { AuditActorType, AuditLogWhereInput } from '../../gql/graphql'

/** Names of the fields the server lists in summaries, as the settings pages call them. */
export const FIELD_LABEL: Record<string, string> = {
  name: 'name',
  email: 'email',
  phone: 'phone',
  website: 'website',
  logo: 'logo',
  subscriptionPlan: 'plan',
  brandColor: 'brand colour',
  greeting: 'greeting',
  allowedOrigins: 'allowed origins',
  requireIdentity: 'identity verification',
  assistantName: 'assistant name',
  assistantTone: 'assistant tone',
  awayMessage: 'away message',
  autoHandoff: 'automatic handoff',
  businessHours: 'business hours',
  fullName: 'name',
  password: 'password',
  role: 'role',
  isActive: 'active',
  title: 'title',
}

const ROLE: Record<string, string> = { AGENT: 'agent', COMPANY_ADMIN: 'company admin' }

const RESOURCE_TYPE: Record<string, string> = {
  PDF: 'Uploaded a PDF to the knowledge',
  WEBSITE: 'Added a website to the knowledge',
  FACEBOOK: 'Added a Facebook page to the knowledge',
  TEXT: 'Added a text to the knowledge',
}

/** Known actions, for the filter and the sentences; grouped by what they are about. */
export const ACTION_GROUPS: { label: string; prefix: string; actions: { action: string; label: string }[] }[] = [
  {
    label: 'Company',
    prefix: 'company.',
    actions: [
      { action: 'company.update', label: 'Updated company settings' },
      { action: 'company.rotate_identity_secret', label: 'Rotated the identity secret' },
      { action: 'company.deactivate', label: 'Deactivated the company' },
      { action: 'company.activate', label: 'Reactivated the company' },
      { action: 'company.delete', label: 'Deleted the company' },
    ],
  },
  {
    label: 'Team',
    prefix: 'agent.',
    actions: [
      { action: 'agent.create', label: 'Added a team member' },
      { action: 'agent.update', label: 'Changed a team member' },
      { action: 'agent.remove', label: 'Removed a team member' },
    ],
  },
  {
    label: 'Knowledge',
    prefix: 'resource.',
    actions: [
      { action: 'resource.create', label: 'Added knowledge' },
      { action: 'resource.update', label: 'Changed knowledge' },
      { action: 'resource.delete', label: 'Deleted knowledge' },
      { action: 'resource.reprocess', label: 'Reprocessed knowledge' },
    ],
  },
  {
    label: 'API keys',
    prefix: 'apikey.',
    actions: [
      { action: 'apikey.create', label: 'Created an API key' },
      { action: 'apikey.revoke', label: 'Revoked an API key' },
    ],
  },
]

const LABEL = new Map(ACTION_GROUPS.flatMap((g) => g.actions.map((a) => [a.action, a.label] as const)))

/** "fields: name, brandColor" → ["name", "brand colour"]; null when the summary is not a field list. */
export function summaryFields(summary: string | null | undefined): string[] | null {
  const m = /^fields:\s*(.*)$/.exec((summary ?? '').trim())
  if (!m) return null
  return m[1]!
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean)
    .map((f) => FIELD_LABEL[f] ?? humanize(f))
}

/** "rotate_identity_secret" → "rotate identity secret"; "brandColor" → "brand color". */
export function humanize(s: string): string {
  return s
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_.-]+/g, ' ')
    .toLowerCase()
    .trim()
}

function capital(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1) : s
}

function list(items: string[]): string {
  if (items.length <= 1) return items.join('')
  return items.slice(0, -1).join(', ') + ' and ' + items[items.length - 1]
}

export interface AuditEntryLike {
  action: string
  summary?: string | null
  targetType?: string
}

export interface ActionText {
  /** What happened, as a sentence without a final period. */
  title: string
  /** More of the summary (which fields, which scopes), when there is any. */
  detail?: string
}

/**
 * An entry as a sentence. `target` names what the action was about when it
 * is known (a member's name, a resource's title, a key's name).
 */
export function describeAction(e: AuditEntryLike, target?: string | null): ActionText {
  const summary = (e.summary ?? '').trim()
  const fields = summaryFields(summary)
  switch (e.action) {
    case 'company.update':
      return fields && fields.length
        ? { title: 'Updated company settings', detail: `Changed ${list(fields)}` }
        : { title: 'Updated company settings' }
    case 'company.rotate_identity_secret':
      return { title: 'Rotated the identity secret', detail: 'Signed-in visitors’ old hashes stopped verifying' }
    case 'company.deactivate':
      return { title: 'Deactivated the company' }
    case 'company.activate':
      return { title: 'Reactivated the company' }
    case 'company.delete':
      return { title: 'Deleted the company', detail: summary ? capital(summary) : undefined }
    case 'agent.create': {
      const role = /^role:\s*(\w+)/.exec(summary)?.[1]
      const title = target ? `Added ${target} to the team` : 'Added a team member'
      return { title, detail: role ? `As ${ROLE[role] ?? humanize(role)}` : undefined }
    }
    case 'agent.update':
      return {
        title: target ? `Changed ${target}’s account` : 'Changed a team member',
        detail: fields && fields.length ? `Changed ${list(fields)}` : undefined,
      }
    case 'agent.remove':
      return { title: target ? `Removed ${target} from the team` : 'Removed a team member' }
    case 'apikey.create': {
      const scopes = /^scopes:\s*(.*)$/.exec(summary)?.[1]
      return {
        title: target ? `Created the API key “${target}”` : 'Created an API key',
        detail: scopes ? `Scopes: ${scopes}` : undefined,
      }
    }
    case 'apikey.revoke':
      return { title: target ? `Revoked the API key “${target}”` : 'Revoked an API key' }
    case 'resource.create': {
      const type = /^type:\s*(\w+)/.exec(summary)?.[1]
      const base = (type && RESOURCE_TYPE[type]) || 'Added knowledge'
      return { title: target ? `${base}: “${target}”` : base }
    }
    case 'resource.update':
      return {
        title: target ? `Changed the knowledge “${target}”` : 'Changed knowledge',
        detail: fields && fields.length ? `Changed ${list(fields)}` : undefined,
      }
    case 'resource.delete':
      return { title: target ? `Deleted the knowledge “${target}”` : 'Deleted knowledge' }
    case 'resource.reprocess':
      return { title: target ? `Reprocessed “${target}”` : 'Reprocessed knowledge' }
  }
  // An action this page does not know yet: "<entity>.<verb>" → "Verb entity".
  const [entity, ...verb] = e.action.split('.')
  const title = verb.length ? capital(`${humanize(verb.join(' '))} ${humanize(entity ?? '')}`) : capital(humanize(e.action))
  const detail = fields && fields.length ? `Changed ${list(fields)}` : summary ? capital(summary) : undefined
  return { title: target ? `${title} “${target}”` : title, detail }
}

/** The label of a known action (for the filter), or the action itself. */
export function actionLabel(action: string): string {
  return LABEL.get(action) ?? action
}

export const ACTOR_TYPE_LABEL: Record<AuditActorType, string> = {
  USER: 'Team member',
  SUPER_ADMIN: 'Platform admin',
  API_KEY: 'API key',
  SYSTEM: 'System',
  ANONYMOUS: 'Anonymous',
}

export interface AuditFilters {
  /** "" (all), a known action ("company.update") or a group prefix ("company."). */
  action: string
  /** Part of the actor's name (email, username or key name). */
  actor: string
  actorType: AuditActorType | ''
  /** "" (all companies) or a company id (super admins). */
  companyId: string
  /** yyyy-mm-dd, inclusive, local time. */
  from: string
  to: string
}

export const NO_FILTERS: AuditFilters = { action: '', actor: '', actorType: '', companyId: '', from: '', to: '' }

function startOfLocalDay(ymd: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd)
  if (!m) return null
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]))
}

/** The filters as the query's where (undefined when nothing is filtered). */
export function toWhere(f: AuditFilters): AuditLogWhereInput | undefined {
  const w: AuditLogWhereInput = {}
  if (f.action) {
    if (f.action.endsWith('.')) w.actionHasPrefix = f.action
    else w.action = f.action
  }
  const actor = f.actor.trim()
  if (actor) w.actorNameContainsFold = actor
  if (f.actorType) w.actorType = f.actorType
  if (f.companyId) w.companyID = f.companyId
  const from = startOfLocalDay(f.from)
  if (from) w.createdAtGTE = from.toISOString()
  const to = startOfLocalDay(f.to)
  if (to) {
    to.setDate(to.getDate() + 1)
    w.createdAtLT = to.toISOString()
  }
  return Object.keys(w).length ? w : undefined
}

export function filtersActive(f: AuditFilters): boolean {
  return toWhere(f) !== undefined
}

/** "1–25 of 80" for a page. */
export function pageSpan(page: number, size: number, shown: number, total: number): string {
  if (total === 0 || shown === 0) return `0 of ${total}`
  const start = (page - 1) * size + 1
  return `${start}–${start + shown - 1} of ${total}`
}

function ymdLocal(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
}

/** The day an entry falls on, as a heading: "Today", "Yesterday", or the date. */
export function dayLabel(iso: string, now: Date = new Date()): string {
  const d = new Date(iso)
  const today = ymdLocal(now)
  const y = new Date(now)
  y.setDate(y.getDate() - 1)
  if (ymdLocal(d) === today) return 'Today'
  if (ymdLocal(d) === ymdLocal(y)) return 'Yesterday'
  return d.toLocaleDateString(undefined, {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: d.getFullYear() === now.getFullYear() ? undefined : 'numeric',
  })
}

/** Entries split into runs of the same local day, in their order. */
export function groupByDay<T extends { createdAt: string }>(entries: T[], now: Date = new Date()): { day: string; entries: T[] }[] {
  const out: { day: string; key: string; entries: T[] }[] = []
  for (const e of entries) {
    const key = ymdLocal(new Date(e.createdAt))
    const last = out[out.length - 1]
    if (last && last.key === key) last.entries.push(e)
    else out.push({ day: dayLabel(e.createdAt, now), key, entries: [e] })
  }
  return out.map(({ day, entries }) => ({ day, entries }))
}

/** The filters from the address (?action=…&actor=…), so a filtered view can be shared. */
export function filtersFromParams(p: URLSearchParams): AuditFilters {
  const t = p.get('actorType') ?? ''
  return {
    action: p.get('action') ?? '',
    actor: p.get('actor') ?? '',
    actorType: (t in ACTOR_TYPE_LABEL ? t : '') as AuditActorType | '',
    companyId: p.get('company') ?? '',
    from: p.get('from') ?? '',
    to: p.get('to') ?? '',
  }
}

export function filtersToParams(f: AuditFilters): URLSearchParams {
  const p = new URLSearchParams()
  if (f.action) p.set('action', f.action)
  if (f.actor.trim()) p.set('actor', f.actor.trim())
  if (f.actorType) p.set('actorType', f.actorType)
  if (f.companyId) p.set('company', f.companyId)
  if (f.from) p.set('from', f.from)
  if (f.to) p.set('to', f.to)
  return p
}
