// Retries what the server says may simply be tried again: SERVICE_UNAVAILABLE
// (the database is away for a moment, a restart) and lost connections.
// Queries are retried on both; mutations only when the server answered
// SERVICE_UNAVAILABLE (a lost connection may have lost the answer, not the
// request). Rate limits are not retried here: the page says when to retry.
import { retryExchange as urqlRetry } from '@urql/exchange-retry'
import { describeError } from './errors'

export const retryExchange = urqlRetry({
  initialDelayMs: 500,
  maxDelayMs: 8000,
  randomDelay: true,
  maxNumberAttempts: 5,
  retryIf: (error, op) => {
    const { code } = describeError(error)
    if (code === 'SERVICE_UNAVAILABLE') return true
    return code === 'NETWORK' && op.kind === 'query'
  },
})
