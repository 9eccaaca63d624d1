// A company's logo (or initials) and plan badge, for the super admin's pages.
import type { SubscriptionPlan } from '../../gql/graphql'
import { Badge } from '../../ui'
import { initials } from '../team/teamLogic'
import { planLabel } from './adminLogic'
import './companies.css'

export function CompanyMark({ name, logoURL, big }: { name: string; logoURL?: string | null; big?: boolean }) {
  if (logoURL) return <img className={`co-logo ${big ? 'big' : ''}`} src={logoURL} alt="" />
  return (
    <span className={`co-initials ${big ? 'big' : ''}`} aria-hidden>
      {initials(name)}
    </span>
  )
}

export function PlanBadge({ plan }: { plan: SubscriptionPlan }) {
  return <Badge kind={plan === 'FREE' ? undefined : plan === 'ENTERPRISE' ? 'primary' : 'info'}>{planLabel(plan)}</Badge>
}
