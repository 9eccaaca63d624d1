// The right pane: who the visitor is and what happened to the conversation.
import type { ReactNode } from 'react'
import { CopyButton } from '../ui'
import { Icon } from '../ui/icons'
import { Avatar, StatusBadge, languageName } from './bits'
import { useInbox } from './InboxContext'
import { visitorLabel, type Conv } from './reducer'
import { fullTime } from './time'

function Item({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="ib-dl-item">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  )
}

const none = <span className="muted">—</span>

export function DetailsPane({ conv, onClose }: { conv: Conv | undefined; onClose: () => void }) {
  const { me } = useInbox()
  if (!conv) return <aside className="ib-details" aria-label="Visitor details" />
  const v = conv.visitor
  const name = visitorLabel(conv)
  const assignee = conv.assigneeID ? (conv.assigneeID === me ? 'You' : (conv.assignee?.fullName ?? '…')) : null
  return (
    <aside className="ib-details" aria-label="Visitor details">
      <div className="ib-details-head">
        <h2 className="sr-only">Visitor details</h2>
        <button type="button" className="close-x ib-details-close" aria-label="Close the details" onClick={onClose}>
          ×
        </button>
        <Avatar name={name} seed={conv.visitorID} size={52} anonymous={!v?.name?.trim()} />
        <div className="ib-details-name">{name}</div>
        {v?.email ? (
          <a className="ib-details-email" href={`mailto:${v.email}`}>
            {v.email}
          </a>
        ) : (
          <div className="muted small">No email given</div>
        )}
      </div>
      <section className="ib-details-section">
        <h3>Visitor</h3>
        <dl className="ib-dl">
          {!v?.name && <Item label="Name">{none}</Item>}
          <Item label="External ID">{v?.externalID ? <span className="mono ib-break">{v.externalID}</span> : <span className="muted">Not identified</span>}</Item>
          <Item label="First seen">{v?.firstSeenAt ? fullTime(v.firstSeenAt) : none}</Item>
          <Item label="Last seen">{v?.lastSeenAt ? fullTime(v.lastSeenAt) : none}</Item>
          <Item label="Language">{conv.language ? languageName(conv.language) : <span className="muted">Not detected yet</span>}</Item>
        </dl>
      </section>
      <section className="ib-details-section">
        <h3>Conversation</h3>
        <dl className="ib-dl">
          <Item label="Status">
            <StatusBadge status={conv.status} />
          </Item>
          <Item label="Assignee">{assignee ?? <span className="muted">Nobody</span>}</Item>
          <Item label="Started">{fullTime(conv.createdAt)}</Item>
          <Item label="Human requested">{conv.humanRequestedAt ? fullTime(conv.humanRequestedAt) : <span className="muted">Never</span>}</Item>
          <Item label="Last message">{fullTime(conv.lastMessageAt)}</Item>
          {conv.closedAt && <Item label="Closed">{fullTime(conv.closedAt)}</Item>}
          <Item label="Rating">
            {conv.rating ? (
              <span className="ib-rating" aria-label={`${conv.rating} out of 5`}>
                {[1, 2, 3, 4, 5].map((i) => (
                  <Icon key={i} name="star" size={15} className={i <= conv.rating! ? 'on' : ''} />
                ))}
                <span className="small muted">{conv.rating}/5</span>
              </span>
            ) : (
              <span className="muted">Not rated</span>
            )}
          </Item>
        </dl>
        {conv.ratingComment && <blockquote className="ib-rating-comment">{conv.ratingComment}</blockquote>}
      </section>
      <section className="ib-details-section">
        <h3>Conversation ID</h3>
        <div className="ib-ref-id">
          <span className="mono ib-break">{conv.id}</span>
          <CopyButton text={conv.id} label="Copy ID" size="small" />
        </div>
      </section>
    </aside>
  )
}
