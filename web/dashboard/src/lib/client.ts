// The GraphQL client: urql over HTTP for queries and mutations, graphql-ws
// over one WebSocket for subscriptions. Both send the session's access
// token, renewing it shortly before it expires (and once more when the
// server says UNAUTHENTICATED); a refresh token the server refuses ends the
// session. SERVICE_UNAVAILABLE answers are retried with a growing pause.
import { Client, cacheExchange, fetchExchange, subscriptionExchange, type Operation } from '@urql/core'
import { authExchange } from '@urql/exchange-auth'
import { retryExchange } from './retry'
import { createClient as createWSClient, type Client as WSClient } from 'graphql-ws'
import { getSession, needsRenewal, renew, SessionEnded, type Renewed } from './session'
import { describeError } from './errors'

export const GRAPHQL_PATH = '/graphql'

const REFRESH = `mutation Refresh($token: String!) { refreshToken(token: $token) { token refreshToken expiresAt } }`

// The last reason the server gave for refusing the access token ("this
// account is deactivated"): when the refresh is then refused too, that is
// why the session ended, and what the login page says.
let lastRefusal: string | null = null

function endedBecause(reason: string): string {
  if (lastRefusal && /deactivated|removed|deleted/i.test(lastRefusal)) return lastRefusal
  return reason
}

/** Calls refreshToken with plain fetch (it must not carry the old token). */
async function callRefresh(refreshToken: string): Promise<Renewed> {
  let res: Response
  try {
    res = await fetch(GRAPHQL_PATH, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/graphql-response+json, application/json' },
      body: JSON.stringify({ query: REFRESH, variables: { token: refreshToken } }),
    })
  } catch {
    throw new Error('the server cannot be reached')
  }
  let body: { data?: { refreshToken?: Renewed }; errors?: { message: string; extensions?: { code?: string } }[] }
  try {
    body = await res.json()
  } catch {
    throw new Error(`the server answered ${res.status}`)
  }
  const data = body.data?.refreshToken
  if (data) return data
  const err = body.errors?.[0]
  const code = err?.extensions?.code
  if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN') {
    throw new SessionEnded(endedBecause(code === 'FORBIDDEN' ? err!.message : 'expired'))
  }
  throw new Error(err?.message ?? `the server answered ${res.status}`)
}

/** Renews now (the server refused the token); ends the session if the refresh is refused too. */
async function renewOrEnd(): Promise<void> {
  try {
    await renew(callRefresh) // a refused refresh ends the session (renew)
  } catch {
    // offline for a moment: what failed may be tried again
  }
}

/** A valid access token, renewed first when it is about to expire. */
export async function freshToken(): Promise<string | null> {
  const s = getSession()
  if (!s) return null
  if (!needsRenewal(s)) return s.token
  try {
    return (await renew(callRefresh)).token
  } catch (e) {
    if (e instanceof SessionEnded) return null
    return getSession()?.token ?? null // offline for a moment: try with what we have
  }
}

function wsURL(): string {
  const { protocol, host } = window.location
  return `${protocol === 'https:' ? 'wss:' : 'ws:'}//${host}${GRAPHQL_PATH}`
}

type ConnectionListener = (state: 'connected' | 'reconnected' | 'closed') => void
const connectionListeners = new Set<ConnectionListener>()

/** Follows the subscription socket: 'reconnected' means events may have been missed meanwhile. */
export function onConnectionChange(l: ConnectionListener): () => void {
  connectionListeners.add(l)
  return () => connectionListeners.delete(l)
}

/** Tells pages that live updates may have been missed (a stream started again). */
export function announceReconnect() {
  for (const l of connectionListeners) l('reconnected')
}

let ws: WSClient | null = null

function makeWS(): WSClient {
  let connectedOnce = false
  const c = createWSClient({
    url: wsURL(),
    lazy: true,
    lazyCloseTimeout: 3000,
    keepAlive: 15_000,
    retryAttempts: Infinity,
    shouldRetry: () => getSession() !== null,
    retryWait: async (retries) => {
      // 0.5 s, 1 s, 2 s ... up to 15 s, with jitter.
      const ms = Math.min(15_000, 500 * 2 ** retries) * (0.75 + Math.random() / 2)
      await new Promise((r) => setTimeout(r, ms))
    },
    connectionParams: async () => {
      const token = await freshToken()
      return token ? { authorization: `Bearer ${token}` } : {}
    },
    on: {
      connected: () => {
        const state = connectedOnce ? 'reconnected' : 'connected'
        connectedOnce = true
        for (const l of connectionListeners) l(state)
      },
      closed: (event) => {
        for (const l of connectionListeners) l('closed')
        // 4403: the server refused the credential (expired, deactivated,
        // the company deleted). Renew it, or end the session when the
        // refresh is refused as well; the socket then reconnects with the
        // new token.
        const ce = event as { code?: number; reason?: string } | undefined
        if (ce?.code === 4403 && getSession()) {
          if (ce.reason) lastRefusal = ce.reason
          void renewOrEnd()
        }
      },
    },
  })
  return c
}

function wsClient(): WSClient {
  ws ??= makeWS()
  return ws
}

/** Drops the subscription socket (sign-out): the next subscription opens a new one with the new token. */
export function resetSubscriptions() {
  ws?.dispose()
  ws = null
}

function isAuthOperation(op: Operation): boolean {
  const def = op.query.definitions.find((d) => d.kind === 'OperationDefinition')
  const name = def && 'name' in def ? def.name?.value : undefined
  return name === 'Login' || name === 'SuperAdminLogin' || name === 'RegisterCompany' || name === 'Refresh'
}

export function makeClient(): Client {
  return new Client({
    url: GRAPHQL_PATH,
    requestPolicy: 'cache-and-network',
    preferGetMethod: false,
    fetchOptions: { headers: { Accept: 'application/graphql-response+json, application/json' } },
    exchanges: [
      cacheExchange,
      retryExchange,
      authExchange(async (utils) => ({
        addAuthToOperation(op) {
          const s = getSession()
          if (!s || isAuthOperation(op)) return op
          return utils.appendHeaders(op, { Authorization: `Bearer ${s.token}` })
        },
        willAuthError(op) {
          const s = getSession()
          return !!s && !isAuthOperation(op) && needsRenewal(s)
        },
        didAuthError(error, op) {
          const p = describeError(error)
          if (!getSession() || isAuthOperation(op) || p.code !== 'UNAUTHENTICATED') return false
          lastRefusal = error.graphQLErrors[0]?.message ?? null
          return true
        },
        refreshAuth: renewOrEnd,
      })),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' }
          return {
            subscribe(sink) {
              const dispose = wsClient().subscribe(input, sink)
              return { unsubscribe: dispose }
            },
          }
        },
      }),
    ],
  })
}
