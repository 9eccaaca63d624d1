// Security: which sites may embed the widget, and identity verification
// (visitors prove who they are with an HMAC of their id made by the
// company's server), with the identity secret revealed, copied or rotated.
import { useMemo, useState, type FormEvent } from 'react'
import { useMutation } from 'urql'
import { Banner, Button, Card, ConfirmDialog, CopyButton, ErrorBanner, Segmented } from '../../ui'
import { useToast } from '../../ui/toast'
import { SettingsRotateIdentitySecret } from './documents'
import { addOrigin, changedFields, isDirty, maskSecret } from './settingsLogic'
import { CodeBlock, SaveBar, Toggle, useCompanySave, useForm, useSettings, type SettingsCompany } from './SettingsBits'

interface SecurityForm extends Record<string, unknown> {
  allowedOrigins: string[]
  requireIdentity: boolean
}

function toForm(c: SettingsCompany): SecurityForm {
  return { allowedOrigins: c.allowedOrigins ?? [], requireIdentity: c.requireIdentity }
}

type Lang = 'node' | 'python' | 'php' | 'go'

const LANG_LABEL: Record<Lang, string> = { node: 'Node.js', python: 'Python', php: 'PHP', go: 'Go' }

const SAMPLES: Record<Lang, string> = {
  node: `import { createHmac } from 'node:crypto'

const userHash = createHmac('sha256', process.env.CONCIERGE_IDENTITY_SECRET)
  .update(String(user.id))
  .digest('hex')`,
  python: `import hmac, hashlib, os

user_hash = hmac.new(
    os.environ["CONCIERGE_IDENTITY_SECRET"].encode(),
    str(user.id).encode(),
    hashlib.sha256,
).hexdigest()`,
  php: `<?php
$userHash = hash_hmac('sha256', (string) $user->id, getenv('CONCIERGE_IDENTITY_SECRET'));`,
  go: `mac := hmac.New(sha256.New, []byte(os.Getenv("CONCIERGE_IDENTITY_SECRET")))
mac.Write([]byte(userID))
userHash := hex.EncodeToString(mac.Sum(nil))`,
}

export function SecurityTab() {
  const { company } = useSettings()
  const saved = useMemo(() => toForm(company), [company])
  const form = useForm(saved, (a, b) => !isDirty(a, b))
  const { save, saving, problem, clearFieldError } = useCompanySave()
  const [draft, setDraft] = useState('')
  const [draftError, setDraftError] = useState<string | null>(null)
  const [lang, setLang] = useState<Lang>('node')
  const v = form.values
  const origin = window.location.origin

  const add = () => {
    const r = addOrigin(v.allowedOrigins, draft)
    if (r.error) {
      setDraftError(r.error)
      return
    }
    form.set('allowedOrigins', r.list)
    setDraft('')
    setDraftError(null)
  }

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    // A typed but not added origin is probably meant to be added.
    let origins = v.allowedOrigins
    if (draft.trim()) {
      const r = addOrigin(origins, draft)
      if (r.error) {
        setDraftError(r.error)
        return
      }
      origins = r.list
      setDraft('')
    }
    const patch = changedFields(form.base, { allowedOrigins: origins, requireIdentity: v.requireIdentity })
    if (!Object.keys(patch).length) {
      form.set('allowedOrigins', origins)
      return
    }
    const c = await save(patch, { message: 'Security settings saved' })
    if (c) form.commit(toForm(c))
  }

  const missingOwn = v.allowedOrigins.length > 0 && !v.allowedOrigins.includes(origin)
  const snippet = `<script src="${origin}/widget.js"
  data-company-key="${company.widgetKey}"
  data-external-id="USER_ID"
  data-user-hash="USER_HASH"
  async></script>`

  return (
    <form className="st-form st-narrow" onSubmit={submit} noValidate>
      <ErrorBanner error={problem} shownFields={['allowedOrigins']} />
      <Card
        title="Allowed origins"
        description="Sites (scheme://host[:port]) that may embed your widget. Visitors on any other site are refused."
      >
        <div className="stack">
          {v.allowedOrigins.length === 0 ? (
            <Banner kind="info">The list is empty: any site may use your widget.</Banner>
          ) : (
            <ul className="st-origins" aria-label="Allowed origins">
              {v.allowedOrigins.map((o) => (
                <li key={o}>
                  <span className="mono">{o}</span>
                  <Button
                    size="small"
                    variant="ghost"
                    aria-label={`Remove ${o}`}
                    onClick={() => form.set('allowedOrigins', v.allowedOrigins.filter((x) => x !== o))}
                  >
                    Remove
                  </Button>
                </li>
              ))}
            </ul>
          )}
          <div className="field">
            <label htmlFor="st-origin-new">Add an origin</label>
            <div className="st-add">
              <input
                id="st-origin-new"
                className="input"
                placeholder="https://www.example.com"
                value={draft}
                spellCheck={false}
                autoCapitalize="off"
                aria-invalid={draftError ? true : undefined}
                aria-describedby="st-origin-help"
                onChange={(e) => {
                  setDraft(e.target.value)
                  setDraftError(null)
                  clearFieldError('allowedOrigins')
                }}
                onKeyDown={(e) => {
                  if (e.key === 'Enter') {
                    e.preventDefault()
                    add()
                  }
                }}
              />
              <Button onClick={add} disabled={!draft.trim()}>
                Add
              </Button>
            </div>
            {draftError || problem?.fields.allowedOrigins ? (
              <div className="error" id="st-origin-help">
                {draftError ?? problem?.fields.allowedOrigins}
              </div>
            ) : (
              <div className="hint" id="st-origin-help">
                Scheme and host, and the port if it is not the usual one; no path. www.example.com and example.com are different
                origins.
              </div>
            )}
          </div>
          {missingOwn && (
            <Banner kind="warn">
              The test page runs on <span className="mono">{origin}</span>, which is not in the list: the widget is refused there.{' '}
              <button type="button" className="st-linkbtn" onClick={() => form.set('allowedOrigins', [...v.allowedOrigins, origin])}>
                Add it
              </button>
            </Banner>
          )}
        </div>
      </Card>

      <Card title="Identity verification" description="Visitors signed in on your site can prove who they are, so their conversations follow them.">
        <div className="stack loose">
          <Toggle
            label="Require identity verification"
            checked={v.requireIdentity}
            onChange={(on) => form.set('requireIdentity', on)}
            hint={
              v.requireIdentity
                ? 'On: only visitors your site has signed in can chat. The widget asks the others to sign in.'
                : 'Off: anyone can chat. Visitors who send an id with a valid hash are still recognised and resume their conversation.'
            }
          />
          <IdentitySecret secret={company.identitySecret ?? null} />
          <div className="st-explain">
            <h3>How it works</h3>
            <p>
              For a signed-in user, your <b>server</b> computes <code>userHash = hex(HMAC-SHA256(identitySecret, externalId))</code>,
              where <code>externalId</code> is the user’s id in your system, and your page gives both to the widget. Never put the
              secret in the page.
            </p>
            <Segmented<Lang>
              label="Language of the example"
              value={lang}
              onChange={setLang}
              options={[
                { value: 'node', label: 'Node.js' },
                { value: 'python', label: 'Python' },
                { value: 'php', label: 'PHP' },
                { value: 'go', label: 'Go' },
              ]}
            />
            <CodeBlock label={`Server side (${LANG_LABEL[lang]})`} code={SAMPLES[lang]} copyLabel="Copy code" />
            <CodeBlock label="In the page, for a signed-in user" code={snippet} copyLabel="Copy snippet" />
          </div>
        </div>
      </Card>
      <div className="card st-savecard">
        <SaveBar
          dirty={form.dirty || !!draft.trim()}
          saving={saving}
          onDiscard={() => {
            form.reset()
            setDraft('')
            setDraftError(null)
          }}
        />
      </div>
    </form>
  )
}

function IdentitySecret({ secret }: { secret: string | null }) {
  const [shown, setShown] = useState(false)
  const [asking, setAsking] = useState(false)
  const [{ fetching, error }, rotate] = useMutation(SettingsRotateIdentitySecret)
  const toast = useToast()
  return (
    <div className="field">
      <span className="label" id="st-secret-label">
        Identity secret
      </span>
      <div>
        {secret ? (
          <div className="st-secret">
            <code className="st-secret-value" aria-label={shown ? 'Identity secret' : 'Identity secret (hidden)'}>
              {shown ? secret : maskSecret(secret)}
            </code>
            <div className="row">
              <Button size="small" onClick={() => setShown((s) => !s)} aria-pressed={shown}>
                {shown ? 'Hide' : 'Reveal'}
              </Button>
              <CopyButton text={secret} size="small" />
              <Button size="small" variant="danger-soft" onClick={() => setAsking(true)}>
                Rotate…
              </Button>
            </div>
          </div>
        ) : (
          <p className="muted">The secret is not available.</p>
        )}
      </div>
      <div className="hint">The key your server signs visitors’ ids with. Keep it on your server only.</div>
      <ConfirmDialog
        open={asking}
        title="Rotate the identity secret?"
        confirmLabel="Rotate the secret"
        busy={fetching}
        error={error}
        onClose={() => setAsking(false)}
        onConfirm={async () => {
          const r = await rotate({})
          if (r.error) return
          setAsking(false)
          setShown(true)
          toast('New identity secret created. Update it on your server.')
        }}
      >
        <p>A new secret replaces this one at once.</p>
        <p>
          <b>Hashes made with the old secret stop verifying immediately:</b> signed-in visitors cannot start or resume a
          verified chat until your server uses the new secret.
        </p>
      </ConfirmDialog>
    </div>
  )
}
