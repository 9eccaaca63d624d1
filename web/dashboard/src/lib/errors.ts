// One place that turns what the API answers into what a person reads: every
// GraphQL error code gets a clear sentence, field errors (extensions.field)
// are kept apart so a form shows them next to their input, and
// RATE_LIMITED says when to try again.
import type { CombinedError } from '@urql/core'

export type ErrorCode =
  | 'BAD_REQUEST'
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_SERVER_ERROR'
  | 'NETWORK'
  | 'CLIENT_OUTDATED'
  | 'UNKNOWN'

export interface Problem {
  code: ErrorCode
  /** A sentence for a banner or a toast. */
  message: string
  /** Messages per input field (GraphQL argument or input field name). */
  fields: Record<string, string>
  /** Seconds until a rate-limited action may be tried again. */
  retryAfterSeconds?: number
}

interface GraphQLErrorLike {
  message: string
  extensions?: Record<string, unknown>
}

/** The shape both urql's CombinedError and a raw GraphQL response have in common. */
export interface ErrorLike {
  graphQLErrors?: readonly GraphQLErrorLike[]
  networkError?: Error | null
  response?: { status?: number } | unknown
}

const KNOWN = new Set<string>([
  'BAD_REQUEST',
  'BAD_USER_INPUT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'RATE_LIMITED',
  'SERVICE_UNAVAILABLE',
  'INTERNAL_SERVER_ERROR',
])

const VALIDATION = new Set(['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED'])

function sentence(s: string): string {
  const t = s.trim()
  if (!t) return t
  const first = t[0].toUpperCase() + t.slice(1)
  return /[.!?]$/.test(first) ? first : first + '.'
}

export function retryText(seconds: number): string {
  if (seconds <= 1) return 'Try again in a second.'
  if (seconds < 90) return `Try again in ${Math.ceil(seconds)} seconds.`
  return `Try again in ${Math.ceil(seconds / 60)} minutes.`
}

/** Describes the first error of a failed operation. */
export function describeError(err: ErrorLike | CombinedError | null | undefined): Problem {
  if (!err) return { code: 'UNKNOWN', message: 'Something went wrong.', fields: {} }
  const gql = (err.graphQLErrors ?? []) as readonly GraphQLErrorLike[]
  if (gql.length === 0) {
    if (err.networkError) {
      return {
        code: 'NETWORK',
        message: 'Cannot reach the server. Check your connection; it will be tried again.',
        fields: {},
      }
    }
    return { code: 'UNKNOWN', message: 'Something went wrong.', fields: {} }
  }
  const fields: Record<string, string> = {}
  for (const e of gql) {
    const f = e.extensions?.field
    if (typeof f === 'string' && f && !fields[f]) fields[f] = sentence(e.message)
  }
  const first = gql[0]
  const raw = typeof first.extensions?.code === 'string' ? (first.extensions.code as string) : ''
  const serverText = sentence(first.message ?? '')
  if (VALIDATION.has(raw)) {
    return {
      code: 'CLIENT_OUTDATED',
      message: 'This page is older than the server. Reload the page to get the current version.',
      fields,
    }
  }
  const code = (KNOWN.has(raw) ? raw : 'UNKNOWN') as ErrorCode
  switch (code) {
    case 'BAD_USER_INPUT':
      return { code, message: serverText || 'Some of the values are not valid.', fields }
    case 'BAD_REQUEST':
      // The page sent something the server could not read: a bug or an
      // old page, not the person's input.
      return { code, message: 'The server could not read this request. Reload the page and try again.', fields }
    case 'UNAUTHENTICATED':
      return { code, message: serverText || 'Your session has ended. Sign in again.', fields }
    case 'FORBIDDEN':
      return {
        code,
        message: serverText && serverText !== 'Not allowed.' ? serverText : "You don't have permission to do this.",
        fields,
      }
    case 'NOT_FOUND':
      return { code, message: `${serverText.replace(/\.$/, '')} — it may have been deleted.`, fields }
    case 'CONFLICT':
      return { code, message: serverText || 'This conflicts with something that already exists.', fields }
    case 'RATE_LIMITED': {
      const s = Number(first.extensions?.retryAfterSeconds)
      const retryAfterSeconds = Number.isFinite(s) && s > 0 ? s : undefined
      return {
        code,
        message: `Too many requests. ${retryText(retryAfterSeconds ?? 5)}`,
        fields,
        retryAfterSeconds,
      }
    }
    case 'SERVICE_UNAVAILABLE':
      return { code, message: 'The service is busy for a moment. Trying again…', fields }
    case 'INTERNAL_SERVER_ERROR':
      return {
        code,
        message: 'Something went wrong on our side. Try again; if it keeps happening, tell your platform administrator.',
        fields,
      }
    default:
      return { code, message: serverText || 'Something went wrong.', fields }
  }
}
