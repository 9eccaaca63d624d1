// Pieces shared by the knowledge list, a resource's page and the super
// admin's All resources: type icons, the status with its live progress, a
// row's action menu, and the actions themselves (reprocess, activate,
// delete with a confirmation).
import { useCallback, useEffect, useId, useLayoutEffect, useRef, useState, type KeyboardEvent as ReactKeyboardEvent, type ReactNode } from 'react'
import { useMutation } from 'urql'
import type { KnowledgeResourceFieldsFragment } from '../../gql/graphql'
import { describeError, retryText, type ErrorLike, type Problem } from '../../lib/errors'
import { Badge, Banner, ConfirmDialog, ErrorBanner, ProgressBar, useCountdown } from '../../ui'
import { Icon, type IconName } from '../../ui/icons'
import { useToast } from '../../ui/toast'
import { KnowledgeDeleteResource, KnowledgeReprocessResource, KnowledgeUpdateResource } from './documents'
import {
  asSentence,
  canResync,
  formatDate,
  inProgress,
  STATUS_LABEL,
  SYNC_OPTIONS,
  syncSummary,
  TYPE_LABEL,
  type ResourceStatus,
  type ResourceType,
  type SyncIntervalValue,
} from './knowledgeLogic'
import './knowledge.css'

export type Res = KnowledgeResourceFieldsFragment

const TYPE_ICON: Record<ResourceType, IconName> = { PDF: 'file', WEBSITE: 'globe', FACEBOOK: 'facebook', TEXT: 'text' }

export function TypeIcon({ type }: { type: ResourceType }) {
  return (
    <span className={`kn-type kn-type-${type.toLowerCase()}`} title={TYPE_LABEL[type]}>
      <Icon name={TYPE_ICON[type]} size={17} />
      <span className="sr-only">{TYPE_LABEL[type]}</span>
    </span>
  )
}

const STATUS_KIND: Record<ResourceStatus, 'ok' | 'warn' | 'danger' | 'info'> = {
  PENDING: 'warn',
  PROCESSING: 'info',
  COMPLETED: 'ok',
  FAILED: 'danger',
}

export function StatusBadge({ status }: { status: ResourceStatus }) {
  return <Badge kind={STATUS_KIND[status]}>{STATUS_LABEL[status]}</Badge>
}

/** The status badge, and while the resource is worked on a live progress bar with its percentage. */
export function StatusCell({ r, wide }: { r: Pick<Res, 'status' | 'progress' | 'title' | 'error'>; wide?: boolean }) {
  const busy = inProgress(r.status)
  const pct = Math.round(Math.max(0, Math.min(1, r.progress)) * 100)
  return (
    <div className={`kn-status ${wide ? 'wide' : ''}`}>
      <div className="row" style={{ gap: 6, flexWrap: 'nowrap' }}>
        <StatusBadge status={r.status} />
        {busy && <span className="kn-pct">{r.status === 'PENDING' && pct === 0 ? 'queued' : `${pct}%`}</span>}
      </div>
      {busy && (
        <ProgressBar
          value={r.progress}
          indeterminate={r.status === 'PENDING' && pct === 0}
          label={`Processing ${r.title}: ${pct}%`}
        />
      )}
      {r.status === 'PENDING' && r.error && <div className="kn-retry">{asSentence(r.error)}</div>}
    </div>
  )
}

// ---------------------------------------------------------------------------
// Errors: the plan's hourly quota of knowledge jobs is said as the server says it

export type KProblem = Problem & { quota?: string }

/** describeError, keeping the server's sentence when the plan's ingestion quota is reached. */
export function describeKnowledgeError(err: ErrorLike | null | undefined): KProblem {
  const p: KProblem = describeError(err)
  const raw = err?.graphQLErrors?.[0]?.message ?? ''
  if (p.code === 'RATE_LIMITED' && /plan|quota|per hour/i.test(raw)) {
    p.quota = asSentence(raw.replace(/;\s*try again later\.?$/i, ''))
    p.message = `${p.quota} ${retryText(p.retryAfterSeconds ?? 60)}`
  }
  return p
}

/** ErrorBanner, with the quota's own sentence and a countdown. */
export function KnowledgeErrorBanner({ problem, shownFields }: { problem: KProblem | null; shownFields?: string[] }) {
  const left = useCountdown(problem?.quota ? problem.retryAfterSeconds : undefined)
  if (problem?.quota) {
    return (
      <Banner kind="warn">
        {problem.quota} {left > 0 ? retryText(left) : 'You can try again now.'}
      </Banner>
    )
  }
  return <ErrorBanner error={problem} shownFields={shownFields} />
}

// ---------------------------------------------------------------------------
// A row's menu of actions

export interface MenuItem {
  label: string
  icon: IconName
  onSelect: () => void
  danger?: boolean
  disabled?: boolean
}

/**
 * A "⋯" button opening a menu (arrow keys move, Escape closes). The menu
 * is placed with fixed coordinates so a scrolling table does not clip it.
 */
export function RowMenu({ label, items }: { label: string; items: MenuItem[] }) {
  const [open, setOpen] = useState(false)
  const [pos, setPos] = useState<{ top: number; left: number; up: boolean } | null>(null)
  const btn = useRef<HTMLButtonElement>(null)
  const menu = useRef<HTMLDivElement>(null)
  const id = useId()

  const close = useCallback((focus = true) => {
    setOpen(false)
    setPos(null)
    if (focus) btn.current?.focus()
  }, [])

  const place = useCallback(() => {
    if (!btn.current) return
    const b = btn.current.getBoundingClientRect()
    const h = 44 * items.length + 12
    const up = b.bottom + h > window.innerHeight - 8 && b.top > h
    setPos({ top: up ? b.top - 4 : b.bottom + 4, left: Math.max(8, Math.min(b.right - 200, window.innerWidth - 208)), up })
  }, [items.length])

  useLayoutEffect(() => {
    if (open) place()
  }, [open, place])

  // The first item takes the focus once the menu is placed (visible).
  const placed = pos !== null
  useEffect(() => {
    if (open && placed) menu.current?.querySelector<HTMLButtonElement>('button:not(:disabled)')?.focus({ preventScroll: true })
  }, [open, placed])

  useEffect(() => {
    if (!open) return
    const onEsc = (e: KeyboardEvent) => {
      if (e.key === 'Escape') close()
    }
    document.addEventListener('keydown', onEsc)
    const onDown = (e: MouseEvent) => {
      if (!menu.current?.contains(e.target as Node) && !btn.current?.contains(e.target as Node)) close(false)
    }
    // The menu stays by its button when the page scrolls or resizes.
    let frame = 0
    const onMove = () => {
      cancelAnimationFrame(frame)
      frame = requestAnimationFrame(place)
    }
    document.addEventListener('mousedown', onDown)
    window.addEventListener('resize', onMove)
    window.addEventListener('scroll', onMove, true)
    return () => {
      cancelAnimationFrame(frame)
      document.removeEventListener('keydown', onEsc)
      document.removeEventListener('mousedown', onDown)
      window.removeEventListener('resize', onMove)
      window.removeEventListener('scroll', onMove, true)
    }
  }, [open, close, place])

  const onKey = (e: ReactKeyboardEvent) => {
    const buttons = [...(menu.current?.querySelectorAll<HTMLButtonElement>('button:not(:disabled)') ?? [])]
    const i = buttons.indexOf(document.activeElement as HTMLButtonElement)
    if (e.key === 'Escape') {
      e.preventDefault()
      e.stopPropagation()
      close()
    } else if (e.key === 'ArrowDown') {
      e.preventDefault()
      buttons[(i + 1) % buttons.length]?.focus()
    } else if (e.key === 'ArrowUp') {
      e.preventDefault()
      buttons[(i - 1 + buttons.length) % buttons.length]?.focus()
    } else if (e.key === 'Tab') {
      close(false)
    }
  }

  return (
    <>
      <button
        ref={btn}
        type="button"
        className="btn ghost small kn-more"
        aria-label={label}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        onClick={() => setOpen((o) => !o)}
      >
        <Icon name="more" size={20} />
      </button>
      {open && (
        <div
          ref={menu}
          id={id}
          role="menu"
          aria-label={label}
          className="kn-menu"
          style={
            pos
              ? { top: pos.top, left: pos.left, transform: pos.up ? 'translateY(-100%)' : undefined }
              : { visibility: 'hidden' }
          }
          onKeyDown={onKey}
        >
          {items.map((it) => (
            <button
              key={it.label}
              type="button"
              role="menuitem"
              className={it.danger ? 'danger' : ''}
              disabled={it.disabled}
              onClick={() => {
                close()
                it.onSelect()
              }}
            >
              <Icon name={it.icon} size={16} />
              {it.label}
            </button>
          ))}
        </div>
      )}
    </>
  )
}

// ---------------------------------------------------------------------------
// The actions

export interface ResourceActions {
  reprocess: (r: Res) => void
  setActive: (r: Res, active: boolean) => void
  setSyncInterval: (r: Res, interval: SyncIntervalValue) => void
  rename: (r: Res, title: string) => Promise<boolean>
  askDelete: (r: Pick<Res, 'id' | 'title' | 'chunkCount' | 'isActive'>) => void
  /** Ids with an action under way. */
  busy: Record<string, true>
  /** The delete confirmation, to render once in the page. */
  dialogs: ReactNode
}

/**
 * Reprocess, activate / deactivate, rename and delete, with toasts for
 * their outcome. onChanged receives the resource a mutation returned,
 * onDeleted the id of a deleted one.
 */
export function useResourceActions({
  onChanged,
  onDeleted,
}: {
  onChanged?: (r: Res) => void
  onDeleted?: (id: string) => void
}): ResourceActions {
  const toast = useToast()
  const [, doReprocess] = useMutation(KnowledgeReprocessResource)
  const [, doUpdate] = useMutation(KnowledgeUpdateResource)
  const [del, doDelete] = useMutation(KnowledgeDeleteResource)
  const [busy, setBusy] = useState<Record<string, true>>({})
  const [confirm, setConfirm] = useState<Pick<Res, 'id' | 'title' | 'chunkCount' | 'isActive'> | null>(null)
  const [delError, setDelError] = useState<typeof del.error | null>(null)

  const mark = (id: string, on: boolean) =>
    setBusy((b) => {
      const n = { ...b }
      if (on) n[id] = true
      else delete n[id]
      return n
    })

  const reprocess = (r: Res) => {
    mark(r.id, true)
    void doReprocess({ id: r.id }).then((res) => {
      mark(r.id, false)
      if (res.error) toast(describeKnowledgeError(res.error).message, 'error')
      else if (res.data) {
        onChanged?.(res.data.reprocessResource)
        toast(`Processing “${r.title}” again`)
      }
    })
  }

  const setActive = (r: Res, active: boolean) => {
    mark(r.id, true)
    onChanged?.({ ...r, isActive: active })
    void doUpdate({ id: r.id, input: { isActive: active } }).then((res) => {
      mark(r.id, false)
      if (res.error) {
        onChanged?.(r)
        toast(describeError(res.error).message, 'error')
      } else if (res.data) {
        onChanged?.(res.data.updateResource)
        toast(active ? `“${r.title}” is used in answers again` : `“${r.title}” is no longer used in answers`)
      }
    })
  }

  const setSyncInterval = (r: Res, interval: SyncIntervalValue) => {
    mark(r.id, true)
    onChanged?.({ ...r, syncInterval: interval })
    void doUpdate({ id: r.id, input: { syncInterval: interval } }).then((res) => {
      mark(r.id, false)
      if (res.error) {
        onChanged?.(r)
        const p = describeError(res.error)
        toast(p.fields.syncInterval ?? p.message, 'error')
      } else if (res.data) {
        onChanged?.(res.data.updateResource)
        const label = SYNC_OPTIONS.find((o) => o.value === interval)?.label.toLowerCase()
        toast(interval === 'NEVER' ? `“${r.title}” will not be re-synced` : `“${r.title}” is re-synced ${label}`)
      }
    })
  }

  const rename = async (r: Res, title: string): Promise<boolean> => {
    const res = await doUpdate({ id: r.id, input: { title } })
    if (res.error) {
      toast(describeError(res.error).fields.title ?? describeError(res.error).message, 'error')
      return false
    }
    if (res.data) onChanged?.(res.data.updateResource)
    toast('Title saved')
    return true
  }

  const askDelete = (r: Pick<Res, 'id' | 'title' | 'chunkCount' | 'isActive'>) => {
    setDelError(null)
    setConfirm(r)
  }

  const dialogs = (
    <ConfirmDialog
      open={confirm !== null}
      title="Delete this knowledge?"
      confirmLabel="Delete"
      busy={del.fetching}
      error={delError}
      onClose={() => setConfirm(null)}
      onConfirm={() => {
        const r = confirm
        if (!r) return
        void doDelete({ id: r.id }).then((res) => {
          if (res.error) {
            setDelError(res.error)
            return
          }
          setConfirm(null)
          onDeleted?.(r.id)
          toast(`“${r.title}” deleted`)
        })
      }}
    >
      {confirm && (
        <div className="stack tight">
          <p style={{ margin: 0 }}>
            <strong className="kn-break">“{confirm.title}”</strong> will be deleted with its{' '}
            {confirm.chunkCount === 1 ? '1 extracted passage' : `${confirm.chunkCount.toLocaleString('en-US')} extracted passages`}
            {' '}and any uploaded file.
          </p>
          <p className="muted" style={{ margin: 0 }}>
            The assistant’s answers will stop using it at once. This cannot be undone
            {confirm.isActive ? ' — to stop using it for a while, deactivate it instead.' : '.'}
          </p>
        </div>
      )}
    </ConfirmDialog>
  )

  return { reprocess, setActive, setSyncInterval, rename, askDelete, busy, dialogs }
}

/**
 * What the viewer may do with resources: company admins everything
 * ('all'); super admins reprocess and delete ('manage'), leaving titles
 * and activation to the company; agents only read ('none').
 */
export type Access = 'all' | 'manage' | 'none'

/** The items of a resource's menu, as the viewer may use them. */
export function menuItems(r: Res, a: ResourceActions, access: Access): MenuItem[] {
  const items: MenuItem[] = []
  if (access === 'none') return items
  items.push({
    label: 'Reprocess',
    icon: 'refresh',
    onSelect: () => a.reprocess(r),
    disabled: inProgress(r.status) || !!a.busy[r.id],
  })
  if (access === 'all') {
    items.push(
      r.isActive
        ? { label: 'Deactivate', icon: 'pause', onSelect: () => a.setActive(r, false), disabled: !!a.busy[r.id] }
        : { label: 'Activate', icon: 'play', onSelect: () => a.setActive(r, true), disabled: !!a.busy[r.id] },
    )
  }
  items.push({ label: 'Delete', icon: 'trash', danger: true, onSelect: () => a.askDelete(r) })
  return items
}

/**
 * How often a website or Facebook page is fetched again: a select for
 * company admins (read-only text for others), with when it syncs next and
 * when it last did. PDFs and texts have nothing to re-sync: nothing shows.
 */
export function SyncControl({
  r,
  now,
  editable,
  disabled,
  labelled,
  onChange,
}: {
  r: Pick<Res, 'title' | 'type' | 'isActive' | 'syncInterval' | 'nextSyncAt' | 'lastSyncedAt'>
  now: number
  editable: boolean
  disabled?: boolean
  /**
   * Set where a heading already says "Re-sync" (a resource's page): no word
   * and icon of its own, and the dates written out, not only how far they are.
   */
  labelled?: boolean
  onChange: (interval: SyncIntervalValue) => void
}) {
  if (!canResync(r.type)) return null
  const { next, last, nextAt, lastAt } = syncSummary(r, now, labelled)
  // The exact time on hover, and for whoever reads the page by machine.
  const when = (text: string, at: string | null) =>
    at ? (
      <time dateTime={at} title={formatDate(at)}>
        {text}
      </time>
    ) : (
      <span>{text}</span>
    )
  const label = SYNC_OPTIONS.find((o) => o.value === r.syncInterval)?.label ?? r.syncInterval
  return (
    <div className="kn-sync">
      {!labelled && <Icon name="refresh" size={13} />}
      {editable ? (
        <label className="kn-sync-pick">
          {!labelled && <span aria-hidden>Re-sync</span>}
          <select
            value={r.syncInterval}
            disabled={disabled}
            aria-label={`Re-sync “${r.title}”`}
            onChange={(e) => onChange(e.target.value as SyncIntervalValue)}
          >
            {SYNC_OPTIONS.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
      ) : (
        <span>{labelled ? label : `Re-sync: ${label.toLowerCase()}`}</span>
      )}
      <span className="kn-sync-when">
        {when(next, nextAt)}
        <span aria-hidden> · </span>
        {when(last, lastAt)}
      </span>
    </div>
  )
}

/** An on/off switch for whether a resource is used in answers. */
export function ActiveSwitch({
  r,
  onChange,
  disabled,
}: {
  r: Pick<Res, 'title' | 'isActive'>
  onChange: (active: boolean) => void
  disabled?: boolean
}) {
  return (
    <label className="kn-switch" title={r.isActive ? 'Used in answers' : 'Not used in answers'}>
      <input
        type="checkbox"
        role="switch"
        checked={r.isActive}
        disabled={disabled}
        aria-label={`Use “${r.title}” in answers`}
        onChange={(e) => onChange(e.target.checked)}
      />
      <span className="track" aria-hidden>
        <span className="thumb" />
      </span>
      <span className="txt">{r.isActive ? 'Active' : 'Off'}</span>
    </label>
  )
}

/** A search input with its icon and a visually hidden label. */
export function SearchBox({
  id,
  label,
  value,
  onChange,
  placeholder,
}: {
  id: string
  label: string
  value: string
  onChange: (v: string) => void
  placeholder?: string
}) {
  return (
    <div className="kn-search">
      <label htmlFor={id} className="sr-only">
        {label}
      </label>
      <Icon name="search" size={16} />
      <input
        id={id}
        className="input"
        type="search"
        placeholder={placeholder ?? label}
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
    </div>
  )
}

/** The sentences of a passage that every answer leaves out (Chunk.leftOut, KnowledgeHit.leftOut). */
export function LeftOutNote({ sentences }: { sentences: string[] }) {
  if (sentences.length === 0) return null
  const one = sentences.length === 1
  return (
    <div className="kn-left-out" role="note">
      <strong>
        {one ? 'One sentence is' : `${sentences.length} sentences are`} left out of every answer: {one ? 'it reads' : 'they read'} as instructions
        to the assistant, not as knowledge.
      </strong>
      <ul>
        {sentences.map((s, i) => (
          <li key={i} className="kn-break">
            “{s}”
          </li>
        ))}
      </ul>
    </div>
  )
}
