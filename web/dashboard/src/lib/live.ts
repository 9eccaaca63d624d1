// Subscriptions for pages: every event reaches the callback (none is lost
// to React batching, which a "latest data" hook would do with a fast
// stream), and pages can tell when the socket came back after a break, to
// fetch again what they may have missed.
import { useEffect, useRef, useState } from 'react'
import { useClient } from 'urql'
import { onEnd, pipe, subscribe } from 'wonka'
import type { TypedDocumentNode } from '@graphql-typed-document-node/core'
import type { AnyVariables, CombinedError } from '@urql/core'
import { announceReconnect, onConnectionChange } from './client'

export function useLive<D, V extends AnyVariables>(
  doc: TypedDocumentNode<D, V>,
  variables: V,
  onData: (data: D) => void,
  opts: { pause?: boolean } = {},
): { error: CombinedError | null } {
  const client = useClient()
  const cb = useRef(onData)
  cb.current = onData
  const [error, setError] = useState<CombinedError | null>(null)
  const key = JSON.stringify(variables ?? {})
  useEffect(() => {
    if (opts.pause) return
    setError(null)
    const vars = JSON.parse(key) as V
    let stopped = false
    let attempt = 0
    let timer: ReturnType<typeof setTimeout> | undefined
    let unsubscribe = () => {}
    // A stream the server ends on its own (it should not: a restarting
    // server asks clients to reconnect) is started again after a pause,
    // and pages are told to fetch what they may have missed. One that
    // ended with an error (FORBIDDEN, a bad argument) is not.
    const start = () => {
      let failed = false
      const sub = pipe(
        client.subscription(doc, vars),
        onEnd(() => {
          if (stopped || failed) return
          const wait = Math.min(30_000, 1000 * 2 ** attempt++)
          timer = setTimeout(() => {
            if (stopped) return
            announceReconnect()
            start()
          }, wait)
        }),
        subscribe((r) => {
          if (r.data) {
            attempt = 0
            cb.current(r.data)
          }
          if (r.error) {
            failed = r.error.graphQLErrors.length > 0
            setError(r.error)
          }
        }),
      )
      unsubscribe = sub.unsubscribe
    }
    start()
    return () => {
      stopped = true
      clearTimeout(timer)
      unsubscribe()
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, doc, key, opts.pause])
  return { error }
}

/** Calls cb when the subscription socket reconnects after a break. */
export function useOnReconnect(cb: () => void) {
  const ref = useRef(cb)
  ref.current = cb
  useEffect(() => onConnectionChange((s) => s === 'reconnected' && ref.current()), [])
}

/** Whether the subscription socket is down (after it was up once). */
export function useConnectionLost(): boolean {
  const [lost, setLost] = useState(false)
  useEffect(
    () =>
      onConnectionChange((s) => {
        setLost(s === 'closed')
      }),
    [],
  )
  return lost
}
