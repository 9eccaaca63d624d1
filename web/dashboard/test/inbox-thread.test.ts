import { describe, expect, it } from 'vitest'
import {
  botAnswering,
  initialThread,
  lastSeq,
  lastStoredId,
  threadReducer,
  typingText,
  TYPING_TTL,
  type Msg,
  type ThreadAction,
  type ThreadEvent,
  type ThreadState,
} from '../src/inbox/thread'
import { groupMessages } from '../src/inbox/groups'

const T0 = Date.parse('2026-03-01T10:00:00Z')

function msg(seq: number, over: Partial<Msg> = {}): Msg {
  return {
    id: `m${seq}`,
    seq,
    senderType: 'VISITOR',
    senderName: 'Maria',
    body: `message ${seq}`,
    createdAt: new Date(T0 + seq * 1000).toISOString(),
    clientMessageID: null,
    citations: [],
    ...over,
  }
}

const ev = (event: ThreadEvent, now = T0): ThreadAction => ({ type: 'event', event, now, myName: 'Sam Agent' })
const created = (m: Msg) => ev({ kind: 'MESSAGE_CREATED', message: m })

function run(state: ThreadState, ...actions: ThreadAction[]): ThreadState {
  return actions.reduce(threadReducer, state)
}

const seqs = (s: ThreadState) => s.messages.map((m) => m.seq)

describe('conversation thread reducer', () => {
  it('loads a page, then live messages, in seq order', () => {
    let s = run(initialThread, { type: 'loaded', messages: [msg(1), msg(2)], hasEarlier: true, cursor: 'c1', status: 'BOT' })
    expect(seqs(s)).toEqual([1, 2])
    expect(s.earlier).toEqual({ hasMore: true, cursor: 'c1' })
    expect(lastStoredId(s)).toBe('m2')
    s = run(s, created(msg(4)), created(msg(3)))
    expect(seqs(s)).toEqual([1, 2, 3, 4])
    expect(lastSeq(s)).toBe(4)
  })

  it('a replay after a reconnect does not duplicate anything', () => {
    let s = run(initialThread, { type: 'loaded', messages: [msg(1), msg(2)], hasEarlier: false, cursor: null }, created(msg(3)), created(msg(4)))
    // graphql-ws resubscribes with the original `after` (m2): 3 and 4 come again, then 5, missed during the break.
    s = run(s, created(msg(3)), created(msg(4)), created(msg(5)))
    expect(seqs(s)).toEqual([1, 2, 3, 4, 5])
    expect(new Set(s.messages.map((m) => m.id)).size).toBe(5)
  })

  it('older pages are merged in front, without duplicates', () => {
    let s = run(initialThread, { type: 'loaded', messages: [msg(5), msg(6)], hasEarlier: true, cursor: 'c5' })
    s = run(s, { type: 'earlier', messages: [msg(3), msg(4), msg(5)], hasEarlier: false, cursor: 'c3' })
    expect(seqs(s)).toEqual([3, 4, 5, 6])
    expect(s.earlier.hasMore).toBe(false)
  })

  it('deltas accumulate into a draft, and MESSAGE_COMPLETED replaces it with the stored reply', () => {
    let s = run(
      initialThread,
      { type: 'loaded', messages: [msg(1)], hasEarlier: false, cursor: null, status: 'BOT' },
      ev({ kind: 'MESSAGE_DELTA', messageID: 'r1', delta: 'To reset ' }),
      ev({ kind: 'MESSAGE_DELTA', messageID: 'r1', delta: 'your password' }),
    )
    expect(s.drafts).toEqual([{ id: 'r1', body: 'To reset your password' }])
    expect(botAnswering(s, 'BOT', T0 + 2000)).toBe(false) // the draft shows it

    const reply = msg(2, {
      id: 'r1',
      senderType: 'BOT',
      senderName: 'Assistant',
      body: 'To reset your password, open Settings. [1]',
      citations: [{ title: 'Help', snippet: 'Open Settings', score: 0.9, url: null, page: null }],
    })
    s = run(s, ev({ kind: 'MESSAGE_COMPLETED', message: reply }))
    expect(s.drafts).toEqual([])
    expect(s.messages.map((m) => m.id)).toEqual(['m1', 'r1'])
    expect(s.messages[1].citations).toHaveLength(1)

    // A delta that arrives late does not open a new draft.
    s = run(s, ev({ kind: 'MESSAGE_DELTA', messageID: 'r1', delta: ' extra' }))
    expect(s.drafts).toEqual([])
    expect(s.messages[1].body).toBe('To reset your password, open Settings. [1]')
  })

  it('a replayed MESSAGE_CREATED of a streamed reply also ends its draft', () => {
    let s = run(initialThread, ev({ kind: 'MESSAGE_DELTA', messageID: 'r1', delta: 'Half a' }))
    s = run(s, created(msg(2, { id: 'r1', senderType: 'BOT', body: 'Half an answer, whole.' })))
    expect(s.drafts).toEqual([])
    expect(s.messages).toHaveLength(1)
  })

  it('a reply under way when we joined (or during a break) is marked as maybe missing its start', () => {
    // Opened while the assistant was writing: deltas are not replayed.
    let s = run(initialThread, { type: 'loaded', messages: [msg(1)], hasEarlier: false, cursor: null, now: T0 })
    s = run(s, ev({ kind: 'MESSAGE_DELTA', messageID: 'r1', delta: 'working days.' }, T0 + 300))
    expect(s.drafts).toEqual([{ id: 'r1', body: 'working days.', partial: true }])
    s = run(s, ev({ kind: 'MESSAGE_COMPLETED', message: msg(2, { id: 'r1', senderType: 'BOT', body: 'It takes three to five working days.' }) }))

    // A new visitor message, seen live: its reply is seen from its start.
    s = run(s, created(msg(3)), ev({ kind: 'MESSAGE_DELTA', messageID: 'r2', delta: 'Sure' }, T0 + 1000))
    expect(s.drafts).toEqual([{ id: 'r2', body: 'Sure' }])

    // A break: what was being written has a gap; what starts right after may too.
    s = run(s, { type: 'reconnected', now: T0 + 5000 })
    expect(s.drafts[0].partial).toBe(true)
    s = run(s, ev({ kind: 'MESSAGE_DELTA', messageID: 'r3', delta: 'later words' }, T0 + 5200))
    expect(s.drafts[1].partial).toBe(true)
    // The replay of a message we have is not news.
    s = run(s, created(msg(3)), ev({ kind: 'MESSAGE_DELTA', messageID: 'r4', delta: 'x' }, T0 + 5300))
    expect(s.drafts[2].partial).toBe(true)
    // Long after joining, a first delta is a reply's first.
    s = run(s, ev({ kind: 'MESSAGE_DELTA', messageID: 'r5', delta: 'Hello' }, T0 + 5000 + 60_000))
    expect(s.drafts[3].partial).toBeUndefined()
  })

  it('STATUS_CHANGED drops open drafts (a takeover cuts the reply short)', () => {
    let s = run(
      initialThread,
      ev({ kind: 'MESSAGE_DELTA', messageID: 'r1', delta: 'The answer is' }),
      ev({ kind: 'MESSAGE_DELTA', messageID: 'r2', delta: 'Another' }),
    )
    expect(s.drafts).toHaveLength(2)
    s = run(s, ev({ kind: 'STATUS_CHANGED', conversation: { status: 'HUMAN' } }))
    expect(s.drafts).toEqual([])
    expect(s.status).toBe('HUMAN')
  })

  it('shows a message as pending at once and reconciles it with the server by clientMessageID', () => {
    let s = run(initialThread, { type: 'loaded', messages: [msg(1)], hasEarlier: false, cursor: null })
    s = run(s, { type: 'send', clientMessageID: 'cm-1', body: 'Hello!', now: T0 })
    expect(s.pending).toMatchObject([{ clientMessageID: 'cm-1', body: 'Hello!', state: 'sending' }])

    // The server's MESSAGE_CREATED comes before the mutation's answer.
    const stored = msg(2, { id: 'srv-2', senderType: 'AGENT', senderName: 'Sam Agent', body: 'Hello!', clientMessageID: 'cm-1' })
    s = run(s, created(stored))
    expect(s.pending).toEqual([])
    expect(s.messages.map((m) => m.id)).toEqual(['m1', 'srv-2'])
    // Then the mutation's answer: still one copy.
    s = run(s, { type: 'sent', clientMessageID: 'cm-1', message: stored })
    expect(s.messages).toHaveLength(2)
    expect(s.pending).toEqual([])
  })

  it('a failed send stays as "not sent" and a retry keeps the same clientMessageID', () => {
    let s = run(initialThread, { type: 'send', clientMessageID: 'cm-9', body: 'Are you there?', now: T0 })
    s = run(s, { type: 'failed', clientMessageID: 'cm-9', error: 'The server cannot be reached.' })
    expect(s.pending).toMatchObject([{ clientMessageID: 'cm-9', state: 'failed', error: 'The server cannot be reached.' }])
    s = run(s, { type: 'retry', clientMessageID: 'cm-9' })
    expect(s.pending).toMatchObject([{ clientMessageID: 'cm-9', state: 'sending' }])
    expect(s.pending[0].error).toBeUndefined()
    // Sending the same id twice does not show it twice.
    s = run(s, { type: 'send', clientMessageID: 'cm-9', body: 'Are you there?', now: T0 })
    expect(s.pending).toHaveLength(1)
    s = run(s, { type: 'sent', clientMessageID: 'cm-9', message: msg(1, { id: 'x', senderType: 'AGENT', clientMessageID: 'cm-9' }) })
    expect(s.pending).toEqual([])
    expect(s.messages).toHaveLength(1)
  })

  it('typing turns on and off, expires, and my own echo is ignored', () => {
    let s = run(initialThread, ev({ kind: 'TYPING', typing: { senderType: 'VISITOR', name: null, typing: true } }, T0))
    expect(typingText(s, 'Maria Lopez')).toBe('Maria Lopez is typing…')
    s = run(s, ev({ kind: 'TYPING', typing: { senderType: 'VISITOR', name: null, typing: false } }, T0 + 1000))
    expect(typingText(s, 'Maria Lopez')).toBeNull()

    // My own setTyping comes back: not shown. A colleague's is.
    s = run(s, ev({ kind: 'TYPING', typing: { senderType: 'AGENT', name: 'Sam Agent', typing: true } }))
    expect(typingText(s, 'Maria')).toBeNull()
    s = run(s, ev({ kind: 'TYPING', typing: { senderType: 'AGENT', name: 'Bea', typing: true } }))
    expect(typingText(s, 'Maria')).toBe('Bea is typing…')

    // The visitor types, then their message arrives: typing stops.
    s = run(s, ev({ kind: 'TYPING', typing: { senderType: 'VISITOR', typing: true } }, T0 + 2000))
    expect(typingText(s, 'Maria')).toBe('Maria and Bea are typing…')
    s = run(s, created(msg(1)))
    expect(typingText(s, 'Maria')).toBe('Bea is typing…')

    // Without news, typing goes after TYPING_TTL.
    s = run(s, { type: 'expireTyping', now: T0 + TYPING_TTL - 1 })
    expect(typingText(s, 'Maria')).toBe('Bea is typing…')
    s = run(s, { type: 'expireTyping', now: T0 + TYPING_TTL })
    expect(typingText(s, 'Maria')).toBeNull()
  })

  it('the assistant is "answering" right after a visitor message while the bot has the conversation', () => {
    const s = run(initialThread, { type: 'loaded', messages: [msg(1)], hasEarlier: false, cursor: null })
    const t = Date.parse(s.messages[0].createdAt)
    expect(botAnswering(s, 'BOT', t + 1000)).toBe(true)
    expect(botAnswering(s, 'HUMAN', t + 1000)).toBe(false)
    expect(botAnswering(s, 'BOT', t + 60_000)).toBe(false)
  })
})

describe('message groups', () => {
  it('groups consecutive messages of one sender, with system notes apart', () => {
    const items = groupMessages(
      [
        msg(1),
        msg(2),
        msg(3, { senderType: 'BOT', senderName: 'Assistant' }),
        msg(4, { senderType: 'SYSTEM', senderName: null }),
        msg(5, { senderType: 'AGENT', senderName: 'Sam' }),
        msg(6, { senderType: 'AGENT', senderName: 'Bea' }),
        msg(7, { createdAt: new Date(T0 + 7000 + 10 * 60_000).toISOString() }),
        msg(8, { createdAt: new Date(T0 + 8000 + 10 * 60_000).toISOString() }),
        // Ten minutes later: a new group, although the sender is the same.
        msg(9, { createdAt: new Date(T0 + 9000 + 20 * 60_000).toISOString() }),
      ],
      T0,
    )
    const shape = items.map((it) => (it.type === 'group' ? `${it.senderType}:${it.msgs.map((m) => m.seq).join(',')}` : it.type))
    expect(shape).toEqual(['day', 'VISITOR:1,2', 'BOT:3', 'system', 'AGENT:5', 'AGENT:6', 'VISITOR:7,8', 'VISITOR:9'])
  })
})
