// Small pieces of the inbox's screens: avatars, status badges, and a clock
// that ticks for relative times.
import { useEffect, useState } from 'react'
import { Badge } from '../ui'
import { Icon } from '../ui/icons'
import type { Status } from './reducer'

const PALETTE = ['#4f46e5', '#0891b2', '#059669', '#d97706', '#db2777', '#7c3aed', '#2563eb', '#dc2626']

function hue(seed: string): string {
  let h = 0
  for (let i = 0; i < seed.length; i++) h = (h * 31 + seed.charCodeAt(i)) | 0
  return PALETTE[Math.abs(h) % PALETTE.length]
}

export function initials(name: string): string {
  const letters = name
    .split(/\s+/)
    .filter((w) => /[\p{L}\p{N}]/u.test(w))
    .slice(0, 2)
    .map((w) => [...w.replace(/[^\p{L}\p{N}]/gu, '')][0]?.toUpperCase() ?? '')
    .join('')
  return letters || '?'
}

export function Avatar({
  name,
  seed,
  kind = 'person',
  size = 32,
  anonymous,
}: {
  name: string
  seed?: string
  kind?: 'person' | 'bot'
  size?: number
  /** A visitor without a name: a neutral silhouette rather than made-up initials. */
  anonymous?: boolean
}) {
  if (anonymous) {
    return (
      <span className="ib-avatar anon" style={{ width: size, height: size }} aria-hidden>
        <Icon name="user" size={Math.round(size * 0.55)} />
      </span>
    )
  }
  if (kind === 'bot') {
    return (
      <span className="ib-avatar bot" style={{ width: size, height: size }} aria-hidden>
        <Icon name="bot" size={Math.round(size * 0.58)} />
      </span>
    )
  }
  return (
    <span className="ib-avatar" style={{ width: size, height: size, background: hue(seed ?? name), fontSize: Math.round(size * 0.38) }} aria-hidden>
      {initials(name)}
    </span>
  )
}

export const STATUS_LABEL: Record<Status, string> = {
  BOT: 'Bot',
  WAITING_HUMAN: 'Waiting',
  HUMAN: 'With agent',
  CLOSED: 'Closed',
}

const STATUS_KIND: Record<Status, 'info' | 'warn' | 'ok' | undefined> = {
  BOT: 'info',
  WAITING_HUMAN: 'warn',
  HUMAN: 'ok',
  CLOSED: undefined,
}

const STATUS_TITLE: Record<Status, string> = {
  BOT: 'The assistant is answering',
  WAITING_HUMAN: 'Waiting for a human',
  HUMAN: 'An agent is handling it',
  CLOSED: 'Closed',
}

export function StatusBadge({ status }: { status: Status }) {
  return (
    <Badge kind={STATUS_KIND[status]} title={STATUS_TITLE[status]}>
      {STATUS_LABEL[status]}
    </Badge>
  )
}

/** The current time, ticking every `every` ms (for "5m ago" labels). */
export function useNow(every = 30_000): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), every)
    return () => clearInterval(t)
  }, [every])
  return now
}

export function languageName(code: string | null | undefined): string {
  if (!code) return ''
  try {
    const name = new Intl.DisplayNames(undefined, { type: 'language' }).of(code)
    return name && name !== code ? `${name} (${code})` : code
  } catch {
    return code
  }
}

/** A random id for clientMessageId (crypto.randomUUID is missing on plain-http origins). */
export function newClientId(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  const b = new Uint8Array(16)
  crypto.getRandomValues(b)
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}
