// Tells the visitor the agent is typing: setTyping(true) while keys are
// pressed (at most every `every` ms, so the other side's indicator stays
// on), and setTyping(false) after `idle` ms without a key, when the text is
// emptied, or when the message is sent.

export interface TypingClock {
  now: () => number
  setTimeout: (f: () => void, ms: number) => unknown
  clearTimeout: (t: unknown) => void
}

const realClock: TypingClock = {
  now: () => Date.now(),
  setTimeout: (f, ms) => setTimeout(f, ms),
  clearTimeout: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
}

export class TypingSignal {
  private active = false
  private lastSent = -Infinity
  private timer: unknown = null

  constructor(
    private send: (typing: boolean) => void,
    private opts: { every: number; idle: number } = { every: 3000, idle: 4000 },
    private clock: TypingClock = realClock,
  ) {}

  /** The composer's text changed (a key was pressed). */
  input(text: string) {
    if (!text.trim()) {
      this.stop()
      return
    }
    const now = this.clock.now()
    if (!this.active || now - this.lastSent >= this.opts.every) {
      this.active = true
      this.lastSent = now
      this.send(true)
    }
    if (this.timer !== null) this.clock.clearTimeout(this.timer)
    this.timer = this.clock.setTimeout(() => {
      this.timer = null
      this.stop()
    }, this.opts.idle)
  }

  /** Sent, emptied, idle or leaving: typing stops (said once). */
  stop() {
    if (this.timer !== null) {
      this.clock.clearTimeout(this.timer)
      this.timer = null
    }
    if (!this.active) return
    this.active = false
    this.lastSent = -Infinity
    this.send(false)
  }
}
