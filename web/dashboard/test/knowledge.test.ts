// Merging live resource events into the knowledge list.
import { describe, expect, it } from 'vitest'
import {
  compareTime,
  emptyList,
  listReducer,
  matchesFilter,
  mergeResource,
  type ListState,
  type ResourceLike,
} from '../src/pages/knowledge/knowledgeLogic'

type R = ResourceLike & { chunkCount: number; error?: string | null; company?: { id: string; name: string } | null }

let clock = 0
/** Times a nanosecond apart within one second, as the server sends them. */
function t(n: number): string {
  return `2026-12-07T07:55:34.${String(n).padStart(9, '0')}Z`
}

function res(id: string, over: Partial<R> = {}): R {
  clock++
  return {
    id,
    type: 'TEXT',
    title: `Resource ${id}`,
    status: 'COMPLETED',
    progress: 1,
    isActive: true,
    chunkCount: 3,
    createdAt: t(clock),
    updatedAt: t(clock),
    ...over,
  }
}

function loaded(items: R[], total = items.length): ListState<R> {
  return listReducer(emptyList<R>(), { kind: 'loaded', items, total })
}

describe('compareTime', () => {
  it('orders times that differ below the millisecond', () => {
    expect(compareTime('2026-12-07T07:55:34.597354271Z', '2026-12-07T07:55:34.597354272Z')).toBe(-1)
    expect(compareTime('2026-12-07T07:55:34.5973543Z', '2026-12-07T07:55:34.597354271Z')).toBe(1)
    expect(compareTime('2026-12-07T07:55:34.5Z', '2026-12-07T07:55:34.500000000Z')).toBe(0)
  })
  it('reads offsets and times without fractions', () => {
    expect(compareTime('2026-12-07T08:55:34+01:00', '2026-12-07T07:55:34Z')).toBe(0)
    expect(compareTime('2026-12-07T07:55:35Z', '2026-12-07T07:55:34.999999999Z')).toBe(1)
    expect(compareTime(null, '2026-12-07T07:55:34Z')).toBe(-1)
  })
})

describe('mergeResource', () => {
  it('keeps the current report when the incoming one was read before it', () => {
    const cur = res('a', { status: 'COMPLETED', progress: 1, updatedAt: t(500) })
    const old = { ...cur, status: 'PROCESSING' as const, progress: 0.4, updatedAt: t(400) }
    expect(mergeResource(cur, old)).toBe(cur)
  })
  it('never moves progress back within one status', () => {
    const cur = res('a', { status: 'PROCESSING', progress: 0.6, updatedAt: t(500) })
    const behind = { ...cur, progress: 0.3, updatedAt: t(501) }
    expect(mergeResource(cur, behind).progress).toBe(0.6)
    const ahead = { ...cur, progress: 0.8, updatedAt: t(502) }
    expect(mergeResource(cur, ahead).progress).toBe(0.8)
  })
  it('takes a change of status with its own progress (a retry, a reprocess)', () => {
    const running = res('a', { status: 'PROCESSING', progress: 0.7, updatedAt: t(500) })
    const retry = { ...running, status: 'PENDING' as const, progress: 0, error: 'attempt 1 of 3 failed, retrying', updatedAt: t(501) }
    expect(mergeResource(running, retry)).toMatchObject({ status: 'PENDING', progress: 0, error: 'attempt 1 of 3 failed, retrying' })
    const done = res('b', { status: 'COMPLETED', progress: 1, updatedAt: t(600) })
    const again = { ...done, status: 'PENDING' as const, progress: 0, updatedAt: t(601) }
    expect(mergeResource(done, again)).toMatchObject({ status: 'PENDING', progress: 0 })
  })
  it('keeps fields the incoming report lacks (an event has no company)', () => {
    const cur = res('a', { company: { id: 'c1', name: 'Acme' }, status: 'PROCESSING', progress: 0.2, updatedAt: t(10) })
    const { company: _c, ...ev } = { ...cur, status: 'COMPLETED' as const, progress: 1, chunkCount: 9, updatedAt: t(11) }
    const m = mergeResource(cur, ev as R)
    expect(m.company).toEqual({ id: 'c1', name: 'Acme' })
    expect(m).toMatchObject({ status: 'COMPLETED', chunkCount: 9 })
  })
})

describe('listReducer', () => {
  it('follows a resource from PENDING to COMPLETED', () => {
    const a = res('a', { status: 'PENDING', progress: 0, chunkCount: 0 })
    let s = loaded([a])
    const steps: Partial<R>[] = [
      { status: 'PROCESSING', progress: 0 },
      { status: 'PROCESSING', progress: 0.4 },
      { status: 'PROCESSING', progress: 0.85 },
      { status: 'COMPLETED', progress: 1, chunkCount: 7 },
    ]
    let n = 1000
    for (const st of steps) {
      s = listReducer(s, { kind: 'event', resource: { ...a, ...st, updatedAt: t(n++) } })
    }
    expect(s.items).toHaveLength(1)
    expect(s.items[0]).toMatchObject({ status: 'COMPLETED', progress: 1, chunkCount: 7 })
  })

  it('shows a failure with its error', () => {
    const a = res('a', { status: 'PROCESSING', progress: 0.3 })
    let s = loaded([a])
    s = listReducer(s, { kind: 'event', resource: { ...a, status: 'FAILED', error: 'the address cannot be crawled', updatedAt: t(900) } })
    expect(s.items[0]).toMatchObject({ status: 'FAILED', error: 'the address cannot be crawled' })
  })

  it('keeps progress monotonic when a same-status report is behind', () => {
    const a = res('a', { status: 'PROCESSING', progress: 0.5, updatedAt: t(100) })
    let s = loaded([a])
    s = listReducer(s, { kind: 'event', resource: { ...a, progress: 0.2, updatedAt: t(100) } })
    expect(s.items[0]!.progress).toBe(0.5)
    s = listReducer(s, { kind: 'event', resource: { ...a, progress: 0.9, updatedAt: t(101) } })
    expect(s.items[0]!.progress).toBe(0.9)
  })

  it('does not let a reload read before the last event undo it', () => {
    const a = res('a', { status: 'PROCESSING', progress: 0.2, updatedAt: t(100) })
    let s = loaded([a])
    s = listReducer(s, { kind: 'event', resource: { ...a, status: 'COMPLETED', progress: 1, chunkCount: 4, updatedAt: t(200) } })
    // A query result that started before the completion arrives after it.
    s = listReducer(s, { kind: 'loaded', items: [{ ...a, progress: 0.6, updatedAt: t(150) }], total: 1 })
    expect(s.items[0]).toMatchObject({ status: 'COMPLETED', progress: 1, chunkCount: 4 })
    // A newer reload wins (someone renamed it).
    s = listReducer(s, {
      kind: 'loaded',
      items: [{ ...a, title: 'Renamed', status: 'COMPLETED', progress: 1, chunkCount: 4, updatedAt: t(300) }],
      total: 1,
    })
    expect(s.items[0]!.title).toBe('Renamed')
  })

  it('inserts a new resource in createdAt order only when asked to', () => {
    const older = res('old', { createdAt: t(10) })
    const newer = res('new', { createdAt: t(30) })
    let s = loaded([newer, older])
    const outside = res('z', { createdAt: t(40) })
    s = listReducer(s, { kind: 'event', resource: outside })
    expect(s.items.map((r) => r.id)).toEqual(['new', 'old'])
    expect(s.total).toBe(2)
    s = listReducer(s, { kind: 'event', resource: outside, insert: true })
    expect(s.items.map((r) => r.id)).toEqual(['z', 'new', 'old'])
    expect(s.total).toBe(3)
    // One created between two shown goes between them; the oldest last.
    s = listReducer(s, { kind: 'event', resource: res('mid', { createdAt: t(20) }), insert: true })
    s = listReducer(s, { kind: 'event', resource: res('first', { createdAt: t(5) }), insert: true })
    expect(s.items.map((r) => r.id)).toEqual(['z', 'new', 'mid', 'old', 'first'])
  })

  it('keeps what the events said when they came before the answer that created the resource', () => {
    // A fast job: its events reach the page before addText's answer does.
    let s = loaded([res('y')])
    const c = res('c', { status: 'PENDING', progress: 0 })
    s = listReducer(s, { kind: 'event', resource: { ...c, status: 'PROCESSING', progress: 0.5, updatedAt: t(6000) }, insert: false })
    s = listReducer(s, { kind: 'event', resource: { ...c, status: 'COMPLETED', progress: 1, updatedAt: t(6001) }, insert: false })
    s = listReducer(s, { kind: 'created', resource: c })
    expect(s.items[0]).toMatchObject({ id: 'c', status: 'COMPLETED', progress: 1 })
    expect(s.total).toBe(2)
  })

  it('puts a resource created here at the top, once', () => {
    const x = res('x')
    const y = res('y')
    let s = loaded([y, x])
    const c = res('c', { status: 'PENDING', progress: 0 })
    s = listReducer(s, { kind: 'created', resource: c })
    expect(s.items[0]!.id).toBe('c')
    expect(s.total).toBe(3)
    // Its first event does not add it a second time.
    s = listReducer(s, { kind: 'event', resource: { ...c, status: 'PROCESSING', progress: 0.1, updatedAt: t(5000) }, insert: true })
    expect(s.items.filter((r) => r.id === 'c')).toHaveLength(1)
    expect(s.total).toBe(3)
    expect(s.items[0]).toMatchObject({ id: 'c', status: 'PROCESSING' })
  })

  it('keeps a deleted resource out, whatever arrives later', () => {
    const a = res('a', { status: 'PROCESSING', progress: 0.1 })
    const b = res('b')
    let s = loaded([b, a], 2)
    s = listReducer(s, { kind: 'deleted', id: 'a' })
    expect(s.items.map((r) => r.id)).toEqual(['b'])
    expect(s.total).toBe(1)
    // A late event of its processing.
    s = listReducer(s, { kind: 'event', resource: { ...a, progress: 0.5, updatedAt: t(9000) }, insert: true })
    expect(s.items.map((r) => r.id)).toEqual(['b'])
    // A stale (cached) reload that still lists it.
    s = listReducer(s, { kind: 'loaded', items: [b, a], total: 2 })
    expect(s.items.map((r) => r.id)).toEqual(['b'])
    expect(s.total).toBe(1)
  })

  it('deleting twice counts once', () => {
    let s = loaded([res('a'), res('b')], 2)
    s = listReducer(s, { kind: 'deleted', id: 'a' })
    s = listReducer(s, { kind: 'deleted', id: 'a' })
    expect(s.total).toBe(1)
  })
})

describe('matchesFilter', () => {
  const r = res('a', { type: 'PDF', status: 'FAILED', title: 'Price List 2026' })
  it('matches type, status and a title search ignoring case', () => {
    expect(matchesFilter(r, {})).toBe(true)
    expect(matchesFilter(r, { type: 'PDF', status: 'FAILED', search: 'price list' })).toBe(true)
    expect(matchesFilter(r, { type: 'TEXT' })).toBe(false)
    expect(matchesFilter(r, { status: 'COMPLETED' })).toBe(false)
    expect(matchesFilter(r, { search: 'returns' })).toBe(false)
    expect(matchesFilter(r, { search: '   ' })).toBe(true)
  })
})
