// The live inbox shared by the layout and the inbox page: it follows
// inboxEvents for the whole session (which makes the agent online and
// assignable), keeps the conversation list in a pure reducer, fetches what
// it may have missed after a reconnect, and calls for attention when a
// visitor waits for a human (title count, beep, system notification).
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react'
import { useClient } from 'urql'
import { useNavigate } from 'react-router'
import { useViewer } from '../lib/auth'
import { useLive, useOnReconnect } from '../lib/live'
import { describeError, type Problem } from '../lib/errors'
import type { ConversationWhereInput, InboxListNodeFragment } from '../gql/graphql'
import {
  InboxByIdsQuery,
  InboxCountsQuery,
  InboxEventsSubscription,
  InboxPageQuery,
  InboxStartQuery,
} from './documents'
import {
  countFor,
  initialInbox,
  inboxReducer,
  mergeConv,
  missingDetails,
  totalUnread,
  type Conv,
  type Filter,
  type InboxAction,
  type InboxState,
  type PageEntry,
} from './reducer'
import {
  beep,
  decideAlert,
  notificationPermission,
  showNotification,
  titleFor,
  watchInteraction,
  type Alert,
  type NotifyPermission,
} from './notify'

export const PAGE_SIZE = 30

export interface InboxApi {
  state: InboxState
  me: string
  /** The first load is done (counts and lists can be trusted). */
  ready: boolean
  startError: Problem | null
  retryStart: () => void
  /** Loads a list's first page (replace) or the next one (append). */
  loadPage: (filter: Filter, search: string, mode: 'replace' | 'append') => Promise<Problem | null>
  /** Lists being loaded, by key. */
  loading: Record<string, boolean>
  markRead: (id: string, seq: number) => void
  /** The conversation on screen (no alerts for it while the page is visible). */
  setViewing: (id: string | null) => void
  upsert: (conv: Conv) => void
  permission: NotifyPermission
  requestPermission: () => void
}

const Ctx = createContext<InboxApi | null>(null)

export function pageKey(filter: Filter, search: string): string {
  const q = search.trim().toLowerCase()
  return q ? `${filter}?${q}` : filter
}

export function whereFor(filter: Filter, me: string, search = ''): ConversationWhereInput {
  const base: ConversationWhereInput =
    filter === 'waiting'
      ? { status: 'WAITING_HUMAN' }
      : filter === 'mine'
        ? { assigneeID: me, statusNEQ: 'CLOSED' }
        : filter === 'bot'
          ? { status: 'BOT' }
          : filter === 'open'
            ? { statusNEQ: 'CLOSED' }
            : { status: 'CLOSED' }
  const q = search.trim()
  if (!q) return base
  return {
    and: [
      base,
      {
        or: [
          { hasVisitorWith: [{ nameContainsFold: q }] },
          { hasVisitorWith: [{ emailContainsFold: q }] },
          { lastMessagePreviewContainsFold: q },
        ],
      },
    ],
  }
}

function toEntry(n: InboxListNodeFragment): PageEntry {
  const { recentVisitorMessages, ...conv } = n
  const seqs = (recentVisitorMessages.edges ?? []).flatMap((e) => (e?.node ? [e.node.seq] : []))
  return { conv: conv as Conv, visitorSeqs: seqs }
}

function nodes(c: { edges: Array<{ node: InboxListNodeFragment | null } | null> | null } | null | undefined): PageEntry[] {
  return (c?.edges ?? []).flatMap((e) => (e?.node ? [toEntry(e.node)] : []))
}

// ---- last read, per user, in localStorage ----

const READ_MAX = 2000
const readKey = (userId: string) => `concierge:inbox:read:${userId}`

function loadRead(userId: string): Record<string, number> {
  try {
    const v = JSON.parse(localStorage.getItem(readKey(userId)) ?? '{}')
    return v && typeof v === 'object' ? (v as Record<string, number>) : {}
  } catch {
    return {}
  }
}

function saveRead(userId: string, read: Record<string, number>) {
  let entries = Object.entries(read)
  if (entries.length > READ_MAX) entries = entries.slice(-READ_MAX)
  try {
    localStorage.setItem(readKey(userId), JSON.stringify(Object.fromEntries(entries)))
  } catch {
    // Private mode or full: unread counts reset with the tab.
  }
}

export function InboxProvider({ children }: { children: ReactNode }) {
  const viewer = useViewer()
  const me = viewer.user?.id ?? ''
  const client = useClient()
  // navigate changes with the location: keep the latest in a ref, so that
  // nothing here (the first load included) runs again on every page change.
  const navigate = useNavigate()
  const navRef = useRef(navigate)
  navRef.current = navigate

  // The reducer runs here rather than in useReducer so that each event sees
  // the state its predecessors left (alerts compare before and after).
  const stateRef = useRef<InboxState>(initialInbox(me, me ? loadRead(me) : {}))
  const [state, setState] = useState(stateRef.current)
  const dispatch = useCallback((a: InboxAction) => {
    const next = inboxReducer(stateRef.current, a)
    if (next !== stateRef.current) {
      stateRef.current = next
      setState(next)
    }
  }, [])

  const [ready, setReady] = useState(false)
  const readyRef = useRef(false)
  const [startError, setStartError] = useState<Problem | null>(null)
  const [loading, setLoading] = useState<Record<string, boolean>>({})
  const viewing = useRef<string | null>(null)
  const [permission, setPermission] = useState<NotifyPermission>(notificationPermission)

  useEffect(() => watchInteraction(), [])

  const alert = useCallback(
    (a: Alert) => {
      beep()
      if (typeof document !== 'undefined' && (document.hidden || !document.hasFocus())) {
        showNotification(a, (id) => navRef.current(`/inbox/${id}`))
      }
    },
    [],
  )

  const visibleViewing = () => (typeof document !== 'undefined' && document.hidden ? null : viewing.current)

  /** Merges conversations, telling of the ones that now call for attention. */
  const mergeWithAlerts = useCallback(
    (entries: PageEntry[], apply: () => void) => {
      const before = stateRef.current
      apply()
      if (!readyRef.current) return
      for (const { conv } of entries) {
        const prev = before.convs[conv.id]
        const a = decideAlert(prev, mergeConv(prev, conv, before.names), null, { me, viewing: visibleViewing() })
        if (a) {
          alert(a)
          break
        }
      }
    },
    [alert, me],
  )

  // ---- counts, refreshed shortly after changes ----
  const countsTimer = useRef<ReturnType<typeof setTimeout> | null>(null)
  const refreshCounts = useCallback(() => {
    if (countsTimer.current) return
    countsTimer.current = setTimeout(async () => {
      countsTimer.current = null
      const r = await client.query(InboxCountsQuery, { me }, { requestPolicy: 'network-only' }).toPromise()
      const d = r.data
      if (!d) return
      dispatch({
        type: 'counts',
        counts: {
          waiting: d.waiting.totalCount,
          mine: d.mine.totalCount,
          bot: d.bot.totalCount,
          open: d.open.totalCount,
          closed: d.closed.totalCount,
        },
      })
    }, 1000)
  }, [client, dispatch, me])
  useEffect(() => () => {
    if (countsTimer.current) clearTimeout(countsTimer.current)
  }, [])

  // ---- the first load, and again after a reconnect ----
  const start = useCallback(
    async (mode: 'replace' | 'refresh') => {
      if (!me) return
      const r = await client.query(InboxStartQuery, { me }, { requestPolicy: 'network-only' }).toPromise()
      if (!r.data) {
        if (mode === 'replace') setStartError(describeError(r.error ?? { networkError: new Error('no answer') }))
        return
      }
      setStartError(null)
      const d = r.data
      const lists: [Filter, typeof d.waiting][] = [
        ['waiting', d.waiting],
        ['mine', d.mine],
        ['open', d.open],
      ]
      const all = lists.flatMap(([, c]) => nodes(c))
      mergeWithAlerts(all, () => {
        for (const [f, c] of lists) {
          dispatch({
            type: 'page',
            key: f,
            entries: nodes(c),
            cursor: c.pageInfo.endCursor,
            hasMore: c.pageInfo.hasNextPage,
            total: c.totalCount,
            mode,
          })
        }
        dispatch({ type: 'counts', counts: { bot: d.bot.totalCount, closed: d.closed.totalCount } })
      })
      if (mode === 'refresh') {
        // Open conversations we hold that these pages did not bring may
        // have changed meanwhile (taken by a colleague, closed...): load them again.
        const got = new Set(all.map((e) => e.conv.id))
        const stale = Object.values(stateRef.current.convs)
          .filter((c) => c.status !== 'CLOSED' && !got.has(c.id))
          .map((c) => c.id)
        for (let i = 0; i < stale.length; i += 100) {
          const ids = stale.slice(i, i + 100)
          const rr = await client.query(InboxByIdsQuery, { ids, first: ids.length }, { requestPolicy: 'network-only' }).toPromise()
          if (rr.data) {
            const entries = nodes(rr.data.conversations)
            mergeWithAlerts(entries, () => dispatch({ type: 'details', entries }))
          }
        }
      }
      if (!readyRef.current) {
        readyRef.current = true
        setReady(true)
      }
    },
    [client, dispatch, me, mergeWithAlerts],
  )

  useEffect(() => {
    void start('replace')
  }, [start])
  useOnReconnect(() => {
    void start('refresh')
    refreshCounts()
  })

  // ---- live events ----
  useLive(InboxEventsSubscription, {}, (d) => {
    const e = d.inboxEvents
    const conv = e.conversation as Conv
    const before = stateRef.current
    const prev = before.convs[conv.id]
    dispatch({ type: 'event', kind: e.kind, conversation: conv, message: e.message })
    if (e.kind !== 'MESSAGE_CREATED' || prev?.status !== conv.status || prev?.assigneeID !== conv.assigneeID) refreshCounts()
    if (!readyRef.current) return
    const a = decideAlert(prev, mergeConv(prev, conv, before.names), e.message, { me, viewing: visibleViewing() })
    if (a) alert(a)
  })

  // ---- visitors and assignees events did not carry ----
  const requested = useRef(new Set<string>())
  useEffect(() => {
    const ids = missingDetails(state).filter((id) => !requested.current.has(id))
    if (ids.length === 0) return
    const t = setTimeout(async () => {
      const batch = ids.slice(0, 100)
      for (const id of batch) requested.current.add(id)
      const r = await client.query(InboxByIdsQuery, { ids: batch, first: batch.length }, { requestPolicy: 'network-only' }).toPromise()
      const entries = r.data ? nodes(r.data.conversations) : []
      if (r.data) dispatch({ type: 'details', entries })
      // Another try later: after a failure, or when a loaded one changes
      // assignee again (one that did not come back is gone: not again).
      const again = r.data ? entries.map((e) => e.conv.id) : batch
      setTimeout(() => again.forEach((id) => requested.current.delete(id)), r.data ? 1000 : 5000)
    }, 120)
    return () => clearTimeout(t)
  }, [state, client, dispatch])

  // ---- pages of one list ----
  const loadPage = useCallback(
    async (filter: Filter, search: string, mode: 'replace' | 'append'): Promise<Problem | null> => {
      const key = pageKey(filter, search)
      const page = stateRef.current.pages[key]
      if (mode === 'append' && (!page || !page.hasMore)) return null
      setLoading((l) => ({ ...l, [key]: true }))
      try {
        const r = await client
          .query(
            InboxPageQuery,
            { where: whereFor(filter, me, search), after: mode === 'append' ? page?.cursor : null, first: PAGE_SIZE },
            { requestPolicy: 'network-only' },
          )
          .toPromise()
        if (!r.data) return describeError(r.error ?? { networkError: new Error('no answer') })
        const c = r.data.conversations
        dispatch({
          type: 'page',
          key,
          entries: nodes(c),
          cursor: c.pageInfo.endCursor,
          hasMore: c.pageInfo.hasNextPage,
          total: search.trim() ? undefined : c.totalCount,
          mode,
        })
        return null
      } finally {
        setLoading((l) => ({ ...l, [key]: false }))
      }
    },
    [client, dispatch, me],
  )

  // ---- read state ----
  const markRead = useCallback((id: string, seq: number) => dispatch({ type: 'read', id, seq }), [dispatch])
  useEffect(() => {
    if (me) saveRead(me, state.lastRead)
  }, [me, state.lastRead])
  useEffect(() => {
    if (!me) return
    const on = (e: StorageEvent) => {
      if (e.key === readKey(me)) dispatch({ type: 'readSync', lastRead: loadRead(me) })
    }
    window.addEventListener('storage', on)
    return () => window.removeEventListener('storage', on)
  }, [me, dispatch])

  // ---- the title ----
  const waiting = countFor(state, 'waiting')
  useEffect(() => {
    document.title = titleFor(waiting)
  }, [waiting])
  useEffect(
    () => () => {
      document.title = titleFor(0)
    },
    [],
  )

  const requestPermission = useCallback(() => {
    if (typeof Notification === 'undefined') return
    void Notification.requestPermission().then((p) => setPermission(p))
  }, [])

  const setViewing = useCallback((id: string | null) => {
    viewing.current = id
  }, [])
  const upsert = useCallback((conv: Conv) => dispatch({ type: 'upsert', conv }), [dispatch])
  const retryStart = useCallback(() => void start('replace'), [start])

  const value = useMemo<InboxApi>(
    () => ({ state, me, ready, startError, retryStart, loadPage, loading, markRead, setViewing, upsert, permission, requestPermission }),
    [state, me, ready, startError, retryStart, loadPage, loading, markRead, setViewing, upsert, permission, requestPermission],
  )
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>
}

/** The inbox (inside InboxProvider). */
export function useInbox(): InboxApi {
  const v = useContext(Ctx)
  if (!v) throw new Error('useInbox outside InboxProvider')
  return v
}

/** For the sidebar badge: conversations waiting for a human, and unread visitor messages. */
export function useInboxSummary(): { waiting: number; unread: number } {
  const v = useContext(Ctx)
  if (!v) return { waiting: 0, unread: 0 }
  return { waiting: countFor(v.state, 'waiting'), unread: totalUnread(v.state) }
}
