// One conversation, live: its header (visitor, status, take over / hand
// back / close), its messages with the assistant's reply streaming in, who
// is typing, and the composer. It follows conversationEvents from the
// last message it loaded; replays after a reconnect are merged by id.
import { useCallback, useEffect, useMemo, useReducer, useRef, useState, type FormEvent, type KeyboardEvent } from 'react'
import { Link } from 'react-router'
import { useClient } from 'urql'
import { useViewer } from '../lib/auth'
import { useLive, useOnReconnect } from '../lib/live'
import { describeError, type Problem } from '../lib/errors'
import { Banner, Button, ConfirmDialog, Empty, ErrorBanner, Loading } from '../ui'
import { Icon } from '../ui/icons'
import { useToast } from '../ui/toast'
import { Avatar, StatusBadge, newClientId, useNow } from './bits'
import {
  InboxCloseMutation,
  InboxConversationEventsSubscription,
  InboxConversationQuery,
  InboxEarlierQuery,
  InboxHandBackMutation,
  InboxSendMutation,
  InboxSetTypingMutation,
  InboxTakeOverMutation,
} from './documents'
import { useInbox } from './InboxContext'
import { MessageList } from './MessageList'
import { visitorLabel, type Conv } from './reducer'
import { fullTime } from './time'
import { botAnswering, initialThread, lastSeq, threadReducer, typingText, type Msg, type ThreadEvent } from './thread'
import { TypingSignal } from './typing'

const PAGE = 40
const MAX_BODY = 5000

/** What the agent was writing, per conversation, kept while switching between them. */
const drafts = new Map<string, string>()

type Action = 'take' | 'back' | 'close'

export function ConversationView({
  id,
  backTo,
  onToggleDetails,
  detailsOpen,
}: {
  id: string
  backTo: string
  onToggleDetails: () => void
  detailsOpen: boolean
}) {
  const client = useClient()
  const viewer = useViewer()
  const inbox = useInbox()
  const toast = useToast()
  const myName = viewer.user?.fullName ?? ''
  const [assistantName, setAssistantName] = useState('Assistant')
  const [thread, dispatch] = useReducer(threadReducer, initialThread)
  const [load, setLoad] = useState<'loading' | 'ok' | 'missing' | Problem>('loading')
  const [after, setAfter] = useState<string | null | undefined>(undefined)
  const [loadingEarlier, setLoadingEarlier] = useState(false)
  const [earlierError, setEarlierError] = useState<Problem | null>(null)
  const [busy, setBusy] = useState<Action | null>(null)
  const [actionError, setActionError] = useState<Problem | null>(null)
  const [confirmClose, setConfirmClose] = useState(false)
  const now = useNow(5000)
  const conv: Conv | undefined = inbox.state.convs[id]

  // ---- first load ----
  const fetchConversation = useCallback(async () => {
    setLoad('loading')
    const r = await client.query(InboxConversationQuery, { id, last: PAGE }, { requestPolicy: 'network-only' }).toPromise()
    if (!r.data) {
      setLoad(describeError(r.error ?? { networkError: new Error('no answer') }))
      return
    }
    const c = r.data.conversation
    if (!c) {
      setLoad('missing')
      return
    }
    const { messages, company, ...rest } = c
    inbox.upsert(rest as Conv)
    if (company.assistantName) setAssistantName(company.assistantName)
    const ms = (messages.edges ?? []).flatMap((e) => (e?.node ? [e.node as Msg] : []))
    dispatch({
      type: 'loaded',
      messages: ms,
      hasEarlier: messages.pageInfo.hasPreviousPage,
      cursor: messages.pageInfo.startCursor,
      status: c.status,
      now: Date.now(),
    })
    setLoad('ok')
    // Follow it from the last message loaded (the server replays anything newer first).
    setAfter((a) => (a === undefined ? (ms[ms.length - 1]?.id ?? null) : a))
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, id])
  useEffect(() => {
    void fetchConversation()
  }, [fetchConversation])

  // ---- live ----
  const { error: liveError } = useLive(
    InboxConversationEventsSubscription,
    { conversationId: id, after: after ?? null },
    (d) => dispatch({ type: 'event', event: d.conversationEvents as ThreadEvent, now: Date.now(), myName }),
    { pause: after === undefined },
  )

  // graphql-ws resubscribes with the same `after` by itself: the replay is
  // merged by id; only the deltas of the break are lost.
  useOnReconnect(() => dispatch({ type: 'reconnected', now: Date.now() }))

  // Someone stops typing without saying so (gone): the indicator goes.
  const anyTyping = Object.keys(thread.typing).length > 0
  useEffect(() => {
    if (!anyTyping) return
    const t = setInterval(() => dispatch({ type: 'expireTyping', now: Date.now() }), 2000)
    return () => clearInterval(t)
  }, [anyTyping])

  // ---- read, and alerts off while it is on screen ----
  const seq = lastSeq(thread)
  const { markRead, setViewing } = inbox
  useEffect(() => {
    const mark = () => {
      if (document.hidden) {
        setViewing(null)
        return
      }
      setViewing(id)
      if (seq > 0) markRead(id, seq)
    }
    mark()
    document.addEventListener('visibilitychange', mark)
    return () => document.removeEventListener('visibilitychange', mark)
  }, [id, seq, markRead, setViewing])
  useEffect(() => () => setViewing(null), [setViewing])

  // ---- earlier messages ----
  const loadEarlier = useCallback(async () => {
    if (loadingEarlier || !thread.earlier.hasMore) return
    setLoadingEarlier(true)
    setEarlierError(null)
    const r = await client
      .query(InboxEarlierQuery, { id, last: PAGE, before: thread.earlier.cursor }, { requestPolicy: 'network-only' })
      .toPromise()
    setLoadingEarlier(false)
    const m = r.data?.conversation?.messages
    if (!m) {
      setEarlierError(describeError(r.error ?? { networkError: new Error('no answer') }))
      return
    }
    const ms = (m.edges ?? []).flatMap((e) => (e?.node ? [e.node as Msg] : []))
    dispatch({ type: 'earlier', messages: ms, hasEarlier: m.pageInfo.hasPreviousPage, cursor: m.pageInfo.startCursor })
  }, [client, id, loadingEarlier, thread.earlier])

  // ---- actions ----
  const act = useCallback(
    async (a: Action) => {
      setBusy(a)
      setActionError(null)
      const r =
        a === 'take'
          ? await client.mutation(InboxTakeOverMutation, { id }).toPromise()
          : a === 'back'
            ? await client.mutation(InboxHandBackMutation, { id }).toPromise()
            : await client.mutation(InboxCloseMutation, { id }).toPromise()
      setBusy(null)
      if (r.error || !r.data) {
        setActionError(describeError(r.error ?? { networkError: new Error('no answer') }))
        return false
      }
      const d = r.data as Record<string, unknown>
      const c = (d.takeOverConversation ?? d.handBackToBot ?? d.closeConversation) as Conv
      inbox.upsert(c)
      if (a === 'back') toast('Handed back to the assistant')
      if (a === 'close') toast('Conversation closed')
      return true
    },
    [client, id, inbox, toast],
  )

  // ---- sending ----
  const deliver = useCallback(
    async (clientMessageID: string, body: string) => {
      const r = await client.mutation(InboxSendMutation, { conversationId: id, body, clientMessageId: clientMessageID }).toPromise()
      if (r.data) dispatch({ type: 'sent', clientMessageID, message: r.data.sendMessage as Msg })
      else dispatch({ type: 'failed', clientMessageID, error: describeError(r.error ?? { networkError: new Error('no answer') }).message })
    },
    [client, id],
  )
  const retry = useCallback(
    (clientMessageID: string) => {
      const p = thread.pending.find((x) => x.clientMessageID === clientMessageID)
      if (!p) return
      dispatch({ type: 'retry', clientMessageID })
      void deliver(clientMessageID, p.body) // the same id: the server keeps one copy
    },
    [deliver, thread.pending],
  )

  if (load === 'loading' && !thread.loaded) {
    return (
      <section className="ib-conv" aria-label="Conversation">
        <ConvHeaderSkeleton backTo={backTo} />
        <Loading>Loading the conversation…</Loading>
      </section>
    )
  }
  if (load === 'missing') {
    return (
      <section className="ib-conv" aria-label="Conversation">
        <div className="ib-conv-pad">
          <Empty title="Conversation not found" action={<Link to={backTo} className="btn">Back to the inbox</Link>}>
            It may have been removed, or it belongs to another company.
          </Empty>
        </div>
      </section>
    )
  }
  if (typeof load === 'object' && !thread.loaded) {
    return (
      <section className="ib-conv" aria-label="Conversation">
        <ConvHeaderSkeleton backTo={backTo} />
        <div className="ib-conv-pad">
          <ErrorBanner error={load} onRetry={() => void fetchConversation()} />
        </div>
      </section>
    )
  }
  if (!conv) return null

  const status = conv.status
  const mine = status === 'HUMAN' && conv.assigneeID === inbox.me
  const name = visitorLabel(conv)
  const assigneeName = conv.assigneeID ? (conv.assigneeID === inbox.me ? 'you' : (conv.assignee?.fullName ?? 'a colleague')) : null
  const canTake = status === 'BOT' || status === 'WAITING_HUMAN' || (status === 'HUMAN' && !mine)
  const typing = typingText(thread, name)

  return (
    <section className="ib-conv" aria-label={`Conversation with ${name}`}>
      <header className="ib-conv-head">
        <Link to={backTo} className="btn ghost small ib-back" aria-label="Back to conversations">
          <Icon name="back" />
        </Link>
        <Avatar name={name} seed={conv.visitorID} size={36} anonymous={!conv.visitor?.name?.trim()} />
        <div className="ib-conv-who">
          <h2 className="ib-conv-name">{name}</h2>
          <div className="ib-conv-sub">
            <StatusBadge status={status} />
            {assigneeName && (
              <span className="ib-conv-assignee" title={`Assigned to ${assigneeName}`}>
                <Icon name="user" size={13} />
                <span className="sr-only">Assigned to </span>
                {assigneeName === 'you' ? 'You' : assigneeName}
              </span>
            )}
            {!assigneeName && status === 'WAITING_HUMAN' && <span className="ib-conv-assignee">Not assigned yet</span>}
          </div>
        </div>
        <div className="ib-conv-actions">
          {canTake && (
            <Button
              variant="primary"
              size="small"
              loading={busy === 'take'}
              disabled={!!busy}
              onClick={() => void act('take')}
              title={status === 'HUMAN' ? `Take it from ${assigneeName}` : 'Stop the assistant and answer yourself'}
            >
              Take over
            </Button>
          )}
          {status === 'HUMAN' && (
            <Button size="small" loading={busy === 'back'} disabled={!!busy} onClick={() => void act('back')} title="The assistant answers again">
              Hand back to bot
            </Button>
          )}
          {status !== 'CLOSED' && (
            <Button variant="danger-soft" size="small" disabled={!!busy} onClick={() => setConfirmClose(true)}>
              Close
            </Button>
          )}
          <Button
            variant="ghost"
            size="small"
            className="ib-details-toggle"
            aria-pressed={detailsOpen}
            aria-label="Visitor details"
            title="Visitor details"
            onClick={onToggleDetails}
          >
            <Icon name="panel" />
          </Button>
        </div>
      </header>
      {actionError && (
        <div className="ib-conv-banner">
          <Banner
            kind="error"
            action={
              <button type="button" className="close-x" aria-label="Dismiss" onClick={() => setActionError(null)}>
                ×
              </button>
            }
          >
            {actionError.message}
          </Banner>
        </div>
      )}
      {liveError && (
        <div className="ib-conv-banner">
          <Banner kind="warn" action={<Button size="small" onClick={() => window.location.reload()}>Reload</Button>}>
            Live updates of this conversation stopped: {describeError(liveError).message}
          </Banner>
        </div>
      )}
      {earlierError && (
        <div className="ib-conv-banner">
          <ErrorBanner error={earlierError} onRetry={() => void loadEarlier()} />
        </div>
      )}
      <MessageList
        messages={thread.messages}
        drafts={thread.drafts}
        pending={thread.pending}
        hasEarlier={thread.earlier.hasMore}
        loadingEarlier={loadingEarlier}
        onLoadEarlier={() => void loadEarlier()}
        onRetry={retry}
        visitorName={name}
        visitorSeed={conv.visitorID}
        visitorAnonymous={!conv.visitor?.name?.trim()}
        assistantName={assistantName}
        myName={myName}
        answering={botAnswering(thread, status, now)}
        typing={typing}
      />
      <Composer
        key={id}
        id={id}
        conv={conv}
        mine={mine}
        canTake={canTake}
        taking={busy === 'take'}
        busy={!!busy}
        assigneeName={assigneeName}
        visitorName={name}
        onTake={() => void act('take')}
        onSend={(body) => {
          const cmid = newClientId()
          dispatch({ type: 'send', clientMessageID: cmid, body, now: Date.now() })
          void deliver(cmid, body)
        }}
      />
      <ConfirmDialog
        open={confirmClose}
        title="Close this conversation?"
        confirmLabel="Close conversation"
        busy={busy === 'close'}
        error={null}
        onClose={() => setConfirmClose(false)}
        onConfirm={() => void act('close').then(() => setConfirmClose(false))}
      >
        {name} is told the conversation has ended and can rate it. A new message from them starts a new conversation.
      </ConfirmDialog>
    </section>
  )
}

function ConvHeaderSkeleton({ backTo }: { backTo: string }) {
  return (
    <header className="ib-conv-head">
      <Link to={backTo} className="btn ghost small ib-back" aria-label="Back to conversations">
        <Icon name="back" />
      </Link>
      <span className="ib-skel circle" style={{ width: 36, height: 36 }} />
      <div className="ib-conv-who">
        <span className="ib-skel" style={{ width: 140, height: 14, display: 'block' }} />
        <span className="ib-skel" style={{ width: 80, height: 12, display: 'block', marginTop: 6 }} />
      </div>
    </header>
  )
}

function Composer({
  id,
  conv,
  mine,
  canTake,
  taking,
  busy,
  assigneeName,
  visitorName,
  onTake,
  onSend,
}: {
  id: string
  conv: Conv
  mine: boolean
  canTake: boolean
  taking: boolean
  busy: boolean
  assigneeName: string | null
  visitorName: string
  onTake: () => void
  onSend: (body: string) => void
}) {
  const client = useClient()
  const [text, setText] = useState(() => drafts.get(id) ?? '')
  const ref = useRef<HTMLTextAreaElement>(null)
  const signal = useMemo(
    () =>
      new TypingSignal((typing) => {
        void client.mutation(InboxSetTypingMutation, { conversationId: id, typing }).toPromise()
      }),
    [client, id],
  )
  useEffect(() => () => signal.stop(), [signal])
  useEffect(() => {
    if (!mine) signal.stop()
  }, [mine, signal])
  // Focus the composer once it can be used (after a takeover).
  const wasMine = useRef(mine)
  useEffect(() => {
    if (mine && !wasMine.current) ref.current?.focus()
    wasMine.current = mine
  }, [mine])

  const update = (v: string) => {
    setText(v)
    if (v) drafts.set(id, v)
    else drafts.delete(id)
    if (mine) signal.input(v)
  }
  const tooLong = text.length > MAX_BODY
  const submit = (e?: FormEvent) => {
    e?.preventDefault()
    const body = text.trim()
    if (!mine || !body || tooLong) return
    signal.stop()
    onSend(body)
    update('')
    signal.stop()
    ref.current?.focus()
  }
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault()
      submit()
    }
  }

  let why: string | null = null
  if (conv.status === 'CLOSED') why = `This conversation was closed${conv.closedAt ? ` on ${fullTime(conv.closedAt)}` : ''}.`
  else if (conv.status === 'BOT') why = 'The assistant is answering this conversation.'
  else if (conv.status === 'WAITING_HUMAN') why = `${visitorName} is waiting for a human.`
  else if (!mine) why = `${assigneeName ? assigneeName.charAt(0).toUpperCase() + assigneeName.slice(1) : 'A colleague'} is handling this conversation.`

  return (
    <form className={`ib-composer ${mine ? '' : 'locked'}`} onSubmit={submit}>
      {why && (
        <div className="ib-composer-note" id={`ib-why-${id}`}>
          <span>{why}</span>
          {canTake && (
            <Button size="small" variant="primary" loading={taking} disabled={busy} onClick={onTake}>
              Take over to reply
            </Button>
          )}
        </div>
      )}
      {conv.status !== 'CLOSED' && (
        <div className="ib-composer-row">
          <textarea
            ref={ref}
            className="textarea ib-input"
            aria-label="Reply"
            aria-describedby={why ? `ib-why-${id}` : undefined}
            placeholder={mine ? `Reply to ${visitorName}…` : 'Take over to reply'}
            value={text}
            disabled={!mine}
            rows={2}
            onChange={(e) => update(e.target.value)}
            onKeyDown={onKeyDown}
            onBlur={() => signal.stop()}
          />
          <Button type="submit" variant="primary" disabled={!mine || !text.trim() || tooLong} aria-label="Send" title="Send (Enter)">
            <Icon name="send" size={16} />
            <span className="ib-send-label">Send</span>
          </Button>
        </div>
      )}
      {mine && (
        <div className={`ib-composer-hint ${tooLong ? 'error-text' : ''}`}>
          {tooLong ? `${text.length - MAX_BODY} characters too long (at most ${MAX_BODY}).` : 'Enter to send · Shift+Enter for a new line'}
        </div>
      )}
    </form>
  )
}

