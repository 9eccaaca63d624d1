// Who is signed in, for the whole app: the session's tokens (lib/session)
// and the viewer the server says they are (the `me` query). Signing in or
// out starts a new GraphQL client, so nothing of one person's cache is
// shown to the next.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react'
import { Provider, useQuery, type Client } from 'urql'
import { graphql } from '../gql'
import type { MeQuery } from '../gql/graphql'
import { makeClient, resetSubscriptions } from './client'
import { Loading } from '../ui'
import { getSession, onSessionChange, setSession, type SessionKind } from './session'

export const MeDocument = graphql(`
  query Me {
    me {
      kind
      user {
        id
        fullName
        email
        role
      }
      superAdmin {
        id
        username
        fullName
      }
      company {
        id
        name
        slug
        logoURL
        subscriptionPlan
        isActive
        widgetKey
      }
    }
  }
`)

export type Viewer = MeQuery['me']

export interface SignInPayload {
  token: string
  refreshToken: string
  expiresAt: string
}

interface AuthState {
  /** Signed in (a session exists; the viewer may still be loading). */
  signedIn: boolean
  viewer: Viewer | null
  /** Why the last session ended, when it was not the user's choice. */
  endedReason: string | null
  signIn: (p: SignInPayload, kind: SessionKind) => void
  signOut: (reason?: string) => Promise<void>
  refreshViewer: () => void
}

const Ctx = createContext<AuthState | null>(null)

const LOGOUT = `mutation Logout { logout }`

function reasonText(reason: string | undefined): string | null {
  if (!reason || reason === 'user') return null
  if (reason === 'expired') return 'Your session has expired. Sign in again.'
  if (reason === 'signed-out-elsewhere') return 'You signed out in another tab.'
  if (/deactivated/i.test(reason)) {
    return reason.charAt(0).toUpperCase() + reason.slice(1).replace(/\.?$/, '.') + ' Ask your administrator if this is a mistake.'
  }
  return reason
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [client, setClient] = useState<Client>(() => makeClient())
  const [signedIn, setSignedIn] = useState(() => getSession() !== null)
  const [endedReason, setEndedReason] = useState<string | null>(null)

  useEffect(
    () =>
      onSessionChange((s, reason) => {
        const now = s !== null
        setSignedIn((was) => {
          if (was !== now) {
            // A new person (or nobody): a fresh cache and socket.
            resetSubscriptions()
            setClient(makeClient())
          }
          return now
        })
        if (!now) setEndedReason(reasonText(reason))
      }),
    [],
  )

  const signIn = useCallback((p: SignInPayload, kind: SessionKind) => {
    setEndedReason(null)
    setSession({ token: p.token, refreshToken: p.refreshToken, expiresAt: Date.parse(p.expiresAt), kind })
  }, [])

  const signOut = useCallback(async (reason?: string) => {
    const s = getSession()
    if (s && !reason) {
      // End the session on the server too; leave at once even if it fails.
      void fetch('/graphql', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${s.token}` },
        body: JSON.stringify({ query: LOGOUT }),
      }).catch(() => {})
    }
    setSession(null, reason ?? 'user')
  }, [])

  return (
    <Provider value={client}>
      <ViewerLoader signedIn={signedIn} endedReason={endedReason} signIn={signIn} signOut={signOut}>
        {children}
      </ViewerLoader>
    </Provider>
  )
}

function ViewerLoader({
  signedIn,
  endedReason,
  signIn,
  signOut,
  children,
}: Omit<AuthState, 'viewer' | 'refreshViewer'> & { children: ReactNode }) {
  const [{ data, error, fetching }, refetch] = useQuery({ query: MeDocument, pause: !signedIn, requestPolicy: 'network-only' })
  const viewer = signedIn && data?.me && data.me.kind !== 'ANONYMOUS' ? data.me : null
  const refreshViewer = useCallback(() => refetch({ requestPolicy: 'network-only' }), [refetch])
  const value = useMemo<AuthState>(
    () => ({ signedIn, viewer, endedReason, signIn, signOut, refreshViewer }),
    [signedIn, viewer, endedReason, signIn, signOut, refreshViewer],
  )
  // A session the server no longer knows (me is anonymous) is over.
  useEffect(() => {
    if (signedIn && !fetching && data?.me?.kind === 'ANONYMOUS') void signOut('expired')
  }, [signedIn, fetching, data, signOut])
  return (
    <Ctx.Provider value={value}>
      {signedIn && !viewer && !error ? (
        <div className="auth">
          <Loading>Signing in…</Loading>
        </div>
      ) : (
        children
      )}
    </Ctx.Provider>
  )
}

export function useAuth(): AuthState {
  const v = useContext(Ctx)
  if (!v) throw new Error('useAuth outside AuthProvider')
  return v
}

/** The signed-in viewer (inside the signed-in layout only). */
export function useViewer(): Viewer {
  const { viewer } = useAuth()
  if (!viewer) throw new Error('useViewer without a viewer')
  return viewer
}

export function isSuperAdmin(v: Viewer | null): boolean {
  return v?.kind === 'SUPER_ADMIN'
}

export function isCompanyAdmin(v: Viewer | null): boolean {
  return v?.user?.role === 'COMPANY_ADMIN'
}
