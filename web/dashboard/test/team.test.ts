import { describe, expect, it } from 'vitest'
import {
  changedFields,
  filterMembers,
  generatePassword,
  initials,
  presenceText,
  selfGuard,
  timeAgo,
} from '../src/pages/team/teamLogic'

const NOW = Date.parse('2026-03-10T12:00:00Z')
const ago = (ms: number) => new Date(NOW - ms).toISOString()

describe('presence', () => {
  it('says how long ago a member was seen', () => {
    expect(timeAgo(ago(20_000), NOW)).toBe('just now')
    expect(timeAgo(ago(5 * 60_000 + 10_000), NOW)).toBe('5 min ago')
    expect(timeAgo(ago(3 * 3600_000), NOW)).toBe('3 h ago')
    expect(timeAgo(ago(30 * 3600_000), NOW)).toBe('yesterday')
    expect(timeAgo(ago(4 * 86400_000), NOW)).toBe('4 days ago')
    expect(timeAgo(ago(60 * 86400_000), NOW)).toMatch(/^on /)
  })

  it('puts deactivated before online, and online before last seen', () => {
    expect(presenceText({ online: true, isActive: false, lastSeenAt: ago(0) }, NOW)).toBe('deactivated')
    expect(presenceText({ online: true, isActive: true, lastSeenAt: ago(3600_000) }, NOW)).toBe('online')
    expect(presenceText({ online: false, isActive: true, lastSeenAt: ago(5 * 60_000) }, NOW)).toBe('last seen 5 min ago')
    expect(presenceText({ online: false, isActive: true, lastSeenAt: null }, NOW)).toBe('never signed in')
  })
})

describe('selfGuard', () => {
  it('stops an admin from deactivating, removing or demoting themselves', () => {
    for (const a of ['deactivate', 'remove', 'role'] as const) {
      expect(selfGuard(a, 'me', 'me')).toMatch(/your own/)
      expect(selfGuard(a, 'someone', 'me')).toBeNull()
    }
  })
})

describe('changedFields', () => {
  const before = { fullName: 'Ada Lovelace', email: 'ada@acme.example', role: 'AGENT' as const }

  it('sends nothing when nothing changed (spaces and email case do not count)', () => {
    expect(changedFields(before, { fullName: ' Ada Lovelace ', email: 'ADA@acme.example', role: 'AGENT', password: '' })).toEqual({})
  })

  it('sends only what changed, trimmed, and a new password when one is typed', () => {
    expect(
      changedFields(before, { fullName: 'Ada King ', email: 'ada@acme.example', role: 'COMPANY_ADMIN', password: 'new secret 1' }),
    ).toEqual({ fullName: 'Ada King', role: 'COMPANY_ADMIN', password: 'new secret 1' })
    expect(changedFields(before, { ...before, email: ' ada.king@acme.example', password: '' })).toEqual({ email: 'ada.king@acme.example' })
  })
})

describe('filterMembers', () => {
  const list = [
    { fullName: 'Zoe Quinn', email: 'zoe@x.io', online: false, isActive: true },
    { fullName: 'Bob Stone', email: 'bob@x.io', online: true, isActive: true },
    { fullName: 'Amy Pond', email: 'amy@x.io', online: false, isActive: false },
    { fullName: 'Carl Sagan', email: 'carl@x.io', online: false, isActive: true },
  ]

  it('lists online members first, deactivated last, by name within each', () => {
    expect(filterMembers(list, '').map((m) => m.fullName)).toEqual(['Bob Stone', 'Carl Sagan', 'Zoe Quinn', 'Amy Pond'])
  })

  it('searches names and emails without regard to case', () => {
    expect(filterMembers(list, 'ZOE').map((m) => m.fullName)).toEqual(['Zoe Quinn'])
    expect(filterMembers(list, 'carl@').map((m) => m.fullName)).toEqual(['Carl Sagan'])
    expect(filterMembers(list, 'nobody')).toEqual([])
  })

  it('does not reorder the list it was given', () => {
    const copy = list.slice()
    filterMembers(list, '')
    expect(list).toEqual(copy)
  })
})

describe('initials and generated passwords', () => {
  it('takes the first letters of two words', () => {
    expect(initials('ada lovelace king')).toBe('AL')
    expect(initials('  Émile ')).toBe('É')
    expect(initials('')).toBe('?')
  })

  it('generates passwords of the asked length from unambiguous characters', () => {
    const pw = generatePassword(16)
    expect(pw).toHaveLength(16)
    expect(pw).toMatch(/^[a-km-zA-HJ-NP-Z2-9]+$/)
    expect(generatePassword(5, () => 0)).toBe('aaaaa')
    expect(generatePassword(20)).not.toBe(generatePassword(20))
  })
})
