// One conversation's messages as a pure reducer: the stored messages (one
// per id, in seq order, whatever replays or pages bring them again), the
// assistant's replies as they stream (drafts keyed by message id), the
// agent's messages on their way (pending, reconciled by clientMessageID),
// and who is typing.
import type { SenderType, Status } from './reducer'

export interface Citation {
  title: string
  url?: string | null
  page?: number | null
  snippet: string
  score: number
  resource?: { id: string; title: string } | null
}

export interface Msg {
  id: string
  seq: number
  senderType: SenderType
  senderName?: string | null
  body: string
  createdAt: string
  clientMessageID?: string | null
  outcome?: 'ANSWERED' | 'DECLINED' | 'FAILED' | null
  confidence?: number | null
  citations?: Citation[]
}

export interface Draft {
  id: string
  body: string
  /** Its beginning may be missing: it was under way before we followed the conversation (or during a break). */
  partial?: boolean
}

export interface Pending {
  clientMessageID: string
  body: string
  createdAt: string
  state: 'sending' | 'failed'
  error?: string
}

export type TypingSender = 'VISITOR' | 'AGENT' | 'BOT'

export interface TypingState {
  name: string | null
  at: number
}

export interface ThreadState {
  messages: Msg[]
  drafts: Draft[]
  pending: Pending[]
  typing: Partial<Record<TypingSender, TypingState>>
  /** Whether older messages exist before the first one loaded, and the cursor to load them. */
  earlier: { hasMore: boolean; cursor: string | null }
  loaded: boolean
  status: Status | null
  /** When we started (or resumed, after a break) following the conversation. */
  joinedAt: number | null
  /** Whether a new visitor message arrived since joinedAt (a reply to it is seen from its start). */
  freshSinceJoin: boolean
}

export type ThreadEventKind = 'MESSAGE_CREATED' | 'MESSAGE_DELTA' | 'MESSAGE_COMPLETED' | 'TYPING' | 'STATUS_CHANGED'

export interface ThreadEvent {
  kind: ThreadEventKind
  conversation?: { status: Status } | null
  message?: Msg | null
  messageID?: string | null
  delta?: string | null
  typing?: { senderType: SenderType; name?: string | null; typing: boolean } | null
}

export type ThreadAction =
  | { type: 'loaded'; messages: Msg[]; hasEarlier: boolean; cursor: string | null; status?: Status | null; now?: number }
  | { type: 'earlier'; messages: Msg[]; hasEarlier: boolean; cursor: string | null }
  | { type: 'event'; event: ThreadEvent; now: number; myName?: string | null }
  | { type: 'send'; clientMessageID: string; body: string; now: number }
  | { type: 'sent'; clientMessageID: string; message: Msg }
  | { type: 'failed'; clientMessageID: string; error: string }
  | { type: 'retry'; clientMessageID: string }
  | { type: 'expireTyping'; now: number }
  | { type: 'reconnected'; now: number }

/** How long a "typing" lasts without news (the other side may have gone). */
export const TYPING_TTL = 10_000

/**
 * Deltas are not replayed: a reply first seen this soon after joining,
 * with no new visitor message since, may have begun before we listened.
 */
export const JOIN_WINDOW = 15_000

export const initialThread: ThreadState = {
  messages: [],
  drafts: [],
  pending: [],
  typing: {},
  earlier: { hasMore: false, cursor: null },
  loaded: false,
  status: null,
  joinedAt: null,
  freshSinceJoin: false,
}

/** messages with ms merged in: one per id (the later copy wins), ordered by seq. */
export function mergeMessages(messages: Msg[], ms: Msg[]): Msg[] {
  if (ms.length === 0) return messages
  const byId = new Map(messages.map((m) => [m.id, m]))
  for (const m of ms) byId.set(m.id, m)
  return [...byId.values()].sort((a, b) => a.seq - b.seq)
}

function settle(state: ThreadState, ms: Msg[]): ThreadState {
  const ids = new Set(ms.map((m) => m.id))
  const cmids = new Set(ms.map((m) => m.clientMessageID).filter((x): x is string => !!x))
  const drafts = state.drafts.some((d) => ids.has(d.id)) ? state.drafts.filter((d) => !ids.has(d.id)) : state.drafts
  const pending = state.pending.some((p) => cmids.has(p.clientMessageID))
    ? state.pending.filter((p) => !cmids.has(p.clientMessageID))
    : state.pending
  return { ...state, messages: mergeMessages(state.messages, ms), drafts, pending }
}

function withoutTyping(t: ThreadState['typing'], who: TypingSender): ThreadState['typing'] {
  if (!t[who]) return t
  const next = { ...t }
  delete next[who]
  return next
}

export function threadReducer(state: ThreadState, a: ThreadAction): ThreadState {
  switch (a.type) {
    case 'loaded': {
      const s = settle(state, a.messages)
      return {
        ...s,
        earlier: { hasMore: a.hasEarlier, cursor: a.cursor },
        loaded: true,
        status: a.status ?? s.status,
        joinedAt: state.joinedAt ?? a.now ?? null,
      }
    }
    case 'reconnected':
      // Deltas sent during the break are lost: the drafts have gaps.
      return {
        ...state,
        drafts: state.drafts.map((d) => ({ ...d, partial: true })),
        typing: {},
        joinedAt: a.now,
        freshSinceJoin: false,
      }
    case 'earlier': {
      const s = settle(state, a.messages)
      return { ...s, earlier: { hasMore: a.hasEarlier, cursor: a.cursor } }
    }
    case 'event':
      return onEvent(state, a.event, a.now, a.myName ?? null)
    case 'send':
      if (state.pending.some((p) => p.clientMessageID === a.clientMessageID)) return state
      return {
        ...state,
        pending: [...state.pending, { clientMessageID: a.clientMessageID, body: a.body, createdAt: new Date(a.now).toISOString(), state: 'sending' }],
      }
    case 'sent':
      return settle(state, [a.message])
    case 'failed':
      return {
        ...state,
        pending: state.pending.map((p) => (p.clientMessageID === a.clientMessageID ? { ...p, state: 'failed', error: a.error } : p)),
      }
    case 'retry':
      return {
        ...state,
        pending: state.pending.map((p) => (p.clientMessageID === a.clientMessageID ? { ...p, state: 'sending', error: undefined } : p)),
      }
    case 'expireTyping': {
      let typing = state.typing
      for (const k of Object.keys(typing) as TypingSender[]) {
        if (a.now - typing[k]!.at >= TYPING_TTL) typing = withoutTyping(typing, k)
      }
      return typing === state.typing ? state : { ...state, typing }
    }
  }
}

function onEvent(state: ThreadState, e: ThreadEvent, now: number, myName: string | null): ThreadState {
  switch (e.kind) {
    case 'MESSAGE_CREATED':
    case 'MESSAGE_COMPLETED': {
      if (!e.message) return state
      const known = state.messages.some((m) => m.id === e.message!.id)
      const s = settle(state, [e.message])
      const who = e.message.senderType
      const fresh = s.freshSinceJoin || (who === 'VISITOR' && !known)
      return who === 'SYSTEM' ? { ...s, freshSinceJoin: fresh } : { ...s, typing: withoutTyping(s.typing, who), freshSinceJoin: fresh }
    }
    case 'MESSAGE_DELTA': {
      const id = e.messageID
      if (!id || !e.delta) return state
      if (state.messages.some((m) => m.id === id)) return state // completed already (a late delta)
      const i = state.drafts.findIndex((d) => d.id === id)
      const partial = !state.freshSinceJoin && state.joinedAt !== null && now - state.joinedAt < JOIN_WINDOW
      const drafts =
        i < 0
          ? [...state.drafts, partial ? { id, body: e.delta, partial } : { id, body: e.delta }]
          : state.drafts.map((d, j) => (j === i ? { ...d, body: d.body + e.delta } : d))
      return { ...state, drafts, typing: withoutTyping(state.typing, 'BOT') }
    }
    case 'TYPING': {
      const t = e.typing
      if (!t || t.senderType === 'SYSTEM') return state
      const who = t.senderType as TypingSender
      // My own typing comes back to me: it is not news.
      if (who === 'AGENT' && myName && t.name === myName) return state
      if (!t.typing) return { ...state, typing: withoutTyping(state.typing, who) }
      return { ...state, typing: { ...state.typing, [who]: { name: t.name ?? null, at: now } } }
    }
    case 'STATUS_CHANGED':
      // A takeover cuts the assistant short: its reply never completes.
      return { ...state, drafts: [], typing: withoutTyping(state.typing, 'BOT'), status: e.conversation?.status ?? state.status }
  }
}

/** The last stored message's id: where a new subscription picks up. */
export function lastStoredId(s: ThreadState): string | null {
  return s.messages.length ? s.messages[s.messages.length - 1].id : null
}

export function lastSeq(s: ThreadState): number {
  return s.messages.length ? s.messages[s.messages.length - 1].seq : 0
}

/** "Visitor is typing…" and the like, for the line above the composer. */
export function typingText(s: ThreadState, visitorName: string): string | null {
  const parts: string[] = []
  if (s.typing.VISITOR) parts.push(s.typing.VISITOR.name || visitorName)
  if (s.typing.AGENT) parts.push(s.typing.AGENT.name || 'A colleague')
  if (s.typing.BOT) parts.push(s.typing.BOT.name || 'The assistant')
  if (parts.length === 0) return null
  return `${parts.join(' and ')} ${parts.length > 1 ? 'are' : 'is'} typing…`
}

/** Whether the assistant is about to answer: the visitor spoke last, very recently, and the bot has the conversation. */
export function botAnswering(s: ThreadState, status: Status | null, now: number): boolean {
  if (status !== 'BOT' || s.drafts.length > 0) return false
  const last = s.messages[s.messages.length - 1]
  return !!last && last.senderType === 'VISITOR' && now - Date.parse(last.createdAt) < 30_000
}
