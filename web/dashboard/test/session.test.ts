import { beforeEach, describe, expect, it, vi } from 'vitest'

// session.ts keeps module state: load a fresh copy for each test.
async function load() {
  vi.resetModules()
  return import('../src/lib/session')
}

const KEY = 'concierge.session'

describe('session renewal', () => {
  beforeEach(() => localStorage.clear())

  it('renews once for many concurrent callers and stores the rotated tokens', async () => {
    const s = await load()
    s.setSession({ token: 'a1', refreshToken: 'r1', expiresAt: Date.now() + 10_000, kind: 'USER' })
    expect(s.needsRenewal(s.getSession()!)).toBe(true)
    const call = vi.fn(async (rt: string) => {
      expect(rt).toBe('r1')
      return { token: 'a2', refreshToken: 'r2', expiresAt: new Date(Date.now() + 900_000).toISOString() }
    })
    const [x, y, z] = await Promise.all([s.renew(call), s.renew(call), s.renew(call)])
    expect(call).toHaveBeenCalledTimes(1)
    expect(x.token).toBe('a2')
    expect(y).toBe(x)
    expect(z).toBe(x)
    expect(JSON.parse(localStorage.getItem(KEY)!).refreshToken).toBe('r2')
    expect(s.needsRenewal(s.getSession()!)).toBe(false)
  })

  it('takes the tokens another tab renewed instead of spending the old refresh token again', async () => {
    const s = await load()
    s.setSession({ token: 'a1', refreshToken: 'r1', expiresAt: Date.now() + 10_000, kind: 'USER' })
    // Another tab renewed meanwhile and wrote the rotated session.
    localStorage.setItem(KEY, JSON.stringify({ token: 'b2', refreshToken: 'r2', expiresAt: Date.now() + 900_000, kind: 'USER' }))
    const call = vi.fn()
    const got = await s.renew(call)
    expect(call).not.toHaveBeenCalled()
    expect(got.token).toBe('b2')
  })

  it('ends the session when the server refuses the refresh token, and says why', async () => {
    const s = await load()
    s.setSession({ token: 'a1', refreshToken: 'r1', expiresAt: Date.now() - 1, kind: 'USER' })
    const seen: (string | undefined)[] = []
    s.onSessionChange((sess, reason) => seen.push(sess ? 'session' : reason))
    await expect(s.renew(async () => Promise.reject(new s.SessionEnded('this company is deactivated')))).rejects.toThrow('deactivated')
    expect(s.getSession()).toBeNull()
    expect(localStorage.getItem(KEY)).toBeNull()
    expect(seen).toEqual(['this company is deactivated'])
  })

  it('keeps the session when the server cannot be reached for a moment', async () => {
    const s = await load()
    s.setSession({ token: 'a1', refreshToken: 'r1', expiresAt: Date.now() - 1, kind: 'USER' })
    await expect(s.renew(async () => Promise.reject(new Error('offline')))).rejects.toThrow('offline')
    expect(s.getSession()?.refreshToken).toBe('r1')
  })
})
