// Knowledge: what the assistant answers from. The list of the company's
// sources with their live processing progress (resourceEvents), filters and
// pages; "Add knowledge" for company admins; and "Test a question", where
// staff check what the assistant would answer.
import { useEffect, useMemo, useReducer, useState } from 'react'
import { useLocation, useNavigate, useSearchParams } from 'react-router'
import { useQuery } from 'urql'
import type { ResourceStatus, ResourceType } from '../../gql/graphql'
import { isCompanyAdmin, useViewer } from '../../lib/auth'
import { useLive, useOnReconnect } from '../../lib/live'
import { Banner, Button, ErrorBanner, Loading, PageHeader, SelectField } from '../../ui'
import { Icon } from '../../ui/icons'
import { useToast } from '../../ui/toast'
import { AddKnowledgeModal, type AddTab } from './AddKnowledgeModal'
import { SearchBox, useResourceActions, type Res } from './bits'
import { KnowledgeResourceEvents, KnowledgeResources } from './documents'
import { emptyList, listReducer, matchesFilter, STATUS_LABEL, TYPE_LABEL, type ListFilter } from './knowledgeLogic'
import { Pager, ResourceTable } from './ResourceTable'
import { TestQuestionPanel } from './TestQuestion'
import { useDebounced, useNow, whereOf } from './hooks'

const PAGE_SIZE = 20
const TYPES: ResourceType[] = ['TEXT', 'PDF', 'WEBSITE', 'FACEBOOK']
const STATUSES: ResourceStatus[] = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED']

const ADD_OPTIONS: { tab: AddTab; icon: 'text' | 'file' | 'globe' | 'facebook'; title: string; text: string }[] = [
  { tab: 'text', icon: 'text', title: 'Paste a text', text: 'FAQs, policies, opening hours: anything you can copy.' },
  { tab: 'pdf', icon: 'file', title: 'Upload a PDF', text: 'Manuals, price lists, terms. Up to 50 MB.' },
  { tab: 'website', icon: 'globe', title: 'Crawl a website', text: 'Your help centre or docs, page by page.' },
  { tab: 'facebook', icon: 'facebook', title: 'Connect a Facebook page', text: 'Its About information and posts.' },
]

export default function KnowledgePage() {
  const v = useViewer()
  const canWrite = isCompanyAdmin(v)
  const toast = useToast()
  const loc = useLocation()
  const navigate = useNavigate()
  const [params, setParams] = useSearchParams()
  const tab = params.get('tab') === 'test' ? 'test' : 'sources'
  const type = (params.get('type') ?? '') as ResourceType | ''
  const status = (params.get('status') ?? '') as ResourceStatus | ''
  const [search, setSearch] = useState(params.get('q') ?? '')
  const q = useDebounced(search)
  const [cursors, setCursors] = useState<(string | null)[]>([null])
  const page = cursors.length - 1
  const [adding, setAdding] = useState<AddTab | null>(null)
  const welcome = !!(loc.state as { welcome?: boolean } | null)?.welcome
  const now = useNow()

  const filter: ListFilter = useMemo(() => ({ type, status, search: q }), [type, status, q])
  const filtered = !!(type || status || q.trim())
  const setParam = (k: string, val: string) => {
    const n = new URLSearchParams(params)
    if (val) n.set(k, val)
    else n.delete(k)
    setParams(n, { replace: true, state: loc.state })
  }

  // Back to the first page whenever the filter changes.
  useEffect(() => setCursors([null]), [type, status, q])
  useEffect(() => {
    if ((params.get('q') ?? '') !== q) setParam('q', q)
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [q])

  const [res, reexecute] = useQuery({
    query: KnowledgeResources,
    variables: { first: PAGE_SIZE, after: cursors[page], where: whereOf(filter) },
  })
  const [list, dispatch] = useReducer(listReducer<Res>, undefined, () => emptyList<Res>())
  const [loadedOnce, setLoadedOnce] = useState(false)
  const conn = res.data?.resources
  useEffect(() => {
    if (!conn) return
    dispatch({
      kind: 'loaded',
      items: (conn.edges ?? []).flatMap((e) => (e?.node ? [e.node] : [])),
      total: conn.totalCount,
    })
    setLoadedOnce(true)
  }, [conn])

  // Every status and progress change of the company's resources.
  useLive(KnowledgeResourceEvents, {}, (d) => {
    const r = d.resourceEvents
    dispatch({ kind: 'event', resource: r, insert: page === 0 && matchesFilter(r, filter) })
  })
  useOnReconnect(() => reexecute({ requestPolicy: 'network-only' }))

  const actions = useResourceActions({
    onChanged: (r) => dispatch({ kind: 'event', resource: r }),
    onDeleted: (id) => {
      dispatch({ kind: 'deleted', id })
      reexecute({ requestPolicy: 'network-only' })
    },
  })

  const openAdd = (t: AddTab = 'text') => setAdding(t)
  const dismissWelcome = () => navigate(loc.pathname + loc.search, { replace: true, state: null })

  const hasAny = list.total > 0 || list.items.length > 0
  const unfilteredEmpty = loadedOnce && !filtered && !hasAny

  return (
    <div className="kn-page">
      <PageHeader
        title="Knowledge"
        description="What the assistant knows. It answers visitors from these sources only, and cites them."
        actions={
          canWrite && (
            <Button variant="primary" onClick={() => openAdd()}>
              <Icon name="upload" size={16} /> Add knowledge
            </Button>
          )
        }
      />

      {welcome && canWrite && (
        <div className="kn-welcome" role="status">
          <div className="grow">
            <h2>Add your first knowledge</h2>
            <p>
              Your company is ready. Before visitors can get answers, give the assistant something to answer from: paste
              your FAQ, upload a PDF or point it at your help centre. It takes a minute.
            </p>
          </div>
          <div className="row">
            <Button variant="primary" onClick={() => openAdd('text')}>
              Add knowledge
            </Button>
            <Button variant="ghost" onClick={dismissWelcome}>
              Later
            </Button>
          </div>
        </div>
      )}

      {!canWrite && (
        <div className="section">
          <Banner kind="info">
            You can read the knowledge and test questions. Only company admins can add, change or delete it.
          </Banner>
        </div>
      )}

      <div className="tabs kn-page-tabs" role="tablist" aria-label="Knowledge views">
        <button type="button" role="tab" aria-selected={tab === 'sources'} onClick={() => setParam('tab', '')}>
          Sources{loadedOnce && list.total > 0 && !filtered ? ` (${list.total})` : ''}
        </button>
        <button type="button" role="tab" aria-selected={tab === 'test'} onClick={() => setParam('tab', 'test')}>
          Test a question
        </button>
      </div>

      {tab === 'test' ? (
        <TestQuestionPanel companyId={v.company?.id ?? ''} hasKnowledge={!loadedOnce || hasAny || filtered} />
      ) : unfilteredEmpty ? (
        <section className="card section kn-empty">
          <div className="kn-empty-head">
            <span className="kn-empty-icon" aria-hidden>
              <Icon name="question" size={26} />
            </span>
            <h2>No knowledge yet</h2>
            <p>
              Knowledge is what the assistant answers from: your FAQ, manuals, help centre, policies. It reads each source,
              cuts it into passages and, when a visitor asks something, answers from the passages that match, with
              citations. With nothing here, every question is handed to your team.
            </p>
          </div>
          {canWrite ? (
            <div className="kn-add-grid">
              {ADD_OPTIONS.map((o) => (
                <button key={o.tab} type="button" className="kn-add-option" onClick={() => openAdd(o.tab)}>
                  <Icon name={o.icon} size={22} />
                  <span className="t">{o.title}</span>
                  <span className="d">{o.text}</span>
                </button>
              ))}
            </div>
          ) : (
            <p className="muted" style={{ textAlign: 'center', margin: '0 0 24px' }}>
              Ask a company admin to add the first source.
            </p>
          )}
        </section>
      ) : (
        <section className="card section">
          <div className="kn-toolbar" role="search">
            <SearchBox id="kn-q" label="Search knowledge" placeholder="Search by title" value={search} onChange={setSearch} />
            <SelectField label={<span className="sr-only">Type</span>} value={type} onChange={(e) => setParam('type', e.target.value)} className="kn-filter">
              <option value="">All types</option>
              {TYPES.map((t) => (
                <option key={t} value={t}>
                  {TYPE_LABEL[t]}
                </option>
              ))}
            </SelectField>
            <SelectField
              label={<span className="sr-only">Status</span>}
              value={status}
              onChange={(e) => setParam('status', e.target.value)}
              className="kn-filter"
            >
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
              <h3>Nothing matches</h3>
              <p>No knowledge {q.trim() ? <>with “{q.trim()}” in its title</> : null} matches these filters.</p>
              <Button
                onClick={() => {
                  setSearch('')
                  setParams(new URLSearchParams(), { replace: true })
                }}
              >
                Clear filters
              </Button>
            </div>
          ) : (
            <>
              <ResourceTable rows={list.items} actions={actions} access={canWrite ? 'all' : 'none'} now={now} />
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
      )}

      {actions.dialogs}
      {canWrite && (
        <AddKnowledgeModal
          open={adding !== null}
          initialTab={adding ?? 'text'}
          plan={v.company?.subscriptionPlan}
          onClose={() => setAdding(null)}
          onCreated={(r) => {
            setAdding(null)
            // Shown at the top of the first page of the list: a filter
            // that would hide it is cleared (and the welcome is over).
            const n = new URLSearchParams(params)
            n.delete('tab')
            if (filtered && !matchesFilter(r, filter)) {
              setSearch('')
              for (const k of ['q', 'type', 'status']) n.delete(k)
            }
            setParams(n, { replace: true, state: null })
            if (page !== 0) setCursors([null])
            dispatch({ kind: 'created', resource: r })
            toast(`Added “${r.title}”`)
          }}
        />
      )}
    </div>
  )
}
