import { describe, expect, it } from 'vitest'
import {
  agentFiltersFrom,
  agentsWhere,
  companiesWhere,
  companyFiltersFrom,
  confirmsName,
  pageSpan,
} from '../src/pages/admin/adminLogic'

describe('companiesWhere', () => {
  it('filters nothing without filters', () => {
    expect(companiesWhere({ q: '  ', plan: '', active: '' })).toBeUndefined()
  })

  it('searches name, slug and email, any case, trimmed', () => {
    expect(companiesWhere({ q: ' Acme ', plan: '', active: '' })).toEqual({
      or: [{ nameContainsFold: 'Acme' }, { slugContainsFold: 'Acme' }, { emailContainsFold: 'Acme' }],
    })
  })

  it('combines search, plan and status with and', () => {
    expect(companiesWhere({ q: 'a', plan: 'PREMIUM', active: 'inactive' })).toEqual({
      and: [
        { or: [{ nameContainsFold: 'a' }, { slugContainsFold: 'a' }, { emailContainsFold: 'a' }] },
        { subscriptionPlan: 'PREMIUM' },
        { isActive: false },
      ],
    })
    expect(companiesWhere({ q: '', plan: '', active: 'active' })).toEqual({ isActive: true })
  })

  it('reads the filters from the URL, ignoring unknown values', () => {
    expect(companyFiltersFrom(new URLSearchParams('q=x&plan=BASIC&status=inactive'))).toEqual({ q: 'x', plan: 'BASIC', active: 'inactive' })
    expect(companyFiltersFrom(new URLSearchParams('plan=GOLD&status=maybe'))).toEqual({ q: '', plan: '', active: '' })
  })
})

describe('agentsWhere', () => {
  it('searches names, emails and company names', () => {
    expect(agentsWhere({ q: 'ada', role: '', active: '' })).toEqual({
      or: [{ fullNameContainsFold: 'ada' }, { emailContainsFold: 'ada' }, { hasCompanyWith: [{ nameContainsFold: 'ada' }] }],
    })
  })

  it('filters by role, status and company', () => {
    expect(agentsWhere({ q: '', role: 'COMPANY_ADMIN', active: 'active', companyId: 'c1' })).toEqual({
      and: [{ role: 'COMPANY_ADMIN' }, { isActive: true }, { companyID: 'c1' }],
    })
    expect(agentsWhere({ q: '', role: '', active: '' })).toBeUndefined()
  })

  it('reads the filters from the URL', () => {
    expect(agentFiltersFrom(new URLSearchParams('role=AGENT&status=active'))).toEqual({ q: '', role: 'AGENT', active: 'active' })
    expect(agentFiltersFrom(new URLSearchParams('role=ROOT'))).toEqual({ q: '', role: '', active: '' })
  })
})

describe('paging and confirmation', () => {
  it('says which rows a page shows', () => {
    expect(pageSpan(1, 25, 25, 73)).toBe('1–25 of 73')
    expect(pageSpan(3, 25, 23, 73)).toBe('51–73 of 73')
    expect(pageSpan(1, 25, 0, 0)).toBe('0 of 0')
  })

  it('asks for the exact name to delete a company', () => {
    expect(confirmsName('Acme Support (demo)', 'Acme Support (demo)')).toBe(true)
    expect(confirmsName('  Acme Support (demo) ', 'Acme Support (demo)')).toBe(true)
    expect(confirmsName('acme support (demo)', 'Acme Support (demo)')).toBe(false)
    expect(confirmsName('Acme', 'Acme Support (demo)')).toBe(false)
    expect(confirmsName('', '')).toBe(false)
  })
})
