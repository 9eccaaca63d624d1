// The dashboard's building blocks: buttons, form fields, banners, badges,
// dialogs and page frames. Every input has a label; errors sit next to the
// field they are about.
import {
  useEffect,
  useId,
  useRef,
  useState,
  type ButtonHTMLAttributes,
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
} from 'react'
import { describeError, retryText, type ErrorLike, type Problem } from '../lib/errors'

type ButtonVariant = 'primary' | 'secondary' | 'danger' | 'danger-soft' | 'ghost'

export function Button({
  variant = 'secondary',
  size,
  loading,
  block,
  className,
  children,
  disabled,
  type = 'button',
  ...rest
}: ButtonHTMLAttributes<HTMLButtonElement> & {
  variant?: ButtonVariant
  size?: 'small'
  loading?: boolean
  block?: boolean
}) {
  const cls = ['btn', variant === 'secondary' ? '' : variant, size ?? '', block ? 'block' : '', className ?? '']
    .filter(Boolean)
    .join(' ')
  return (
    <button type={type} className={cls} disabled={disabled || loading} aria-busy={loading || undefined} {...rest}>
      {loading && <span className="spinner" aria-hidden />}
      {children}
    </button>
  )
}

export function Spinner({ label }: { label?: string }) {
  return <span className="spinner" role="status" aria-label={label ?? 'Loading'} />
}

export function Loading({ children = 'Loading…' }: { children?: ReactNode }) {
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden /> {children}
    </div>
  )
}

export function Empty({ icon, title, children, action }: { icon?: string; title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty">
      {icon && (
        <div className="big" aria-hidden>
          {icon}
        </div>
      )}
      <h3>{title}</h3>
      {children && <p>{children}</p>}
      {action}
    </div>
  )
}

export function Banner({ kind = 'info', children, action }: { kind?: 'info' | 'warn' | 'error' | 'ok'; children: ReactNode; action?: ReactNode }) {
  return (
    <div className={`banner ${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      <div className="grow">{children}</div>
      {action}
    </div>
  )
}

/** Counts down a RATE_LIMITED error's retryAfterSeconds. */
export function useCountdown(seconds: number | undefined): number {
  const [left, setLeft] = useState(seconds ?? 0)
  useEffect(() => {
    setLeft(seconds ?? 0)
    if (!seconds) return
    const started = Date.now()
    const t = setInterval(() => {
      const l = Math.max(0, seconds - (Date.now() - started) / 1000)
      setLeft(l)
      if (l <= 0) clearInterval(t)
    }, 500)
    return () => clearInterval(t)
  }, [seconds])
  return left
}

/**
 * An operation's error in a banner. Field errors are shown by their fields
 * (pass `hideFields` the names a form shows itself); what is left is shown
 * here. RATE_LIMITED counts down to when the action may be retried.
 */
export function ErrorBanner({
  error,
  onRetry,
  shownFields = [],
}: {
  error: ErrorLike | Problem | null | undefined
  onRetry?: () => void
  shownFields?: string[]
}) {
  const p = error && 'code' in error && 'fields' in error ? (error as Problem) : error ? describeError(error as ErrorLike) : null
  const left = useCountdown(p?.retryAfterSeconds)
  if (!p) return null
  const allShown = Object.keys(p.fields).length > 0 && Object.keys(p.fields).every((f) => shownFields.includes(f))
  if (allShown && p.code === 'BAD_USER_INPUT') return null
  let msg = p.message
  if (p.code === 'RATE_LIMITED') msg = left > 0 ? `Too many requests. ${retryText(left)}` : 'You can try again now.'
  return (
    <Banner
      kind={p.code === 'SERVICE_UNAVAILABLE' || p.code === 'RATE_LIMITED' ? 'warn' : 'error'}
      action={
        onRetry && (
          <Button size="small" onClick={onRetry} disabled={p.code === 'RATE_LIMITED' && left > 0}>
            Try again
          </Button>
        )
      }
    >
      {msg}
    </Banner>
  )
}

interface FieldProps {
  label: ReactNode
  hint?: ReactNode
  error?: string
  className?: string
}

function FieldFrame({ id, label, hint, error, className, children }: FieldProps & { id: string; children: ReactNode }) {
  return (
    <div className={`field ${className ?? ''}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {error ? (
        <div className="error" id={`${id}-error`}>
          {error}
        </div>
      ) : (
        hint && (
          <div className="hint" id={`${id}-hint`}>
            {hint}
          </div>
        )
      )}
    </div>
  )
}

export function TextField({ label, hint, error, className, ...rest }: FieldProps & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId()
  return (
    <FieldFrame id={id} label={label} hint={hint} error={error} className={className}>
      <input
        id={id}
        className={rest.type === 'color' ? 'input color' : 'input'}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : hint ? `${id}-hint` : undefined}
        {...rest}
      />
    </FieldFrame>
  )
}

export function TextArea({ label, hint, error, className, ...rest }: FieldProps & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const id = useId()
  return (
    <FieldFrame id={id} label={label} hint={hint} error={error} className={className}>
      <textarea
        id={id}
        className="textarea"
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : hint ? `${id}-hint` : undefined}
        {...rest}
      />
    </FieldFrame>
  )
}

export function SelectField({
  label,
  hint,
  error,
  className,
  children,
  ...rest
}: FieldProps & SelectHTMLAttributes<HTMLSelectElement>) {
  const id = useId()
  return (
    <FieldFrame id={id} label={label} hint={hint} error={error} className={className}>
      <select id={id} className="select" aria-invalid={error ? true : undefined} {...rest}>
        {children}
      </select>
    </FieldFrame>
  )
}

export function Checkbox({
  label,
  hint,
  ...rest
}: { label: ReactNode; hint?: ReactNode } & Omit<InputHTMLAttributes<HTMLInputElement>, 'type'>) {
  const id = useId()
  return (
    <label className="check" htmlFor={id}>
      <input id={id} type="checkbox" {...rest} />
      <span>
        {label}
        {hint && <span className="hint">{hint}</span>}
      </span>
    </label>
  )
}

export function Badge({ kind, children, title }: { kind?: 'ok' | 'warn' | 'danger' | 'info' | 'primary'; children: ReactNode; title?: string }) {
  return (
    <span className={`badge ${kind ?? ''}`} title={title}>
      {children}
    </span>
  )
}

export function ProgressBar({ value, label, indeterminate }: { value: number; label: string; indeterminate?: boolean }) {
  const pct = Math.round(Math.max(0, Math.min(1, value)) * 100)
  return (
    <div
      className={`progress ${indeterminate ? 'indeterminate' : ''}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={indeterminate ? undefined : pct}
    >
      <span style={{ width: `${pct}%` }} />
    </div>
  )
}

export function PageHeader({ title, description, actions }: { title: ReactNode; description?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="page-head">
      <div>
        <h1>{title}</h1>
        {description && <p>{description}</p>}
      </div>
      {actions && <div className="row">{actions}</div>}
    </div>
  )
}

export function Card({
  title,
  description,
  actions,
  children,
  footer,
  className,
  bodyClass = 'card-body',
}: {
  title?: ReactNode
  description?: ReactNode
  actions?: ReactNode
  children: ReactNode
  footer?: ReactNode
  className?: string
  bodyClass?: string
}) {
  return (
    <section className={`card section ${className ?? ''}`}>
      {(title || actions) && (
        <div className="card-head">
          <div>
            {title && <h2>{title}</h2>}
            {description && <p>{description}</p>}
          </div>
          {actions && <div className="row">{actions}</div>}
        </div>
      )}
      <div className={bodyClass}>{children}</div>
      {footer && <div className="card-foot">{footer}</div>}
    </section>
  )
}

/** A modal dialog on the native <dialog>: focus stays inside, Escape closes. */
export function Modal({
  open,
  title,
  onClose,
  children,
  footer,
  wide,
}: {
  open: boolean
  title: ReactNode
  onClose: () => void
  children: ReactNode
  footer?: ReactNode
  wide?: boolean
}) {
  const ref = useRef<HTMLDialogElement>(null)
  const titleId = useId()
  useEffect(() => {
    const d = ref.current
    if (!d) return
    if (open && !d.open) d.showModal?.()
    if (!open && d.open) d.close?.()
  }, [open])
  return (
    <dialog
      ref={ref}
      className={`modal ${wide ? 'wide' : ''}`}
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault()
        onClose()
      }}
      onClick={(e) => {
        if (e.target === ref.current) onClose()
      }}
    >
      {open && (
        <>
          <div className="modal-head">
            <h2 id={titleId}>{title}</h2>
            <button type="button" className="close-x" aria-label="Close" onClick={onClose}>
              ×
            </button>
          </div>
          <div className="modal-body">{children}</div>
          {footer && <div className="modal-foot">{footer}</div>}
        </>
      )}
    </dialog>
  )
}

/** Asks before something that cannot be undone. */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  danger = true,
  busy,
  error,
  onConfirm,
  onClose,
}: {
  open: boolean
  title: ReactNode
  children: ReactNode
  confirmLabel: string
  danger?: boolean
  busy?: boolean
  error?: ErrorLike | null
  onConfirm: () => void
  onClose: () => void
}) {
  return (
    <Modal
      open={open}
      title={title}
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose} disabled={busy}>
            Cancel
          </Button>
          <Button variant={danger ? 'danger' : 'primary'} loading={busy} onClick={onConfirm} autoFocus>
            {confirmLabel}
          </Button>
        </>
      }
    >
      <div className="stack">
        <div>{children}</div>
        <ErrorBanner error={error} />
      </div>
    </Modal>
  )
}

export function CopyButton({ text, label = 'Copy', size }: { text: string; label?: string; size?: 'small' }) {
  const [done, setDone] = useState(false)
  return (
    <Button
      size={size}
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text)
        } catch {
          // Clipboard refused (insecure origin): select the text instead.
          const ta = document.createElement('textarea')
          ta.value = text
          document.body.appendChild(ta)
          ta.select()
          document.execCommand('copy')
          ta.remove()
        }
        setDone(true)
        setTimeout(() => setDone(false), 1500)
      }}
    >
      {done ? 'Copied ✓' : label}
    </Button>
  )
}

export function Segmented<T extends string>({
  value,
  options,
  onChange,
  label,
}: {
  value: T
  options: { value: T; label: ReactNode; count?: number }[]
  onChange: (v: T) => void
  label: string
}) {
  return (
    <div className="segmented" role="group" aria-label={label}>
      {options.map((o) => (
        <button key={o.value} type="button" aria-pressed={o.value === value} onClick={() => onChange(o.value)}>
          {o.label}
          {o.count !== undefined && o.count > 0 && <span className="n">{o.count}</span>}
        </button>
      ))}
    </div>
  )
}

/** The field of a dangerous action's dialog that asks for a name to be typed. */
export function TypeToConfirm({ name, value, onChange }: { name: string; value: string; onChange: (v: string) => void }) {
  return (
    <TextField
      label={
        <>
          Type <b>{name}</b> to confirm
        </>
      }
      value={value}
      onChange={(e) => onChange(e.target.value)}
      autoComplete="off"
      spellCheck={false}
      autoFocus
    />
  )
}
