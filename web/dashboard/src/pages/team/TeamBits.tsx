// Pieces of a team list shared by the team page and the super admin's
// agents pages: avatar initials, the presence dot, role and status badges,
// and a button that is off for a reason the user can read.
import { useId, type ReactNode } from 'react'
import type { Role } from '../../gql/graphql'
import { Badge, Button } from '../../ui'
import { initials, presenceText, ROLE_LABEL } from './teamLogic'
import './team.css'

const HUES = [243, 200, 162, 28, 330, 280, 12, 190]

function hue(name: string): number {
  let h = 0
  for (const c of name) h = (h * 31 + c.codePointAt(0)!) >>> 0
  return HUES[h % HUES.length]!
}

export function Avatar({ name, size = 32 }: { name: string; size?: number }) {
  const h = hue(name)
  return (
    <span
      className="tm-avatar"
      aria-hidden
      style={{ width: size, height: size, fontSize: size * 0.38, background: `hsl(${h} 70% 94%)`, color: `hsl(${h} 55% 32%)` }}
    >
      {initials(name)}
    </span>
  )
}

export function Presence({
  member,
  now,
}: {
  member: { online: boolean; isActive: boolean; lastSeenAt?: string | null }
  now?: number
}) {
  // A deactivated member is never online; say when they were last seen.
  const on = member.online && member.isActive
  const text = presenceText({ ...member, online: on, isActive: true }, now)
  return (
    <span className={`tm-presence ${on ? 'on' : ''}`}>
      <span className={`dot ${on ? 'on' : ''}`} aria-hidden />
      <span>{text}</span>
    </span>
  )
}

/** A member's status in one cell: online / last seen, or deactivated. */
export function MemberStatus({
  member,
  now,
}: {
  member: { online: boolean; isActive: boolean; lastSeenAt?: string | null }
  now?: number
}) {
  if (!member.isActive) {
    return (
      <span className="tm-presence">
        <Badge kind="danger">Deactivated</Badge>
      </span>
    )
  }
  return <Presence member={member} now={now} />
}

export function RoleBadge({ role }: { role: Role }) {
  return <Badge kind={role === 'COMPANY_ADMIN' ? 'primary' : undefined}>{ROLE_LABEL[role]}</Badge>
}

export function StatusBadge({ active }: { active: boolean }) {
  return active ? <Badge kind="ok">Active</Badge> : <Badge kind="danger">Deactivated</Badge>
}

/**
 * A button that may be off for a reason: then it stays focusable, does
 * nothing, and shows the reason on hover and focus (and to screen readers).
 */
export function GuardedButton({
  reason,
  onClick,
  children,
  variant = 'ghost',
  label,
}: {
  reason: string | null
  onClick: () => void
  children: ReactNode
  variant?: 'ghost' | 'secondary' | 'danger-soft'
  label?: string
}) {
  const id = useId()
  if (!reason) {
    return (
      <Button size="small" variant={variant} onClick={onClick} aria-label={label}>
        {children}
      </Button>
    )
  }
  return (
    <span className="tm-tip" data-tip={reason}>
      <Button size="small" variant={variant} aria-disabled="true" aria-label={label} aria-describedby={id} className="tm-off" onClick={() => {}}>
        {children}
      </Button>
      <span id={id} className="sr-only">
        {reason}
      </span>
    </span>
  )
}
