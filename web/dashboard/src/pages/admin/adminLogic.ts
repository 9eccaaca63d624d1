// The super admin's list filters as the API's where inputs (ent's
// CompanyWhereInput / UserWhereInput), and their URL form, kept apart from
// React so they are tested.
import type { CompanyWhereInput, Role, SubscriptionPlan, UserWhereInput } from '../../gql/graphql'

export const PLAN_OPTIONS: { value: SubscriptionPlan; label: string; detail: string }[] = [
  { value: 'FREE', label: 'Free', detail: 'Websites up to 50 pages, 20 ingestions an hour.' },
  { value: 'BASIC', label: 'Basic', detail: 'Websites up to 200 pages, 100 ingestions an hour.' },
  { value: 'PREMIUM', label: 'Premium', detail: 'Websites up to 1,000 pages, 500 ingestions an hour.' },
  { value: 'ENTERPRISE', label: 'Enterprise', detail: 'Websites up to 5,000 pages, 2,000 ingestions an hour.' },
]

export function planLabel(p: SubscriptionPlan): string {
  return PLAN_OPTIONS.find((o) => o.value === p)?.label ?? p
}

export type ActiveFilter = '' | 'active' | 'inactive'

function activeOf(a: ActiveFilter): boolean | undefined {
  return a === 'active' ? true : a === 'inactive' ? false : undefined
}

export interface CompanyFilters {
  q: string
  plan: SubscriptionPlan | ''
  active: ActiveFilter
}

/** Companies whose name or slug contains q (any case), on the plan, active or not. */
export function companiesWhere(f: CompanyFilters): CompanyWhereInput | undefined {
  const and: CompanyWhereInput[] = []
  const q = f.q.trim()
  if (q) and.push({ or: [{ nameContainsFold: q }, { slugContainsFold: q }, { emailContainsFold: q }] })
  if (f.plan) and.push({ subscriptionPlan: f.plan })
  const active = activeOf(f.active)
  if (active !== undefined) and.push({ isActive: active })
  if (and.length === 0) return undefined
  return and.length === 1 ? and[0] : { and }
}

export interface AgentFilters {
  q: string
  role: Role | ''
  active: ActiveFilter
  companyId?: string
}

/** Users whose name, email or company name contains q, with the role, active or not. */
export function agentsWhere(f: AgentFilters): UserWhereInput | undefined {
  const and: UserWhereInput[] = []
  const q = f.q.trim()
  if (q) {
    and.push({ or: [{ fullNameContainsFold: q }, { emailContainsFold: q }, { hasCompanyWith: [{ nameContainsFold: q }] }] })
  }
  if (f.role) and.push({ role: f.role })
  const active = activeOf(f.active)
  if (active !== undefined) and.push({ isActive: active })
  if (f.companyId) and.push({ companyID: f.companyId })
  if (and.length === 0) return undefined
  return and.length === 1 ? and[0] : { and }
}

const PLANS = new Set(PLAN_OPTIONS.map((p) => p.value))

export function companyFiltersFrom(p: URLSearchParams): CompanyFilters {
  const plan = p.get('plan') ?? ''
  const active = p.get('status') ?? ''
  return {
    q: p.get('q') ?? '',
    plan: PLANS.has(plan as SubscriptionPlan) ? (plan as SubscriptionPlan) : '',
    active: active === 'active' || active === 'inactive' ? active : '',
  }
}

export function agentFiltersFrom(p: URLSearchParams): AgentFilters {
  const role = p.get('role') ?? ''
  const active = p.get('status') ?? ''
  return {
    q: p.get('q') ?? '',
    role: role === 'AGENT' || role === 'COMPANY_ADMIN' ? role : '',
    active: active === 'active' || active === 'inactive' ? active : '',
  }
}

/** "26–50 of 73": the rows a page shows (page from 1). */
export function pageSpan(page: number, size: number, shown: number, total: number): string {
  if (total === 0 || shown === 0) return `0 of ${total}`
  const first = (page - 1) * size + 1
  return `${first}–${first + shown - 1} of ${total}`
}

/** Whether a typed confirmation is the name exactly (spaces around it aside). */
export function confirmsName(typed: string, name: string): boolean {
  return typed.trim().length > 0 && typed.trim() === name.trim()
}
