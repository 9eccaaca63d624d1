// The analytics page's arithmetic, apart from React so it is tested: the
// period a picker choice means, days without activity filled in, the API's
// UTC hours moved to the viewer's clock, and durations people read.
//
// Days are UTC days: the API counts conversations and messages per UTC day
// (DayCount.day), so periods start at a UTC midnight and the chart's days
// are the API's.

const DAY = 86_400_000

export type PresetDays = 7 | 30 | 90

export type Period = { kind: 'preset'; days: PresetDays } | { kind: 'custom'; from: string; to: string }

/** The analytics query's bounds; to null means "now" (the server's clock). */
export interface Range {
  from: string
  to: string | null
}

export const MAX_PERIOD_DAYS = 366

/** "2026-03-04" → ms at its UTC midnight, or NaN. */
export function parseDay(day: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day)
  if (!m) return NaN
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))
  // Reject dates that rolled over (2026-02-31).
  return new Date(t).toISOString().slice(0, 10) === day ? t : NaN
}

/** ms → "2026-03-04" (its UTC day). */
export function dayOf(t: number): string {
  return new Date(t).toISOString().slice(0, 10)
}

function utcMidnight(t: number): number {
  return Math.floor(t / DAY) * DAY
}

/**
 * The bounds of a period. A preset of n days is today (UTC) and the n-1
 * days before it, up to now. A custom period runs from the start of its
 * first day to the end of its last day (UTC), or to now when that is later.
 */
export function periodRange(p: Period, now: number = Date.now()): Range | { error: string; field: 'from' | 'to' } {
  const today = utcMidnight(now)
  if (p.kind === 'preset') {
    return { from: new Date(today - (p.days - 1) * DAY).toISOString(), to: null }
  }
  const from = parseDay(p.from)
  const to = parseDay(p.to)
  if (Number.isNaN(from)) return { error: 'Choose a start date.', field: 'from' }
  if (Number.isNaN(to)) return { error: 'Choose an end date.', field: 'to' }
  if (to < from) return { error: 'The end date is before the start date.', field: 'to' }
  if (from > now) return { error: 'The start date is in the future.', field: 'from' }
  const end = to + DAY
  const stop = Math.min(end, now)
  if (stop - from > MAX_PERIOD_DAYS * DAY) {
    return { error: `A period can be at most ${MAX_PERIOD_DAYS} days.`, field: 'from' }
  }
  return { from: new Date(from).toISOString(), to: end >= now ? null : new Date(end).toISOString() }
}

export interface DayPoint {
  day: string
  conversations: number
  messages: number
}

/**
 * Every UTC day from the day of `from` to the day of the period's last
 * instant (to is exclusive), with the API's figures where it has some and
 * zeros elsewhere. Days the API returns outside the period are kept.
 */
export function fillDays(byDay: readonly DayPoint[], from: string, to: string): DayPoint[] {
  const start = utcMidnight(Date.parse(from))
  const stop = Date.parse(to) - 1
  const known = new Map(byDay.map((d) => [d.day, d]))
  const out: DayPoint[] = []
  if (Number.isFinite(start) && Number.isFinite(stop)) {
    for (let t = start, n = 0; t <= stop && n < MAX_PERIOD_DAYS + 2; t += DAY, n++) {
      const day = dayOf(t)
      const d = known.get(day)
      out.push({ day, conversations: d?.conversations ?? 0, messages: d?.messages ?? 0 })
      known.delete(day)
    }
  }
  for (const d of known.values()) out.push({ day: d.day, conversations: d.conversations, messages: d.messages })
  return out.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0))
}

export interface HourPoint {
  /** The API's hour (UTC). */
  utcHour: number
  /** Minutes after local midnight at which that UTC hour starts. */
  localMinutes: number
  messages: number
}

/**
 * The 24 hours of the day on the viewer's clock. tzOffsetMinutes follows
 * Date.prototype.getTimezoneOffset (UTC minus local: -60 in Paris in
 * winter, 300 in New York). Zones with half hours keep them (UTC+5:30:
 * the UTC hour 0 starts at 05:30). Sorted from local midnight.
 */
export function localHours(busiest: readonly { hour: number; messages: number }[], tzOffsetMinutes: number): HourPoint[] {
  const counts = new Map<number, number>()
  for (const b of busiest) counts.set(b.hour, (counts.get(b.hour) ?? 0) + b.messages)
  const out: HourPoint[] = []
  for (let h = 0; h < 24; h++) {
    const local = (((h * 60 - tzOffsetMinutes) % 1440) + 1440) % 1440
    out.push({ utcHour: h, localMinutes: local, messages: counts.get(h) ?? 0 })
  }
  return out.sort((a, b) => a.localMinutes - b.localMinutes)
}

/** A time of day (minutes after midnight) as the locale writes it: "9:00 AM", "09:00". */
export function clockLabel(minutes: number, locale?: string): string {
  // 24-hour locales write "05:30", 12-hour ones "5:30 AM".
  const cycle = new Intl.DateTimeFormat(locale, { hour: 'numeric' }).resolvedOptions().hourCycle
  const hour = cycle === 'h23' || cycle === 'h24' ? '2-digit' : 'numeric'
  return new Intl.DateTimeFormat(locale, { hour, minute: '2-digit', timeZone: 'UTC' }).format(Date.UTC(2000, 0, 1, 0, minutes))
}

/** A short axis label for a time of day: "3 AM" or "15:00" (minutes kept when not on the hour). */
export function axisClockLabel(minutes: number, locale?: string): string {
  const cycle = new Intl.DateTimeFormat(locale, { hour: 'numeric' }).resolvedOptions().hourCycle
  if (minutes % 60 !== 0 || cycle === 'h23' || cycle === 'h24') return clockLabel(minutes, locale)
  return new Intl.DateTimeFormat(locale, { hour: 'numeric', timeZone: 'UTC' }).format(Date.UTC(2000, 0, 1, 0, minutes))
}

/** "UTC+01:00", "UTC−05:00", "UTC+05:30", "UTC" for a getTimezoneOffset value. */
export function utcOffsetLabel(tzOffsetMinutes: number): string {
  if (tzOffsetMinutes === 0) return 'UTC'
  const east = -tzOffsetMinutes
  const a = Math.abs(east)
  const hh = String(Math.floor(a / 60)).padStart(2, '0')
  const mm = String(a % 60).padStart(2, '0')
  return `UTC${east > 0 ? '+' : '−'}${hh}:${mm}`
}

/** The busiest hour (most messages; the earliest local one on a tie), or null without messages. */
export function peakHour(hours: readonly HourPoint[]): HourPoint | null {
  let best: HourPoint | null = null
  for (const h of hours) if (h.messages > 0 && (!best || h.messages > best.messages)) best = h
  return best
}

/** Seconds as people say them: "0.8 s", "42 s", "4 min 5 s", "2 h 5 min", "3 d 4 h"; "—" without a value. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—'
  if (seconds > 0 && seconds < 0.05) return 'under 0.1 s'
  if (seconds < 9.95) return `${(Math.round(seconds * 10) / 10).toString()} s`
  const s = Math.round(seconds)
  if (s < 60) return `${s} s`
  if (s < 3600) {
    const m = Math.floor(s / 60)
    const r = s % 60
    return m < 10 && r ? `${m} min ${r} s` : `${Math.round(s / 60)} min`
  }
  if (s < 86_400) {
    const m = Math.round(s / 60)
    const h = Math.floor(m / 60)
    const r = m % 60
    return r ? `${h} h ${r} min` : `${h} h`
  }
  const h = Math.round(s / 3600)
  const d = Math.floor(h / 24)
  const r = h % 24
  return r ? `${d} d ${r} h` : `${d} d`
}

/** 0.4231 → "42%"; small shares keep a decimal ("4.5%"). */
export function formatPercent(rate: number): string {
  if (!Number.isFinite(rate)) return '—'
  const p = rate * 100
  if (p > 0 && p < 10) return `${Math.round(p * 10) / 10}%`
  return `${Math.round(p)}%`
}

/** "12 Mar" for a UTC day. */
export function dayLabel(day: string, locale?: string): string {
  const t = parseDay(day)
  if (Number.isNaN(t)) return day
  return new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(t)
}

/** The page's URL state ↔ a period. */
export function periodFromParams(p: URLSearchParams): Period {
  const kind = p.get('period')
  if (kind === 'custom') return { kind: 'custom', from: p.get('from') ?? '', to: p.get('to') ?? '' }
  const n = Number(kind)
  return { kind: 'preset', days: n === 7 || n === 90 ? n : 30 }
}
