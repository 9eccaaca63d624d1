// useForm: the settings tabs' saved/edited state. An untouched form follows
// the server (another admin's change); an edited one keeps its edits; a save
// makes the server's answer the new saved state; the page learns about
// unsaved changes.
import { describe, expect, it } from 'vitest'
import { act, renderHook } from '@testing-library/react'
import type { ReactNode } from 'react'
import { SettingsContext, useForm, type SettingsCtx } from '../src/pages/settings/SettingsBits'
import { changedFields, isDirty } from '../src/pages/settings/settingsLogic'

type F = { name: string; greeting: string }
const same = (a: F, b: F) => !isDirty(a, b)

function setup(initial: F) {
  const dirtyCalls: boolean[] = []
  const ctx = { company: {} as SettingsCtx['company'], refetch: () => {}, setDirty: (d: boolean) => dirtyCalls.push(d) }
  const wrapper = ({ children }: { children: ReactNode }) => <SettingsContext.Provider value={ctx}>{children}</SettingsContext.Provider>
  const hook = renderHook(({ saved }: { saved: F }) => useForm(saved, same), { wrapper, initialProps: { saved: initial } })
  return { ...hook, dirtyCalls }
}

describe('useForm', () => {
  it('is clean at first, dirty after an edit, clean again after undoing it', () => {
    const { result, dirtyCalls } = setup({ name: 'Acme', greeting: 'Hi' })
    expect(result.current.dirty).toBe(false)
    act(() => result.current.set('name', 'Acme Inc'))
    expect(result.current.dirty).toBe(true)
    expect(dirtyCalls.at(-1)).toBe(true)
    expect(changedFields(result.current.base, result.current.values)).toEqual({ name: 'Acme Inc' })
    act(() => result.current.set('name', 'Acme '))
    expect(result.current.dirty).toBe(false)
    expect(dirtyCalls.at(-1)).toBe(false)
  })

  it('follows the server while untouched', () => {
    const { result, rerender } = setup({ name: 'Acme', greeting: 'Hi' })
    rerender({ saved: { name: 'Acme', greeting: 'Hello' } })
    expect(result.current.values.greeting).toBe('Hello')
    expect(result.current.dirty).toBe(false)
  })

  it('keeps edits when the server changes meanwhile, and takes the others’ changes for untouched fields', () => {
    const { result, rerender } = setup({ name: 'Acme', greeting: 'Hi' })
    act(() => result.current.set('name', 'Mine'))
    rerender({ saved: { name: 'Acme', greeting: 'Theirs' } })
    expect(result.current.values).toEqual({ name: 'Mine', greeting: 'Theirs' })
    expect(result.current.base).toEqual({ name: 'Acme', greeting: 'Theirs' })
    // A save now sends only this person's change: the other admin's greeting is not undone.
    expect(changedFields(result.current.base, result.current.values)).toEqual({ name: 'Mine' })
  })

  it('an edit the server has caught up with is no longer unsaved', () => {
    const { result, rerender } = setup({ name: 'Acme', greeting: 'Hi' })
    act(() => result.current.set('name', 'Acme Inc'))
    rerender({ saved: { name: 'Acme Inc', greeting: 'Hi' } })
    expect(result.current.dirty).toBe(false)
  })

  it('commit makes the saved answer the form; reset discards edits', () => {
    const { result, rerender } = setup({ name: 'Acme', greeting: 'Hi' })
    act(() => result.current.set('name', 'Acme Inc'))
    act(() => result.current.commit({ name: 'Acme Inc', greeting: 'Hi' }))
    expect(result.current.dirty).toBe(false)
    // The refetch that follows a save brings the same values: nothing moves.
    rerender({ saved: { name: 'Acme Inc', greeting: 'Hi' } })
    expect(result.current.values.name).toBe('Acme Inc')
    act(() => result.current.set('greeting', 'Yo'))
    act(() => result.current.reset())
    expect(result.current.values).toEqual({ name: 'Acme Inc', greeting: 'Hi' })
  })
})
