// Subscriptions for pages: every event reaches the callback (none is lost
// to React batching, which a "latest data" hook would do with a fast
// stream), and pages can tell when the socket came back after a break, to
// fetch again what they may have missed.
import { useEffect, useRef, useState } from 'react'
import { useClient } from 'urql'
import type { TypedDocumentNode } from '@graphql-typed-document-node/core'
import type { AnyVariables, CombinedError } from '@urql/core'
import { onConnectionChange } from './client'

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
    const { unsubscribe } = client.subscription(doc, JSON.parse(key) as V).subscribe((r) => {
      if (r.data) cb.current(r.data)
      if (r.error) setError(r.error)
    })
    return unsubscribe
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
