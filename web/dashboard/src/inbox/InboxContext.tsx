// Placeholder: the live inbox state shared by the layout (counts, title and
// sound notifications) and the inbox page.
import type { ReactNode } from 'react'

export function InboxProvider({ children }: { children: ReactNode }) {
  return <>{children}</>
}

export function useInboxSummary(): { waiting: number; unread: number } {
  return { waiting: 0, unread: 0 }
}
