// Settings forms: only changed fields are sent, business hours between the
// form and BusinessHoursInput, their checks, allowed origins, colours.
import { describe, expect, it } from 'vitest'
import {
  addOrigin,
  changedFields,
  checkOrigin,
  confirmsName,
  formToHoursInput,
  hoursPatch,
  hoursToForm,
  hoursValid,
  isDirty,
  maskSecret,
  onBrand,
  openAt,
  parseHex,
  sameHours,
  timeZoneOptions,
  validateHours,
  validateProfile,
  validateWidget,
  type HoursForm,
} from '../src/pages/settings/settingsLogic'

describe('changedFields (what updateCompany gets)', () => {
  const base = { name: 'Acme', email: 'a@acme.example', phone: '', website: 'https://acme.example' }

  it('sends nothing when nothing changed', () => {
    expect(changedFields(base, { ...base })).toEqual({})
    expect(isDirty(base, { ...base })).toBe(false)
  })

  it('sends only the changed fields, trimmed', () => {
    expect(changedFields(base, { ...base, name: '  Acme Inc ', phone: '+1 555' })).toEqual({ name: 'Acme Inc', phone: '+1 555' })
  })

  it('does not count whitespace-only edits as changes', () => {
    expect(changedFields(base, { ...base, name: 'Acme  '.trimEnd() + ' ' })).toEqual({})
  })

  it('sends a cleared field as an empty string (to remove it)', () => {
    expect(changedFields(base, { ...base, website: '' })).toEqual({ website: '' })
  })

  it('compares brand colours without case and sends them upper-case', () => {
    const w = { brandColor: '#4F46E5', greeting: 'Hi', assistantName: 'Bot' }
    expect(changedFields(w, { ...w, brandColor: '#4f46e5' })).toEqual({})
    expect(changedFields(w, { ...w, brandColor: '#0891b2' })).toEqual({ brandColor: '#0891B2' })
  })

  it('handles booleans and lists', () => {
    const s = { allowedOrigins: ['https://a.example'], requireIdentity: false }
    expect(changedFields(s, { ...s, requireIdentity: true })).toEqual({ requireIdentity: true })
    expect(changedFields(s, { ...s, allowedOrigins: ['https://a.example', 'https://b.example'] })).toEqual({
      allowedOrigins: ['https://a.example', 'https://b.example'],
    })
    expect(changedFields(s, { ...s, allowedOrigins: [] })).toEqual({ allowedOrigins: [] })
    expect(changedFields(s, { allowedOrigins: ['https://a.example'], requireIdentity: false })).toEqual({})
  })
})

describe('business hours ⇄ BusinessHoursInput', () => {
  const stored = {
    timeZone: 'Europe/Paris',
    days: [
      { day: 'MONDAY' as const, open: '13:00', close: '17:00' },
      { day: 'MONDAY' as const, open: '09:00', close: '12:00' },
      { day: 'SATURDAY' as const, open: '10:00', close: '14:00' },
    ],
  }

  it('reads stored hours: one row per weekday, ranges sorted, others closed', () => {
    const f = hoursToForm(stored, 'America/New_York')
    expect(f.alwaysOpen).toBe(false)
    expect(f.timeZone).toBe('Europe/Paris')
    expect(f.days.map((d) => d.day)).toEqual(['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'])
    const mon = f.days[0]!
    expect(mon.enabled).toBe(true)
    expect(mon.ranges).toEqual([
      { open: '09:00', close: '12:00' },
      { open: '13:00', close: '17:00' },
    ])
    expect(f.days.find((d) => d.day === 'TUESDAY')!.enabled).toBe(false)
    expect(f.days.find((d) => d.day === 'SATURDAY')!.enabled).toBe(true)
  })

  it('round-trips: form → input gives the stored days back in a stable order', () => {
    const input = formToHoursInput(hoursToForm(stored, 'UTC'))
    expect(input).toEqual({
      timeZone: 'Europe/Paris',
      days: [
        { day: 'MONDAY', open: '09:00', close: '12:00' },
        { day: 'MONDAY', open: '13:00', close: '17:00' },
        { day: 'SATURDAY', open: '10:00', close: '14:00' },
      ],
    })
  })

  it('no hours: always open, in the browser zone, with office hours ready', () => {
    const f = hoursToForm(null, 'Asia/Tokyo')
    expect(f.alwaysOpen).toBe(true)
    expect(f.timeZone).toBe('Asia/Tokyo')
    expect(f.days.filter((d) => d.enabled).map((d) => d.day)).toEqual(['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'])
    expect(hoursToForm({ timeZone: 'UTC', days: [] }, 'Asia/Tokyo').alwaysOpen).toBe(true)
  })

  it('always open sends no days, which removes the hours', () => {
    const f = { ...hoursToForm(stored, 'UTC'), alwaysOpen: true }
    expect(formToHoursInput(f)).toEqual({ days: [] })
  })

  it('leaves out closed days, even with times filled in', () => {
    const f = hoursToForm(null, 'UTC')
    f.alwaysOpen = false
    const input = formToHoursInput(f)
    expect(input.days.map((d) => d.day)).toEqual(['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'])
    expect(input.days.every((d) => d.open === '09:00' && d.close === '17:00')).toBe(true)
  })

  it('is unchanged when only what is not sent changed (zone while always open, a closed day’s times)', () => {
    const a = hoursToForm(null, 'UTC')
    expect(sameHours(a, { ...a, timeZone: 'Europe/Paris' })).toBe(true)
    const b = hoursToForm(stored, 'UTC')
    const c: HoursForm = { ...b, days: b.days.map((d) => (d.day === 'SUNDAY' ? { ...d, ranges: [{ open: '01:00', close: '02:00' }] } : d)) }
    expect(sameHours(b, c)).toBe(true)
    expect(hoursPatch(b, c)).toEqual({})
  })

  it('patches the hours when they changed', () => {
    const b = hoursToForm(stored, 'UTC')
    const c = { ...b, timeZone: 'Europe/Berlin' }
    expect(sameHours(b, c)).toBe(false)
    expect(hoursPatch(b, c).businessHours?.timeZone).toBe('Europe/Berlin')
    expect(hoursPatch(b, { ...b, alwaysOpen: true })).toEqual({ businessHours: { days: [] } })
  })
})

describe('validateHours', () => {
  const open = (): HoursForm => ({ ...hoursToForm(null, 'Europe/Paris'), alwaysOpen: false })

  it('accepts office hours and always open', () => {
    expect(hoursValid(validateHours(open()))).toBe(true)
    expect(hoursValid(validateHours(hoursToForm(null, 'Europe/Paris')))).toBe(true)
  })

  it('refuses a closing time before or equal to the opening time, on that day', () => {
    const f = open()
    f.days[4] = { ...f.days[4]!, ranges: [{ open: '18:00', close: '09:00' }] }
    f.days[1] = { ...f.days[1]!, ranges: [{ open: '10:00', close: '10:00' }] }
    const e = validateHours(f)
    expect(hoursValid(e)).toBe(false)
    expect(e.days.FRIDAY).toMatch(/before opening time 18:00/)
    expect(e.days.TUESDAY).toMatch(/same as the opening time/)
    expect(e.days.MONDAY).toBeUndefined()
  })

  it('ignores bad times on closed days', () => {
    const f = open()
    f.days[6] = { ...f.days[6]!, enabled: false, ranges: [{ open: '18:00', close: '09:00' }] }
    expect(hoursValid(validateHours(f))).toBe(true)
  })

  it('refuses overlapping periods and missing times', () => {
    const f = open()
    f.days[0] = { ...f.days[0]!, ranges: [{ open: '09:00', close: '13:00' }, { open: '12:00', close: '17:00' }] }
    f.days[2] = { ...f.days[2]!, ranges: [{ open: '', close: '17:00' }] }
    const e = validateHours(f)
    expect(e.days.MONDAY).toBe('These hours overlap.')
    expect(e.days.WEDNESDAY).toMatch(/Enter an opening and a closing time/)
    f.days[0] = { ...f.days[0]!, ranges: [{ open: '09:00', close: '12:00' }, { open: '12:00', close: '17:00' }] }
    expect(validateHours(f).days.MONDAY).toBeUndefined()
  })

  it('refuses a week without an open day, and an unknown zone', () => {
    const f = open()
    f.days = f.days.map((d) => ({ ...d, enabled: false }))
    expect(validateHours(f).form).toMatch(/No day is open/)
    expect(validateHours({ ...open(), timeZone: 'Mars/Olympus' }, ['Europe/Paris', 'UTC']).timeZone).toBeTruthy()
    expect(validateHours({ ...open(), timeZone: '' }).timeZone).toBe('Choose a time zone.')
  })
})

describe('openAt (as the server decides)', () => {
  const input = {
    timeZone: 'Europe/Paris',
    days: [{ day: 'MONDAY' as const, open: '09:00', close: '17:00' }],
  }
  it('uses the company’s zone, includes the opening and excludes the closing minute', () => {
    // Monday 2026-03-02: Paris is UTC+1.
    expect(openAt(input, new Date('2026-03-02T08:00:00Z'))).toBe(true) // 09:00 Paris
    expect(openAt(input, new Date('2026-03-02T07:59:00Z'))).toBe(false)
    expect(openAt(input, new Date('2026-03-02T16:00:00Z'))).toBe(false) // 17:00 Paris
    expect(openAt(input, new Date('2026-03-03T10:00:00Z'))).toBe(false) // Tuesday
  })
  it('is always open without days', () => {
    expect(openAt({ days: [] }, new Date())).toBe(true)
  })
})

describe('timeZoneOptions', () => {
  it('puts the browser’s zone first, keeps the current one, and has UTC', () => {
    const z = timeZoneOptions(['Africa/Abidjan', 'Europe/Paris', 'Asia/Tokyo'], 'Asia/Tokyo', 'Etc/GMT+3')
    expect(z[0]).toBe('Asia/Tokyo')
    expect(z[1]).toBe('Etc/GMT+3')
    expect(z).toContain('UTC')
    expect(z.filter((x) => x === 'Asia/Tokyo')).toHaveLength(1)
  })
})

describe('allowed origins', () => {
  it('accepts scheme://host[:port] and normalizes it as a browser sends it', () => {
    expect(checkOrigin('https://www.example.com')).toEqual({ ok: true, origin: 'https://www.example.com' })
    expect(checkOrigin('  HTTPS://WWW.Example.COM/ ')).toEqual({ ok: true, origin: 'https://www.example.com' })
    expect(checkOrigin('http://localhost:3000')).toEqual({ ok: true, origin: 'http://localhost:3000' })
    expect(checkOrigin('https://shop.example.com:443')).toEqual({ ok: true, origin: 'https://shop.example.com' })
    expect(checkOrigin('http://example.com:80')).toEqual({ ok: true, origin: 'http://example.com' })
    expect(checkOrigin('https://example.com:8443')).toEqual({ ok: true, origin: 'https://example.com:8443' })
    expect(checkOrigin('http://[::1]:8080')).toEqual({ ok: true, origin: 'http://[::1]:8080' })
    expect(checkOrigin('http://127.0.0.1:5173')).toEqual({ ok: true, origin: 'http://127.0.0.1:5173' })
  })

  it('refuses what is not an origin, saying why', () => {
    const err = (s: string) => {
      const r = checkOrigin(s)
      return r.ok ? null : r.error
    }
    expect(err('example.com')).toBe('Add the scheme: https://example.com.')
    expect(err('ftp://example.com')).toMatch(/Only http/)
    expect(err('https://example.com/shop')).toBe('An origin has no path or query: use https://example.com.')
    expect(err('https://example.com?x=1')).toMatch(/no path or query/)
    expect(err('https://user:pw@example.com')).toMatch(/user name/)
    expect(err('https://*.example.com')).toMatch(/Wildcards/)
    expect(err('https://exa mple.com')).toMatch(/not a valid host/)
    expect(err('https://example.com:0')).toMatch(/between 1 and 65535/)
    expect(err('https://example.com:99999')).toMatch(/between 1 and 65535/)
    expect(err('https://')).toBe('Add the host after https://.')
    expect(err('https:/example.com')).toMatch(/scheme:\/\/host/)
    expect(err('localhost:3000')).toBe('Add the scheme: https://localhost:3000.')
    expect(err('example.com/')).toBe('Add the scheme: https://example.com.')
    expect(err('')).toMatch(/Enter an origin/)
  })

  it('adds to a list without duplicates', () => {
    const a = addOrigin([], 'https://a.example')
    expect(a).toEqual({ list: ['https://a.example'] })
    const b = addOrigin(a.list, 'HTTPS://A.EXAMPLE/')
    expect(b.list).toEqual(['https://a.example'])
    expect(b.error).toMatch(/already in the list/)
    const c = addOrigin(a.list, 'a.example')
    expect(c.list).toEqual(['https://a.example'])
    expect(c.error).toBeTruthy()
  })
})

describe('field checks', () => {
  it('profile', () => {
    expect(validateProfile({ name: 'Acme', email: 'a@acme.example', phone: '', website: '' })).toEqual({})
    const e = validateProfile({ name: ' ', email: 'nope', phone: 'call me', website: 'not a site' })
    expect(Object.keys(e).sort()).toEqual(['email', 'name', 'phone', 'website'])
    expect(validateProfile({ name: 'A', email: 'a@b.co', phone: '+33 (1) 23-45', website: 'acme.example' })).toEqual({})
  })
  it('widget', () => {
    expect(validateWidget({ brandColor: '#4F46E5', greeting: '', assistantName: 'Bot' })).toEqual({})
    const e = validateWidget({ brandColor: 'blue', greeting: 'x'.repeat(501), assistantName: 'y'.repeat(61) })
    expect(Object.keys(e).sort()).toEqual(['assistantName', 'brandColor', 'greeting'])
    expect(validateWidget({ brandColor: '#4F46E5', greeting: 'é'.repeat(500), assistantName: 'Bot' })).toEqual({})
  })
})

describe('colours and the rest', () => {
  it('parses what people type as a hex colour', () => {
    expect(parseHex('#0891b2')).toBe('#0891B2')
    expect(parseHex('0891b2')).toBe('#0891B2')
    expect(parseHex('#abc')).toBe('#AABBCC')
    expect(parseHex('#12345')).toBeNull()
    expect(parseHex('blue')).toBeNull()
  })
  it('picks white or dark text on the brand colour like the widget', () => {
    expect(onBrand('#4F46E5')).toBe('#fff')
    expect(onBrand('#FACC15')).toBe('#111827')
    expect(onBrand('#FFFFFF')).toBe('#111827')
  })
  it('masks a secret but its last 4 characters', () => {
    const m = maskSecret('abcdefghijklmnop')
    expect(m.endsWith('mnop')).toBe(true)
    expect(m).not.toContain('abcd')
  })
  it('confirms the company name typed loosely', () => {
    expect(confirmsName(' globex   corp ', 'Globex Corp')).toBe(true)
    expect(confirmsName('Globex', 'Globex Corp')).toBe(false)
    expect(confirmsName('', '')).toBe(false)
  })
})
