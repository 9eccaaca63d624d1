// One resource: what it is and where it comes from, its status with live
// progress (resourceEvents(id)), what went wrong, its actions, and the
// passages it was cut into, as the assistant searches them.
import { useEffect, useRef, useState, type FormEvent } from 'react'
import { Link, useNavigate, useParams } from 'react-router'
import { useQuery } from 'urql'
import { isCompanyAdmin, isSuperAdmin, useViewer } from '../../lib/auth'
import { useLive, useOnReconnect } from '../../lib/live'
import { Banner, Button, Empty, ErrorBanner, Loading } from '../../ui'
import { Icon } from '../../ui/icons'
import { ActiveSwitch, LeftOutNote, StatusCell, SyncControl, TypeIcon, useResourceActions, type Res } from './bits'
import { KnowledgeResource, KnowledgeResourceChunks, KnowledgeResourceEvents } from './documents'
import { asSentence, canResync, displayText, formatDate, inProgress, mergeResource, MAX_TITLE_CHARS, TYPE_LABEL } from './knowledgeLogic'

const CHUNKS_PER_PAGE = 20

type Full = Res & { company?: { id: string; name: string } | null }

function Source({ r }: { r: Res }) {
  if (r.sourceURL && /^https?:\/\//i.test(r.sourceURL)) {
    return (
      <a href={r.sourceURL} target="_blank" rel="noreferrer noopener" className="kn-break">
        {r.sourceURL}
      </a>
    )
  }
  if (r.fileName) return <span className="kn-break">{r.fileName}</span>
  if (r.sourceURL) return <span className="kn-break">{r.sourceURL}</span>
  return <span className="muted">{r.type === 'TEXT' ? 'Typed or pasted text' : '—'}</span>
}

/** The title, which admins edit in place (Enter saves, Escape cancels). */
function Title({ r, canWrite, onSave }: { r: Res; canWrite: boolean; onSave: (t: string) => Promise<boolean> }) {
  const [editing, setEditing] = useState(false)
  const [value, setValue] = useState(r.title)
  const [error, setError] = useState('')
  const [saving, setSaving] = useState(false)
  const input = useRef<HTMLInputElement>(null)
  useEffect(() => {
    if (!editing) setValue(r.title)
  }, [r.title, editing])
  useEffect(() => {
    if (editing) input.current?.select()
  }, [editing])

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const t = value.trim()
    if (!t) return setError('The title cannot be empty.')
    if ([...t].length > MAX_TITLE_CHARS) return setError(`At most ${MAX_TITLE_CHARS} characters.`)
    if (t === r.title) return setEditing(false)
    setSaving(true)
    const ok = await onSave(t)
    setSaving(false)
    if (ok) setEditing(false)
  }

  if (!editing) {
    return (
      <div className="kn-h1-row">
        <h1 className="kn-break">{r.title}</h1>
        {canWrite && (
          <Button size="small" variant="ghost" onClick={() => setEditing(true)} aria-label="Rename">
            <Icon name="pencil" size={16} /> Rename
          </Button>
        )}
      </div>
    )
  }
  return (
    <form className="kn-rename" onSubmit={submit}>
      <label htmlFor="kn-title" className="sr-only">
        Title
      </label>
      <input
        id="kn-title"
        ref={input}
        className="input"
        value={value}
        maxLength={MAX_TITLE_CHARS}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? 'kn-title-error' : undefined}
        onChange={(e) => {
          setValue(e.target.value)
          setError('')
        }}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.preventDefault()
            setEditing(false)
            setError('')
          }
        }}
      />
      <Button variant="primary" type="submit" loading={saving}>
        Save
      </Button>
      <Button onClick={() => setEditing(false)} disabled={saving}>
        Cancel
      </Button>
      {error && (
        <div className="error-text" id="kn-title-error">
          {error}
        </div>
      )}
    </form>
  )
}

function Chunk({
  c,
}: {
  c: { ordinal: number; heading: string | null; text: string; page: number | null; url: string | null; tokenCount: number; leftOut: string[] }
}) {
  const [more, setMore] = useState(false)
  const text = displayText(c.text)
  const long = text.length > 700 || text.split('\n').length > 10
  return (
    <li className="kn-chunk">
      <div className="kn-chunk-meta">
        <span className="kn-rank" title="Its place in the resource">
          {c.ordinal + 1}
        </span>
        <div className="grow">
          <div className="kn-chunk-heading kn-break">{c.heading || (c.page ? `Page ${c.page}` : `Passage ${c.ordinal + 1}`)}</div>
          <div className="muted small">
            {c.heading && c.page ? `Page ${c.page} · ` : ''}
            {c.tokenCount.toLocaleString('en-US')} tokens
            {c.url && (
              <>
                {' · '}
                <a href={c.url} target="_blank" rel="noreferrer noopener" className="kn-break">
                  {c.url}
                </a>
              </>
            )}
          </div>
        </div>
      </div>
      <LeftOutNote sentences={c.leftOut} />
      <div className="kn-chunk-text">
        <div className={long && !more ? 'clamped' : ''}>{text}</div>
      </div>
      {long && (
        <button type="button" className="kn-link-btn" onClick={() => setMore((m) => !m)} aria-expanded={more}>
          {more ? 'Show less' : 'Show more'}
        </button>
      )}
    </li>
  )
}

function Chunks({ r }: { r: Res }) {
  const [offset, setOffset] = useState(0)
  const [res, reexecute] = useQuery({
    query: KnowledgeResourceChunks,
    variables: { id: r.id, offset, limit: CHUNKS_PER_PAGE },
    // A first run has nothing to show yet; a reprocess shows the passages it will replace.
    pause: inProgress(r.status) && r.chunkCount === 0,
  })
  // New passages once a processing run completes.
  const done = useRef(r.status)
  useEffect(() => {
    if (done.current !== r.status && r.status === 'COMPLETED') {
      setOffset(0)
      reexecute({ requestPolicy: 'network-only' })
    }
    done.current = r.status
  }, [r.status, reexecute])

  const page = res.data?.resource?.chunks
  const total = page?.totalCount ?? r.chunkCount
  const list = useRef<HTMLDivElement>(null)
  const go = (o: number) => {
    setOffset(o)
    list.current?.scrollIntoView({ block: 'start', behavior: 'smooth' })
  }

  let body
  const busy = inProgress(r.status)
  if (busy && r.chunkCount === 0) {
    body = <div className="card-body muted">The passages appear here when processing completes.</div>
  } else if (res.error && !page) {
    body = (
      <div className="card-body">
        <ErrorBanner error={res.error} onRetry={() => reexecute({ requestPolicy: 'network-only' })} />
      </div>
    )
  } else if (!page) {
    body = <Loading>Loading passages…</Loading>
  } else if (total === 0) {
    body = (
      <div className="card-body muted">
        {r.status === 'FAILED'
          ? 'Nothing was extracted: processing failed.'
          : 'No text could be extracted from this source, so the assistant cannot use it.'}
      </div>
    )
  } else {
    body = (
      <>
        {busy && (
          <div className="kn-chunks-note" role="status">
            Being processed again: these passages are replaced when it completes.
          </div>
        )}
        <ol className="kn-chunks">
          {page.chunks.map((c) => (
            <Chunk key={c.id} c={c} />
          ))}
        </ol>
        {total > CHUNKS_PER_PAGE && (
          <nav className="kn-pager" aria-label="Passage pages">
            <span className="muted small">
              {offset + 1}–{Math.min(offset + page.chunks.length, total)} of {total.toLocaleString('en-US')}
            </span>
            <div className="row">
              <Button size="small" disabled={offset === 0 || res.fetching} onClick={() => go(Math.max(0, offset - CHUNKS_PER_PAGE))}>
                Previous
              </Button>
              <Button
                size="small"
                disabled={offset + CHUNKS_PER_PAGE >= total || res.fetching}
                onClick={() => go(offset + CHUNKS_PER_PAGE)}
              >
                Next
              </Button>
            </div>
          </nav>
        )}
      </>
    )
  }
  return (
    <section className="card section">
      <div className="card-head">
        <div>
          <h2>Extracted passages{total > 0 && !(busy && r.chunkCount === 0) ? ` (${total.toLocaleString('en-US')})` : ''}</h2>
          <p>What the assistant searches when a visitor asks something, in the order they appear in the source.</p>
        </div>
        {res.fetching && page && <span className="spinner" role="status" aria-label="Loading passages" />}
      </div>
      <div ref={list}>{body}</div>
    </section>
  )
}

export default function ResourcePage() {
  const { id = '' } = useParams()
  const v = useViewer()
  const sup = isSuperAdmin(v)
  // Company admins change everything; super admins reprocess and delete.
  const canWrite = isCompanyAdmin(v)
  const canManage = canWrite || sup
  const navigate = useNavigate()
  const back = sup ? { to: '/admin/resources', label: 'All knowledge' } : { to: '/knowledge', label: 'Knowledge' }

  const [res, reexecute] = useQuery({ query: KnowledgeResource, variables: { id } })
  const [r, setR] = useState<Full | null>(null)
  useEffect(() => {
    const got = res.data?.resource
    if (got) setR((cur) => (cur && cur.id === got.id ? mergeResource(cur, got) : got))
  }, [res.data])

  useLive(KnowledgeResourceEvents, { id }, (d) => setR((cur) => (cur ? mergeResource(cur, { ...cur, ...d.resourceEvents }) : cur)), {
    pause: !res.data?.resource,
  })
  useOnReconnect(() => reexecute({ requestPolicy: 'network-only' }))

  const actions = useResourceActions({
    onChanged: (n) => setR((cur) => (cur ? mergeResource(cur, { ...cur, ...n }) : cur)),
    onDeleted: () => navigate(back.to, { replace: true }),
  })

  if (!r || r.id !== id) {
    if (res.error) {
      return (
        <div className="kn-page">
          <BackLink {...back} />
          <ErrorBanner error={res.error} onRetry={() => reexecute({ requestPolicy: 'network-only' })} />
        </div>
      )
    }
    if (res.data && !res.data.resource) {
      return (
        <div className="kn-page">
          <BackLink {...back} />
          <section className="card section">
            <Empty title="This knowledge does not exist">
              It may have been deleted, or the link is wrong.{' '}
            </Empty>
            <div className="row" style={{ justifyContent: 'center', paddingBottom: 28 }}>
              <Link className="btn" to={back.to}>
                Back to {back.label.toLowerCase()}
              </Link>
            </div>
          </section>
        </div>
      )
    }
    return <Loading>Loading…</Loading>
  }

  const busy = !!actions.busy[r.id]
  return (
    <div className="kn-page">
      <BackLink {...back} />
      <div className="page-head kn-res-head">
        <div className="kn-res-title">
          <TypeIcon type={r.type} />
          <div className="grow">
            <Title r={r} canWrite={canWrite} onSave={(t) => actions.rename(r, t)} />
            <p className="muted" style={{ margin: '2px 0 0' }}>
              {TYPE_LABEL[r.type]}
              {sup && r.company ? (
                <>
                  {' · '}
                  <Link to={`/admin/companies/${r.company.id}`}>{r.company.name}</Link>
                </>
              ) : null}
            </p>
          </div>
        </div>
        {canManage && (
          <div className="row">
            <Button onClick={() => actions.reprocess(r)} disabled={inProgress(r.status)} loading={busy}>
              <Icon name="refresh" size={16} /> Reprocess
            </Button>
            {canWrite && (
              <Button onClick={() => actions.setActive(r, !r.isActive)} disabled={busy}>
                <Icon name={r.isActive ? 'pause' : 'play'} size={16} /> {r.isActive ? 'Deactivate' : 'Activate'}
              </Button>
            )}
            <Button variant="danger-soft" onClick={() => actions.askDelete(r)}>
              <Icon name="trash" size={16} /> Delete
            </Button>
          </div>
        )}
      </div>

      {!canManage && (
        <div className="section">
          <Banner kind="info">Only company admins can rename, reprocess, deactivate or delete knowledge.</Banner>
        </div>
      )}

      {r.status === 'FAILED' && (
        <div className="section">
          <Banner
            kind="error"
            action={
              canManage && (
                <Button size="small" onClick={() => actions.reprocess(r)} loading={busy}>
                  Reprocess
                </Button>
              )
            }
          >
            <strong>Processing failed.</strong> {asSentence(r.error) || 'No reason was given.'}
            {r.chunkCount > 0 && ' The passages below are from the last successful run.'}
          </Banner>
        </div>
      )}
      {!r.isActive && (
        <div className="section">
          <Banner kind="warn">This knowledge is deactivated: the assistant does not use it in answers.</Banner>
        </div>
      )}

      <section className="card section">
        <dl className={`kn-facts${canResync(r.type) ? ' with-wide' : ''}`}>
          <div>
            <dt>Status</dt>
            <dd>
              <StatusCell r={r} wide />
            </dd>
          </div>
          <div>
            <dt>Source</dt>
            <dd>
              <Source r={r} />
            </dd>
          </div>
          <div>
            <dt>Passages</dt>
            <dd>{r.chunkCount.toLocaleString('en-US')}</dd>
          </div>
          <div>
            <dt>In answers</dt>
            <dd>
              {canWrite ? (
                <ActiveSwitch r={r} disabled={busy} onChange={(a) => actions.setActive(r, a)} />
              ) : r.isActive ? (
                'Active'
              ) : (
                'Off'
              )}
            </dd>
          </div>
          <div>
            <dt>Added</dt>
            <dd>
              <time dateTime={r.createdAt}>{formatDate(r.createdAt)}</time>
            </dd>
          </div>
          <div>
            <dt>Last updated</dt>
            <dd>
              <time dateTime={r.updatedAt}>{formatDate(r.updatedAt)}</time>
            </dd>
          </div>
          {/* Last and across the card: its dates need the room, and the other facts keep their rows. */}
          {canResync(r.type) && (
            <div className="kn-fact-wide">
              <dt>Re-sync</dt>
              <dd>
                <SyncControl
                  r={r}
                  now={Date.now()}
                  editable={canWrite}
                  disabled={busy}
                  labelled
                  onChange={(iv) => actions.setSyncInterval(r, iv)}
                />
              </dd>
            </div>
          )}
        </dl>
      </section>

      <Chunks r={r} />
      {actions.dialogs}
    </div>
  )
}

function BackLink({ to, label }: { to: string; label: string }) {
  return (
    <Link to={to} className="kn-back">
      <Icon name="back" size={16} /> {label}
    </Link>
  )
}
