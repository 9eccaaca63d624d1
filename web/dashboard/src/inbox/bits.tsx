// Small pieces of the inbox's screens: avatars, status badges, a few icons
// the shared set lacks, and a clock that ticks for relative times.
import { useEffect, useState, type SVGProps } from 'react'
import { Badge } from '../ui'
import { Icon } from '../ui/icons'
import type { Status } from './reducer'

const paths = {
  back: 'M15 18l-6-6 6-6',
  bell: 'M18 8a6 6 0 1 0-12 0c0 7-3 9-3 9h18s-3-2-3-9M13.7 21a2 2 0 0 1-3.4 0',
  panel: 'M4 4h16v16H4zM15 4v16',
  external: 'M14 4h6v6M20 4l-9 9M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5',
  check: 'M5 12.5l4.5 4.5L19 7.5',
  alert: 'M12 9v4M12 17h.01M10.3 3.9 1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z',
  x: 'M6 6l12 12M18 6 6 18',
  down: 'M12 5v14M5 12l7 7 7-7',
  star: 'M12 3.5l2.6 5.3 5.9.9-4.3 4.1 1 5.8-5.2-2.7-5.2 2.7 1-5.8-4.3-4.1 5.9-.9z',
  user: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4.5 20a7.5 7.5 0 0 1 15 0',
  chat: 'M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z',
} as const

export type IbIconName = keyof typeof paths

export function IbIcon({ name, size = 18, ...rest }: { name: IbIconName; size?: number } & SVGProps<SVGSVGElement>) {
  return (
    <svg
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.8}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden
      focusable="false"
      {...rest}
    >
      <path d={paths[name]} />
    </svg>
  )
}

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
        <IbIcon name="user" size={Math.round(size * 0.55)} />
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
