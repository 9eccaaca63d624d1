// Super admin: every user of every company (agents and company admins),
// searchable by name, email or company, filtered by company, role and
// status. Read-only: a company's admins manage its team.
import { useEffect, useMemo, useState } from 'react'
import { Link, useSearchParams } from 'react-router'
import { useQuery } from 'urql'
import { graphql } from '../../gql'
import type { OrderDirection, UserOrderField } from '../../gql/graphql'
import { useOnReconnect } from '../../lib/live'
import { Card, PageHeader, SelectField } from '../../ui'
import { Avatar, MemberStatus, RoleBadge } from '../team/TeamBits'
import { formatDate } from '../team/teamLogic'
import { agentFiltersFrom, agentsWhere } from './adminLogic'
import { ListStates, SortFilter, StatusFilter } from './CompanyBits'
import { Pager, useCursorPages, useDebounced } from './Pager'
import '../team/team.css'
import './companies.css'

const AllAgentsList = graphql(`
  query AllAgentsList($first: Int!, $after: Cursor, $where: UserWhereInput, $orderBy: UserOrder) {
    agents(first: $first, after: $after, where: $where, orderBy: $orderBy) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          fullName
          email
          role
          isActive
          online
          lastSeenAt
          createdAt
          company {
            id
            name
            isActive
          }
        }
      }
    }
  }
`)

const AllAgentsCompanies = graphql(`
  query AllAgentsCompanies {
    companies(first: 500, orderBy: { field: NAME, direction: ASC }) {
      edges {
        node {
          id
          name
        }
      }
    }
  }
`)

const PAGE = 50

const SORTS: Record<string, { label: string; field: UserOrderField; direction: OrderDirection }> = {
  name: { label: 'Name, A to Z', field: 'FULL_NAME', direction: 'ASC' },
  new: { label: 'Newest first', field: 'CREATED_AT', direction: 'DESC' },
  email: { label: 'Email, A to Z', field: 'EMAIL', direction: 'ASC' },
}

export default function AllAgentsPage() {
  const [params, setParams] = useSearchParams()
  const base = agentFiltersFrom(params)
  const companyId = params.get('company') ?? ''
  const filters = { ...base, companyId: companyId || undefined }
  const sortKey = SORTS[params.get('sort') ?? ''] ? params.get('sort')! : 'name'
  const [search, setSearch] = useState(base.q)
  const q = useDebounced(search)
  const [{ data: companiesData }] = useQuery({ query: AllAgentsCompanies })
  const companies = (companiesData?.companies.edges ?? []).flatMap((e) => (e?.node ? [e.node] : []))

  const set = (k: string, v: string) => {
    const next = new URLSearchParams(params)
    if (v) next.set(k, v)
    else next.delete(k)
    setParams(next, { replace: true })
  }
  useEffect(() => {
    if (q !== base.q) set('q', q.trim() ? q : '')
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [q])

  const where = useMemo(() => agentsWhere(filters), [filters.q, filters.role, filters.active, filters.companyId]) // eslint-disable-line react-hooks/exhaustive-deps
  const sort = SORTS[sortKey]!
  const pages = useCursorPages(JSON.stringify([where, sortKey]))
  const [{ data, error, fetching }, reexecute] = useQuery({
    query: AllAgentsList,
    variables: { first: PAGE, after: pages.after, where, orderBy: { field: sort.field, direction: sort.direction } },
  })
  useOnReconnect(() => reexecute({ requestPolicy: 'network-only' }))
  const rows = (data?.agents.edges ?? []).flatMap((e) => (e?.node ? [e.node] : []))
  const filtered = !!(base.q || base.role || base.active || companyId)

  return (
    <>
      <PageHeader
        title="Agents"
        description="Everyone who works in a company's dashboard, across the platform. Each company's admins manage their own team."
      />
      <Card bodyClass="">
        <div className="tm-toolbar">
          <div className="search" style={{ alignSelf: 'flex-end' }}>
            <label htmlFor="aa-search" className="sr-only">
              Search agents
            </label>
            <input
              id="aa-search"
              className="input"
              type="search"
              placeholder="Search people or companies"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
            />
          </div>
          <SelectField label="Company" value={companyId} onChange={(e) => set('company', e.target.value)}>
            <option value="">All companies</option>
            {companyId && !companies.some((c) => c.id === companyId) && <option value={companyId}>{companiesData ? 'Unknown company' : 'Loading…'}</option>}
            {companies.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </SelectField>
          <SelectField label="Role" value={base.role} onChange={(e) => set('role', e.target.value)}>
            <option value="">All roles</option>
            <option value="AGENT">Agents</option>
            <option value="COMPANY_ADMIN">Company admins</option>
          </SelectField>
          <StatusFilter value={base.active} onChange={(v) => set('status', v)} />
          <SortFilter sorts={SORTS} value={sortKey} defaultKey="name" onChange={(v) => set('sort', v)} />
        </div>
        <ListStates
          error={error}
          loading={!data && fetching}
          empty={!!data && rows.length === 0}
          filtered={!!filtered}
          loadingText="Loading the agents…"
          emptyTitle={['Nobody matches', 'No agents yet']}
          onRetry={() => reexecute({ requestPolicy: 'network-only' })}
          onClear={() => {
            setSearch('')
            setParams(new URLSearchParams(), { replace: true })
          }}
        >
          {['Try another search or filter.', 'Users appear here when companies sign up and add their team.']}
        </ListStates>
        {rows.length > 0 && (
          <div className="table-wrap" style={{ opacity: fetching ? 0.6 : 1 }}>
            <table className="table tm-table">
              <thead>
                <tr>
                  <th scope="col">Member</th>
                  <th scope="col">Company</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">Added</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((m) => (
                  <tr key={m.id} className={m.isActive ? '' : 'tm-row-off'}>
                    <td className="c-main">
                      <div className="tm-member">
                        <Avatar name={m.fullName} />
                        <div className="who">
                          <div className="name">{m.fullName}</div>
                          <div className="email">{m.email}</div>
                        </div>
                      </div>
                    </td>
                    <td className="c-sub" data-label="Company">
                      <Link to={`/admin/companies/${m.company.id}`}>{m.company.name}</Link>
                      {!m.company.isActive && <span className="muted small"> (deactivated)</span>}
                    </td>
                    <td>
                      <RoleBadge role={m.role} />
                    </td>
                    <td>
                        <MemberStatus member={m} />
                      </td>
                    <td className="c-added nowrap muted" data-label="Added">
                      {formatDate(m.createdAt)}
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
            total={data.agents.totalCount}
            hasNext={data.agents.pageInfo.hasNextPage}
            onPrev={pages.prev}
            onNext={() => pages.next(data.agents.pageInfo.endCursor)}
            noun={data.agents.totalCount === 1 ? 'person' : 'people'}
          />
        )}
      </Card>
    </>
  )
}
