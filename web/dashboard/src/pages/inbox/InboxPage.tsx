// The live inbox: conversations (left), the open one (middle) and its
// visitor (right) at desktop widths; on a phone the list and the
// conversation are separate screens.
import { useCallback, useEffect, useRef, useState } from 'react'
import { useParams, useSearchParams } from 'react-router'
import { Button } from '../../ui'
import { useInbox } from '../../inbox/InboxContext'
import { ConversationList, FILTER_LABEL } from '../../inbox/ConversationList'
import { ConversationView } from '../../inbox/ConversationView'
import { DetailsPane } from '../../inbox/DetailsPane'
import { Icon } from '../../ui/icons'
import { countFor, FILTERS, type Filter } from '../../inbox/reducer'
import './inbox.css'

function isFilter(s: string | null): s is Filter {
  return !!s && (FILTERS as string[]).includes(s)
}

function pickText(state: 'error' | 'loading' | 'ready', waiting: number): string {
  if (state === 'error') return 'The inbox could not be loaded: see the message on the left.'
  if (state === 'loading') return 'Loading the inbox…'
  if (waiting > 0) return `${waiting} ${waiting === 1 ? 'visitor is' : 'visitors are'} waiting for a human.`
  return 'Nobody is waiting for a human right now. New conversations appear on the left as they start.'
}

export default function InboxPage() {
  const { id } = useParams()
  const [params, setParams] = useSearchParams()
  const inbox = useInbox()
  const [detailsOpen, setDetailsOpen] = useState(false)

  // With no view in the address, start where the work is: waiting, then mine, then all open.
  const chosen = useRef<Filter | null>(null)
  if (!chosen.current && inbox.ready) {
    chosen.current = countFor(inbox.state, 'waiting') > 0 ? 'waiting' : countFor(inbox.state, 'mine') > 0 ? 'mine' : 'open'
  }
  const raw = params.get('view')
  const view: Filter = isFilter(raw) ? raw : (chosen.current ?? 'waiting')
  const search = params.get('q') ?? ''

  const setView = useCallback(
    (f: Filter) => {
      const p = new URLSearchParams(params)
      p.set('view', f)
      setParams(p, { replace: true })
    },
    [params, setParams],
  )
  const setSearch = useCallback(
    (q: string) => {
      const p = new URLSearchParams(params)
      if (!p.get('view')) p.set('view', view)
      if (q) p.set('q', q)
      else p.delete('q')
      setParams(p, { replace: true })
    },
    [params, setParams, view],
  )

  const backTo = `/inbox?view=${view}${search ? `&q=${encodeURIComponent(search)}` : ''}`
  useEffect(() => setDetailsOpen(false), [id])

  // Escape closes the details drawer (narrow screens).
  useEffect(() => {
    if (!detailsOpen) return
    const on = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setDetailsOpen(false)
    }
    window.addEventListener('keydown', on)
    return () => window.removeEventListener('keydown', on)
  }, [detailsOpen])

  const conv = id ? inbox.state.convs[id] : undefined
  const waiting = countFor(inbox.state, 'waiting')

  return (
    <div className={`ib ${id ? 'has-conv' : 'no-conv'} ${detailsOpen ? 'details-open' : ''}`}>
      <ConversationList view={view} onView={setView} search={search} onSearch={setSearch} selectedId={id ?? null} />
      <div className="ib-main">
        {id ? (
          <ConversationView key={id} id={id} backTo={backTo} detailsOpen={detailsOpen} onToggleDetails={() => setDetailsOpen((o) => !o)} />
        ) : (
          <div className="ib-pick">
            <div className="ib-empty-icon big" aria-hidden>
              <Icon name="chat" size={28} />
            </div>
            <h2>Pick a conversation</h2>
            <p className="muted">
              {pickText(inbox.startError ? 'error' : inbox.ready ? 'ready' : 'loading', waiting)}
            </p>
            {inbox.ready && waiting > 0 && view !== 'waiting' && (
              <Button size="small" onClick={() => setView('waiting')}>
                Show {FILTER_LABEL.waiting.toLowerCase()}
              </Button>
            )}
          </div>
        )}
      </div>
      {id && (
        <>
          {detailsOpen && <div className="ib-scrim" onClick={() => setDetailsOpen(false)} aria-hidden />}
          <DetailsPane conv={conv} onClose={() => setDetailsOpen(false)} />
        </>
      )}
    </div>
  )
}
