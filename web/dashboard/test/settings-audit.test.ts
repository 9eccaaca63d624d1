// The audit log in sentences, its filters as an AuditLogWhereInput, and the
// API keys page's helpers.
import { describe, expect, it } from 'vitest'
import {
  actionLabel,
  dayLabel,
  describeAction,
  filtersFromParams,
  filtersToParams,
  groupByDay,
  NO_FILTERS,
  pageSpan,
  summaryFields,
  toWhere,
} from '../src/pages/audit/auditLogic'
import { isWriteScope, keyStart, relativeTime, SCOPES, sortScopes, validateNewKey } from '../src/pages/apikeys/apiKeysLogic'

describe('describeAction', () => {
  it('company.update names the changed fields in words', () => {
    expect(describeAction({ action: 'company.update', summary: 'fields: name, brandColor, businessHours' })).toEqual({
      title: 'Updated company settings',
      detail: 'Changed name, brand colour and business hours',
    })
    expect(describeAction({ action: 'company.update', summary: 'fields: logo' }).detail).toBe('Changed logo')
    expect(describeAction({ action: 'company.update', summary: '' })).toEqual({ title: 'Updated company settings' })
  })

  it('the other company actions', () => {
    expect(describeAction({ action: 'company.rotate_identity_secret' }).title).toBe('Rotated the identity secret')
    expect(describeAction({ action: 'company.deactivate' }).title).toBe('Deactivated the company')
    expect(describeAction({ action: 'company.activate' }).title).toBe('Reactivated the company')
    expect(describeAction({ action: 'company.delete', summary: 'with its users' }).detail).toBe('With its users')
  })

  it('team actions, with the member’s name when known', () => {
    expect(describeAction({ action: 'agent.create', summary: 'role: COMPANY_ADMIN' }, 'Jane Doe')).toEqual({
      title: 'Added Jane Doe to the team',
      detail: 'As company admin',
    })
    expect(describeAction({ action: 'agent.create', summary: 'role: AGENT' })).toEqual({ title: 'Added a team member', detail: 'As agent' })
    expect(describeAction({ action: 'agent.update', summary: 'fields: fullName, password, isActive' }, 'Jane Doe')).toEqual({
      title: 'Changed Jane Doe’s account',
      detail: 'Changed name, password and active',
    })
    expect(describeAction({ action: 'agent.remove' }).title).toBe('Removed a team member')
  })

  it('API keys and knowledge', () => {
    expect(describeAction({ action: 'apikey.create', summary: 'scopes: knowledge:read, agents:read' }, 'Sync')).toEqual({
      title: 'Created the API key “Sync”',
      detail: 'Scopes: knowledge:read, agents:read',
    })
    expect(describeAction({ action: 'apikey.create', summary: 'scopes: knowledge:read' }).title).toBe('Created an API key')
    expect(describeAction({ action: 'apikey.revoke' }, 'Sync').title).toBe('Revoked the API key “Sync”')
    expect(describeAction({ action: 'resource.create', summary: 'type: PDF' }, 'Handbook').title).toBe(
      'Uploaded a PDF to the knowledge: “Handbook”',
    )
    expect(describeAction({ action: 'resource.create', summary: 'type: WEBSITE' }).title).toBe('Added a website to the knowledge')
    expect(describeAction({ action: 'resource.update', summary: 'fields: isActive' }).detail).toBe('Changed active')
    expect(describeAction({ action: 'resource.delete' }).title).toBe('Deleted knowledge')
  })

  it('an unknown action still reads as a sentence', () => {
    expect(describeAction({ action: 'widget.reset_colors', summary: 'fields: brandColor, fooBar' })).toEqual({
      title: 'Reset colors widget',
      detail: 'Changed brand colour and foo bar',
    })
    expect(describeAction({ action: 'ping', summary: 'from cron' })).toEqual({ title: 'Ping', detail: 'From cron' })
  })

  it('summaryFields only reads field lists', () => {
    expect(summaryFields('fields: allowedOrigins, requireIdentity')).toEqual(['allowed origins', 'identity verification'])
    expect(summaryFields('role: AGENT')).toBeNull()
    expect(summaryFields(null)).toBeNull()
  })

  it('labels known actions for the filter', () => {
    expect(actionLabel('apikey.revoke')).toBe('Revoked an API key')
    expect(actionLabel('x.y')).toBe('x.y')
  })
})

describe('audit filters', () => {
  it('nothing filtered: no where', () => {
    expect(toWhere(NO_FILTERS)).toBeUndefined()
    expect(toWhere({ ...NO_FILTERS, actor: '   ' })).toBeUndefined()
  })

  it('an action, a group of actions, who, which company', () => {
    expect(toWhere({ ...NO_FILTERS, action: 'company.update' })).toEqual({ action: 'company.update' })
    expect(toWhere({ ...NO_FILTERS, action: 'apikey.' })).toEqual({ actionHasPrefix: 'apikey.' })
    expect(toWhere({ ...NO_FILTERS, actor: ' Ada ', actorType: 'USER', companyId: 'c1' })).toEqual({
      actorNameContainsFold: 'Ada',
      actorType: 'USER',
      companyID: 'c1',
    })
  })

  it('a period from the start of the first day to the end of the last (local time)', () => {
    const w = toWhere({ ...NO_FILTERS, from: '2026-03-01', to: '2026-03-02' })!
    expect(new Date(w.createdAtGTE!).getTime()).toBe(new Date(2026, 2, 1).getTime())
    expect(new Date(w.createdAtLT!).getTime()).toBe(new Date(2026, 2, 3).getTime())
    expect(toWhere({ ...NO_FILTERS, from: 'garbage' })).toBeUndefined()
  })

  it('round-trips through the address', () => {
    const f = { action: 'agent.', actor: 'ada', actorType: 'API_KEY' as const, companyId: 'c9', from: '2026-01-01', to: '' }
    expect(filtersFromParams(filtersToParams(f))).toEqual(f)
    expect(filtersFromParams(new URLSearchParams('actorType=ROOT')).actorType).toBe('')
  })
})

describe('audit days and pages', () => {
  const now = new Date(2026, 2, 10, 15, 0)
  it('labels today and yesterday', () => {
    expect(dayLabel(new Date(2026, 2, 10, 0, 5).toISOString(), now)).toBe('Today')
    expect(dayLabel(new Date(2026, 2, 9, 23, 59).toISOString(), now)).toBe('Yesterday')
    expect(dayLabel(new Date(2026, 2, 1, 12).toISOString(), now)).not.toMatch(/Today|Yesterday/)
  })
  it('groups consecutive entries of one day', () => {
    const at = (d: number, h: number) => ({ createdAt: new Date(2026, 2, d, h).toISOString() })
    const g = groupByDay([at(10, 14), at(10, 9), at(9, 20), at(7, 8), at(7, 7)], now)
    expect(g.map((x) => [x.day === 'Today' || x.day === 'Yesterday' ? x.day : 'other', x.entries.length])).toEqual([
      ['Today', 2],
      ['Yesterday', 1],
      ['other', 2],
    ])
  })
  it('says which entries a page shows', () => {
    expect(pageSpan(1, 25, 25, 80)).toBe('1–25 of 80')
    expect(pageSpan(4, 25, 5, 80)).toBe('76–80 of 80')
    expect(pageSpan(1, 25, 0, 0)).toBe('0 of 0')
  })
})

describe('API keys helpers', () => {
  it('validates the create form', () => {
    expect(validateNewKey('Sync', ['KNOWLEDGE_READ'])).toEqual({})
    expect(Object.keys(validateNewKey(' ', [])).sort()).toEqual(['name', 'scopes'])
  })
  it('orders scopes as listed and shows a key’s start', () => {
    expect(sortScopes(['AGENTS_READ', 'KNOWLEDGE_WRITE', 'KNOWLEDGE_READ'])).toEqual(['KNOWLEDGE_READ', 'KNOWLEDGE_WRITE', 'AGENTS_READ'])
    expect(SCOPES.filter((s) => isWriteScope(s.scope)).map((s) => s.scope)).toEqual(['KNOWLEDGE_WRITE', 'CONVERSATIONS_WRITE'])
    expect(keyStart('3fa9c1d2e4b5')).toBe('ck_3fa9c1d2e4b5_…')
  })
  it('says when a key was last used', () => {
    const now = Date.parse('2026-03-10T12:00:00Z')
    expect(relativeTime(null, now)).toBe('Never')
    expect(relativeTime('2026-03-10T11:59:50Z', now)).toBe('Just now')
    expect(relativeTime('2026-03-10T11:55:00Z', now)).toBe('5 minutes ago')
    expect(relativeTime('2026-03-10T09:00:00Z', now)).toBe('3 hours ago')
    expect(relativeTime('2026-03-09T12:00:00Z', now)).toBe('Yesterday')
  })
})
