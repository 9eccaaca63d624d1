// Super admin: every company on the platform, searchable and filtered by
// plan and status (kept in the URL, so Back from a company returns to the
// same list), a page at a time. A row opens the company.
import { useEffect, useMemo, useState } from 'react'
import { Link, useNavigate, useSearchParams } from 'react-router'
import { useQuery } from 'urql'
import { graphql } from '../../gql'
import type { CompanyOrderField, OrderDirection } from '../../gql/graphql'
import { useOnReconnect } from '../../lib/live'
import { Card, PageHeader, SelectField } from '../../ui'
import { formatDate } from '../team/teamLogic'
import { StatusBadge } from '../team/TeamBits'
import { companiesWhere, companyFiltersFrom, PLAN_OPTIONS } from './adminLogic'
import { CompanyMark, ListStates, PlanBadge, SortFilter, StatusFilter } from './CompanyBits'
import { Pager, useCursorPages, useDebounced } from './Pager'
import '../team/team.css'
import './companies.css'

const CompaniesList = graphql(`
  query CompaniesList($first: Int!, $after: Cursor, $where: CompanyWhereInput, $orderBy: CompanyOrder) {
    companies(first: $first, after: $after, where: $where, orderBy: $orderBy) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          name
          slug
          email
          logoURL
          subscriptionPlan
          isActive
          createdAt
          widgetKey
        }
      }
    }
  }
`)

const PAGE = 25

const SORTS: Record<string, { label: string; field: CompanyOrderField; direction: OrderDirection }> = {
  new: { label: 'Newest first', field: 'CREATED_AT', direction: 'DESC' },
  old: { label: 'Oldest first', field: 'CREATED_AT', direction: 'ASC' },
  name: { label: 'Name, A to Z', field: 'NAME', direction: 'ASC' },
}

export default function CompaniesPage() {
  const navigate = useNavigate()
  const [params, setParams] = useSearchParams()
  const filters = companyFiltersFrom(params)
  const sortKey = SORTS[params.get('sort') ?? ''] ? params.get('sort')! : 'new'
  const [search, setSearch] = useState(filters.q)
  const q = useDebounced(search)

  const set = (k: string, v: string) => {
    const next = new URLSearchParams(params)
    if (v) next.set(k, v)
    else next.delete(k)
    setParams(next, { replace: true })
  }
  useEffect(() => {
    if (q !== filters.q) set('q', q.trim() ? q : '')
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [q])

  const where = useMemo(() => companiesWhere(filters), [filters.q, filters.plan, filters.active]) // eslint-disable-line react-hooks/exhaustive-deps
  const key = JSON.stringify([where, sortKey])
  const pages = useCursorPages(key)
  const sort = SORTS[sortKey]!
  const [{ data, error, fetching }, reexecute] = useQuery({
    query: CompaniesList,
    variables: { first: PAGE, after: pages.after, where, orderBy: { field: sort.field, direction: sort.direction } },
  })
  useOnReconnect(() => reexecute({ requestPolicy: 'network-only' }))

  // The company page's "back" returns to this list as it is now.
  const back = { back: `/admin/companies${params.size ? `?${params}` : ''}` }
  const rows = (data?.companies.edges ?? []).flatMap((e) => (e?.node ? [e.node] : []))
  const filtered = !!(filters.q || filters.plan || filters.active)

  return (
    <>
      <PageHeader title="Companies" description="Every company on the platform. Open one to change its plan, deactivate it, or see its team and figures." />
      <Card bodyClass="">
        <div className="tm-toolbar">
          <div className="search" style={{ alignSelf: 'flex-end' }}>
            <label htmlFor="co-search" className="sr-only">
              Search companies
            </label>
            <input
              id="co-search"
              className="input"
              type="search"
              placeholder="Search by name, slug or email"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
            />
          </div>
          <SelectField label="Plan" value={filters.plan} onChange={(e) => set('plan', e.target.value)}>
            <option value="">All plans</option>
            {PLAN_OPTIONS.map((p) => (
              <option key={p.value} value={p.value}>
                {p.label}
              </option>
            ))}
          </SelectField>
          <StatusFilter value={filters.active} onChange={(v) => set('status', v)} />
          <SortFilter sorts={SORTS} value={sortKey} defaultKey="new" onChange={(v) => set('sort', v)} />
        </div>
        <ListStates
          error={error}
          loading={!data && fetching}
          empty={!!data && rows.length === 0}
          filtered={!!filtered}
          loadingText="Loading the companies…"
          emptyTitle={['No company matches', 'No companies yet']}
          onRetry={() => reexecute({ requestPolicy: 'network-only' })}
          onClear={() => {
            setSearch('')
            setParams(new URLSearchParams(), { replace: true })
          }}
        >
          {['Try another search, plan or status.', 'Companies appear here when they sign up.']}
        </ListStates>
        {rows.length > 0 && (
          <div className="table-wrap" style={{ opacity: fetching ? 0.6 : 1 }}>
            <table className="table tm-table">
              <thead>
                <tr>
                  <th scope="col">Company</th>
                  <th scope="col">Slug</th>
                  <th scope="col">Plan</th>
                  <th scope="col">Status</th>
                  <th scope="col">Created</th>
                  <th scope="col">Widget key</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((c) => (
                  <tr key={c.id} className="co-click" onClick={(e) => {
                    // The name is the link; the rest of the row is a larger target for the mouse.
                    if ((e.target as HTMLElement).closest('a, button')) return
                    navigate(`/admin/companies/${c.id}`, { state: back })
                  }}>
                    <td className="c-main">
                      <div className="co-name">
                        <CompanyMark name={c.name} logoURL={c.logoURL} />
                        <div style={{ minWidth: 0 }}>
                          <Link to={`/admin/companies/${c.id}`} state={back}>
                            {c.name}
                          </Link>
                          <div className="sub">{c.email}</div>
                        </div>
                      </div>
                    </td>
                    <td className="mono c-sub" data-label="Slug">
                      {c.slug}
                    </td>
                    <td>
                      <PlanBadge plan={c.subscriptionPlan} />
                    </td>
                    <td className={c.isActive ? 'c-ok' : ''}>
                      <StatusBadge active={c.isActive} />
                    </td>
                    <td className="c-added nowrap muted" data-label="Created">
                      {formatDate(c.createdAt)}
                    </td>
                    <td className="c-sub c-hide-m" data-label="Widget key">
                      <span className="co-key" title={c.widgetKey}>
                        {c.widgetKey}
                      </span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {data && rows.length > 0 && (
          <Pager
            page={pages.page}
            size={PAGE}
            shown={rows.length}
            total={data.companies.totalCount}
            hasNext={data.companies.pageInfo.hasNextPage}
            onPrev={pages.prev}
            onNext={() => pages.next(data.companies.pageInfo.endCursor)}
            noun={data.companies.totalCount === 1 ? 'company' : 'companies'}
          />
        )}
      </Card>
    </>
  )
}
