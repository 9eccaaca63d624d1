// A company's logo (or initials) and plan badge, for the super admin's pages.
import type { SubscriptionPlan } from '../../gql/graphql'
import type { ReactNode } from 'react'
import type { CombinedError } from 'urql'
import { Badge, Button, Empty, ErrorBanner, Loading, SelectField } from '../../ui'
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

/** The account status filter of the super admin's lists. */
export function StatusFilter({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  return (
    <SelectField label="Status" value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">All</option>
      <option value="active">Active</option>
      <option value="inactive">Deactivated</option>
    </SelectField>
  )
}

/** The sort order of a list; choosing the default clears it from the URL. */
export function SortFilter({
  sorts,
  value,
  defaultKey,
  onChange,
}: {
  sorts: Record<string, { label: string }>
  value: string
  defaultKey: string
  onChange: (v: string) => void
}) {
  return (
    <SelectField label="Sort" value={value} onChange={(e) => onChange(e.target.value === defaultKey ? '' : e.target.value)}>
      {Object.entries(sorts).map(([k, s]) => (
        <option key={k} value={k}>
          {s.label}
        </option>
      ))}
    </SelectField>
  )
}

/** A list's error, first load and empty states (nothing matches: a way to clear the filters). */
export function ListStates({
  error,
  loading,
  empty,
  filtered,
  loadingText,
  emptyTitle,
  children,
  onRetry,
  onClear,
}: {
  error?: CombinedError
  loading: boolean
  empty: boolean
  filtered: boolean
  loadingText: string
  emptyTitle: [filtered: string, none: string]
  children: [filtered: ReactNode, none: ReactNode]
  onRetry: () => void
  onClear: () => void
}) {
  return (
    <>
      {error && (
        <div style={{ padding: '12px 16px' }}>
          <ErrorBanner error={error} onRetry={onRetry} />
        </div>
      )}
      {loading && <Loading>{loadingText}</Loading>}
      {empty && (
        <Empty title={filtered ? emptyTitle[0] : emptyTitle[1]} action={filtered && <Button onClick={onClear}>Clear the filters</Button>}>
          {filtered ? children[0] : children[1]}
        </Empty>
      )}
    </>
  )
}
