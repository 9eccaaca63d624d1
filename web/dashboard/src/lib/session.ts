// The signed-in session: an access token (short-lived, sent with every
// request), the refresh token that renews it (single use: the server
// rotates it at every refresh and ends the session when a spent one is
// used again) and who signed in. It is kept in localStorage so a reload or a
// second tab stays signed in; tabs renew under one Web Lock, so two tabs
// never spend the same refresh token.

export type SessionKind = 'USER' | 'SUPER_ADMIN'

export interface Session {
  token: string
  refreshToken: string
  /** Access token expiry, ms since the epoch. */
  expiresAt: number
  kind: SessionKind
}

const KEY = 'concierge.session'
/** Renew this long before the access token expires. */
export const RENEW_MARGIN_MS = 60_000

type Listener = (s: Session | null, reason?: string) => void
const listeners = new Set<Listener>()

let current: Session | null = read()

function read(): Session | null {
  try {
    const raw = globalThis.localStorage?.getItem(KEY)
    if (!raw) return null
    const s = JSON.parse(raw) as Session
    if (typeof s.token !== 'string' || typeof s.refreshToken !== 'string') return null
    return s
  } catch {
    return null
  }
}

function emit(reason?: string) {
  for (const l of listeners) l(current, reason)
}

export function getSession(): Session | null {
  return current
}

export function setSession(s: Session | null, reason?: string) {
  current = s
  try {
    if (s) localStorage.setItem(KEY, JSON.stringify(s))
    else localStorage.removeItem(KEY)
  } catch {
    // private mode without storage: the session lives in this tab only
  }
  emit(reason)
}

export function onSessionChange(l: Listener): () => void {
  listeners.add(l)
  return () => listeners.delete(l)
}

// Another tab signed in, renewed or signed out.
globalThis.addEventListener?.('storage', (e: StorageEvent) => {
  if (e.key !== KEY) return
  current = read()
  emit(current ? undefined : 'signed-out-elsewhere')
})

export function needsRenewal(s: Session, now = Date.now()): boolean {
  return s.expiresAt - now < RENEW_MARGIN_MS
}

/** What the refresh call returns (the refreshToken mutation's payload). */
export interface Renewed {
  token: string
  refreshToken: string
  expiresAt: string
}

export class SessionEnded extends Error {
  constructor(public reason: string) {
    super(reason)
  }
}

let inflight: Promise<Session> | null = null

/**
 * Renews the access token with the refresh token, once at a time across
 * tabs. A tab that waited for another's renewal takes its result instead of
 * spending the (now spent) refresh token again. Throws SessionEnded when the
 * server refuses the refresh token: the user must sign in again.
 */
export function renew(call: (refreshToken: string) => Promise<Renewed>): Promise<Session> {
  if (inflight) return inflight
  const before = current
  const run = async (): Promise<Session> => {
    // Another tab may have renewed while this one waited for the lock.
    const latest = read() ?? current
    if (!latest) throw new SessionEnded('signed-out')
    if (before && latest.refreshToken !== before.refreshToken && !needsRenewal(latest)) {
      current = latest
      return latest
    }
    let r: Renewed
    try {
      r = await call(latest.refreshToken)
    } catch (e) {
      if (e instanceof SessionEnded) {
        setSession(null, e.reason)
      }
      throw e
    }
    const next: Session = { ...latest, token: r.token, refreshToken: r.refreshToken, expiresAt: Date.parse(r.expiresAt) }
    setSession(next)
    return next
  }
  const locks = globalThis.navigator?.locks
  inflight = (locks ? locks.request('concierge.session.renew', run) : run()).finally(() => {
    inflight = null
  })
  return inflight
}
