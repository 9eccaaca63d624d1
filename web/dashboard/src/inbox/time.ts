// Times as the API gives them (RFC 3339 with up to nanoseconds, in UTC) put
// in order, and said the way an inbox says them ("now", "5m", "Yesterday").

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/

/**
 * A key that sorts like the instant: the server trims trailing zeros of
 * the fraction, so two stamps of the same second do not compare as plain
 * strings, and Date.parse drops what is below a millisecond.
 */
export function timeKey(s: string | null | undefined): string {
  if (!s) return ''
  const m = RFC3339.exec(s)
  if (m && m[3] === 'Z') return `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}`
  const ms = Date.parse(s)
  if (Number.isNaN(ms)) return ''
  const iso = new Date(ms).toISOString() // 2026-01-02T03:04:05.678Z
  return `${iso.slice(0, 19)}.${iso.slice(20, 23)}000000`
}

/** Negative when a is earlier than b, 0 when equal, positive when later. */
export function cmpTime(a: string | null | undefined, b: string | null | undefined): number {
  const ka = timeKey(a)
  const kb = timeKey(b)
  return ka < kb ? -1 : ka > kb ? 1 : 0
}

const DAY = 86_400_000

function startOfDay(t: number): number {
  const d = new Date(t)
  d.setHours(0, 0, 0, 0)
  return d.getTime()
}

/** A short time for a list row: now, 5m, 3h, Yesterday, Mon, 3 Dec, 3 Dec 2025. */
export function relTime(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return ''
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return ''
  const diff = now - t
  if (diff < 45_000) return 'now'
  if (diff < 3_600_000) return `${Math.max(1, Math.round(diff / 60_000))}m`
  const today = startOfDay(now)
  if (t >= today) return `${Math.floor(diff / 3_600_000)}h`
  if (t >= today - DAY) return 'Yesterday'
  if (t >= today - 6 * DAY) return new Date(t).toLocaleDateString(undefined, { weekday: 'short' })
  const sameYear = new Date(t).getFullYear() === new Date(now).getFullYear()
  return new Date(t).toLocaleDateString(undefined, sameYear ? { day: 'numeric', month: 'short' } : { day: 'numeric', month: 'short', year: 'numeric' })
}

/** The clock time of a message (14:05), with the day when it is not today. */
export function clockTime(iso: string, now: number = Date.now()): string {
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return ''
  const time = new Date(t).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
  if (t >= startOfDay(now)) return time
  return `${new Date(t).toLocaleDateString(undefined, { day: 'numeric', month: 'short' })}, ${time}`
}

/** A full date and time, for details and tooltips. */
export function fullTime(iso: string | null | undefined): string {
  if (!iso) return ''
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return ''
  return new Date(t).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}
