// Picks a logo image (PNG, JPEG, GIF or WebP, at most 2 MB, as the server
// accepts) and previews it before it is uploaded.
import { useEffect, useId, useState } from 'react'
import { Button } from './index'

export const MAX_LOGO_BYTES = 2 << 20
const TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp']

export function checkLogo(f: File): string | null {
  if (!TYPES.includes(f.type)) return 'The logo must be a PNG, JPEG, GIF or WebP image.'
  if (f.size > MAX_LOGO_BYTES) return 'The logo must be at most 2 MB.'
  return null
}

export function LogoPicker({
  file,
  currentURL,
  onChange,
  error,
  label = 'Logo',
}: {
  file: File | null
  currentURL?: string | null
  onChange: (f: File | null) => void
  error?: string
  label?: string
}) {
  const id = useId()
  const [preview, setPreview] = useState<string | null>(null)
  const [localError, setLocalError] = useState<string | null>(null)
  useEffect(() => {
    if (!file) {
      setPreview(null)
      return
    }
    const u = URL.createObjectURL(file)
    setPreview(u)
    return () => URL.revokeObjectURL(u)
  }, [file])
  const shown = preview ?? currentURL ?? null
  const err = localError ?? error
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <div className="row">
        <div
          style={{
            width: 56,
            height: 56,
            borderRadius: 10,
            border: '1px dashed var(--line-strong)',
            display: 'grid',
            placeItems: 'center',
            overflow: 'hidden',
            background: '#fafafa',
            flex: 'none',
          }}
        >
          {shown ? <img src={shown} alt="Logo preview" style={{ width: '100%', height: '100%', objectFit: 'contain' }} /> : <span className="muted small">none</span>}
        </div>
        <input
          id={id}
          type="file"
          accept={TYPES.join(',')}
          aria-invalid={err ? true : undefined}
          onChange={(e) => {
            const f = e.target.files?.[0] ?? null
            const problem = f ? checkLogo(f) : null
            setLocalError(problem)
            onChange(problem ? null : f)
            if (problem) e.target.value = ''
          }}
        />
        {file && (
          <Button size="small" variant="ghost" onClick={() => onChange(null)}>
            Remove
          </Button>
        )}
      </div>
      {err ? <div className="error">{err}</div> : <div className="hint">PNG, JPEG, GIF or WebP, up to 2 MB. Shown in the widget.</div>}
    </div>
  )
}
