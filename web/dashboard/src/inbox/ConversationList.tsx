// The inbox's left pane: the filters with their counts, a search, and the
// conversations, newest activity first, live.
import { memo, useEffect, useMemo, useState } from 'react'
import { Link } from 'react-router'
import { Button, ErrorBanner, Segmented, Spinner } from '../ui'
import type { Problem } from '../lib/errors'
import { Icon } from '../ui/icons'
import { Avatar, StatusBadge, useNow } from './bits'
import { pageKey, useInbox } from './InboxContext'
import { countFor, isComplete, listFor, unreadCount, visitorLabel, type Conv, type Filter } from './reducer'
import { fullTime, relTime } from './time'

export const FILTER_LABEL: Record<Filter, string> = {
  waiting: 'Waiting',
  mine: 'Mine',
  bot: 'Bot',
  open: 'Open',
  closed: 'Closed',
}

const FILTER_TITLE: Record<Filter, string> = {
  waiting: 'Waiting for a human',
  mine: 'Assigned to me, not closed',
  bot: 'The assistant is handling them',
  open: 'Every conversation not closed',
  closed: 'Closed conversations',
}

const EMPTY: Record<Filter, { title: string; text: string }> = {
  waiting: {
    title: 'Nobody is waiting',
    text: 'When a visitor asks for a person, or the assistant cannot answer, the conversation shows up here.',
  },
  mine: {
    title: 'Nothing assigned to you',
    text: 'Conversations you take over, or that are given to you while you are online, show up here.',
  },
  bot: { title: 'The assistant is not talking to anyone', text: 'Conversations it is answering show up here as they happen.' },
  open: { title: 'No open conversations', text: 'New conversations from the widget appear here live.' },
  closed: { title: 'No closed conversations', text: 'Conversations that you or the visitor closed are kept here.' },
}

const Row = memo(function Row({
  c,
  unread,
  selected,
  view,
  me,
  now,
}: {
  c: Conv
  unread: number
  selected: boolean
  view: Filter
  me: string
  now: number
}) {
  const name = visitorLabel(c)
  const assignee = c.assigneeID ? (c.assigneeID === me ? 'You' : (c.assignee?.fullName ?? '…')) : null
  return (
    <li>
      <Link
        to={`/inbox/${c.id}?view=${view}`}
        className={`ib-row ${selected ? 'selected' : ''} ${unread ? 'unread' : ''}`}
        aria-current={selected ? 'page' : undefined}
      >
        <Avatar name={name} seed={c.visitorID} size={34} anonymous={!c.visitor?.name?.trim()} />
        <div className="ib-row-main">
          <div className="ib-row-top">
            <span className="ib-row-name">{name}</span>
            <time className="ib-row-time" dateTime={c.lastMessageAt} title={fullTime(c.lastMessageAt)}>
              {relTime(c.lastMessageAt, now)}
            </time>
          </div>
          <div className="ib-row-preview">{c.lastMessagePreview || <span className="muted">No messages yet</span>}</div>
          <div className="ib-row-meta">
            <StatusBadge status={c.status} />
            {assignee && (
              <span className="ib-row-assignee" title={`Assigned to ${assignee === 'You' ? 'you' : assignee}`}>
                {assignee}
              </span>
            )}
            {unread > 0 && (
              <span className="ib-unread" aria-label={`${unread} unread`}>
                {unread > 99 ? '99+' : unread}
              </span>
            )}
          </div>
        </div>
      </Link>
    </li>
  )
})

export function ConversationList({
  view,
  onView,
  search,
  onSearch,
  selectedId,
}: {
  view: Filter
  onView: (f: Filter) => void
  search: string
  onSearch: (q: string) => void
  selectedId: string | null
}) {
  const inbox = useInbox()
  const { state, ready, loadPage, loading } = inbox
  const now = useNow(30_000)
  const [problem, setProblem] = useState<Problem | null>(null)
  const key = pageKey(view, search)
  const list = useMemo(() => listFor(state, view, search), [state, view, search])
  const complete = isComplete(state, view)
  const page = state.pages[key]

  // A filter's first page, the first time it is shown (unless the store holds it all).
  useEffect(() => {
    if (!ready || search.trim()) return
    if (state.pages[view] === undefined && !isComplete(state, view)) {
      void loadPage(view, '', 'replace').then(setProblem)
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [ready, view, search])

  // Searching also asks the server (older conversations may match).
  useEffect(() => {
    if (!ready || !search.trim()) return
    const t = setTimeout(() => void loadPage(view, search, 'replace').then(setProblem), 300)
    return () => clearTimeout(t)
  }, [ready, view, search, loadPage])

  useEffect(() => setProblem(null), [view])

  const busy = !!loading[key] || (!search.trim() && state.pages[view] === undefined && !complete)
  const showLoading = (!ready && !inbox.startError) || (busy && list.length === 0)
  const canLoadMore = page?.hasMore === true

  return (
    <aside className="ib-list" aria-label="Conversations">
      <div className="ib-list-head">
        <div className="ib-list-title">
          <h1>Inbox</h1>
          {inbox.permission === 'default' && (
            <Button size="small" variant="ghost" onClick={inbox.requestPermission} title="Get a system notification when a visitor waits for a human">
              <Icon name="bell" size={15} />
              Turn on notifications
            </Button>
          )}
          {inbox.permission === 'denied' && (
            <span className="ib-muted-note" title="Notifications are blocked for this site in the browser's settings">
              Notifications blocked
            </span>
          )}
        </div>
        <div className="ib-filters">
          <Segmented<Filter>
            label="Filter conversations"
            value={view}
            onChange={onView}
            options={(['waiting', 'mine', 'bot', 'open', 'closed'] as Filter[]).map((f) => ({
              value: f,
              label: <span title={FILTER_TITLE[f]}>{FILTER_LABEL[f]}</span>,
              count: f === 'closed' ? undefined : countFor(state, f),
            }))}
          />
        </div>
        <div className="search ib-search">
          <label htmlFor="ib-search" className="sr-only">
            Search conversations
          </label>
          <input
            id="ib-search"
            className="input"
            type="search"
            placeholder="Search by name, email or message"
            value={search}
            onChange={(e) => onSearch(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape' && search) {
                e.preventDefault()
                onSearch('')
              }
            }}
          />
        </div>
      </div>
      <div className="ib-list-body">
        {inbox.startError && <ErrorBanner error={inbox.startError} onRetry={inbox.retryStart} />}
        {problem && <ErrorBanner error={problem} onRetry={() => void loadPage(view, search, page ? 'append' : 'replace').then(setProblem)} />}
        {showLoading ? (
          <div className="ib-list-loading" role="status" aria-label="Loading conversations">
            {[0, 1, 2, 3, 4].map((i) => (
              <div key={i} className="ib-skeleton-row" aria-hidden>
                <span className="ib-skel circle" />
                <span className="ib-skel-lines">
                  <span className="ib-skel" style={{ width: '55%' }} />
                  <span className="ib-skel" style={{ width: '85%' }} />
                </span>
              </div>
            ))}
          </div>
        ) : list.length === 0 ? (
          search.trim() ? (
            <div className="empty ib-empty">
              <h3>No conversations match “{search.trim()}”</h3>
              <p>{busy ? 'Searching older conversations…' : `Nothing in ${FILTER_LABEL[view].toLowerCase()} has this name, email or message.`}</p>
              <Button size="small" onClick={() => onSearch('')}>
                Clear search
              </Button>
            </div>
          ) : (
            !inbox.startError && (
              <div className="empty ib-empty">
                <div className="ib-empty-icon" aria-hidden>
                  <Icon name="chat" size={22} />
                </div>
                <h3>{EMPTY[view].title}</h3>
                <p>{EMPTY[view].text}</p>
              </div>
            )
          )
        ) : (
          <ul className="ib-rows" aria-label={`${FILTER_LABEL[view]} conversations`}>
            {list.map((c) => (
              <Row
                key={c.id}
                c={c}
                unread={c.status === 'CLOSED' ? 0 : unreadCount(state, c.id)}
                selected={c.id === selectedId}
                view={view}
                me={state.me}
                now={now}
              />
            ))}
          </ul>
        )}
        {canLoadMore && list.length > 0 && (
          <div className="ib-more">
            <Button size="small" loading={!!loading[key]} onClick={() => void loadPage(view, search, 'append').then(setProblem)}>
              Load older
            </Button>
          </div>
        )}
        {busy && list.length > 0 && !canLoadMore && (
          <div className="ib-more">
            <Spinner label="Loading conversations" />
          </div>
        )}
      </div>
    </aside>
  )
}
