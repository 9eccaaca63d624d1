// The settings forms' logic, kept apart from React so it can be tested:
// which fields changed (only those are sent to updateCompany), business
// hours between the form and BusinessHoursInput, allowed origins, and the
// client-side checks that mirror the server's.
import type { BusinessHoursInput, UpdateCompanyInput, Weekday } from '../../gql/graphql'

// ---------------------------------------------------------------- diff

type Plain = string | number | boolean | null | undefined | Plain[] | { [k: string]: Plain }

/** A value in the form the server would store it: strings trimmed, colours upper-case. */
export function normalizeValue(key: string, v: unknown): unknown {
  if (typeof v === 'string') {
    const t = v.trim()
    return key === 'brandColor' ? t.toUpperCase() : t
  }
  if (Array.isArray(v)) return v.map((x) => normalizeValue(key, x))
  return v ?? null
}

function same(key: string, a: unknown, b: unknown): boolean {
  return JSON.stringify(normalizeValue(key, a) as Plain) === JSON.stringify(normalizeValue(key, b) as Plain)
}

/**
 * The fields of current that differ from initial, normalized as they are
 * sent. Fields that are equal once trimmed (or, for brandColor, once
 * upper-cased) count as unchanged.
 */
export function changedFields<T extends Record<string, unknown>>(initial: T, current: T): Partial<T> {
  const out: Partial<T> = {}
  for (const k of Object.keys(current) as (keyof T & string)[]) {
    if (!same(k, initial[k], current[k])) out[k] = normalizeValue(k, current[k]) as T[typeof k]
  }
  return out
}

export function isDirty<T extends Record<string, unknown>>(initial: T, current: T): boolean {
  return Object.keys(changedFields(initial, current)).length > 0
}

// ---------------------------------------------------------------- business hours

/** Days in the order the form shows them (a working week first). */
export const WEEKDAYS: Weekday[] = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY']

export const WEEKDAY_LABEL: Record<Weekday, string> = {
  MONDAY: 'Monday',
  TUESDAY: 'Tuesday',
  WEDNESDAY: 'Wednesday',
  THURSDAY: 'Thursday',
  FRIDAY: 'Friday',
  SATURDAY: 'Saturday',
  SUNDAY: 'Sunday',
}

/** JavaScript's getDay() numbering (Sunday = 0), as the server counts. */
const JS_DAY: Record<Weekday, number> = {
  SUNDAY: 0,
  MONDAY: 1,
  TUESDAY: 2,
  WEDNESDAY: 3,
  THURSDAY: 4,
  FRIDAY: 5,
  SATURDAY: 6,
}

export interface TimeRange {
  open: string
  close: string
}

export interface DayHours {
  day: Weekday
  enabled: boolean
  /** At least one; more for split shifts (09:00–12:00, 13:00–17:00). */
  ranges: TimeRange[]
}

export interface HoursForm {
  alwaysOpen: boolean
  timeZone: string
  days: DayHours[]
}

export const DEFAULT_RANGE: TimeRange = { open: '09:00', close: '17:00' }

interface BusinessHoursLike {
  timeZone: string
  days: { day: Weekday; open: string; close: string }[]
}

/** The form for what the server has (null: always open, with office hours ready to switch on). */
export function hoursToForm(bh: BusinessHoursLike | null | undefined, defaultZone: string): HoursForm {
  const open = bh && bh.days.length > 0
  const days = WEEKDAYS.map((day): DayHours => {
    const ranges = open
      ? bh.days
          .filter((d) => d.day === day)
          .map((d) => ({ open: d.open, close: d.close }))
          .sort((a, b) => a.open.localeCompare(b.open))
      : []
    if (open) return { day, enabled: ranges.length > 0, ranges: ranges.length ? ranges : [{ ...DEFAULT_RANGE }] }
    // No hours yet: Monday to Friday, 09:00 to 17:00, as a starting point.
    return { day, enabled: day !== 'SATURDAY' && day !== 'SUNDAY', ranges: [{ ...DEFAULT_RANGE }] }
  })
  return { alwaysOpen: !open, timeZone: (open && bh.timeZone) || defaultZone, days }
}

/**
 * What updateCompany gets: the open days' ranges in a stable order, or no
 * days at all for "always open" (which removes the hours).
 */
export function formToHoursInput(f: HoursForm): BusinessHoursInput {
  if (f.alwaysOpen) return { days: [] }
  const days = WEEKDAYS.flatMap((day) => {
    const d = f.days.find((x) => x.day === day)
    if (!d || !d.enabled) return []
    return [...d.ranges]
      .sort((a, b) => a.open.localeCompare(b.open))
      .map((r) => ({ day, open: r.open, close: r.close }))
  })
  return { timeZone: f.timeZone, days }
}

/** Whether two forms say the same thing (time zone and closed days' times do not count when always open). */
export function sameHours(a: HoursForm, b: HoursForm): boolean {
  return JSON.stringify(formToHoursInput(a)) === JSON.stringify(formToHoursInput(b))
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/

export function minutesOf(hhmm: string): number | null {
  if (!HHMM.test(hhmm)) return null
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5))
}

export interface HoursErrors {
  /** A problem with the whole form. */
  form?: string
  timeZone?: string
  /** Per day: a message for the day's row. */
  days: Partial<Record<Weekday, string>>
}

export function hoursValid(e: HoursErrors): boolean {
  return !e.form && !e.timeZone && Object.keys(e.days).length === 0
}

/** Checks what the server would refuse, and a week without any open day. */
export function validateHours(f: HoursForm, knownZones?: readonly string[]): HoursErrors {
  const errors: HoursErrors = { days: {} }
  if (f.alwaysOpen) return errors
  if (!f.timeZone) errors.timeZone = 'Choose a time zone.'
  else if (knownZones && knownZones.length && !knownZones.includes(f.timeZone)) errors.timeZone = 'This time zone is not known.'
  const open = f.days.filter((d) => d.enabled)
  if (open.length === 0) {
    errors.form = 'No day is open. Turn on at least one day, or choose "Always open".'
    return errors
  }
  for (const d of open) {
    const spans: [number, number][] = []
    for (const r of d.ranges) {
      const o = minutesOf(r.open)
      const c = minutesOf(r.close)
      if (o === null || c === null) {
        errors.days[d.day] = 'Enter an opening and a closing time (HH:MM).'
        break
      }
      if (c <= o) {
        errors.days[d.day] =
          c === o
            ? `Closing time ${r.close} is the same as the opening time.`
            : `Closing time ${r.close} is before opening time ${r.open}. For hours past midnight, close at 23:59 and open the next day at 00:00.`
        break
      }
      spans.push([o, c])
    }
    if (errors.days[d.day]) continue
    spans.sort((a, b) => a[0] - b[0])
    for (let i = 1; i < spans.length; i++) {
      if (spans[i]![0] < spans[i - 1]![1]) {
        errors.days[d.day] = 'These hours overlap.'
        break
      }
    }
  }
  return errors
}

/** Weekday and minutes since midnight of `at` in a time zone. */
export function zonedNow(at: Date, timeZone: string): { day: number; minutes: number; label: string } | null {
  try {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).formatToParts(at)
    const get = (t: string) => parts.find((p) => p.type === t)?.value ?? ''
    const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(get('weekday'))
    const h = Number(get('hour')) % 24
    const m = Number(get('minute'))
    return { day, minutes: h * 60 + m, label: `${get('weekday')} ${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}` }
  } catch {
    return null
  }
}

/** Whether the team is open at `at`, as the server decides it (start included, end excluded). */
export function openAt(input: BusinessHoursInput, at: Date): boolean {
  if (!input.days.length) return true
  const now = zonedNow(at, input.timeZone || 'UTC')
  if (!now) return true
  return input.days.some((d) => {
    const o = minutesOf(d.open)
    const c = minutesOf(d.close)
    return o !== null && c !== null && JS_DAY[d.day] === now.day && now.minutes >= o && now.minutes < c
  })
}

/** Time zones for the select: the browser's first, then the rest; `current` is kept even if unknown here. */
export function timeZoneOptions(all: readonly string[], browser: string, current?: string): string[] {
  const rest = all.filter((z) => z !== browser && z !== current)
  const head = [browser]
  if (current && current !== browser) head.push(current)
  if (!rest.includes('UTC') && !head.includes('UTC')) rest.push('UTC')
  return [...head, ...rest]
}

// ---------------------------------------------------------------- origins

export type OriginCheck = { ok: true; origin: string } | { ok: false; error: string }

const HOST = /^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$/

/**
 * Checks one allowed origin: scheme://host[:port] with http or https,
 * without path, query or credentials. Returns it as the browser sends it in
 * an Origin header: lower-case, no trailing slash, no default port.
 */
export function checkOrigin(raw: string): OriginCheck {
  const t = raw.trim()
  if (!t) return { ok: false, error: 'Enter an origin, like https://www.example.com.' }
  if (t.includes('*')) return { ok: false, error: 'Wildcards are not supported: add each origin.' }
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(t)
  if (!m) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(t) && !/^[^:]+:\d/.test(t)) return { ok: false, error: 'Write the origin as scheme://host, like https://www.example.com.' }
    return { ok: false, error: `Add the scheme: https://${t.replace(/\/+$/, '')}.` }
  }
  const scheme = m[1]!.toLowerCase()
  if (scheme !== 'http' && scheme !== 'https') return { ok: false, error: 'Only http:// and https:// origins are possible.' }
  const rest = m[2]!.replace(/\/+$/, '')
  if (!rest) return { ok: false, error: `Add the host after ${scheme}://.` }
  if (/[/?#]/.test(rest)) {
    const host = rest.split(/[/?#]/)[0]
    return { ok: false, error: `An origin has no path or query: use ${scheme}://${host}.` }
  }
  if (rest.includes('@')) return { ok: false, error: 'An origin has no user name or password.' }
  const hp = /^(.*?)(?::(\d+))?$/.exec(rest.toLowerCase())!
  const host = hp[1]!
  const port = hp[2]
  if (!host || !HOST.test(host)) return { ok: false, error: `"${rest}" is not a valid host name.` }
  if (rest.endsWith(':')) return { ok: false, error: 'The port is missing after ":".' }
  let portPart = ''
  if (port !== undefined) {
    const n = Number(port)
    if (!Number.isInteger(n) || n < 1 || n > 65535) return { ok: false, error: 'The port must be between 1 and 65535.' }
    const dflt = scheme === 'https' ? 443 : 80
    if (n !== dflt) portPart = `:${n}`
  }
  return { ok: true, origin: `${scheme}://${host}${portPart}` }
}

/** Adds an origin to a list: normalized, refusing invalid ones and duplicates. */
export function addOrigin(list: string[], raw: string): { list: string[]; error?: string } {
  const c = checkOrigin(raw)
  if (!c.ok) return { list, error: c.error }
  if (list.includes(c.origin)) return { list, error: `${c.origin} is already in the list.` }
  if (list.length >= 50) return { list, error: 'At most 50 origins can be listed.' }
  return { list: [...list, c.origin] }
}

// ---------------------------------------------------------------- colours

export const HEX = /^#[0-9A-Fa-f]{6}$/

/** Text colour on a brand colour, as the widget picks it. */
export function onBrand(hex: string): string {
  if (!HEX.test(hex)) return '#fff'
  const n = parseInt(hex.slice(1), 16)
  return 0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255) > 158 ? '#111827' : '#fff'
}

/** What the user typed in the hex box as #RRGGBB, when it can be read as one (#abc and abc123 too). */
export function parseHex(s: string): string | null {
  let t = s.trim()
  if (!t.startsWith('#')) t = '#' + t
  if (/^#[0-9a-f]{3}$/i.test(t)) t = '#' + [...t.slice(1)].map((c) => c + c).join('')
  return HEX.test(t) ? t.toUpperCase() : null
}

// ---------------------------------------------------------------- field checks

export type FieldErrors = Record<string, string>

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const PHONE = /^\+?[0-9 ().-]{3,50}$/

function len(s: string): number {
  return [...s.trim()].length
}

export interface ProfileValues extends Record<string, unknown> {
  name: string
  email: string
  phone: string
  website: string
}

export function validateProfile(v: ProfileValues): FieldErrors {
  const e: FieldErrors = {}
  if (!v.name.trim()) e.name = 'Enter the company name.'
  else if (len(v.name) > 200) e.name = 'At most 200 characters.'
  if (!v.email.trim()) e.email = 'Enter a contact email.'
  else if (!EMAIL.test(v.email.trim())) e.email = 'This is not a valid email address.'
  if (v.phone.trim() && !PHONE.test(v.phone.trim())) e.phone = 'Digits, spaces, + ( ) . and - only.'
  const w = v.website.trim()
  if (w) {
    try {
      const u = new URL(w.includes('://') ? w : `https://${w}`)
      if (!/^https?:$/.test(u.protocol) || !u.hostname.includes('.')) e.website = 'Enter a web address, like https://www.example.com.'
    } catch {
      e.website = 'Enter a web address, like https://www.example.com.'
    }
  }
  return e
}

export interface WidgetValues extends Record<string, unknown> {
  brandColor: string
  greeting: string
  assistantName: string
}

export function validateWidget(v: WidgetValues): FieldErrors {
  const e: FieldErrors = {}
  if (!HEX.test(v.brandColor.trim())) e.brandColor = 'Use a colour like #4F46E5.'
  if (len(v.greeting) > 500) e.greeting = `At most 500 characters (${len(v.greeting)} now).`
  if (!v.assistantName.trim()) e.assistantName = 'Give the assistant a name.'
  else if (len(v.assistantName) > 60) e.assistantName = 'At most 60 characters.'
  return e
}

export interface AssistantValues extends Record<string, unknown> {
  assistantTone: string
  autoHandoff: boolean
  awayMessage: string
}

export function validateAssistant(v: AssistantValues): FieldErrors {
  const e: FieldErrors = {}
  if (len(v.assistantTone) > 200) e.assistantTone = `At most 200 characters (${len(v.assistantTone)} now).`
  if (len(v.awayMessage) > 500) e.awayMessage = `At most 500 characters (${len(v.awayMessage)} now).`
  return e
}

/** The input of one save: only what changed. */
export type CompanyPatch = Partial<UpdateCompanyInput>

/** The business-hours part of a patch, when the hours changed. */
export function hoursPatch(initial: HoursForm, current: HoursForm): CompanyPatch {
  return sameHours(initial, current) ? {} : { businessHours: formToHoursInput(current) }
}

export const DEFAULT_AWAY = "Our team is away right now. Our assistant can still help, and we'll get back to you."

/** The widget's embed snippet. */
export function embedSnippet(origin: string, widgetKey: string): string {
  return `<script src="${origin}/widget.js" data-company-key="${widgetKey}" async></script>`
}

/** Masks a secret, keeping a hint of its end. */
export function maskSecret(s: string): string {
  if (s.length <= 4) return '•'.repeat(8)
  return '•'.repeat(Math.min(24, s.length - 4)) + s.slice(-4)
}

/** Whether what was typed confirms the company's name (spaces and case do not matter). */
export function confirmsName(typed: string, name: string): boolean {
  const n = (s: string) => s.trim().replace(/\s+/g, ' ').toLowerCase()
  return n(typed) !== '' && n(typed) === n(name)
}
