// The knowledge pages' logic, kept apart from React so it can be tested:
// merging live resource events into a list, and the add forms' checks made
// before anything is sent.

export type ResourceStatus = 'PENDING' | 'PROCESSING' | 'COMPLETED' | 'FAILED'
export type ResourceType = 'PDF' | 'WEBSITE' | 'FACEBOOK' | 'TEXT'

/** The fields the merge needs; pages pass their own richer rows. */
export interface ResourceLike {
  id: string
  type: ResourceType
  title: string
  status: ResourceStatus
  progress: number
  isActive: boolean
  createdAt: string
  updatedAt: string
}

// ---------------------------------------------------------------------------
// Time

/**
 * Compares two RFC 3339 times to the nanosecond (the server sends
 * 2026-12-07T07:55:34.597354271Z; Date.parse alone stops at milliseconds,
 * and two progress updates can fall within one). Unreadable times compare
 * as the oldest.
 */
export function compareTime(a: string | null | undefined, b: string | null | undefined): number {
  const pa = parseTime(a)
  const pb = parseTime(b)
  if (pa[0] !== pb[0]) return pa[0] < pb[0] ? -1 : 1
  if (pa[1] !== pb[1]) return pa[1] < pb[1] ? -1 : 1
  return 0
}

function parseTime(s: string | null | undefined): [number, number] {
  if (!s) return [-Infinity, 0]
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(.*)$/.exec(s)
  if (!m) {
    const t = Date.parse(s)
    return [Number.isNaN(t) ? -Infinity : t, 0]
  }
  const whole = Date.parse(m[1] + (m[3] || 'Z'))
  const frac = Number(((m[2] ?? '') + '000000000').slice(0, 9))
  return [Number.isNaN(whole) ? -Infinity : whole, frac]
}

// ---------------------------------------------------------------------------
// Merging what the server says about a resource

/** Whether a resource is still being worked on (a progress bar is shown). */
export function inProgress(status: ResourceStatus): boolean {
  return status === 'PENDING' || status === 'PROCESSING'
}

/**
 * What to show of a resource when two reports of it meet: the one read
 * last from the database wins (updatedAt; on a tie the incoming one, which
 * arrived later). Within one status progress never goes back: a report of
 * the same step that is behind keeps the progress already shown. A change
 * of status is taken as it comes (a retry goes PROCESSING → PENDING, a
 * reprocess COMPLETED → PENDING, and their progress restarts from 0).
 * Fields the incoming report lacks are kept from the current one.
 */
export function mergeResource<T extends ResourceLike>(current: T | undefined, incoming: T): T {
  if (!current) return incoming
  const order = compareTime(incoming.updatedAt, current.updatedAt)
  if (order < 0) return current
  // Fields the incoming report does not carry (a row's company) are kept.
  const next = { ...current, ...incoming }
  if (incoming.status === current.status && incoming.progress < current.progress) next.progress = current.progress
  return next
}

/** Newest first, as the list is ordered (createdAt DESC), ids breaking ties. */
export function byCreatedDesc(a: ResourceLike, b: ResourceLike): number {
  const c = compareTime(b.createdAt, a.createdAt)
  if (c !== 0) return c
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0
}

export interface ListFilter {
  type?: ResourceType | ''
  status?: ResourceStatus | ''
  /** Title contains this, ignoring case (titleContainsFold). */
  search?: string
}

/** Whether a resource the list has not loaded belongs in it under filter. */
export function matchesFilter(r: ResourceLike, f: ListFilter): boolean {
  if (f.type && r.type !== f.type) return false
  if (f.status && r.status !== f.status) return false
  const q = f.search?.trim().toLowerCase()
  if (q && !r.title.toLowerCase().includes(q)) return false
  return true
}

export interface ListState<T extends ResourceLike> {
  /** The rows shown, in order. */
  items: T[]
  /** How many resources match (the server's totalCount, kept up to date). */
  total: number
  /** The last live report of each resource seen, to reconcile a reload. */
  live: Record<string, T>
  /** Resources deleted here: a late event or a stale reload must not bring them back. */
  deleted: Record<string, true>
}

export type ListAction<T extends ResourceLike> =
  /** A page read from the server (a query result, cached or fresh). */
  | { kind: 'loaded'; items: T[]; total: number }
  /**
   * A live event or a mutation's result. A resource not shown yet is
   * inserted (in order) when insert says it belongs in this view.
   */
  | { kind: 'event'; resource: T; insert?: boolean }
  /** A resource just added here: shown at its place (the top) whatever the filter. */
  | { kind: 'created'; resource: T }
  | { kind: 'deleted'; id: string }

export function emptyList<T extends ResourceLike>(): ListState<T> {
  return { items: [], total: 0, live: {}, deleted: {} }
}

function insertSorted<T extends ResourceLike>(items: T[], r: T): T[] {
  const out = items.slice()
  let i = out.findIndex((x) => byCreatedDesc(r, x) < 0)
  if (i < 0) i = out.length
  out.splice(i, 0, r)
  return out
}

export function listReducer<T extends ResourceLike>(state: ListState<T>, action: ListAction<T>): ListState<T> {
  switch (action.kind) {
    case 'loaded': {
      const items = action.items
        .filter((r) => !state.deleted[r.id])
        .map((r) => {
          const live = state.live[r.id]
          // A reload read before the last event must not undo it.
          return live && compareTime(live.updatedAt, r.updatedAt) > 0 ? mergeResource(r, live) : r
        })
      const dropped = action.items.length - items.length
      return { ...state, items, total: Math.max(0, action.total - dropped) }
    }
    case 'event': {
      const r = action.resource
      if (state.deleted[r.id]) return state
      const live = { ...state.live, [r.id]: mergeResource(state.live[r.id], r) }
      const at = state.items.findIndex((x) => x.id === r.id)
      if (at >= 0) {
        const items = state.items.slice()
        items[at] = mergeResource(items[at], r)
        return { ...state, items, live }
      }
      if (!action.insert) return { ...state, live }
      return { ...state, items: insertSorted(state.items, live[r.id]), total: state.total + 1, live }
    }
    case 'created': {
      // Its events may have come before the answer that created it (a
      // fast job): what they said wins over the answer's older report.
      const r = mergeResource(state.live[action.resource.id], action.resource)
      const rest = state.items.filter((x) => x.id !== r.id)
      const added = rest.length === state.items.length ? 1 : 0
      return {
        ...state,
        items: insertSorted(rest, r),
        total: state.total + added,
        live: { ...state.live, [r.id]: r },
      }
    }
    case 'deleted': {
      const items = state.items.filter((x) => x.id !== action.id)
      const live = { ...state.live }
      delete live[action.id]
      return {
        items,
        total: Math.max(0, state.total - (state.items.length - items.length)),
        live,
        deleted: { ...state.deleted, [action.id]: true },
      }
    }
  }
}

// ---------------------------------------------------------------------------
// The add forms' checks (the server checks again; these save a round trip
// and, for a PDF, a long upload that would be refused)

export const MAX_TEXT_BYTES = 1 << 20
export const MAX_TITLE_CHARS = 500
export const MAX_PDF_BYTES = 50 << 20
export const MAX_DEPTH = 10
export const DEFAULT_DEPTH = 2
export const DEFAULT_MAX_PAGES = 50
export const MAX_PATTERNS = 50
export const MAX_PATTERN_LENGTH = 200

export type Plan = 'FREE' | 'BASIC' | 'PREMIUM' | 'ENTERPRISE'

const PLAN_PAGES: Record<Plan, number> = { FREE: 50, BASIC: 200, PREMIUM: 1000, ENTERPRISE: 5000 }

/** The most pages one website may crawl under plan (an unknown plan: the smallest). */
export function planPageCap(plan: string | null | undefined): number {
  return PLAN_PAGES[(plan ?? '').toUpperCase() as Plan] ?? PLAN_PAGES.FREE
}

export function planName(plan: string | null | undefined): string {
  const p = (plan ?? 'FREE').toLowerCase()
  return p.charAt(0).toUpperCase() + p.slice(1)
}

export type FieldErrors = Record<string, string>

/** UTF-8 length, as the server counts the 1 MB of a text. */
export function utf8Bytes(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4
        i++
      } else n += 3
    } else n += 3
  }
  return n
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`
  return `${(n / (1024 * 1024)).toFixed(1)} MB`
}

function titleError(title: string, required: boolean): string | undefined {
  const t = title.trim()
  if (!t && required) return 'Give it a title, so you can find it later.'
  if ([...t].length > MAX_TITLE_CHARS) return `At most ${MAX_TITLE_CHARS} characters.`
  return undefined
}

export function checkText(title: string, content: string): FieldErrors {
  const e: FieldErrors = {}
  const te = titleError(title, true)
  if (te) e.title = te
  if (!content.trim()) e.content = 'Paste or type the text the assistant should know.'
  else if (utf8Bytes(content) > MAX_TEXT_BYTES) {
    e.content = `This text is ${formatBytes(utf8Bytes(content))}; at most 1 MB is accepted. Split it into several texts.`
  }
  return e
}

export interface FileLike {
  name: string
  size: number
  type: string
}

/** A file chosen or dropped for the PDF tab: refused before the upload when it cannot be accepted. */
export function checkPdfFile(file: FileLike | null | undefined): string | undefined {
  if (!file) return 'Choose a PDF file.'
  const named = /\.pdf$/i.test(file.name)
  const typed = file.type === 'application/pdf' || file.type === 'application/x-pdf'
  if (!named && !typed) return `${file.name} is not a PDF. Only PDF files can be uploaded here.`
  if (file.size === 0) return `${file.name} is empty.`
  if (file.size > MAX_PDF_BYTES) return `${file.name} is ${formatBytes(file.size)}; at most 50 MB is accepted.`
  return undefined
}

/** Whether the first bytes of a file hold a PDF header (%PDF- within the first 1024 bytes, as the server checks). */
export function hasPdfHeader(bytes: Uint8Array): boolean {
  const magic = [0x25, 0x50, 0x44, 0x46, 0x2d] // %PDF-
  const end = Math.min(bytes.length, 1024) - magic.length
  for (let i = 0; i <= end; i++) {
    let ok = true
    for (let j = 0; j < magic.length; j++) {
      if (bytes[i + j] !== magic[j]) {
        ok = false
        break
      }
    }
    if (ok) return true
  }
  return false
}

export function checkPdf(file: FileLike | null | undefined, title: string): FieldErrors {
  const e: FieldErrors = {}
  const fe = checkPdfFile(file)
  if (fe) e.file = fe
  const te = titleError(title, false)
  if (te) e.title = te
  return e
}

/**
 * The path patterns of a textarea, one a line (blank lines ignored, spaces
 * around a pattern trimmed), or the first line's problem.
 */
export function parsePathPatterns(text: string): { patterns: string[]; error?: string } {
  const lines = text.split(/\r?\n/)
  const patterns: string[] = []
  for (let i = 0; i < lines.length; i++) {
    const p = lines[i].trim()
    if (!p) continue
    const where = `Line ${i + 1}`
    if (!p.startsWith('/')) return { patterns, error: `${where}: "${clip(p)}" must start with / (for example /docs/*).` }
    if (p.length > MAX_PATTERN_LENGTH) return { patterns, error: `${where}: a pattern is at most ${MAX_PATTERN_LENGTH} characters.` }
    // eslint-disable-next-line no-control-regex
    if (/[\s\u0000-\u001f\u007f]/.test(p)) return { patterns, error: `${where}: "${clip(p)}" must not contain spaces.` }
    patterns.push(p)
  }
  if (patterns.length > MAX_PATTERNS) return { patterns, error: `At most ${MAX_PATTERNS} patterns are accepted.` }
  return { patterns }
}

function clip(s: string): string {
  return s.length > 40 ? s.slice(0, 39) + '…' : s
}

export interface WebsiteForm {
  url: string
  maxPages: string
  maxDepth: string
  includePaths: string
  excludePaths: string
}

export interface WebsiteInputValues {
  url: string
  maxPages?: number
  maxDepth?: number
  includePaths?: string[]
  excludePaths?: string[]
}

function wholeNumber(s: string): number | null {
  const t = s.trim()
  if (!/^\d+$/.test(t)) return null
  return Number(t)
}

/** Checks the website form against the plan's page cap; gives the input to send when it passes. */
export function checkWebsite(f: WebsiteForm, plan: string | null | undefined): { errors: FieldErrors; input?: WebsiteInputValues } {
  const errors: FieldErrors = {}
  const input: WebsiteInputValues = { url: f.url.trim() }
  const u = f.url.trim()
  if (!u) errors.url = 'Enter the address of the start page, e.g. https://help.example.com/.'
  else {
    let parsed: URL | null = null
    try {
      parsed = new URL(u)
    } catch {
      parsed = null
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || !parsed.hostname) {
      errors.url = 'Enter a full web address starting with https:// or http://.'
    } else if (parsed.username || parsed.password) {
      errors.url = 'The address must not contain a user name or password.'
    }
  }
  const cap = planPageCap(plan)
  if (f.maxPages.trim()) {
    const n = wholeNumber(f.maxPages)
    if (n === null || n < 1) errors.maxPages = 'Enter a whole number of pages, at least 1.'
    else if (n > cap) errors.maxPages = `Your ${planName(plan)} plan crawls at most ${cap.toLocaleString('en-US')} pages per website.`
    else input.maxPages = n
  }
  if (f.maxDepth.trim()) {
    const n = wholeNumber(f.maxDepth)
    if (n === null || n > MAX_DEPTH) errors.maxDepth = `Enter a whole number from 0 to ${MAX_DEPTH}.`
    else input.maxDepth = n
  }
  const inc = parsePathPatterns(f.includePaths)
  if (inc.error) errors.includePaths = inc.error
  else if (inc.patterns.length) input.includePaths = inc.patterns
  const exc = parsePathPatterns(f.excludePaths)
  if (exc.error) errors.excludePaths = exc.error
  else if (exc.patterns.length) input.excludePaths = exc.patterns
  return Object.keys(errors).length ? { errors } : { errors, input }
}

export function checkFacebook(page: string, accessToken: string): FieldErrors {
  const e: FieldErrors = {}
  if (!page.trim()) e.page = 'Enter the page: its address (https://www.facebook.com/yourpage), username or numeric id.'
  if (!accessToken.trim()) e.accessToken = 'Paste a page access token that may read the page’s posts.'
  return e
}

// ---------------------------------------------------------------------------
// Display

export const TYPE_LABEL: Record<ResourceType, string> = {
  PDF: 'PDF',
  WEBSITE: 'Website',
  FACEBOOK: 'Facebook page',
  TEXT: 'Text',
}

export const STATUS_LABEL: Record<ResourceStatus, string> = {
  PENDING: 'Pending',
  PROCESSING: 'Processing',
  COMPLETED: 'Completed',
  FAILED: 'Failed',
}

/** A server message as a sentence (capital first letter, final stop). */
export function asSentence(s: string | null | undefined): string {
  const t = (s ?? '').trim()
  if (!t) return ''
  // An address or a file name stays as it is written.
  const first = /^[a-z][a-z0-9+.-]*:\/\/|^\S+\.\w{2,4}\b/i.test(t) ? t : t[0].toUpperCase() + t.slice(1)
  return /[.!?)]$/.test(first) ? first : first + '.'
}

/**
 * A passage's text for reading: runs of blank lines squeezed to one line
 * break, and a list bullet alone on its line joined to its item (a crawled
 * page's menus come out as "-", "", "shipping").
 */
export function displayText(t: string): string {
  return t
    .replace(/\r\n/g, '\n')
    .replace(/^([-*•])[ \t]*\n+[ \t]*/gm, '$1 ')
    .replace(/\n[ \t]*\n+/g, '\n')
    .trim()
}

/** Where a resource comes from, for a second line under its title. */
export function sourceOf(r: { type: ResourceType; sourceURL?: string | null; fileName?: string | null }): string {
  if (r.fileName) return r.fileName
  if (r.sourceURL) return r.sourceURL
  return r.type === 'TEXT' ? 'Typed or pasted text' : ''
}

export function formatDate(iso: string, withTime = true): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return ''
  return d.toLocaleString('en-GB', {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    ...(withTime ? { hour: '2-digit', minute: '2-digit' } : {}),
  })
}

/** "just now", "5 min ago", "3 h ago", then the date. */
export function formatAgo(iso: string, now = Date.now()): string {
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return ''
  const s = Math.max(0, (now - t) / 1000)
  if (s < 45) return 'just now'
  if (s < 3600) return `${Math.round(s / 60)} min ago`
  if (s < 86400) return `${Math.round(s / 3600)} h ago`
  return formatDate(iso, false)
}

// ---------------------------------------------------------------------------
// Test a question: the last few questions

export const HISTORY_SIZE = 5

/** Puts question first, without a second copy (ignoring case and spaces), keeping at most size. */
export function pushHistory(history: string[], question: string, size = HISTORY_SIZE): string[] {
  const q = question.trim()
  if (!q) return history
  const key = q.toLowerCase().replace(/\s+/g, ' ')
  return [q, ...history.filter((h) => h.toLowerCase().replace(/\s+/g, ' ') !== key)].slice(0, size)
}

// ---------------------------------------------------------------------------
// Scheduled re-sync of websites and Facebook pages

export type SyncIntervalValue = 'NEVER' | 'DAILY' | 'WEEKLY' | 'MONTHLY'

/** The intervals offered, in order, with their labels. */
export const SYNC_OPTIONS: { value: SyncIntervalValue; label: string }[] = [
  { value: 'NEVER', label: 'Never' },
  { value: 'DAILY', label: 'Daily' },
  { value: 'WEEKLY', label: 'Weekly' },
  { value: 'MONTHLY', label: 'Monthly' },
]

/** Whether resources of this type have a source to fetch again (PDFs and texts do not). */
export function canResync(type: ResourceType): boolean {
  return type === 'WEBSITE' || type === 'FACEBOOK'
}

/** "in 5 min", "in 3 h", "in 6 days"; "due now" once the time has passed. */
export function formatIn(iso: string, now = Date.now()): string {
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return ''
  const s = (t - now) / 1000
  if (s < 60) return 'due now'
  if (s < 3600) return `in ${Math.round(s / 60)} min`
  if (s < 86400 * 1.5) return `in ${Math.round(s / 3600)} h`
  return `in ${Math.round(s / 86400)} days`
}

/** An absolute date with how far it is, where that adds something: "7 Dec 2026, 18:28 (just now)". */
function dateAndAgo(iso: string, now: number): string {
  const full = formatDate(iso)
  const ago = formatAgo(iso, now)
  // Past a day formatAgo is the date itself: no need to say it twice.
  return ago === formatDate(iso, false) ? full : `${full} (${ago})`
}

/**
 * What the knowledge page says about a resource's schedule: when it syncs
 * next ("Next sync: in 6 days", paused while the resource is off) and when
 * it last synced ("Last synced 3 h ago"), with their times (nextAt, lastAt:
 * null when there is none to show). withDates (a resource's page, which
 * has the room) puts the dates in the text too: "Next sync: 14 Dec 2026,
 * 18:28 (in 7 days)". Empty for PDFs and texts.
 */
export function syncSummary(
  r: { type: ResourceType; isActive: boolean; syncInterval: string; nextSyncAt?: string | null; lastSyncedAt?: string | null },
  now = Date.now(),
  withDates = false,
): { next: string; last: string; nextAt: string | null; lastAt: string | null } {
  if (!canResync(r.type)) return { next: '', last: '', nextAt: null, lastAt: null }
  let next = 'Next sync: never'
  let nextAt: string | null = null
  if (r.syncInterval !== 'NEVER' && r.nextSyncAt) {
    if (!r.isActive) next = 'Next sync: paused while off'
    else {
      const rel = formatIn(r.nextSyncAt, now)
      nextAt = r.nextSyncAt
      next = withDates && rel !== 'due now' ? `Next sync: ${formatDate(r.nextSyncAt)} (${rel})` : `Next sync: ${rel}`
    }
  }
  const lastAt = r.lastSyncedAt ?? null
  const last = !lastAt ? 'Not synced yet' : withDates ? `Last synced ${dateAndAgo(lastAt, now)}` : `Last synced ${formatAgo(lastAt, now)}`
  return { next, last, nextAt, lastAt }
}
