// Forward-and-back paging over a Relay connection: the cursors of the pages
// seen so far are kept, so Previous goes back without a `before` query.
import { useEffect, useState } from 'react'
import { Button } from '../../ui'
import { pageSpan } from './adminLogic'

export function useCursorPages(resetKey: string) {
  const [state, setState] = useState<{ key: string; cursors: (string | null)[] }>({ key: resetKey, cursors: [null] })
  // A new search or filter (another key) starts again at the first page.
  const cursors = state.key === resetKey ? state.cursors : [null]
  return {
    after: cursors[cursors.length - 1] ?? null,
    page: cursors.length,
    next: (endCursor: string | null | undefined) => {
      if (endCursor) setState({ key: resetKey, cursors: [...cursors, endCursor] })
    },
    prev: () => setState({ key: resetKey, cursors: cursors.length > 1 ? cursors.slice(0, -1) : cursors }),
  }
}

export function Pager({
  page,
  size,
  shown,
  total,
  hasNext,
  onPrev,
  onNext,
  noun,
}: {
  page: number
  size: number
  shown: number
  total: number
  hasNext: boolean
  onPrev: () => void
  onNext: () => void
  noun: string
}) {
  if (total <= size && page === 1) {
    return (
      <div className="co-pager">
        <span className="muted small">
          {total} {noun}
        </span>
      </div>
    )
  }
  return (
    <nav className="co-pager" aria-label="Pages">
      <span className="muted small" aria-live="polite">
        {pageSpan(page, size, shown, total)}
      </span>
      <div className="row">
        <Button size="small" onClick={onPrev} disabled={page <= 1}>
          Previous
        </Button>
        <Button size="small" onClick={onNext} disabled={!hasNext}>
          Next
        </Button>
      </div>
    </nav>
  )
}

/** value, once it has not changed for ms (for search boxes). */
export function useDebounced<T>(value: T, ms = 250): T {
  const [v, setV] = useState(value)
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms)
    return () => clearTimeout(t)
  }, [value, ms])
  return v
}
