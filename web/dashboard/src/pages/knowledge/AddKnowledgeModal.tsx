// "Add knowledge": one dialog, four kinds of source (a text, a PDF, a
// website, a Facebook page). What can be checked here is checked before
// anything is sent (a PDF's type and size before its upload); the server's
// field errors are shown next to their fields.
import { useEffect, useId, useMemo, useRef, useState, type DragEvent, type FormEvent, type KeyboardEvent } from 'react'
import { useMutation } from 'urql'
import { uploadRequest } from '../../lib/upload'
import { Banner, Button, Checkbox, Modal, ProgressBar, SelectField, TextArea, TextField } from '../../ui'
import { Icon, type IconName } from '../../ui/icons'
import { describeKnowledgeError, KnowledgeErrorBanner, type KProblem, type Res } from './bits'
import { KnowledgeAddFacebookPage, KnowledgeAddText, KnowledgeAddWebsite, KnowledgeUploadPdf } from './documents'
import {
  checkFacebook,
  checkPdf,
  checkPdfFile,
  checkText,
  checkWebsite,
  DEFAULT_DEPTH,
  DEFAULT_MAX_PAGES,
  formatBytes,
  hasPdfHeader,
  MAX_DEPTH,
  MAX_TEXT_BYTES,
  planName,
  planPageCap,
  SYNC_OPTIONS,
  utf8Bytes,
  type FieldErrors,
  type SyncIntervalValue,
} from './knowledgeLogic'

export type AddTab = 'text' | 'pdf' | 'website' | 'facebook'

const TABS: { id: AddTab; label: string; icon: IconName; submit: string; more?: string }[] = [
  { id: 'text', label: 'Text', icon: 'text', submit: 'Add text' },
  { id: 'pdf', label: 'PDF', icon: 'file', submit: 'Upload PDF' },
  { id: 'website', label: 'Website', icon: 'globe', submit: 'Add website' },
  { id: 'facebook', label: 'Facebook', more: ' page', icon: 'facebook', submit: 'Add Facebook page' },
]

const FORM_FIELDS: Record<AddTab, string[]> = {
  text: ['title', 'content'],
  pdf: ['file', 'title'],
  website: ['url', 'maxPages', 'maxDepth', 'renderJavascript', 'includePaths', 'excludePaths', 'syncInterval'],
  facebook: ['page', 'accessToken', 'syncInterval'],
}

export function AddKnowledgeModal({
  open,
  initialTab = 'text',
  plan,
  onClose,
  onCreated,
}: {
  open: boolean
  initialTab?: AddTab
  plan: string | null | undefined
  onClose: () => void
  onCreated: (r: Res) => void
}) {
  const [tab, setTab] = useState<AddTab>(initialTab)
  const [busy, setBusy] = useState(false)
  const formId = useId()
  const tabIds = useId()
  // The forms are kept while the dialog is open (switching tabs loses
  // nothing) and cleared after an addition. Remounting clears them.
  const [generation, setGeneration] = useState(0)

  useEffect(() => {
    if (open) setTab(initialTab)
    else setBusy(false)
  }, [open, initialTab])

  const done = (r: Res) => {
    setGeneration((g) => g + 1)
    onCreated(r)
  }
  const close = () => {
    if (busy && tab !== 'pdf') return
    onClose()
  }
  const current = TABS.find((t) => t.id === tab)!

  const onTabKey = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return
    const i = TABS.findIndex((t) => t.id === tab)
    const n = TABS[(i + (e.key === 'ArrowRight' ? 1 : TABS.length - 1)) % TABS.length]!
    setTab(n.id)
    document.getElementById(`${tabIds}-${n.id}`)?.focus()
  }

  return (
    <Modal
      open={open}
      title="Add knowledge"
      onClose={close}
      wide
      footer={
        <>
          <Button onClick={close} disabled={busy && tab !== 'pdf'}>
            Cancel
          </Button>
          <Button variant="primary" type="submit" form={formId} loading={busy}>
            {current.submit}
          </Button>
        </>
      }
    >
      <p className="muted kn-modal-intro">
        The assistant answers visitors only from what you add. Each source is processed in the background; the list shows
        its progress.
      </p>
      <div className="tabs kn-tabs" role="tablist" aria-label="Kind of knowledge" onKeyDown={onTabKey}>
        {TABS.map((t) => (
          <button
            key={t.id}
            id={`${tabIds}-${t.id}`}
            type="button"
            role="tab"
            aria-selected={tab === t.id}
            aria-controls={`${tabIds}-panel`}
            tabIndex={tab === t.id ? 0 : -1}
            disabled={busy && tab !== t.id}
            onClick={() => setTab(t.id)}
          >
            <Icon name={t.icon} size={16} />
            {t.label}
            {t.more && <span className="kn-tab-more">{t.more}</span>}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`${tabIds}-panel`} aria-labelledby={`${tabIds}-${tab}`} key={`${tab}-${generation}`}>
        {tab === 'text' && <TextForm formId={formId} setBusy={setBusy} onCreated={done} />}
        {tab === 'pdf' && <PdfForm formId={formId} setBusy={setBusy} onCreated={done} />}
        {tab === 'website' && <WebsiteForm formId={formId} plan={plan} setBusy={setBusy} onCreated={done} />}
        {tab === 'facebook' && <FacebookForm formId={formId} setBusy={setBusy} onCreated={done} />}
      </div>
    </Modal>
  )
}

interface FormProps {
  formId: string
  setBusy: (b: boolean) => void
  onCreated: (r: Res) => void
}

/** Field errors: the form's own checks, else the server's. */
function useProblems() {
  const [local, setLocal] = useState<FieldErrors>({})
  const [problem, setProblem] = useState<KProblem | null>(null)
  const field = (name: string) => local[name] ?? problem?.fields[name]
  const clear = (name: string) => {
    if (local[name]) setLocal(({ [name]: _gone, ...rest }) => rest)
    if (problem?.fields[name]) setProblem((p) => (p ? { ...p, fields: Object.fromEntries(Object.entries(p.fields).filter(([k]) => k !== name)) } : p))
  }
  return { local, setLocal, problem, setProblem, field, clear }
}

function focusFirstError(form: HTMLFormElement | null) {
  requestAnimationFrame(() => form?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus())
}

function TextForm({ formId, setBusy, onCreated }: FormProps) {
  const [title, setTitle] = useState('')
  const [content, setContent] = useState('')
  const [state, add] = useMutation(KnowledgeAddText)
  const p = useProblems()
  const ref = useRef<HTMLFormElement>(null)
  const bytes = useMemo(() => utf8Bytes(content), [content])
  useEffect(() => setBusy(state.fetching), [state.fetching, setBusy])

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const errs = checkText(title, content)
    p.setLocal(errs)
    p.setProblem(null)
    if (Object.keys(errs).length) return focusFirstError(ref.current)
    const res = await add({ input: { title: title.trim(), content } })
    if (res.error) {
      p.setProblem(describeKnowledgeError(res.error))
      focusFirstError(ref.current)
    } else if (res.data) onCreated(res.data.addText)
  }

  const over = bytes > MAX_TEXT_BYTES
  return (
    <form id={formId} ref={ref} className="stack" onSubmit={submit} noValidate>
      <TextField
        label="Title"
        value={title}
        onChange={(e) => {
          setTitle(e.target.value)
          p.clear('title')
        }}
        error={p.field('title')}
        placeholder="e.g. Shipping and returns policy"
        maxLength={500}
        autoFocus
      />
      <TextArea
        label="Content"
        value={content}
        onChange={(e) => {
          setContent(e.target.value)
          p.clear('content')
        }}
        error={p.field('content')}
        hint={
          <>
            Plain text or Markdown. Start each section with a heading line such as <code># Returns</code>: answers then
            cite the right section.
          </>
        }
        rows={12}
        className="kn-content"
        placeholder={'# Shipping\nOrders leave our warehouse within two working days…'}
      />
      <div className={`kn-counter ${over ? 'over' : ''}`} aria-live="polite">
        {content.length.toLocaleString('en-US')} characters · {formatBytes(bytes)} of 1 MB
      </div>
      <KnowledgeErrorBanner problem={p.problem} shownFields={FORM_FIELDS.text} />
    </form>
  )
}

function PdfForm({ formId, setBusy, onCreated }: FormProps) {
  const [file, setFile] = useState<File | null>(null)
  const [title, setTitle] = useState('')
  const [drag, setDrag] = useState(false)
  const [progress, setProgress] = useState<number | null>(null)
  const [uploading, setUploading] = useState(false)
  const p = useProblems()
  const ref = useRef<HTMLFormElement>(null)
  const input = useRef<HTMLInputElement>(null)
  const abort = useRef<AbortController | null>(null)
  const inputId = useId()
  useEffect(() => setBusy(uploading), [uploading, setBusy])
  useEffect(() => () => abort.current?.abort(), [])

  const choose = async (f: File | null | undefined) => {
    p.setProblem(null)
    if (!f) return
    const err = checkPdfFile(f)
    if (!err) {
      // The server looks for %PDF- in the first 1024 bytes: a renamed file
      // is refused here rather than after its upload.
      try {
        const head = new Uint8Array(await f.slice(0, 1024).arrayBuffer())
        if (!hasPdfHeader(head)) {
          setFile(null)
          p.setLocal({ file: `${f.name} is not a PDF (its content is not PDF, whatever its name).` })
          return
        }
      } catch {
        // Unreadable here: the server decides.
      }
    }
    setFile(err ? null : f)
    p.setLocal(err ? { file: err } : {})
  }

  const onDrop = (e: DragEvent) => {
    e.preventDefault()
    setDrag(false)
    if (uploading) return
    const files = e.dataTransfer.files
    if (files.length > 1) {
      p.setLocal({ file: 'Drop one PDF at a time.' })
      return
    }
    void choose(files[0])
  }

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (uploading) return
    const errs = checkPdf(file, title)
    p.setLocal(errs)
    p.setProblem(null)
    if (Object.keys(errs).length || !file) return focusFirstError(ref.current)
    const ctl = new AbortController()
    abort.current = ctl
    setUploading(true)
    setProgress(0)
    const res = await uploadRequest(KnowledgeUploadPdf, { file, title: title.trim() || undefined }, setProgress, ctl.signal)
    abort.current = null
    setUploading(false)
    setProgress(null)
    if (ctl.signal.aborted) return
    if (res.error) {
      p.setProblem(describeKnowledgeError(res.error))
      focusFirstError(ref.current)
    } else if (res.data) onCreated(res.data.uploadPdf)
  }

  const pct = Math.round((progress ?? 0) * 100)
  return (
    <form id={formId} ref={ref} className="stack" onSubmit={submit} noValidate>
      <div className="field">
        <label htmlFor={inputId}>PDF file</label>
        <div
          className={`kn-drop ${drag ? 'over' : ''} ${p.field('file') ? 'bad' : ''}`}
          onDragOver={(e) => {
            e.preventDefault()
            if (!uploading) setDrag(true)
          }}
          onDragLeave={() => setDrag(false)}
          onDrop={onDrop}
        >
          <input
            ref={input}
            id={inputId}
            type="file"
            accept="application/pdf,.pdf"
            className="sr-only"
            disabled={uploading}
            aria-invalid={p.field('file') ? true : undefined}
            aria-describedby={`${inputId}-help`}
            onChange={(e) => {
              void choose(e.target.files?.[0])
              e.target.value = ''
            }}
          />
          <Icon name="upload" size={26} />
          {file ? (
            <div className="kn-file">
              <strong className="kn-break">{file.name}</strong>
              <span className="muted"> · {formatBytes(file.size)}</span>
            </div>
          ) : (
            <div>Drag a PDF here, or</div>
          )}
          <Button size="small" onClick={() => input.current?.click()} disabled={uploading}>
            {file ? 'Choose another file' : 'Choose a PDF file'}
          </Button>
          <div className="muted small" id={`${inputId}-help`}>
            One PDF, at most 50 MB. Its text is read page by page (scanned images without text cannot be read).
          </div>
        </div>
        {p.field('file') && (
          <div className="error" role="alert">
            {p.field('file')}
          </div>
        )}
      </div>
      <TextField
        label="Title (optional)"
        value={title}
        onChange={(e) => {
          setTitle(e.target.value)
          p.clear('title')
        }}
        error={p.field('title')}
        hint="Leave empty to use the PDF’s own title or file name."
        maxLength={500}
        disabled={uploading}
      />
      {progress !== null && (
        <div className="kn-upload" aria-live="polite">
          <div className="row between">
            <span>{pct < 100 ? `Uploading… ${pct}%` : 'Uploaded. Checking the file…'}</span>
            <Button size="small" variant="ghost" onClick={() => abort.current?.abort()}>
              Cancel upload
            </Button>
          </div>
          <ProgressBar value={progress} label={`Uploading ${file?.name ?? 'the PDF'}`} />
        </div>
      )}
      <KnowledgeErrorBanner problem={p.problem} shownFields={FORM_FIELDS.pdf} />
    </form>
  )
}

function WebsiteForm({ formId, plan, setBusy, onCreated }: FormProps & { plan: string | null | undefined }) {
  const cap = planPageCap(plan)
  const [url, setUrl] = useState('')
  const [maxPages, setMaxPages] = useState(String(Math.min(DEFAULT_MAX_PAGES, cap)))
  const [maxDepth, setMaxDepth] = useState(String(DEFAULT_DEPTH))
  const [render, setRender] = useState(true)
  const [includePaths, setInclude] = useState('')
  const [excludePaths, setExclude] = useState('')
  const [sync, setSync] = useState<SyncIntervalValue>('WEEKLY')
  const [state, add] = useMutation(KnowledgeAddWebsite)
  const p = useProblems()
  const ref = useRef<HTMLFormElement>(null)
  useEffect(() => setBusy(state.fetching), [state.fetching, setBusy])

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const { errors, input } = checkWebsite({ url, maxPages, maxDepth, includePaths, excludePaths }, plan)
    p.setLocal(errors)
    p.setProblem(null)
    if (!input) return focusFirstError(ref.current)
    const res = await add({ input: { ...input, renderJavascript: render, syncInterval: sync } })
    if (res.error) {
      p.setProblem(describeKnowledgeError(res.error))
      focusFirstError(ref.current)
    } else if (res.data) onCreated(res.data.addWebsite)
  }

  const change = (name: string, set: (v: string) => void) => (e: { target: { value: string } }) => {
    set(e.target.value)
    p.clear(name)
  }

  return (
    <form id={formId} ref={ref} className="stack" onSubmit={submit} noValidate>
      <TextField
        label="Start page"
        type="url"
        inputMode="url"
        value={url}
        onChange={change('url', setUrl)}
        error={p.field('url')}
        placeholder="https://help.example.com/"
        hint="Pages of the same site are crawled from here, following links; robots.txt and sitemap.xml are honoured."
        autoFocus
      />
      <div className="grid2">
        <TextField
          label="Most pages"
          type="number"
          inputMode="numeric"
          min={1}
          max={cap}
          value={maxPages}
          onChange={change('maxPages', setMaxPages)}
          error={p.field('maxPages')}
          hint={`Your ${planName(plan)} plan allows up to ${cap.toLocaleString('en-US')} pages per website.`}
        />
        <TextField
          label="Link depth"
          type="number"
          inputMode="numeric"
          min={0}
          max={MAX_DEPTH}
          value={maxDepth}
          onChange={change('maxDepth', setMaxDepth)}
          error={p.field('maxDepth')}
          hint={`How many links away from the start page (0 reads only the start page; at most ${MAX_DEPTH}).`}
        />
      </div>
      <SyncSelect value={sync} onChange={setSync} error={p.field('syncInterval')} what="site is crawled" />
      <Checkbox
        label="Render JavaScript"
        hint="Reads pages whose content is built by scripts. Slower; turn it off for plain sites."
        checked={render}
        onChange={(e) => setRender(e.target.checked)}
      />
      <div className="grid2">
        <TextArea
          label="Only these paths (optional)"
          value={includePaths}
          onChange={change('includePaths', setInclude)}
          error={p.field('includePaths')}
          hint={
            <>
              One pattern a line; <code>*</code> matches anything. E.g. <code>/docs/*</code>, <code>/help/*</code>.
            </>
          }
          placeholder={'/docs/*\n/help/*'}
          rows={3}
          spellCheck={false}
          className="kn-mono"
        />
        <TextArea
          label="Skip these paths (optional)"
          value={excludePaths}
          onChange={change('excludePaths', setExclude)}
          error={p.field('excludePaths')}
          hint={
            <>
              One pattern a line. E.g. <code>/blog/*</code>, <code>/*/print</code>.
            </>
          }
          placeholder={'/blog/*\n/careers/*'}
          rows={3}
          spellCheck={false}
          className="kn-mono"
        />
      </div>
      <KnowledgeErrorBanner problem={p.problem} shownFields={FORM_FIELDS.website} />
    </form>
  )
}

function FacebookForm({ formId, setBusy, onCreated }: FormProps) {
  const [page, setPage] = useState('')
  const [token, setToken] = useState('')
  const [show, setShow] = useState(false)
  const [sync, setSync] = useState<SyncIntervalValue>('WEEKLY')
  const [state, add] = useMutation(KnowledgeAddFacebookPage)
  const p = useProblems()
  const ref = useRef<HTMLFormElement>(null)
  useEffect(() => setBusy(state.fetching), [state.fetching, setBusy])

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const errs = checkFacebook(page, token)
    p.setLocal(errs)
    p.setProblem(null)
    if (Object.keys(errs).length) return focusFirstError(ref.current)
    const res = await add({ input: { page: page.trim(), accessToken: token.trim(), syncInterval: sync } })
    if (res.error) {
      p.setProblem(describeKnowledgeError(res.error))
      focusFirstError(ref.current)
    } else if (res.data) onCreated(res.data.addFacebookPage)
  }

  return (
    <form id={formId} ref={ref} className="stack" onSubmit={submit} noValidate autoComplete="off">
      <TextField
        label="Facebook page"
        value={page}
        onChange={(e) => {
          setPage(e.target.value)
          p.clear('page')
        }}
        error={p.field('page')}
        placeholder="https://www.facebook.com/yourpage"
        hint="The page’s address, its username or its numeric id. Its About information and published posts are read."
        autoFocus
      />
      <div className="kn-secret">
        <TextField
          label="Page access token"
          type={show ? 'text' : 'password'}
          value={token}
          onChange={(e) => {
            setToken(e.target.value)
            p.clear('accessToken')
          }}
          error={p.field('accessToken')}
          autoComplete="new-password"
          spellCheck={false}
          hint="A token of the page allowed to read its posts (pages_read_engagement), from Meta for Developers."
        />
        <Button size="small" variant="ghost" onClick={() => setShow((s) => !s)} aria-pressed={show} aria-label="Show the token">
          {show ? 'Hide' : 'Show'}
        </Button>
      </div>
      <SyncSelect value={sync} onChange={setSync} error={p.field('syncInterval')} what="page is read" />
      <Banner kind="info">
        The token is stored encrypted and is never shown again, to you or anyone. To change it, delete this page and add it
        again.
      </Banner>
      <KnowledgeErrorBanner problem={p.problem} shownFields={FORM_FIELDS.facebook} />
    </form>
  )
}

/** How often a new website or Facebook page is fetched again. */
function SyncSelect({
  value,
  onChange,
  error,
  what,
}: {
  value: SyncIntervalValue
  onChange: (v: SyncIntervalValue) => void
  error?: string
  what: string
}) {
  return (
    <div className="grid2">
      <SelectField
        label="Re-sync"
        value={value}
        onChange={(e) => onChange(e.target.value as SyncIntervalValue)}
        error={error}
        hint={`How often the ${what} again to pick up changes; you can change it later in the list.`}
      >
        {SYNC_OPTIONS.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </SelectField>
    </div>
  )
}
