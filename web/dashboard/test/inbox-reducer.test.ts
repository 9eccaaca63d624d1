import { describe, expect, it } from 'vitest'
import {
  countFor,
  inboxReducer,
  initialInbox,
  inFilter,
  isComplete,
  listFor,
  mergeConv,
  missingDetails,
  totalUnread,
  unreadCount,
  type Conv,
  type InboxAction,
  type InboxState,
} from '../src/inbox/reducer'
import { cmpTime, relTime, timeKey } from '../src/inbox/time'

const ME = 'me-1'
const OTHER = 'agent-2'

let clock = Date.parse('2026-03-01T10:00:00Z')
const at = (minutes: number) => new Date(clock + minutes * 60_000).toISOString()

function conv(id: string, over: Partial<Conv> = {}): Conv {
  return {
    id,
    status: 'BOT',
    createdAt: at(0),
    updatedAt: at(0),
    lastMessageAt: at(0),
    lastMessagePreview: `preview of ${id}`,
    visitorID: `v-${id}`,
    assigneeID: null,
    visitor: { id: `v-${id}`, name: `Visitor ${id}`, email: `${id}@example.com` },
    assignee: null,
    ...over,
  }
}

function run(state: InboxState, ...actions: InboxAction[]): InboxState {
  return actions.reduce(inboxReducer, state)
}

const page = (key: string, convs: Conv[], opts: { hasMore?: boolean; total?: number; seqs?: Record<string, number[]> } = {}): InboxAction => ({
  type: 'page',
  key,
  entries: convs.map((c) => ({ conv: c, visitorSeqs: opts.seqs?.[c.id] })),
  cursor: convs.length ? `cursor-${convs[convs.length - 1].id}` : null,
  hasMore: opts.hasMore ?? false,
  total: opts.total ?? convs.length,
  mode: 'replace',
})

const ids = (cs: Conv[]) => cs.map((c) => c.id)

describe('inbox list reducer', () => {
  it('merges a page with events: one entry per conversation, newest activity first', () => {
    let s = run(initialInbox(ME), page('open', [conv('a', { lastMessageAt: at(5), updatedAt: at(5) }), conv('b', { lastMessageAt: at(3), updatedAt: at(3) })]))
    expect(ids(listFor(s, 'open'))).toEqual(['a', 'b'])

    // A new conversation arrives live.
    s = run(s, { type: 'event', kind: 'CONVERSATION_CREATED', conversation: conv('c', { lastMessageAt: at(6), updatedAt: at(6), visitor: undefined }) })
    expect(ids(listFor(s, 'open'))).toEqual(['c', 'a', 'b'])

    // A message in b moves it to the top and updates its preview.
    s = run(s, {
      type: 'event',
      kind: 'MESSAGE_CREATED',
      conversation: conv('b', { lastMessageAt: at(7), updatedAt: at(7), lastMessagePreview: 'new words', visitor: undefined }),
      message: { id: 'm1', seq: 4, senderType: 'VISITOR' },
    })
    expect(ids(listFor(s, 'open'))).toEqual(['b', 'c', 'a'])
    expect(s.convs.b.lastMessagePreview).toBe('new words')
    // The event had no visitor edge: the one we had is kept.
    expect(s.convs.b.visitor?.name).toBe('Visitor b')

    // The same conversation coming again (a replay, a refetched page) is not duplicated.
    s = run(s, page('open', [conv('b', { lastMessageAt: at(7), updatedAt: at(7), lastMessagePreview: 'new words' })]))
    expect(ids(listFor(s, 'open'))).toEqual(['b', 'c', 'a'])
    expect(Object.keys(s.convs).sort()).toEqual(['a', 'b', 'c'])
  })

  it('orders by the instant, also when the server trims the fraction of a second', () => {
    // "…:00.5Z" is later than "…:00.123456789Z" although it sorts first as a string.
    const s = run(
      initialInbox(ME),
      page('open', [
        conv('early', { lastMessageAt: '2026-03-01T10:00:00.123456789Z' }),
        conv('late', { lastMessageAt: '2026-03-01T10:00:00.5Z' }),
      ]),
    )
    expect(ids(listFor(s, 'open'))).toEqual(['late', 'early'])
    expect(cmpTime('2026-03-01T10:00:00.5Z', '2026-03-01T10:00:00.123456789Z')).toBe(1)
    expect(timeKey('2026-03-01T10:00:00Z')).toBe('2026-03-01T10:00:00.000000000')
  })

  it('never lets an older copy roll back a newer one', () => {
    let s = run(initialInbox(ME), {
      type: 'event',
      kind: 'CONVERSATION_UPDATED',
      conversation: conv('a', { status: 'HUMAN', assigneeID: ME, updatedAt: at(10) }),
    })
    // A page fetched before that update arrives after it.
    s = run(s, page('waiting', [conv('a', { status: 'WAITING_HUMAN', updatedAt: at(9) })]))
    expect(s.convs.a.status).toBe('HUMAN')
    expect(listFor(s, 'waiting')).toEqual([])
  })

  it('moves conversations between filters as their status and assignee change', () => {
    let s = run(initialInbox(ME), page('open', [conv('a'), conv('b')]))
    const member = () => ({
      waiting: ids(listFor(s, 'waiting')),
      mine: ids(listFor(s, 'mine')),
      bot: ids(listFor(s, 'bot')),
      closed: ids(listFor(s, 'closed')),
    })
    expect(member()).toEqual({ waiting: [], mine: [], bot: ['a', 'b'], closed: [] })

    s = run(s, { type: 'event', kind: 'CONVERSATION_UPDATED', conversation: conv('a', { status: 'WAITING_HUMAN', updatedAt: at(1) }) })
    expect(member()).toEqual({ waiting: ['a'], mine: [], bot: ['b'], closed: [] })

    s = run(s, { type: 'event', kind: 'CONVERSATION_UPDATED', conversation: conv('a', { status: 'WAITING_HUMAN', assigneeID: ME, updatedAt: at(2) }) })
    expect(member()).toEqual({ waiting: ['a'], mine: ['a'], bot: ['b'], closed: [] })

    s = run(s, { type: 'event', kind: 'CONVERSATION_UPDATED', conversation: conv('a', { status: 'HUMAN', assigneeID: ME, updatedAt: at(3) }) })
    expect(member()).toEqual({ waiting: [], mine: ['a'], bot: ['b'], closed: [] })

    // Taken by a colleague: no longer mine.
    s = run(s, { type: 'event', kind: 'CONVERSATION_UPDATED', conversation: conv('a', { status: 'HUMAN', assigneeID: OTHER, updatedAt: at(4) }) })
    expect(member()).toEqual({ waiting: [], mine: [], bot: ['b'], closed: [] })

    s = run(s, { type: 'event', kind: 'CONVERSATION_UPDATED', conversation: conv('b', { status: 'CLOSED', updatedAt: at(5) }) })
    expect(member()).toEqual({ waiting: [], mine: [], bot: [], closed: ['b'] })
    expect(ids(listFor(s, 'open'))).toEqual(['a'])
  })

  it('a closed conversation assigned to me is not "mine"', () => {
    expect(inFilter(conv('x', { status: 'CLOSED', assigneeID: ME }), 'mine', ME)).toBe(false)
    expect(inFilter(conv('x', { status: 'WAITING_HUMAN', assigneeID: ME }), 'mine', ME)).toBe(true)
    expect(inFilter(conv('x', { status: 'HUMAN', assigneeID: OTHER }), 'mine', ME)).toBe(false)
  })

  it('counts a filter in the store when it holds all of it, else takes the server count', () => {
    let s = run(initialInbox(ME), page('waiting', [conv('a', { status: 'WAITING_HUMAN' })], { total: 1 }))
    expect(isComplete(s, 'waiting')).toBe(true)
    expect(countFor(s, 'waiting')).toBe(1)
    s = run(s, { type: 'event', kind: 'CONVERSATION_CREATED', conversation: conv('b', { status: 'WAITING_HUMAN', updatedAt: at(1) }) })
    expect(countFor(s, 'waiting')).toBe(2)

    // Only the first page of the bot conversations: the server knows better.
    s = run(s, page('bot', [conv('c'), conv('d')], { hasMore: true, total: 40 }))
    expect(isComplete(s, 'bot')).toBe(false)
    expect(countFor(s, 'bot')).toBe(40)
    s = run(s, { type: 'counts', counts: { bot: 41 } })
    expect(countFor(s, 'bot')).toBe(41)

    // Every open conversation loaded: bot is complete too.
    s = run(s, page('open', [conv('c'), conv('d')], { hasMore: false }))
    expect(isComplete(s, 'bot')).toBe(true)
    expect(countFor(s, 'bot')).toBe(2)
    expect(isComplete(s, 'closed')).toBe(false)
  })

  it('counts unread visitor messages since this agent last read, and resets on read', () => {
    let s = run(initialInbox(ME, { a: 2 }), page('open', [conv('a'), conv('b')], { seqs: { a: [1, 3, 5], b: [1] } }))
    expect(unreadCount(s, 'a')).toBe(2) // seqs 3 and 5 are after 2
    expect(unreadCount(s, 'b')).toBe(1) // never opened
    expect(totalUnread(s)).toBe(3)

    // A visitor message counts; the bot's and the agent's do not.
    s = run(
      s,
      { type: 'event', kind: 'MESSAGE_CREATED', conversation: conv('a', { updatedAt: at(1), lastMessageAt: at(1) }), message: { id: 'm7', seq: 7, senderType: 'VISITOR' } },
      { type: 'event', kind: 'MESSAGE_CREATED', conversation: conv('a', { updatedAt: at(2), lastMessageAt: at(2) }), message: { id: 'm8', seq: 8, senderType: 'BOT' } },
      { type: 'event', kind: 'MESSAGE_CREATED', conversation: conv('a', { updatedAt: at(3), lastMessageAt: at(3) }), message: { id: 'm9', seq: 9, senderType: 'AGENT' } },
    )
    expect(unreadCount(s, 'a')).toBe(3)
    // The same visitor message again (catch-up after a reconnect) is counted once.
    s = run(s, { type: 'event', kind: 'MESSAGE_CREATED', conversation: conv('a', { updatedAt: at(3), lastMessageAt: at(3) }), message: { id: 'm7', seq: 7, senderType: 'VISITOR' } })
    expect(unreadCount(s, 'a')).toBe(3)

    s = run(s, { type: 'read', id: 'a', seq: 9 })
    expect(unreadCount(s, 'a')).toBe(0)
    expect(s.lastRead.a).toBe(9)
    // Reading an older seq (another tab behind) does not bring them back.
    s = run(s, { type: 'read', id: 'a', seq: 4 })
    expect(unreadCount(s, 'a')).toBe(0)

    s = run(s, { type: 'event', kind: 'MESSAGE_CREATED', conversation: conv('a', { updatedAt: at(4), lastMessageAt: at(4) }), message: { id: 'm10', seq: 10, senderType: 'VISITOR' } })
    expect(unreadCount(s, 'a')).toBe(1)

    // Another tab read it.
    s = run(s, { type: 'readSync', lastRead: { a: 10, b: 1 } })
    expect(totalUnread(s)).toBe(0)
  })

  it('closed conversations do not count in the unread total', () => {
    const s = run(initialInbox(ME), page('closed', [conv('z', { status: 'CLOSED' })], { seqs: { z: [1, 2] } }))
    expect(unreadCount(s, 'z')).toBe(2)
    expect(totalUnread(s)).toBe(0)
  })

  it('names a new assignee it knows, and lists conversations whose details must be loaded', () => {
    let s = run(initialInbox(ME), page('open', [conv('a', { status: 'HUMAN', assigneeID: OTHER, assignee: { id: OTHER, fullName: 'Bea Colleague' } })]))
    // An event (no edges) gives b to the same colleague: the name is known.
    s = run(s, { type: 'event', kind: 'CONVERSATION_CREATED', conversation: conv('b', { status: 'HUMAN', assigneeID: OTHER, assignee: undefined, visitor: undefined }) })
    expect(s.convs.b.assignee).toEqual({ id: OTHER, fullName: 'Bea Colleague' })
    // But its visitor is unknown, and so is a third agent.
    s = run(s, { type: 'event', kind: 'CONVERSATION_UPDATED', conversation: conv('a', { status: 'HUMAN', assigneeID: 'agent-3', assignee: undefined, visitor: undefined, updatedAt: at(1) }) })
    expect(s.convs.a.assignee).toBeUndefined()
    expect(s.convs.a.visitor?.name).toBe('Visitor a')
    expect(missingDetails(s).sort()).toEqual(['a', 'b'])
    s = run(s, { type: 'details', entries: [{ conv: conv('a', { status: 'HUMAN', assigneeID: 'agent-3', assignee: { id: 'agent-3', fullName: 'Cy' }, updatedAt: at(1) }) }] })
    expect(s.convs.a.assignee?.fullName).toBe('Cy')
    expect(missingDetails(s)).toEqual(['b'])
  })

  it('an unassigned conversation has no assignee, whatever it had', () => {
    const prev = conv('a', { status: 'HUMAN', assigneeID: ME, assignee: { id: ME, fullName: 'Me' } })
    const next = mergeConv(prev, conv('a', { status: 'BOT', assigneeID: null, assignee: undefined, visitor: undefined, updatedAt: at(1) }))
    expect(next.assignee).toBeNull()
    expect(next.visitor?.name).toBe('Visitor a')
  })

  it('searches the visitor name, email and preview', () => {
    const s = run(
      initialInbox(ME),
      page('open', [
        conv('a', { visitor: { id: 'v-a', name: 'Maria Lopez', email: 'maria@x.com' } }),
        conv('b', { lastMessagePreview: 'Where is my parcel?' }),
        conv('c', { visitor: { id: 'v-c', name: null, email: 'zed@corp.io' } }),
      ]),
    )
    expect(ids(listFor(s, 'open', 'maria'))).toEqual(['a'])
    expect(ids(listFor(s, 'open', 'PARCEL'))).toEqual(['b'])
    expect(ids(listFor(s, 'open', 'corp.io'))).toEqual(['c'])
    expect(ids(listFor(s, 'open', 'nothing like it'))).toEqual([])
  })

  it('a refresh keeps "Load older" going from the older pages already loaded', () => {
    let s = run(initialInbox(ME), page('bot', [conv('a')], { hasMore: true }))
    s = run(s, { type: 'page', key: 'bot', entries: [{ conv: conv('b') }], cursor: 'cursor-b', hasMore: true, mode: 'append' })
    s = run(s, { type: 'page', key: 'bot', entries: [{ conv: conv('a') }], cursor: 'cursor-a', hasMore: true, total: 9, mode: 'refresh' })
    expect(s.pages.bot).toEqual({ cursor: 'cursor-b', hasMore: true, total: 9 })
    // A refreshed first page holding everything: the list is complete.
    s = run(s, { type: 'page', key: 'bot', entries: [{ conv: conv('a') }], cursor: 'cursor-a', hasMore: false, total: 1, mode: 'refresh' })
    expect(isComplete(s, 'bot')).toBe(true)
  })
})

describe('relative times', () => {
  it('says how long ago, briefly', () => {
    clock = Date.parse('2026-03-01T10:00:00Z')
    const now = Date.parse('2026-03-04T15:00:00')
    expect(relTime(new Date(now - 10_000).toISOString(), now)).toBe('now')
    expect(relTime(new Date(now - 5 * 60_000).toISOString(), now)).toBe('5m')
    expect(relTime(new Date(now - 3 * 3_600_000).toISOString(), now)).toBe('3h')
    expect(relTime(new Date(now - 24 * 3_600_000).toISOString(), now)).toBe('Yesterday')
    expect(relTime('', now)).toBe('')
  })
})
