// Small hooks and helpers shared by the knowledge list and All resources.
import { useEffect, useState } from 'react'
import type { ResourceWhereInput } from '../../gql/graphql'
import type { ListFilter } from './knowledgeLogic'

/** value, once it has stopped changing for ms (a search box's query). */
export function useDebounced<T>(value: T, ms = 250): T {
  const [v, setV] = useState(value)
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms)
    return () => clearTimeout(t)
  }, [value, ms])
  return v
}

/** The time, renewed every everyMs ("5 min ago" stays true). */
export function useNow(everyMs = 30_000): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs)
    return () => clearInterval(t)
  }, [everyMs])
  return now
}

/** The list filter as the API's ResourceWhereInput (undefined: no filter). */
export function whereOf(f: ListFilter): ResourceWhereInput | undefined {
  const w: ResourceWhereInput = {}
  if (f.type) w.type = f.type
  if (f.status) w.status = f.status
  if (f.search?.trim()) w.titleContainsFold = f.search.trim()
  return Object.keys(w).length ? w : undefined
}
