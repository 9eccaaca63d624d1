// When the inbox calls for attention, and how: the decision is pure (and
// tested); the effects are a short beep made with Web Audio (no file, and
// only once the person has used the page, as browsers require), the
// document title's count, and a system notification when allowed.
import type { Conv, InboxMessage } from './reducer'
import { visitorLabel } from './reducer'

export type AlertKind = 'waiting' | 'assigned' | 'message'

export interface Alert {
  kind: AlertKind
  conv: Conv
}

export interface AlertContext {
  me: string
  /** The conversation open on screen while the page is visible (its changes are seen). */
  viewing: string | null
}

/**
 * What a change of one conversation calls for: a conversation that starts
 * waiting for a human (everyone is told), one given to me while it waits,
 * or a visitor's new message in a conversation I am handling but not
 * looking at. prev is the conversation before the change (undefined if it
 * was not known).
 */
export function decideAlert(prev: Conv | undefined, next: Conv, message: InboxMessage | null | undefined, ctx: AlertContext): Alert | null {
  if (ctx.viewing === next.id) return null
  if (next.status === 'WAITING_HUMAN') {
    if (prev?.status !== 'WAITING_HUMAN') return { kind: 'waiting', conv: next }
    if (next.assigneeID === ctx.me && prev.assigneeID !== ctx.me) return { kind: 'assigned', conv: next }
    return null
  }
  if (message?.senderType === 'VISITOR' && next.status === 'HUMAN' && next.assigneeID === ctx.me) {
    return { kind: 'message', conv: next }
  }
  return null
}

/** The document title: the waiting count first, so it shows in the tab. */
export function titleFor(waiting: number, base = 'Concierge'): string {
  return waiting > 0 ? `(${waiting}) Waiting · ${base}` : base
}

export function alertText(a: Alert): { title: string; body: string } {
  const who = visitorLabel(a.conv)
  const preview = a.conv.lastMessagePreview ?? ''
  switch (a.kind) {
    case 'waiting':
      return { title: `${who} is waiting for a human`, body: preview }
    case 'assigned':
      return { title: `Assigned to you: ${who}`, body: preview }
    case 'message':
      return { title: `New message from ${who}`, body: preview }
  }
}

// ---- effects (browser only) ----

let interacted = false
let audio: AudioContext | null = null
let lastBeep = 0

/** Browsers allow sound only after a gesture: remember the first one. */
export function watchInteraction(): () => void {
  if (typeof window === 'undefined') return () => {}
  const on = () => {
    interacted = true
    try {
      audio ??= new AudioContext()
      void audio.resume()
    } catch {
      audio = null
    }
  }
  const opts = { capture: true, passive: true } as const
  window.addEventListener('pointerdown', on, opts)
  window.addEventListener('keydown', on, opts)
  return () => {
    window.removeEventListener('pointerdown', on, opts)
    window.removeEventListener('keydown', on, opts)
  }
}

/** Two short soft tones; at most one beep every 1.5 s, and none before the person used the page. */
export function beep(): boolean {
  if (!interacted || !audio) return false
  const now = Date.now()
  if (now - lastBeep < 1500) return false
  lastBeep = now
  try {
    const t0 = audio.currentTime
    for (const [i, freq] of [880, 1175].entries()) {
      const osc = audio.createOscillator()
      const gain = audio.createGain()
      const start = t0 + i * 0.12
      osc.type = 'sine'
      osc.frequency.value = freq
      gain.gain.setValueAtTime(0.0001, start)
      gain.gain.exponentialRampToValueAtTime(0.18, start + 0.015)
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.16)
      osc.connect(gain).connect(audio.destination)
      osc.start(start)
      osc.stop(start + 0.18)
    }
    return true
  } catch {
    return false
  }
}

export type NotifyPermission = NotificationPermission | 'unsupported'

export function notificationPermission(): NotifyPermission {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission
}

/** A system notification (if allowed); clicking it focuses the tab and opens the conversation. */
export function showNotification(a: Alert, open: (id: string) => void) {
  if (notificationPermission() !== 'granted') return
  const { title, body } = alertText(a)
  try {
    const n = new Notification(title, { body: body.slice(0, 160), tag: `concierge-${a.conv.id}` })
    n.onclick = () => {
      window.focus()
      open(a.conv.id)
      n.close()
    }
  } catch {
    // Some browsers only allow notifications from a service worker.
  }
}
