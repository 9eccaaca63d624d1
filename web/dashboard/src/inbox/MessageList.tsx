// A conversation's messages: grouped by sender with avatars and names,
// system notes in the middle, sources under the assistant's answers, the
// reply being written as it streams, and the agent's messages on their
// way. It stays at the bottom as messages arrive only if it was there.
import { Fragment, memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react'
import { Link } from 'react-router'
import { Button, Spinner } from '../ui'
import { Icon } from '../ui/icons'
import { Avatar, useNow } from './bits'
import { groupMessages } from './groups'
import type { Citation, Draft, Msg, Pending } from './thread'
import { clockTime, fullTime } from './time'

/** The assistant's text with its [n] markers as small references to its sources. */
function BotText({ body, citations }: { body: string; citations: Citation[] }) {
  if (!citations.length) return <>{body}</>
  const parts: ReactNode[] = []
  const re = /\[(\d{1,2})\]/g
  let last = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(body))) {
    const n = Number(m[1])
    if (n < 1 || n > citations.length) continue
    parts.push(body.slice(last, m.index))
    parts.push(
      <sup key={m.index} className="ib-ref" title={citations[n - 1].title}>
        {n}
      </sup>,
    )
    last = m.index + m[0].length
  }
  parts.push(body.slice(last))
  return <>{parts}</>
}

function Sources({ citations }: { citations: Citation[] }) {
  if (!citations.length) return null
  return (
    <div className="ib-sources">
      <div className="ib-sources-title">Sources</div>
      <ol>
        {citations.map((c, i) => {
          const page = c.page && c.page > 0 ? `page ${c.page}` : null
          return (
            <li key={i}>
              <div className="ib-source-head">
                <span className="ib-source-n">{i + 1}</span>
                {c.url ? (
                  <a href={c.url} target="_blank" rel="noreferrer" className="ib-source-title">
                    {c.title}
                    <Icon name="external" size={12} />
                  </a>
                ) : c.resource ? (
                  <Link to={`/knowledge/${c.resource.id}`} className="ib-source-title">
                    {c.title}
                  </Link>
                ) : (
                  <span className="ib-source-title">{c.title}</span>
                )}
                {page && <span className="ib-source-page">{page}</span>}
              </div>
              {c.snippet && (
                <details className="ib-snippet">
                  <summary>Show the passage</summary>
                  <blockquote>{c.snippet}</blockquote>
                  <div className="ib-snippet-score">Relevance {Math.round(c.score * 100)}%</div>
                </details>
              )}
            </li>
          )
        })}
      </ol>
    </div>
  )
}

function OutcomeHint({ m }: { m: Msg }) {
  const pct = m.confidence != null ? ` (confidence ${Math.round(m.confidence * 100)}%)` : ''
  if (m.outcome === 'DECLINED') {
    return (
      <div className="ib-outcome warn">
        <Icon name="alert" size={13} />
        Not answered: nothing relevant enough in the knowledge{pct}.
      </div>
    )
  }
  if (m.outcome === 'FAILED') {
    return (
      <div className="ib-outcome danger">
        <Icon name="alert" size={13} />
        The assistant could not answer (model error or timeout); the visitor got a polite fallback.
      </div>
    )
  }
  return null
}

function senderLabel(senderType: Msg['senderType'], name: string | null, visitorName: string, assistantName: string, myName: string): string {
  switch (senderType) {
    case 'VISITOR':
      return name || visitorName
    case 'BOT':
      return name || assistantName
    case 'AGENT':
      return name && name === myName ? `${name} (you)` : name || 'Agent'
    default:
      return 'System'
  }
}

const Group = memo(function Group({
  senderType,
  name,
  msgs,
  visitorName,
  visitorSeed,
  visitorAnonymous,
  assistantName,
  myName,
  now,
}: {
  senderType: Msg['senderType']
  name: string | null
  msgs: Msg[]
  visitorName: string
  visitorSeed: string
  visitorAnonymous: boolean
  assistantName: string
  myName: string
  now: number
}) {
  const side = senderType === 'VISITOR' ? 'them' : 'us'
  const label = senderLabel(senderType, name, visitorName, assistantName, myName)
  return (
    <div className={`ib-group ${side} ${senderType.toLowerCase()}`}>
      {senderType === 'BOT' ? (
        <Avatar kind="bot" name={label} size={28} />
      ) : (
        <Avatar name={label} seed={senderType === 'VISITOR' ? visitorSeed : label} size={28} anonymous={senderType === 'VISITOR' && visitorAnonymous} />
      )}
      <div className="ib-group-body">
        <div className="ib-group-head">
          <span className="ib-sender">{label}</span>
          <time dateTime={msgs[0].createdAt} title={fullTime(msgs[0].createdAt)}>
            {clockTime(msgs[0].createdAt, now)}
          </time>
        </div>
        {msgs.map((m) => (
          <div key={m.id} className="ib-msg" data-seq={m.seq}>
            <div
              className="ib-bubble"
              title={fullTime(m.createdAt) + (senderType === 'BOT' && m.outcome === 'ANSWERED' && m.confidence != null ? ` · confidence ${Math.round(m.confidence * 100)}%` : '')}
            >
              {senderType === 'BOT' ? <BotText body={m.body} citations={m.citations ?? []} /> : m.body}
            </div>
            {senderType === 'BOT' && <OutcomeHint m={m} />}
            {senderType === 'BOT' && <Sources citations={m.citations ?? []} />}
          </div>
        ))}
      </div>
    </div>
  )
})

export function MessageList({
  messages,
  drafts,
  pending,
  hasEarlier,
  loadingEarlier,
  onLoadEarlier,
  onRetry,
  visitorName,
  visitorSeed,
  visitorAnonymous,
  assistantName,
  myName,
  answering,
  typing,
}: {
  messages: Msg[]
  drafts: Draft[]
  pending: Pending[]
  hasEarlier: boolean
  loadingEarlier: boolean
  onLoadEarlier: () => void
  onRetry: (clientMessageID: string) => void
  visitorName: string
  visitorSeed: string
  visitorAnonymous: boolean
  assistantName: string
  myName: string
  answering: boolean
  typing: string | null
}) {
  const ref = useRef<HTMLDivElement>(null)
  const atBottom = useRef(true)
  const anchor = useRef<{ height: number; top: number } | null>(null)
  const [unseen, setUnseen] = useState(false)
  const now = useNow(60_000) // times say the day only when it is not today
  const items = useMemo(() => groupMessages(messages), [messages])

  const toBottom = useCallback(() => {
    const el = ref.current
    if (!el) return
    el.scrollTop = el.scrollHeight
    atBottom.current = true
    setUnseen(false)
  }, [])

  const loadEarlier = useCallback(() => {
    const el = ref.current
    if (el) anchor.current = { height: el.scrollHeight, top: el.scrollTop }
    onLoadEarlier()
  }, [onLoadEarlier])

  const lastId = messages[messages.length - 1]?.id
  const draftLen = drafts.reduce((n, d) => n + d.body.length, 0)
  useLayoutEffect(() => {
    const el = ref.current
    if (!el) return
    if (anchor.current) {
      // Older messages were put on top: keep what was on screen in place.
      el.scrollTop = anchor.current.top + (el.scrollHeight - anchor.current.height)
      anchor.current = null
      return
    }
    if (atBottom.current) el.scrollTop = el.scrollHeight
    else setUnseen(true)
  }, [lastId, draftLen, drafts.length, pending.length, typing, answering])

  // The first messages on top: an older page is loaded at once.
  const firstId = messages[0]?.id
  useLayoutEffect(() => {
    const el = ref.current
    if (anchor.current && el) {
      el.scrollTop = anchor.current.top + (el.scrollHeight - anchor.current.height)
      anchor.current = null
    }
  }, [firstId])

  useEffect(() => {
    const el = ref.current
    if (el && atBottom.current) el.scrollTop = el.scrollHeight
  }, [])

  const onScroll = () => {
    const el = ref.current
    if (!el) return
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48
    if (atBottom.current) setUnseen(false)
    if (el.scrollTop < 80 && hasEarlier && !loadingEarlier) loadEarlier()
  }

  return (
    <div className="ib-thread-wrap">
      <div className="ib-thread" ref={ref} onScroll={onScroll} role="log" aria-label="Messages" aria-live="polite" aria-relevant="additions">
        {hasEarlier ? (
          <div className="ib-earlier">
            <Button size="small" variant="ghost" loading={loadingEarlier} onClick={loadEarlier}>
              Load earlier messages
            </Button>
          </div>
        ) : (
          messages.length > 0 && <div className="ib-thread-start">Start of the conversation</div>
        )}
        {items.map((it) =>
          it.type === 'day' ? (
            <div key={it.key} className="ib-day" role="separator">
              <span>{it.label}</span>
            </div>
          ) : it.type === 'system' ? (
            <div key={it.key} className="ib-system">
              <span>{it.msg.body}</span>
              <time dateTime={it.msg.createdAt} title={fullTime(it.msg.createdAt)}>
                {clockTime(it.msg.createdAt, now)}
              </time>
            </div>
          ) : (
            <Group
              key={it.key}
              senderType={it.senderType}
              name={it.name}
              msgs={it.msgs}
              visitorName={visitorName}
              visitorSeed={visitorSeed}
              visitorAnonymous={visitorAnonymous}
              assistantName={assistantName}
              myName={myName}
              now={now}
            />
          ),
        )}
        {drafts.map((d) => (
          <div key={d.id} className="ib-group us bot draft" aria-busy="true">
            <Avatar kind="bot" name={assistantName} size={28} />
            <div className="ib-group-body">
              <div className="ib-group-head">
                <span className="ib-sender">{assistantName}</span>
                <span className="ib-writing">writing…</span>
              </div>
              <div className="ib-msg">
                <div className="ib-bubble" title={d.partial ? 'You joined while the assistant was writing: the beginning shows when the reply is complete.' : undefined}>
                  {d.partial && '… '}
                  {d.body}
                  <span className="ib-cursor" aria-hidden />
                </div>
              </div>
            </div>
          </div>
        ))}
        {answering && (
          <div className="ib-group us bot draft" aria-label={`${assistantName} is answering`}>
            <Avatar kind="bot" name={assistantName} size={28} />
            <div className="ib-group-body">
              <div className="ib-msg">
                <div className="ib-bubble ib-dots" aria-hidden>
                  <span />
                  <span />
                  <span />
                </div>
              </div>
            </div>
          </div>
        )}
        {pending.length > 0 && (
          <div className="ib-group us agent">
            <Avatar name={myName} size={28} />
            <div className="ib-group-body">
              <div className="ib-group-head">
                <span className="ib-sender">{myName} (you)</span>
              </div>
              {pending.map((p) => (
                <Fragment key={p.clientMessageID}>
                  <div className={`ib-msg pending ${p.state}`}>
                    <div className="ib-bubble">{p.body}</div>
                  </div>
                  <div className={`ib-pending-state ${p.state}`} role={p.state === 'failed' ? 'alert' : undefined}>
                    {p.state === 'sending' ? (
                      <>
                        <Spinner label="Sending" /> Sending…
                      </>
                    ) : (
                      <>
                        <Icon name="alert" size={13} />
                        <span title={p.error}>
                          Not sent
                          {p.error && <span className="sr-only">: {p.error}</span>} —
                        </span>
                        <button type="button" className="ib-linkbtn" onClick={() => onRetry(p.clientMessageID)}>
                          Retry
                        </button>
                      </>
                    )}
                  </div>
                </Fragment>
              ))}
            </div>
          </div>
        )}
      </div>
      {typing && (
        <div className="ib-typing" role="status">
          <span className="ib-dots small" aria-hidden>
            <span />
            <span />
            <span />
          </span>
          {typing}
        </div>
      )}
      {unseen && (
        <button type="button" className="ib-jump" onClick={toBottom}>
          <Icon name="down" size={14} /> New messages
        </button>
      )}
    </div>
  )
}
