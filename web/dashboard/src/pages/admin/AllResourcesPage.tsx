// The super admin's view of every company's knowledge: filter by company
// name, type and status; reprocess or delete (companies add their own).
// Rows being processed follow their progress live (resourceEvents takes
// one resource's id for a super admin).
import { useEffect, useMemo, useReducer, useState, type Dispatch } from 'react'
import { useSearchParams } from 'react-router'
import { useQuery } from 'urql'
import type { ResourceStatus, ResourceType, ResourceWhereInput } from '../../gql/graphql'
import { useLive, useOnReconnect } from '../../lib/live'
import { ErrorBanner, Loading, PageHeader, SelectField } from '../../ui'
import { SearchBox, useResourceActions } from '../knowledge/bits'
import { KnowledgeAllResources, KnowledgeResourceEvents } from '../knowledge/documents'
import { useDebounced, useNow, whereOf } from '../knowledge/hooks'
import { emptyList, inProgress, listReducer, STATUS_LABEL, TYPE_LABEL, type ListAction } from '../knowledge/knowledgeLogic'
import { Pager, ResourceTable, type Row } from '../knowledge/ResourceTable'
import '../knowledge/knowledge.css'

const PAGE_SIZE = 25
const TYPES: ResourceType[] = ['TEXT', 'PDF', 'WEBSITE', 'FACEBOOK']
const STATUSES: ResourceStatus[] = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED']

/** Follows one resource while it is processed. */
function LiveRow({ id, dispatch }: { id: string; dispatch: Dispatch<ListAction<Row>> }) {
  useLive(KnowledgeResourceEvents, { id }, (d) => dispatch({ kind: 'event', resource: d.resourceEvents as Row }))
  return null
}

export default function AllResourcesPage() {
  const [params, setParams] = useSearchParams()
  const type = (params.get('type') ?? '') as ResourceType | ''
  const status = (params.get('status') ?? '') as ResourceStatus | ''
  const [company, setCompany] = useState(params.get('company') ?? '')
  const [search, setSearch] = useState(params.get('q') ?? '')
  const companyQ = useDebounced(company)
  const q = useDebounced(search)
  const [cursors, setCursors] = useState<(string | null)[]>([null])
  const page = cursors.length - 1
  const now = useNow()

  const setParam = (k: string, val: string) => {
    const n = new URLSearchParams(params)
    if (val) n.set(k, val)
    else n.delete(k)
    setParams(n, { replace: true })
  }
  useEffect(() => setCursors([null]), [type, status, q, companyQ])
  useEffect(() => {
    const n = new URLSearchParams(params)
    for (const [k, val] of [
      ['q', q.trim()],
      ['company', companyQ.trim()],
    ] as const) {
      if (val) n.set(k, val)
      else n.delete(k)
    }
    if (n.toString() !== params.toString()) setParams(n, { replace: true })
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [q, companyQ])

  const where = useMemo<ResourceWhereInput | undefined>(() => {
    const w: ResourceWhereInput = { ...whereOf({ type, status, search: q }) }
    if (companyQ.trim()) w.hasCompanyWith = [{ nameContainsFold: companyQ.trim() }]
    return Object.keys(w).length ? w : undefined
  }, [type, status, q, companyQ])
  const filtered = !!where

  const [res, reexecute] = useQuery({
    query: KnowledgeAllResources,
    variables: { first: PAGE_SIZE, after: cursors[page], where },
  })
  const [list, dispatch] = useReducer(listReducer<Row>, undefined, () => emptyList<Row>())
  const [loadedOnce, setLoadedOnce] = useState(false)
  const conn = res.data?.resources
  useEffect(() => {
    if (!conn) return
    dispatch({ kind: 'loaded', items: (conn.edges ?? []).flatMap((e) => (e?.node ? [e.node] : [])), total: conn.totalCount })
    setLoadedOnce(true)
  }, [conn])
  useOnReconnect(() => reexecute({ requestPolicy: 'network-only' }))

  const actions = useResourceActions({
    // A mutation's result has no company: the merge keeps the row's.
    onChanged: (r) => dispatch({ kind: 'event', resource: r }),
    onDeleted: (id) => {
      dispatch({ kind: 'deleted', id })
      reexecute({ requestPolicy: 'network-only' })
    },
  })

  const busyIds = list.items.filter((r) => inProgress(r.status)).map((r) => r.id)

  return (
    <div className="kn-page">
      <PageHeader
        title="All knowledge"
        description="Every company’s sources. Companies add their own; here you can reprocess what failed and remove what must go."
      />
      {busyIds.map((id) => (
        <LiveRow key={id} id={id} dispatch={dispatch} />
      ))}
      <section className="card section">
        <div className="kn-toolbar" role="search">
          <SearchBox id="kn-company" label="Company name" value={company} onChange={setCompany} />
          <SearchBox id="kn-q" label="Search knowledge" placeholder="Search by title" value={search} onChange={setSearch} />
          <SelectField label={<span className="sr-only">Type</span>} value={type} onChange={(e) => setParam('type', e.target.value)} className="kn-filter">
            <option value="">All types</option>
            {TYPES.map((t) => (
              <option key={t} value={t}>
                {TYPE_LABEL[t]}
              </option>
            ))}
          </SelectField>
          <SelectField label={<span className="sr-only">Status</span>} value={status} onChange={(e) => setParam('status', e.target.value)} className="kn-filter">
            <option value="">All statuses</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_LABEL[s]}
              </option>
            ))}
          </SelectField>
          {res.fetching && loadedOnce && <span className="spinner kn-toolbar-spin" role="status" aria-label="Updating" />}
        </div>
        {res.error && !conn ? (
          <div className="card-body">
            <ErrorBanner error={res.error} onRetry={() => reexecute({ requestPolicy: 'network-only' })} />
          </div>
        ) : !loadedOnce ? (
          <Loading>Loading knowledge…</Loading>
        ) : list.items.length === 0 ? (
          <div className="empty">
            <h3>{filtered ? 'Nothing matches' : 'No knowledge yet'}</h3>
            <p>
              {filtered
                ? 'No company’s knowledge matches these filters.'
                : 'No company has added knowledge yet. Companies add it from their own Knowledge page.'}
            </p>
            {filtered && (
              <button
                type="button"
                className="btn"
                onClick={() => {
                  setCompany('')
                  setSearch('')
                  setParams(new URLSearchParams(), { replace: true })
                }}
              >
                Clear filters
              </button>
            )}
          </div>
        ) : (
          <>
            <ResourceTable rows={list.items} actions={actions} access="manage" showCompany now={now} />
            <Pager
              page={page}
              pageSize={PAGE_SIZE}
              shown={list.items.length}
              total={list.total}
              hasNext={!!conn?.pageInfo.hasNextPage}
              onPrev={() => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c))}
              onNext={() => conn?.pageInfo.endCursor && setCursors((c) => [...c, conn.pageInfo.endCursor!])}
            />
          </>
        )}
      </section>
      {actions.dialogs}
    </div>
  )
}
