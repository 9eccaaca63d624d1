// Messages as a conversation view shows them: consecutive messages of one
// sender within a few minutes form a group (one avatar, one name), system
// notes stand alone in the middle, and a day line separates days.
import type { Msg } from './thread'

export type ThreadItem =
  | { type: 'day'; key: string; label: string }
  | { type: 'system'; key: string; msg: Msg }
  | { type: 'group'; key: string; senderType: Msg['senderType']; name: string | null; msgs: Msg[] }

const GROUP_GAP = 5 * 60_000

function dayOf(iso: string): string {
  const d = new Date(iso)
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`
}

export function dayLabel(iso: string, now: number = Date.now()): string {
  const d = new Date(iso)
  const today = new Date(now)
  today.setHours(0, 0, 0, 0)
  const t = new Date(d)
  t.setHours(0, 0, 0, 0)
  const days = Math.round((today.getTime() - t.getTime()) / 86_400_000)
  if (days === 0) return 'Today'
  if (days === 1) return 'Yesterday'
  return d.toLocaleDateString(undefined, {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    ...(d.getFullYear() !== today.getFullYear() ? { year: 'numeric' } : {}),
  })
}

export function groupMessages(messages: Msg[], now: number = Date.now()): ThreadItem[] {
  const out: ThreadItem[] = []
  let day = ''
  let group: Extract<ThreadItem, { type: 'group' }> | null = null
  for (const m of messages) {
    const d = dayOf(m.createdAt)
    if (d !== day) {
      day = d
      group = null
      out.push({ type: 'day', key: `day-${m.id}`, label: dayLabel(m.createdAt, now) })
    }
    if (m.senderType === 'SYSTEM') {
      group = null
      out.push({ type: 'system', key: m.id, msg: m })
      continue
    }
    const name = m.senderName ?? null
    const last = group?.msgs[group.msgs.length - 1]
    if (
      group &&
      last &&
      group.senderType === m.senderType &&
      group.name === name &&
      Date.parse(m.createdAt) - Date.parse(last.createdAt) < GROUP_GAP
    ) {
      group.msgs.push(m)
      continue
    }
    group = { type: 'group', key: m.id, senderType: m.senderType, name, msgs: [m] }
    out.push(group)
  }
  return out
}
