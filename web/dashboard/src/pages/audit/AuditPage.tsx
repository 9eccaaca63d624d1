// The audit log: who changed what, newest first, in sentences. Company
// admins see their company's entries; super admins see every company's,
// with a company column and filter. Filters live in the address.
import { useEffect, useMemo, useState } from 'react'
import { Navigate, useSearchParams } from 'react-router'
import { useQuery } from 'urql'
import { graphql } from '../../gql'
import type { AuditEntriesQuery, AuditActorType } from '../../gql/graphql'
import { isCompanyAdmin, isSuperAdmin, useViewer } from '../../lib/auth'
import { Badge, Button, Card, Empty, ErrorBanner, Loading, PageHeader, SelectField, TextField } from '../../ui'
import {
  ACTION_GROUPS,
  ACTOR_TYPE_LABEL,
  describeAction,
  filtersActive,
  filtersFromParams,
  filtersToParams,
  groupByDay,
  NO_FILTERS,
  pageSpan,
  toWhere,
  type AuditFilters,
} from './auditLogic'
import './audit.css'

const AuditEntries = graphql(`
  query AuditEntries($first: Int, $after: Cursor, $where: AuditLogWhereInput) {
    auditLogs(first: $first, after: $after, where: $where, orderBy: { field: CREATED_AT, direction: DESC }) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          companyID
          actorType
          actorID
          actorName
          action
          targetType
          targetID
          summary
          ip
          createdAt
        }
      }
    }
  }
`)

/** Names of what entries are about (members, resources, keys) and of the people who acted. */
const AuditNames = graphql(`
  query AuditNames($ids: [ID!]!) {
    nodes(ids: $ids) {
      __typename
      id
      ... on User {
        fullName
        email
      }
      ... on Resource {
        title
      }
      ... on APIKey {
        name
      }
    }
  }
`)

const AuditCompanies = graphql(`
  query AuditCompanies {
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

type Entry = NonNullable<NonNullable<NonNullable<AuditEntriesQuery['auditLogs']['edges']>[number]>['node']>

const PAGE = 25

function useDebounced<T>(value: T, ms = 300): T {
  const [v, setV] = useState(value)
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms)
    return () => clearTimeout(t)
  }, [value, ms])
  return v
}

function timeOf(iso: string): string {
  return new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
}

function fullTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'medium' })
}

export default function AuditPage() {
  const v = useViewer()
  const sup = isSuperAdmin(v)
  if (!sup && !isCompanyAdmin(v)) return <Navigate to="/" replace />
  return <AuditLog superAdmin={sup} />
}

function AuditLog({ superAdmin }: { superAdmin: boolean }) {
  const [params, setParams] = useSearchParams()
  const filters = filtersFromParams(params)
  const [actorText, setActorText] = useState(filters.actor)
  const actor = useDebounced(actorText)
  const setFilters = (f: AuditFilters) => setParams(filtersToParams(f), { replace: true })

  useEffect(() => {
    if (actor.trim() !== filters.actor) setFilters({ ...filters, actor })
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [actor])

  const where = toWhere(filters)
  const whereKey = JSON.stringify(where ?? null)
  const [cursors, setCursors] = useState<{ key: string; list: (string | null)[] }>({ key: whereKey, list: [null] })
  const list = cursors.key === whereKey ? cursors.list : [null]
  const page = list.length
  const after = list[list.length - 1] ?? null

  const [{ data, error, fetching }, reexecute] = useQuery({
    query: AuditEntries,
    variables: { first: PAGE, after, where },
  })
  const [companiesRes] = useQuery({ query: AuditCompanies, pause: !superAdmin })
  const companyName = useMemo(() => {
    const m = new Map<string, string>()
    for (const e of companiesRes.data?.companies.edges ?? []) if (e?.node) m.set(e.node.id, e.node.name)
    return m
  }, [companiesRes.data])

  const entries: Entry[] = useMemo(
    () => (data?.auditLogs.edges ?? []).flatMap((e) => (e?.node ? [e.node] : [])),
    [data],
  )
  const ids = useMemo(() => {
    const s = new Set<string>()
    for (const e of entries) {
      if (e.targetID && e.targetType !== 'company') s.add(e.targetID)
      if (e.actorID && e.actorType === 'USER') s.add(e.actorID)
    }
    return [...s].sort()
  }, [entries])
  const [namesRes] = useQuery({ query: AuditNames, variables: { ids }, pause: ids.length === 0 })
  const names = useMemo(() => {
    const m = new Map<string, { name: string; email?: string }>()
    for (const n of namesRes.data?.nodes ?? []) {
      if (!n) continue
      if (n.__typename === 'User') m.set(n.id, { name: n.fullName, email: n.email })
      else if (n.__typename === 'Resource') m.set(n.id, { name: n.title })
      else if (n.__typename === 'APIKey') m.set(n.id, { name: n.name })
    }
    return m
  }, [namesRes.data])

  const total = data?.auditLogs.totalCount ?? 0
  const hasNext = data?.auditLogs.pageInfo.hasNextPage ?? false
  const endCursor = data?.auditLogs.pageInfo.endCursor ?? null
  const groups = groupByDay(entries)
  const cols = superAdmin ? 5 : 4
  const active = filtersActive(filters)

  const clear = () => {
    setActorText('')
    setFilters({ ...NO_FILTERS })
  }

  return (
    <div className="au-page">
      <PageHeader
        title="Audit log"
        description={
          superAdmin
            ? 'Every admin action on the platform, newest first: who did it, when, from where, and in which company.'
            : 'Every change to your company’s settings, team, knowledge and API keys, newest first. Values of secrets are never recorded.'
        }
        actions={
          <Button onClick={() => reexecute({ requestPolicy: 'network-only' })} loading={fetching && !!data}>
            Refresh
          </Button>
        }
      />
      <Card bodyClass="">
        <div className="au-filters" role="search" aria-label="Filter the audit log">
          {superAdmin && (
            <SelectField label="Company" value={filters.companyId} onChange={(e) => setFilters({ ...filters, companyId: e.target.value })}>
              <option value="">All companies</option>
              {[...companyName].map(([id, name]) => (
                <option key={id} value={id}>
                  {name}
                </option>
              ))}
            </SelectField>
          )}
          <SelectField label="Action" value={filters.action} onChange={(e) => setFilters({ ...filters, action: e.target.value })}>
            <option value="">All actions</option>
            {ACTION_GROUPS.map((g) => (
              <optgroup key={g.prefix} label={g.label}>
                <option value={g.prefix}>Any {g.label.toLowerCase()} action</option>
                {g.actions.map((a) => (
                  <option key={a.action} value={a.action}>
                    {a.label}
                  </option>
                ))}
              </optgroup>
            ))}
          </SelectField>
          <TextField
            label="Who"
            type="search"
            placeholder="Name or email"
            value={actorText}
            onChange={(e) => setActorText(e.target.value)}
          />
          <SelectField
            label="Actor type"
            value={filters.actorType}
            onChange={(e) => setFilters({ ...filters, actorType: e.target.value as AuditActorType | '' })}
          >
            <option value="">Anyone</option>
            {(Object.keys(ACTOR_TYPE_LABEL) as AuditActorType[])
              .filter((t) => t !== 'ANONYMOUS')
              .map((t) => (
                <option key={t} value={t}>
                  {ACTOR_TYPE_LABEL[t]}
                </option>
              ))}
          </SelectField>
          <TextField label="From" type="date" value={filters.from} max={filters.to || undefined} onChange={(e) => setFilters({ ...filters, from: e.target.value })} />
          <TextField label="To" type="date" value={filters.to} min={filters.from || undefined} onChange={(e) => setFilters({ ...filters, to: e.target.value })} />
          {active && (
            <div className="au-clear">
              <Button variant="ghost" size="small" onClick={clear}>
                Clear filters
              </Button>
            </div>
          )}
        </div>

        {error && (
          <div className="card-body">
            <ErrorBanner error={error} onRetry={() => reexecute({ requestPolicy: 'network-only' })} />
          </div>
        )}
        {!data && fetching ? (
          <Loading>Loading the audit log…</Loading>
        ) : data && entries.length === 0 ? (
          <Empty
            title={active ? 'No entries match these filters' : 'Nothing recorded yet'}
            action={
              active ? (
                <Button size="small" onClick={clear}>
                  Clear filters
                </Button>
              ) : undefined
            }
          >
            {active
              ? 'Try another action, person or period.'
              : 'Changes to settings, the team, knowledge and API keys appear here as they happen.'}
          </Empty>
        ) : data ? (
          <div className="table-wrap">
            <table className={`table au-table ${fetching ? 'au-stale' : ''}`}>
              <thead>
                <tr>
                  <th scope="col" className="au-when">
                    Time
                  </th>
                  <th scope="col">What happened</th>
                  <th scope="col">Who</th>
                  {superAdmin && <th scope="col">Company</th>}
                  <th scope="col">IP address</th>
                </tr>
              </thead>
              {groups.map((g) => (
                <tbody key={g.day + g.entries[0]!.id}>
                  <tr className="au-day">
                    <th colSpan={cols} scope="colgroup">
                      {g.day}
                    </th>
                  </tr>
                  {g.entries.map((e) => {
                    const target = e.targetID ? names.get(e.targetID)?.name : undefined
                    const text = describeAction(e, target)
                    const person = e.actorID && e.actorType === 'USER' ? names.get(e.actorID) : undefined
                    return (
                      <tr key={e.id}>
                        <td className="au-when" data-label="Time">
                          <time dateTime={e.createdAt} title={fullTime(e.createdAt)}>
                            {timeOf(e.createdAt)}
                          </time>
                        </td>
                        <td data-label="What happened">
                          <div className="au-title">{text.title}</div>
                          {text.detail && <div className="au-detail">{text.detail}</div>}
                        </td>
                        <td data-label="Who">
                          <div className="au-actor">
                            <span className="au-actor-name" title={e.actorName ?? undefined}>
                              {person?.name ?? e.actorName ?? ACTOR_TYPE_LABEL[e.actorType]}
                            </span>
                            {person?.email && <span className="au-actor-sub">{person.email}</span>}
                            {e.actorType !== 'USER' && (
                              <Badge kind={e.actorType === 'SUPER_ADMIN' ? 'primary' : e.actorType === 'API_KEY' ? 'info' : undefined}>
                                {ACTOR_TYPE_LABEL[e.actorType]}
                              </Badge>
                            )}
                          </div>
                        </td>
                        {superAdmin && (
                          <td data-label="Company">
                            {e.companyID ? (
                              <button
                                type="button"
                                className="au-company"
                                title="Show only this company"
                                onClick={() => setFilters({ ...filters, companyId: e.companyID! })}
                              >
                                {companyName.get(e.companyID) ?? 'Deleted company'}
                              </button>
                            ) : (
                              <span className="muted">Platform</span>
                            )}
                          </td>
                        )}
                        <td data-label="IP address" className="mono au-ip">
                          {e.ip || <span className="muted">—</span>}
                        </td>
                      </tr>
                    )
                  })}
                </tbody>
              ))}
            </table>
          </div>
        ) : null}
        {data && entries.length > 0 && (
          <nav className="au-pager" aria-label="Pages">
            <span className="muted small" aria-live="polite">
              {pageSpan(page, PAGE, entries.length, total)} entries
            </span>
            <div className="row">
              <Button size="small" disabled={page <= 1} onClick={() => setCursors({ key: whereKey, list: list.slice(0, -1) })}>
                Newer
              </Button>
              <Button
                size="small"
                disabled={!hasNext || !endCursor}
                onClick={() => endCursor && setCursors({ key: whereKey, list: [...list, endCursor] })}
              >
                Older
              </Button>
            </div>
          </nav>
        )}
      </Card>
    </div>
  )
}
