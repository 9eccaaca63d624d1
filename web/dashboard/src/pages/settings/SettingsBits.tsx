// Pieces the settings tabs share: a form's saved/edited state, the save bar
// (with the unsaved-changes notice), a switch, and the guard that asks
// before leaving a tab with unsaved changes.
import { createContext, useContext, useEffect, useId, useRef, useState, type ReactNode } from 'react'
import { useBlocker } from 'react-router'
import { Button, CopyButton, Modal } from '../../ui'
import { useMutation } from 'urql'
import type { SettingsCompanyFieldsFragment, UpdateCompanyInput } from '../../gql/graphql'
import { useAuth } from '../../lib/auth'
import { describeError, type ErrorLike, type Problem } from '../../lib/errors'
import { uploadRequest } from '../../lib/upload'
import { useToast } from '../../ui/toast'
import { SettingsUpdateCompany } from './documents'

export type SettingsCompany = SettingsCompanyFieldsFragment

export interface SettingsCtx {
  company: SettingsCompany
  /** Reads the company again from the server (after an upload, which bypasses urql). */
  refetch: () => void
  /** The active tab tells the page whether it has unsaved changes. */
  setDirty: (dirty: boolean) => void
}

export const SettingsContext = createContext<SettingsCtx | null>(null)

export function useSettings(): SettingsCtx {
  const c = useContext(SettingsContext)
  if (!c) throw new Error('useSettings outside the settings page')
  return c
}

/**
 * Edits moved onto new saved values: the fields the user changed keep their
 * edit, the others take the new saved value (so saving does not undo what
 * someone else changed meanwhile).
 */
export function rebase<T>(oldBase: T, values: T, newBase: T): T {
  if (!oldBase || !values || !newBase || typeof values !== 'object') return values
  const out = { ...newBase } as Record<string, unknown>
  const o = oldBase as Record<string, unknown>
  const v = values as Record<string, unknown>
  for (const k of Object.keys(v)) {
    if (JSON.stringify(v[k]) !== JSON.stringify(o[k]) || v[k] instanceof File) out[k] = v[k]
  }
  return out as T
}

/**
 * A form's saved values (from the server) and its edited values. When the
 * saved values change (a save, or another admin's change), an untouched form
 * follows them; an edited one keeps its edits on top of the new values.
 */
export function useForm<T>(saved: T, same: (a: T, b: T) => boolean) {
  const [state, setState] = useState({ base: saved, values: saved })
  const key = JSON.stringify(saved)
  const lastKey = useRef(key)
  useEffect(() => {
    if (key === lastKey.current) return
    lastKey.current = key
    setState((s) => ({ base: saved, values: same(s.base, s.values) ? saved : rebase(s.base, s.values, saved) }))
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key])
  const { base, values } = state
  const dirty = !same(base, values)
  const { setDirty } = useSettings()
  useEffect(() => {
    setDirty(dirty)
  }, [dirty, setDirty])
  useEffect(() => () => setDirty(false), [setDirty])
  return {
    base,
    values,
    dirty,
    set: <K extends keyof T>(k: K, v: T[K]) => setState((s) => ({ ...s, values: { ...s.values, [k]: v } })),
    setValues: (f: (v: T) => T) => setState((s) => ({ ...s, values: f(s.values) })),
    reset: () => setState((s) => ({ ...s, values: s.base })),
    /** After a save: the server's values become the saved ones and the form. */
    commit: (next: T) => {
      lastKey.current = JSON.stringify(next)
      setState({ base: next, values: next })
    },
  }
}

/** The bottom of a tab's form: what is unsaved, Discard and Save. Sticks to the bottom of the window while there is something to save. */
export function SaveBar({
  dirty,
  saving,
  onDiscard,
  label = 'Save changes',
  note,
}: {
  dirty: boolean
  saving: boolean
  onDiscard: () => void
  label?: string
  note?: ReactNode
}) {
  return (
    <div className={`st-savebar ${dirty ? 'dirty' : ''}`}>
      <div className="grow st-savebar-note" role="status" aria-live="polite">
        {dirty ? (
          <>
            <span className="st-dot" aria-hidden /> You have unsaved changes.
          </>
        ) : (
          (note ?? <span className="muted">All changes saved.</span>)
        )}
      </div>
      {dirty && (
        <Button variant="ghost" onClick={onDiscard} disabled={saving}>
          Discard
        </Button>
      )}
      <Button type="submit" variant="primary" disabled={!dirty} loading={saving}>
        {label}
      </Button>
    </div>
  )
}

/** An on/off switch with a label and an explanation. */
export function Toggle({
  label,
  hint,
  checked,
  onChange,
  disabled,
}: {
  label: ReactNode
  hint?: ReactNode
  checked: boolean
  onChange: (v: boolean) => void
  disabled?: boolean
}) {
  const id = useId()
  return (
    <div className="st-toggle">
      <button
        type="button"
        role="switch"
        aria-checked={checked}
        aria-labelledby={`${id}-l`}
        aria-describedby={hint ? `${id}-h` : undefined}
        className="st-switch"
        disabled={disabled}
        onClick={() => onChange(!checked)}
      >
        <span aria-hidden />
      </button>
      <div className="grow">
        <div id={`${id}-l`} className="st-toggle-label" onClick={() => !disabled && onChange(!checked)}>
          {label}
        </div>
        {hint && (
          <div id={`${id}-h`} className="st-toggle-hint">
            {hint}
          </div>
        )}
      </div>
    </div>
  )
}

/** An object URL for a picked file (null without one), revoked when it changes. */
export function useObjectURL(file: File | null): string | null {
  const [url, setUrl] = useState<string | null>(null)
  useEffect(() => {
    if (!file) {
      setUrl(null)
      return
    }
    const u = URL.createObjectURL(file)
    setUrl(u)
    return () => URL.revokeObjectURL(u)
  }, [file])
  return url
}

/**
 * While there are unsaved changes: the browser asks before the page is
 * closed or reloaded, and leaving for another page of the app (a link, a
 * tab, the Back button) asks here first.
 */
export function useUnsavedGuard(dirty: boolean): ReactNode {
  const blocker = useBlocker(
    ({ currentLocation, nextLocation }) =>
      dirty && (currentLocation.pathname !== nextLocation.pathname || currentLocation.search !== nextLocation.search),
  )
  useEffect(() => {
    if (!dirty) return
    const beforeUnload = (e: BeforeUnloadEvent) => {
      e.preventDefault()
      e.returnValue = ''
    }
    window.addEventListener('beforeunload', beforeUnload)
    return () => window.removeEventListener('beforeunload', beforeUnload)
  }, [dirty])
  const pending = blocker.state === 'blocked'
  return (
    <Modal
      open={pending}
      title="Leave without saving?"
      onClose={() => blocker.reset?.()}
      footer={
        <>
          <Button onClick={() => blocker.reset?.()} autoFocus>
            Keep editing
          </Button>
          <Button
            variant="danger"
            onClick={() => blocker.proceed?.()}
          >
            Discard changes
          </Button>
        </>
      }
    >
      <p>You have changes on this tab that are not saved. If you leave now, they are lost.</p>
    </Modal>
  )
}

/** A problem's field errors merged with the form's own checks (the form's win: they are about what is typed now). */
export function fieldErrors(local: Record<string, string>, problem: Problem | null): Record<string, string> {
  return { ...(problem?.fields ?? {}), ...local }
}

export function CharCount({ value, max }: { value: string; max: number }) {
  const n = [...value.trim()].length
  return (
    <span className={n > max ? 'st-count over' : 'st-count'} aria-hidden>
      {n}/{max}
    </span>
  )
}

/**
 * Saves a patch of the company (only changed fields): through urql, or as
 * a multipart upload with progress when there is a logo. Says "saved" in a
 * toast; a refusal is kept as a problem for the form to show by its fields.
 */
export function useCompanySave() {
  const [, update] = useMutation(SettingsUpdateCompany)
  const { refetch } = useSettings()
  const { refreshViewer } = useAuth()
  const toast = useToast()
  const [saving, setSaving] = useState(false)
  const [progress, setProgress] = useState<number | null>(null)
  const [problem, setProblem] = useState<Problem | null>(null)
  const save = async (
    input: UpdateCompanyInput,
    opts: { logo?: File | null; message?: string; viewerChanged?: boolean } = {},
  ): Promise<SettingsCompany | null> => {
    setSaving(true)
    setProblem(null)
    try {
      let company: SettingsCompany | null | undefined
      let error: ErrorLike | undefined
      if (opts.logo) {
        setProgress(0)
        const r = await uploadRequest(SettingsUpdateCompany, { input: { ...input, logo: opts.logo } }, setProgress)
        company = r.data?.updateCompany
        error = r.error
        refetch()
      } else {
        const r = await update({ input })
        company = r.data?.updateCompany
        error = r.error
      }
      if (error || !company) {
        setProblem(describeError(error))
        return null
      }
      toast(opts.message ?? 'Settings saved')
      if (opts.viewerChanged) refreshViewer()
      return company
    } finally {
      setSaving(false)
      setProgress(null)
    }
  }
  /** The user is fixing a field: its server error goes away. */
  const clearFieldError = (name: string) =>
    setProblem((p) => {
      if (!p || !(name in p.fields)) return p
      const { [name]: _gone, ...fields } = p.fields
      return { ...p, fields }
    })
  return { save, saving, progress, problem, setProblem, clearFieldError }
}

/** A block of code with what it is and a Copy button above it. */
export function CodeBlock({ label, code, copyLabel = 'Copy', wrap }: { label: string; code: string; copyLabel?: string | null; wrap?: boolean }) {
  return (
    <div className="st-code">
      <div className="st-code-bar">
        <span>{label}</span>
        {copyLabel && <CopyButton text={code} label={copyLabel} size="small" />}
      </div>
      <pre className={wrap ? 'wrap' : undefined} aria-label={label}>
        {code}
      </pre>
    </div>
  )
}
