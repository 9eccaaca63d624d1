import { describe, expect, it } from 'vitest'
import {
  axisClockLabel,
  clockLabel,
  fillDays,
  formatDuration,
  formatPercent,
  localHours,
  peakHour,
  periodFromParams,
  periodRange,
  utcOffsetLabel,
} from '../src/pages/analytics/analyticsLogic'

const NOW = Date.parse('2026-03-10T15:30:00Z')

describe('periodRange', () => {
  it('a preset of n days starts at the UTC midnight n-1 days before today and runs to now', () => {
    expect(periodRange({ kind: 'preset', days: 7 }, NOW)).toEqual({ from: '2026-03-04T00:00:00.000Z', to: null })
    expect(periodRange({ kind: 'preset', days: 30 }, NOW)).toEqual({ from: '2026-02-09T00:00:00.000Z', to: null })
    expect(periodRange({ kind: 'preset', days: 90 }, NOW)).toEqual({ from: '2025-12-11T00:00:00.000Z', to: null })
  })

  it('is stable during a day (the query does not change with every render)', () => {
    const a = periodRange({ kind: 'preset', days: 7 }, Date.parse('2026-03-10T00:00:01Z'))
    const b = periodRange({ kind: 'preset', days: 7 }, Date.parse('2026-03-10T23:59:59Z'))
    expect(a).toEqual(b)
  })

  it('a custom period covers its first and last days whole', () => {
    expect(periodRange({ kind: 'custom', from: '2026-02-01', to: '2026-02-28' }, NOW)).toEqual({
      from: '2026-02-01T00:00:00.000Z',
      to: '2026-03-01T00:00:00.000Z',
    })
  })

  it('a custom period ending today or later runs to now', () => {
    expect(periodRange({ kind: 'custom', from: '2026-03-01', to: '2026-03-10' }, NOW)).toEqual({
      from: '2026-03-01T00:00:00.000Z',
      to: null,
    })
    expect(periodRange({ kind: 'custom', from: '2026-03-01', to: '2026-04-10' }, NOW)).toMatchObject({ to: null })
  })

  it('refuses an end before the start, a future start, a missing or impossible date, and more than 366 days', () => {
    expect(periodRange({ kind: 'custom', from: '2026-03-05', to: '2026-03-01' }, NOW)).toMatchObject({ field: 'to' })
    expect(periodRange({ kind: 'custom', from: '2026-03-11', to: '2026-03-12' }, NOW)).toMatchObject({ field: 'from' })
    expect(periodRange({ kind: 'custom', from: '', to: '2026-03-01' }, NOW)).toMatchObject({ field: 'from' })
    expect(periodRange({ kind: 'custom', from: '2026-02-01', to: '2026-02-31' }, NOW)).toMatchObject({ field: 'to' })
    expect(periodRange({ kind: 'custom', from: '2025-01-01', to: '2026-01-05' }, NOW)).toMatchObject({
      error: 'A period can be at most 366 days.',
    })
    // 366 days exactly is allowed.
    expect(periodRange({ kind: 'custom', from: '2025-01-01', to: '2026-01-01' }, NOW)).toEqual({
      from: '2025-01-01T00:00:00.000Z',
      to: '2026-01-02T00:00:00.000Z',
    })
  })

  it('reads the period from the URL, defaulting to 30 days', () => {
    expect(periodFromParams(new URLSearchParams(''))).toEqual({ kind: 'preset', days: 30 })
    expect(periodFromParams(new URLSearchParams('period=7'))).toEqual({ kind: 'preset', days: 7 })
    expect(periodFromParams(new URLSearchParams('period=12'))).toEqual({ kind: 'preset', days: 30 })
    expect(periodFromParams(new URLSearchParams('period=custom&from=2026-01-01&to=2026-01-31'))).toEqual({
      kind: 'custom',
      from: '2026-01-01',
      to: '2026-01-31',
    })
  })
})

describe('fillDays', () => {
  it('gives every day of the period, zero where the API has nothing', () => {
    const out = fillDays(
      [
        { day: '2026-03-05', conversations: 2, messages: 9 },
        { day: '2026-03-08', conversations: 1, messages: 3 },
      ],
      '2026-03-04T00:00:00Z',
      '2026-03-10T15:30:00Z',
    )
    expect(out.map((d) => d.day)).toEqual([
      '2026-03-04',
      '2026-03-05',
      '2026-03-06',
      '2026-03-07',
      '2026-03-08',
      '2026-03-09',
      '2026-03-10',
    ])
    expect(out.map((d) => d.messages)).toEqual([0, 9, 0, 0, 3, 0, 0])
    expect(out.map((d) => d.conversations)).toEqual([0, 2, 0, 0, 1, 0, 0])
  })

  it('treats to as exclusive: a period ending at a midnight does not show the next day', () => {
    const out = fillDays([], '2026-02-01T00:00:00Z', '2026-02-03T00:00:00Z')
    expect(out.map((d) => d.day)).toEqual(['2026-02-01', '2026-02-02'])
  })

  it('starts at the UTC day of a from that is not a midnight', () => {
    const out = fillDays([], '2026-02-09T15:30:00Z', '2026-02-11T10:00:00Z')
    expect(out.map((d) => d.day)).toEqual(['2026-02-09', '2026-02-10', '2026-02-11'])
  })

  it('keeps days the API returned outside the period, in order', () => {
    const out = fillDays([{ day: '2026-01-30', conversations: 4, messages: 4 }], '2026-02-01T00:00:00Z', '2026-02-02T00:00:00Z')
    expect(out).toEqual([
      { day: '2026-01-30', conversations: 4, messages: 4 },
      { day: '2026-02-01', conversations: 0, messages: 0 },
    ])
  })

  it('crosses month and leap-day boundaries', () => {
    const out = fillDays([], '2028-02-28T00:00:00Z', '2028-03-02T00:00:00Z')
    expect(out.map((d) => d.day)).toEqual(['2028-02-28', '2028-02-29', '2028-03-01'])
  })
})

describe('localHours', () => {
  const busiest = [
    { hour: 0, messages: 5 },
    { hour: 9, messages: 12 },
    { hour: 23, messages: 1 },
  ]

  it('keeps UTC hours as they are at UTC', () => {
    const out = localHours(busiest, 0)
    expect(out).toHaveLength(24)
    expect(out[0]).toEqual({ utcHour: 0, localMinutes: 0, messages: 5 })
    expect(out[9]).toEqual({ utcHour: 9, localMinutes: 540, messages: 12 })
    expect(out.reduce((n, h) => n + h.messages, 0)).toBe(18)
  })

  it('moves hours east of UTC later (Paris in winter, UTC+1)', () => {
    const out = localHours(busiest, -60)
    // UTC 09:00 is 10:00 in Paris; UTC 23:00 is local midnight, now first.
    expect(out.find((h) => h.utcHour === 9)!.localMinutes).toBe(600)
    expect(out[0]).toEqual({ utcHour: 23, localMinutes: 0, messages: 1 })
    expect(out[1]).toEqual({ utcHour: 0, localMinutes: 60, messages: 5 })
  })

  it('moves hours west of UTC earlier, wrapping past midnight (New York, UTC-5)', () => {
    const out = localHours(busiest, 300)
    expect(out.find((h) => h.utcHour === 0)!.localMinutes).toBe(19 * 60)
    expect(out.find((h) => h.utcHour === 9)!.localMinutes).toBe(4 * 60)
    expect(out[0]!.utcHour).toBe(5)
  })

  it('keeps half-hour zones on the half hour (India, UTC+5:30)', () => {
    const out = localHours(busiest, -330)
    expect(out.find((h) => h.utcHour === 0)!.localMinutes).toBe(330)
    expect(out[0]!.localMinutes).toBe(30) // UTC 19:00 is 00:30
    expect(clockLabel(330, 'en-GB')).toBe('05:30')
  })

  it('labels hours in the locale and names the offset', () => {
    expect(clockLabel(600, 'en-GB')).toBe('10:00')
    expect(clockLabel(13 * 60, 'en-US')).toMatch(/^1:00\sPM$/)
    expect(axisClockLabel(13 * 60, 'en-US')).toMatch(/^1\sPM$/)
    expect(axisClockLabel(13 * 60, 'en-GB')).toBe('13:00')
    expect(axisClockLabel(13 * 60 + 30, 'en-US')).toMatch(/^1:30\sPM$/)
    expect(utcOffsetLabel(0)).toBe('UTC')
    expect(utcOffsetLabel(-60)).toBe('UTC+01:00')
    expect(utcOffsetLabel(300)).toBe('UTC−05:00')
    expect(utcOffsetLabel(-330)).toBe('UTC+05:30')
  })

  it('finds the peak hour, none without messages', () => {
    expect(peakHour(localHours(busiest, -60))!.utcHour).toBe(9)
    expect(peakHour(localHours([], 0))).toBeNull()
  })
})

describe('formatDuration', () => {
  it('reads like a person would say it', () => {
    expect(formatDuration(null)).toBe('—')
    expect(formatDuration(undefined)).toBe('—')
    expect(formatDuration(0)).toBe('0 s')
    expect(formatDuration(0.012)).toBe('under 0.1 s')
    expect(formatDuration(0.84)).toBe('0.8 s')
    expect(formatDuration(3.26)).toBe('3.3 s')
    expect(formatDuration(42.4)).toBe('42 s')
    expect(formatDuration(59.6)).toBe('1 min')
    expect(formatDuration(245)).toBe('4 min 5 s')
    expect(formatDuration(240)).toBe('4 min')
    expect(formatDuration(25 * 60 + 20)).toBe('25 min')
    expect(formatDuration(7500)).toBe('2 h 5 min')
    expect(formatDuration(7200)).toBe('2 h')
    expect(formatDuration(3 * 86400 + 4 * 3600)).toBe('3 d 4 h')
    expect(formatDuration(86400)).toBe('1 d')
  })
})

describe('formatPercent', () => {
  it('rounds, keeping a decimal under 10%', () => {
    expect(formatPercent(0)).toBe('0%')
    expect(formatPercent(0.4231)).toBe('42%')
    expect(formatPercent(0.045)).toBe('4.5%')
    expect(formatPercent(1)).toBe('100%')
  })
})
