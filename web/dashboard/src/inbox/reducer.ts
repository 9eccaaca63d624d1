// The inbox's conversation list as a pure reducer: pages loaded from
// `conversations` and the live `inboxEvents` merge into one store of
// conversations (one entry per id, the newest version kept), which every
// filter reads. Unread counts are the visitor messages newer than what
// this agent last read in each conversation.
import { cmpTime } from './time'

export type Status = 'BOT' | 'WAITING_HUMAN' | 'HUMAN' | 'CLOSED'
export type SenderType = 'VISITOR' | 'BOT' | 'AGENT' | 'SYSTEM'

export interface ConvVisitor {
  id: string
  name?: string | null
  email?: string | null
  externalID?: string | null
  firstSeenAt?: string
  lastSeenAt?: string
}

export interface Conv {
  id: string
  status: Status
  createdAt: string
  updatedAt: string
  lastMessageAt: string
  lastMessagePreview?: string | null
  humanRequestedAt?: string | null
  closedAt?: string | null
  language?: string | null
  rating?: number | null
  ratingComment?: string | null
  visitorID: string
  assigneeID?: string | null
  /** Absent when the source did not load it (events carry no edges). */
  visitor?: ConvVisitor | null
  assignee?: { id: string; fullName: string } | null
}

/** A conversation as a page brings it: with the seqs of its latest visitor messages. */
export interface PageEntry {
  conv: Conv
  visitorSeqs?: number[]
}

export interface InboxMessage {
  id: string
  seq: number
  senderType: SenderType
}

export type Filter = 'waiting' | 'mine' | 'bot' | 'open' | 'closed'
export const FILTERS: Filter[] = ['waiting', 'mine', 'bot', 'open', 'closed']

export interface PageState {
  /** endCursor of the last page loaded, for "Load older". */
  cursor: string | null
  hasMore: boolean
  /** The server's count of this filter when it was last loaded. */
  total: number | null
}

export interface InboxState {
  me: string
  convs: Record<string, Conv>
  /** Seqs of each conversation's visitor messages we know of, ascending (the latest MAX_SEQS). */
  visitorSeqs: Record<string, number[]>
  /** The seq this agent last read up to, per conversation. */
  lastRead: Record<string, number>
  /** Pagination per list key (a filter, or a filter and a search). */
  pages: Record<string, PageState>
  /** Agents' names by id, from every conversation seen. */
  names: Record<string, string>
  /** Server counts per filter (refreshed after changes). */
  counts: Partial<Record<Filter, number>>
}

export type InboxEventKind = 'CONVERSATION_CREATED' | 'CONVERSATION_UPDATED' | 'MESSAGE_CREATED'

export type InboxAction =
  | { type: 'page'; key: string; entries: PageEntry[]; cursor: string | null; hasMore: boolean; total?: number | null; mode: 'replace' | 'append' | 'refresh' }
  | { type: 'details'; entries: PageEntry[] }
  | { type: 'event'; kind: InboxEventKind; conversation: Conv; message?: InboxMessage | null }
  | { type: 'upsert'; conv: Conv }
  | { type: 'read'; id: string; seq: number }
  | { type: 'readSync'; lastRead: Record<string, number> }
  | { type: 'counts'; counts: Partial<Record<Filter, number>> }

const MAX_SEQS = 50

export function initialInbox(me: string, lastRead: Record<string, number> = {}): InboxState {
  return { me, convs: {}, visitorSeqs: {}, lastRead, pages: {}, names: {}, counts: {} }
}

export function inFilter(c: Conv, f: Filter, me: string): boolean {
  switch (f) {
    case 'waiting':
      return c.status === 'WAITING_HUMAN'
    case 'mine':
      return c.status !== 'CLOSED' && !!c.assigneeID && c.assigneeID === me
    case 'bot':
      return c.status === 'BOT'
    case 'open':
      return c.status !== 'CLOSED'
    case 'closed':
      return c.status === 'CLOSED'
  }
}

/** Whether incoming is at least as new as existing (later updates win; a stale page never rolls an event back). */
function isNewer(incoming: Conv, existing: Conv): boolean {
  const u = cmpTime(incoming.updatedAt, existing.updatedAt)
  if (u !== 0) return u > 0
  return cmpTime(incoming.lastMessageAt, existing.lastMessageAt) >= 0
}

/** incoming merged over existing: edges the source did not load are kept when they still apply. */
export function mergeConv(existing: Conv | undefined, incoming: Conv, names: Record<string, string> = {}): Conv {
  if (existing && !isNewer(incoming, existing)) {
    // Older than what we have; it may still bring edges we lack.
    if (existing.visitor === undefined && incoming.visitor !== undefined && incoming.visitorID === existing.visitorID) {
      return { ...existing, visitor: incoming.visitor }
    }
    return existing
  }
  const out: Conv = { ...incoming }
  if (out.visitor === undefined && existing?.visitor && existing.visitorID === out.visitorID) out.visitor = existing.visitor
  if (out.assignee === undefined) {
    if (!out.assigneeID) out.assignee = null
    else if (existing?.assignee && existing.assignee.id === out.assigneeID) out.assignee = existing.assignee
    else if (names[out.assigneeID]) out.assignee = { id: out.assigneeID, fullName: names[out.assigneeID] }
  }
  return out
}

function addSeqs(list: number[] | undefined, seqs: number[]): number[] {
  const set = new Set(list ?? [])
  let changed = false
  for (const s of seqs) {
    if (!set.has(s)) {
      set.add(s)
      changed = true
    }
  }
  if (!changed && list) return list
  return [...set].sort((a, b) => a - b).slice(-MAX_SEQS)
}

function withConvs(state: InboxState, entries: PageEntry[]): InboxState {
  if (entries.length === 0) return state
  const convs = { ...state.convs }
  const names = { ...state.names }
  const visitorSeqs = { ...state.visitorSeqs }
  for (const { conv } of entries) if (conv.assignee) names[conv.assignee.id] = conv.assignee.fullName
  for (const { conv, visitorSeqs: seqs } of entries) {
    convs[conv.id] = mergeConv(convs[conv.id], conv, names)
    if (seqs && seqs.length) visitorSeqs[conv.id] = addSeqs(visitorSeqs[conv.id], seqs)
  }
  return { ...state, convs, names, visitorSeqs }
}

export function inboxReducer(state: InboxState, a: InboxAction): InboxState {
  switch (a.type) {
    case 'page': {
      const s = withConvs(state, a.entries)
      const prev = s.pages[a.key]
      let page: PageState
      if (a.mode === 'append') page = { cursor: a.cursor, hasMore: a.hasMore, total: a.total ?? prev?.total ?? null }
      else if (a.mode === 'refresh' && prev && a.hasMore) {
        // Older pages may be loaded already: "Load older" goes on from where they ended.
        page = { cursor: prev.cursor ?? a.cursor, hasMore: true, total: a.total ?? prev.total }
      } else page = { cursor: a.cursor, hasMore: a.hasMore, total: a.total ?? null }
      const counts = { ...s.counts }
      if (a.total != null && (FILTERS as string[]).includes(a.key)) counts[a.key as Filter] = a.total
      return { ...s, pages: { ...s.pages, [a.key]: page }, counts }
    }
    case 'details':
      return withConvs(state, a.entries)
    case 'upsert':
      return withConvs(state, [{ conv: a.conv }])
    case 'event': {
      const seqs = a.kind === 'MESSAGE_CREATED' && a.message?.senderType === 'VISITOR' ? [a.message.seq] : undefined
      return withConvs(state, [{ conv: a.conversation, visitorSeqs: seqs }])
    }
    case 'read': {
      if ((state.lastRead[a.id] ?? 0) >= a.seq) return state
      return { ...state, lastRead: { ...state.lastRead, [a.id]: a.seq } }
    }
    case 'readSync': {
      let changed = false
      const lastRead = { ...state.lastRead }
      for (const [id, seq] of Object.entries(a.lastRead)) {
        if ((lastRead[id] ?? 0) < seq) {
          lastRead[id] = seq
          changed = true
        }
      }
      return changed ? { ...state, lastRead } : state
    }
    case 'counts':
      return { ...state, counts: { ...state.counts, ...a.counts } }
  }
}

/** Newest activity first (then the id, so the order is stable). */
export function byActivity(a: Conv, b: Conv): number {
  return cmpTime(b.lastMessageAt, a.lastMessageAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

export function visitorLabel(c: Pick<Conv, 'visitorID' | 'visitor'>): string {
  return c.visitor?.name?.trim() || `Visitor ${c.visitorID.replace(/-/g, '').slice(0, 6)}`
}

export function matchesSearch(c: Conv, q: string): boolean {
  const t = q.trim().toLowerCase()
  if (!t) return true
  return [c.visitor?.name, c.visitor?.email, c.lastMessagePreview, visitorLabel(c)].some((s) => !!s && s.toLowerCase().includes(t))
}

/** The conversations of a filter (and search), newest activity first. */
export function listFor(state: InboxState, f: Filter, q = ''): Conv[] {
  return Object.values(state.convs)
    .filter((c) => inFilter(c, f, state.me) && matchesSearch(c, q))
    .sort(byActivity)
}

/** Whether every conversation of the filter is in the store (its count can be taken from it). */
export function isComplete(state: InboxState, f: Filter): boolean {
  const done = (k: string) => state.pages[k] !== undefined && !state.pages[k].hasMore
  if (done(f)) return true
  return f !== 'closed' && done('open')
}

/** How many conversations a filter holds: counted in the store when it holds them all, else the server's count. */
export function countFor(state: InboxState, f: Filter): number {
  const local = Object.values(state.convs).filter((c) => inFilter(c, f, state.me)).length
  if (isComplete(state, f)) return local
  return Math.max(local, state.counts[f] ?? 0)
}

export function unreadCount(state: InboxState, id: string): number {
  const seqs = state.visitorSeqs[id]
  if (!seqs) return 0
  const read = state.lastRead[id] ?? 0
  let n = 0
  for (let i = seqs.length - 1; i >= 0 && seqs[i] > read; i--) n++
  return n
}

/** Unread visitor messages over the open conversations. */
export function totalUnread(state: InboxState): number {
  let n = 0
  for (const c of Object.values(state.convs)) if (c.status !== 'CLOSED') n += unreadCount(state, c.id)
  return n
}

/** Conversations whose visitor or assignee is unknown (came from an event): to be loaded by id. */
export function missingDetails(state: InboxState): string[] {
  return Object.values(state.convs)
    .filter((c) => c.visitor === undefined || (!!c.assigneeID && !c.assignee))
    .map((c) => c.id)
}
