// GraphiQL, served by the binary itself (no CDN): queries and mutations over
// HTTP, subscriptions over graphql-ws with the token in connection_init.
// The token is the dashboard's session when you are signed in there (same
// origin), or the Authorization header you set in the Headers tab.
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { GraphiQL } from 'graphiql'
import type { Fetcher } from '@graphiql/toolkit'
import { createClient, type Client } from 'graphql-ws'
import { parse, type OperationDefinitionNode } from 'graphql'
import 'graphiql/style.css'
import { freshToken, GRAPHQL_PATH } from '../lib/client'

const DEFAULT_QUERY = `# Concierge's GraphQL API. Signed in to the dashboard in this browser?
# Requests carry that session. Otherwise log in and put the token in the
# Headers tab: {"Authorization": "Bearer <token>"}
#
# mutation { login(email: "admin@acme.example", password: "...") { token } }

query WhoAmI {
  me {
    kind
    user { fullName email role }
    superAdmin { username }
    company { name widgetKey subscriptionPlan }
  }
}
`

async function authorization(headers: Record<string, unknown> | undefined): Promise<string | undefined> {
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (k.toLowerCase() === 'authorization' && typeof v === 'string' && v.trim()) return v
  }
  const t = await freshToken()
  return t ? `Bearer ${t}` : undefined
}

function isSubscription(query: string, operationName?: string | null): boolean {
  try {
    const ops = parse(query).definitions.filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition')
    const op = operationName ? ops.find((o) => o.name?.value === operationName) : ops[0]
    return op?.operation === 'subscription'
  } catch {
    return false
  }
}

const sockets = new Map<string, Client>()

function socket(auth: string | undefined): Client {
  const key = auth ?? ''
  let c = sockets.get(key)
  if (!c) {
    const { protocol, host } = window.location
    c = createClient({
      url: `${protocol === 'https:' ? 'wss:' : 'ws:'}//${host}${GRAPHQL_PATH}`,
      connectionParams: auth ? { authorization: auth } : {},
      lazy: true,
    })
    sockets.set(key, c)
  }
  return c
}

const fetcher: Fetcher = async (params, opts) => {
  const auth = await authorization(opts?.headers)
  if (isSubscription(params.query, params.operationName)) {
    return socket(auth).iterate({
      query: params.query,
      variables: params.variables ?? undefined,
      operationName: params.operationName ?? undefined,
    })
  }
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/graphql-response+json, application/json' }
  for (const [k, v] of Object.entries(opts?.headers ?? {})) if (typeof v === 'string') headers[k] = v
  if (auth) headers.Authorization = auth
  const res = await fetch(GRAPHQL_PATH, { method: 'POST', headers, body: JSON.stringify(params) })
  return res.json()
}

createRoot(document.getElementById('graphiql')!).render(
  <StrictMode>
    <div style={{ height: '100vh' }}>
      <GraphiQL fetcher={fetcher} defaultQuery={DEFAULT_QUERY} defaultEditorToolsVisibility="headers" />
    </div>
  </StrictMode>,
)
