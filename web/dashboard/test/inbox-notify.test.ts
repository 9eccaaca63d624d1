import { describe, expect, it, vi } from 'vitest'
import { alertText, decideAlert, titleFor } from '../src/inbox/notify'
import { countFor, inboxReducer, initialInbox, type Conv } from '../src/inbox/reducer'
import { TypingSignal, type TypingClock } from '../src/inbox/typing'

const ME = 'me-1'

function conv(over: Partial<Conv> = {}): Conv {
  return {
    id: 'c1',
    status: 'BOT',
    createdAt: '2026-03-01T10:00:00Z',
    updatedAt: '2026-03-01T10:00:00Z',
    lastMessageAt: '2026-03-01T10:00:00Z',
    lastMessagePreview: 'I need a person',
    visitorID: 'v1',
    assigneeID: null,
    visitor: { id: 'v1', name: 'Maria Lopez' },
    ...over,
  }
}

const ctx = { me: ME, viewing: null }
const kind = (a: ReturnType<typeof decideAlert>) => a?.kind ?? null

describe('notification decision', () => {
  it('a conversation that starts waiting for a human calls for attention', () => {
    expect(kind(decideAlert(conv(), conv({ status: 'WAITING_HUMAN' }), null, ctx))).toBe('waiting')
    // A brand-new conversation that is waiting already (unknown before).
    expect(kind(decideAlert(undefined, conv({ status: 'WAITING_HUMAN' }), null, ctx))).toBe('waiting')
    // Assigned to a colleague: everyone is still told it waits.
    expect(kind(decideAlert(conv(), conv({ status: 'WAITING_HUMAN', assigneeID: 'other' }), null, ctx))).toBe('waiting')
  })

  it('a waiting conversation given to me calls again, once', () => {
    const waiting = conv({ status: 'WAITING_HUMAN' })
    const mine = conv({ status: 'WAITING_HUMAN', assigneeID: ME })
    expect(kind(decideAlert(waiting, mine, null, ctx))).toBe('assigned')
    expect(kind(decideAlert(mine, mine, null, ctx))).toBeNull()
    // Given to a colleague while it waits: not for me.
    expect(kind(decideAlert(waiting, conv({ status: 'WAITING_HUMAN', assigneeID: 'other' }), null, ctx))).toBeNull()
  })

  it('the messages of a conversation that waits already do not beep again', () => {
    const waiting = conv({ status: 'WAITING_HUMAN' })
    expect(decideAlert(waiting, waiting, { id: 'm', seq: 3, senderType: 'VISITOR' }, ctx)).toBeNull()
    expect(decideAlert(conv(), conv(), { id: 'm', seq: 3, senderType: 'VISITOR' }, ctx)).toBeNull() // the bot's conversation
  })

  it('a visitor writing in a conversation I handle calls for attention, unless I am looking at it', () => {
    const mine = conv({ status: 'HUMAN', assigneeID: ME })
    const visitorMsg = { id: 'm', seq: 4, senderType: 'VISITOR' as const }
    expect(kind(decideAlert(mine, mine, visitorMsg, ctx))).toBe('message')
    expect(decideAlert(mine, mine, { ...visitorMsg, senderType: 'AGENT' }, ctx)).toBeNull()
    expect(decideAlert(mine, mine, visitorMsg, { me: ME, viewing: 'c1' })).toBeNull()
    const theirs = conv({ status: 'HUMAN', assigneeID: 'other' })
    expect(decideAlert(theirs, theirs, visitorMsg, ctx)).toBeNull()
  })

  it('nothing for the conversation on screen, or for changes that do not call for a human', () => {
    expect(decideAlert(conv(), conv({ status: 'WAITING_HUMAN' }), null, { me: ME, viewing: 'c1' })).toBeNull()
    expect(decideAlert(conv({ status: 'WAITING_HUMAN' }), conv({ status: 'HUMAN', assigneeID: ME }), null, ctx)).toBeNull()
    expect(decideAlert(conv({ status: 'HUMAN' }), conv({ status: 'CLOSED' }), null, ctx)).toBeNull()
    expect(decideAlert(conv({ status: 'HUMAN' }), conv({ status: 'BOT' }), null, ctx)).toBeNull()
  })

  it('the title carries the waiting count, which follows the events', () => {
    expect(titleFor(0)).toBe('Concierge')
    expect(titleFor(2)).toBe('(2) Waiting · Concierge')
    let s = inboxReducer(initialInbox(ME), { type: 'page', key: 'waiting', entries: [], cursor: null, hasMore: false, total: 0, mode: 'replace' })
    expect(titleFor(countFor(s, 'waiting'))).toBe('Concierge')
    s = inboxReducer(s, { type: 'event', kind: 'CONVERSATION_UPDATED', conversation: conv({ status: 'WAITING_HUMAN' }) })
    s = inboxReducer(s, { type: 'event', kind: 'CONVERSATION_CREATED', conversation: conv({ id: 'c2', status: 'WAITING_HUMAN' }) })
    expect(titleFor(countFor(s, 'waiting'))).toBe('(2) Waiting · Concierge')
    s = inboxReducer(s, { type: 'event', kind: 'CONVERSATION_UPDATED', conversation: conv({ status: 'HUMAN', assigneeID: ME, updatedAt: '2026-03-01T10:01:00Z' }) })
    expect(titleFor(countFor(s, 'waiting'))).toBe('(1) Waiting · Concierge')
  })

  it('says who waits in the notification', () => {
    const t = alertText({ kind: 'waiting', conv: conv({ status: 'WAITING_HUMAN' }) })
    expect(t.title).toBe('Maria Lopez is waiting for a human')
    expect(t.body).toBe('I need a person')
  })
})

function fakeClock() {
  let now = 0
  let timers: { at: number; f: () => void; id: number }[] = []
  let next = 1
  const clock: TypingClock = {
    now: () => now,
    setTimeout: (f, ms) => {
      const id = next++
      timers.push({ at: now + ms, f, id })
      return id
    },
    clearTimeout: (id) => {
      timers = timers.filter((t) => t.id !== id)
    },
  }
  const advance = (ms: number) => {
    const until = now + ms
    for (;;) {
      const due = timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0]
      if (!due) break
      now = due.at
      timers = timers.filter((t) => t !== due)
      due.f()
    }
    now = until
  }
  return { clock, advance }
}

describe('typing signal', () => {
  it('says typing at most every 3 s while keys are pressed, and stops after 4 s idle', () => {
    const { clock, advance } = fakeClock()
    const send = vi.fn()
    const sig = new TypingSignal(send, { every: 3000, idle: 4000 }, clock)
    sig.input('H')
    expect(send.mock.calls).toEqual([[true]])
    for (let i = 0; i < 10; i++) {
      advance(500)
      sig.input('Hello'.slice(0, 1 + (i % 5)))
    }
    // 5 s of typing: true at 0 and at 3 s.
    expect(send.mock.calls).toEqual([[true], [true]])
    advance(3999)
    expect(send.mock.calls).toHaveLength(2)
    advance(1)
    expect(send.mock.calls).toEqual([[true], [true], [false]])
    // Nothing more after it stopped.
    advance(10_000)
    expect(send.mock.calls).toHaveLength(3)
  })

  it('stops at once on send or when the text is emptied, and only once', () => {
    const { clock, advance } = fakeClock()
    const send = vi.fn()
    const sig = new TypingSignal(send, { every: 3000, idle: 4000 }, clock)
    sig.input('Hi')
    sig.stop() // sent
    sig.stop()
    expect(send.mock.calls).toEqual([[true], [false]])
    advance(5000)
    expect(send.mock.calls).toHaveLength(2)
    sig.input('a')
    sig.input('')
    expect(send.mock.calls).toEqual([[true], [false], [true], [false]])
    // Whitespace is not typing.
    sig.input('   ')
    expect(send.mock.calls).toHaveLength(4)
  })
})
