// API keys (company admins): keys let the company's own systems call the
// API with chosen scopes. A key's secret is shown once, when it is created;
// a revoked key is refused at once.
import { useState, type FormEvent } from 'react'
import { useMutation, useQuery } from 'urql'
import { graphql } from '../../gql'
import type { ApiKeyScope, ApiKeysListQuery } from '../../gql/graphql'
import { describeError, type Problem } from '../../lib/errors'
import { Badge, Banner, Button, Card, ConfirmDialog, CopyButton, Empty, ErrorBanner, Loading, Modal, PageHeader, TextField } from '../../ui'
import { Icon } from '../../ui/icons'
import { useToast } from '../../ui/toast'
import { curlExample, isWriteScope, keyStart, relativeTime, SCOPES, sortScopes, validateNewKey } from './apiKeysLogic'
import './apikeys.css'

const ApiKeysList = graphql(`
  query ApiKeysList {
    apiKeys {
      id
      name
      prefix
      scopes
      createdBy {
        id
        fullName
      }
      lastUsedAt
      revokedAt
      createdAt
    }
  }
`)

const ApiKeysCreate = graphql(`
  mutation ApiKeysCreate($input: CreateAPIKeyInput!) {
    createApiKey(input: $input) {
      apiKey {
        id
        name
        prefix
        scopes
        createdAt
        revokedAt
        lastUsedAt
      }
      secret
    }
  }
`)

const ApiKeysRevoke = graphql(`
  mutation ApiKeysRevoke($id: ID!) {
    revokeApiKey(id: $id) {
      id
      revokedAt
    }
  }
`)

type Key = ApiKeysListQuery['apiKeys'][number]

const SCOPE_LABEL = new Map(SCOPES.map((s) => [s.scope, s]))

function fullDate(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}

export default function ApiKeysPage() {
  const [{ data, error, fetching }, reexecute] = useQuery({ query: ApiKeysList })
  const [creating, setCreating] = useState(false)
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null)
  const [revoking, setRevoking] = useState<Key | null>(null)
  const [revokeState, revoke] = useMutation(ApiKeysRevoke)
  const toast = useToast()
  const refresh = () => reexecute({ requestPolicy: 'network-only' })
  const keys = data?.apiKeys ?? []
  const active = keys.filter((k) => !k.revokedAt).length
  const origin = window.location.origin

  return (
    <div className="ak-page">
      <PageHeader
        title="API keys"
        description="Let your own systems use the API: sync knowledge, read conversations, list your team. Each key carries only the scopes you give it."
        actions={
          <Button variant="primary" onClick={() => setCreating(true)}>
            <Icon name="plus" size={16} /> Create API key
          </Button>
        }
      />
      <Card
        title="Keys"
        description={data ? `${active} active${keys.length > active ? `, ${keys.length - active} revoked` : ''}` : undefined}
        bodyClass=""
      >
        {error && !data ? (
          <div className="card-body">
            <ErrorBanner error={error} onRetry={refresh} />
          </div>
        ) : !data && fetching ? (
          <Loading>Loading keys…</Loading>
        ) : keys.length === 0 ? (
          <Empty
            title="No API keys yet"
            action={
              <Button variant="primary" onClick={() => setCreating(true)}>
                Create your first key
              </Button>
            }
          >
            A key lets a script or another system call the API on your company’s behalf.
          </Empty>
        ) : (
          <div className="table-wrap">
            <table className="table ak-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Scopes</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {keys.map((k) => (
                  <tr key={k.id} className={k.revokedAt ? 'ak-revoked' : undefined}>
                    <td data-label="Name">
                      <div className="ak-name">{k.name}</div>
                      <div className="mono muted small">{keyStart(k.prefix)}</div>
                    </td>
                    <td data-label="Scopes">
                      <div className="ak-scopes">
                        {sortScopes(k.scopes).map((s) => (
                          <Badge key={s} kind={isWriteScope(s) ? 'warn' : 'info'} title={SCOPE_LABEL.get(s)?.description}>
                            {SCOPE_LABEL.get(s)?.label ?? s}
                          </Badge>
                        ))}
                      </div>
                    </td>
                    <td data-label="Created">
                      <div title={fullDate(k.createdAt)}>{relativeTime(k.createdAt)}</div>
                      <div className="muted small">{k.createdBy ? `by ${k.createdBy.fullName}` : 'by a removed member'}</div>
                    </td>
                    <td data-label="Last used">
                      <span title={k.lastUsedAt ? fullDate(k.lastUsedAt) : undefined} className={k.lastUsedAt ? '' : 'muted'}>
                        {relativeTime(k.lastUsedAt)}
                      </span>
                    </td>
                    <td data-label="Status">
                      {k.revokedAt ? (
                        <Badge kind="danger" title={`Revoked ${fullDate(k.revokedAt)}`}>
                          Revoked
                        </Badge>
                      ) : (
                        <Badge kind="ok">Active</Badge>
                      )}
                    </td>
                    <td className="actions">
                      {!k.revokedAt && (
                        <Button size="small" variant="danger-soft" onClick={() => setRevoking(k)} aria-label={`Revoke ${k.name}`}>
                          Revoke
                        </Button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {error && data && (
          <div className="card-body">
            <ErrorBanner error={error} onRetry={refresh} />
          </div>
        )}
      </Card>

      <Card title="Using a key" description="Send it as a bearer token to the GraphQL API, from your server only.">
        <div className="stack">
          <p className="ak-p">
            Every request carries <code>Authorization: Bearer &lt;key&gt;</code> and goes to <code>{origin}/graphql</code>. The
            schema is in the <a href="/graphiql" target="_blank" rel="noreferrer">API explorer</a>. A key acts for your
            company only and only with its scopes; a request beyond them is refused with <code>FORBIDDEN</code>, the
            missing scope named in the error&apos;s <code>extensions.scope</code>.
          </p>
          <div className="ak-code">
            <pre aria-label="Example request">{curlExample(origin, '<key>')}</pre>
          </div>
          <dl className="ak-scope-list">
            {SCOPES.map((s) => (
              <div key={s.scope}>
                <dt>
                  <code>{s.scope}</code>
                </dt>
                <dd>{s.description}</dd>
              </div>
            ))}
          </dl>
        </div>
      </Card>

      <CreateKeyModal
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(name, secret) => {
          setCreating(false)
          setCreated({ name, secret })
          refresh()
        }}
      />

      <Modal
        open={created !== null}
        title="Your new API key"
        onClose={() => setCreated(null)}
        footer={
          <Button variant="primary" onClick={() => setCreated(null)}>
            I have copied the key
          </Button>
        }
      >
        {created && (
          <div className="stack">
            <Banner kind="warn">
              <b>Copy this key now: it is shown only once.</b> It cannot be seen again, not even by you. Store it in your
              server’s secret store; if it is lost, revoke it and create another.
            </Banner>
            <div className="field">
              <label htmlFor="ak-secret">{created.name}</label>
              <div className="ak-secret">
                <input id="ak-secret" className="input mono" readOnly value={created.secret} onFocus={(e) => e.target.select()} />
                <CopyButton text={created.secret} label="Copy key" />
              </div>
            </div>
            <div className="stack tight">
              <div className="small muted">Try it:</div>
              <div className="ak-code ak-secret-code">
                <pre aria-label="Example request with the new key">{curlExample(origin, created.secret)}</pre>
              </div>
            </div>
          </div>
        )}
      </Modal>

      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke “${revoking?.name ?? ''}”?`}
        confirmLabel="Revoke key"
        busy={revokeState.fetching}
        error={revokeState.error}
        onClose={() => setRevoking(null)}
        onConfirm={async () => {
          if (!revoking) return
          const r = await revoke({ id: revoking.id })
          if (r.error) return
          toast(`Revoked “${revoking.name}”`)
          setRevoking(null)
          refresh()
        }}
      >
        <p>
          Requests with this key (<span className="mono">{revoking ? keyStart(revoking.prefix) : ''}</span>) are refused from
          now on. Whatever uses it stops working. This cannot be undone.
        </p>
      </ConfirmDialog>
    </div>
  )
}

function CreateKeyModal({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (name: string, secret: string) => void }) {
  const [name, setName] = useState('')
  const [scopes, setScopes] = useState<ApiKeyScope[]>([])
  const [local, setLocal] = useState<Record<string, string>>({})
  const [problem, setProblem] = useState<Problem | null>(null)
  const [{ fetching }, create] = useMutation(ApiKeysCreate)
  const errors = { ...(problem?.fields ?? {}), ...local }

  const close = () => {
    if (fetching) return
    setName('')
    setScopes([])
    setLocal({})
    setProblem(null)
    onClose()
  }

  const submit = async (e?: FormEvent) => {
    e?.preventDefault()
    const v = validateNewKey(name, scopes)
    setLocal(v)
    if (Object.keys(v).length) return
    setProblem(null)
    const r = await create({ input: { name: name.trim(), scopes: sortScopes(scopes) } })
    if (r.error || !r.data) {
      setProblem(describeError(r.error))
      return
    }
    const made = r.data.createApiKey
    setName('')
    setScopes([])
    setLocal({})
    onCreated(made.apiKey.name, made.secret)
  }

  const toggle = (s: ApiKeyScope, on: boolean) => {
    setScopes((old) => (on ? [...old, s] : old.filter((x) => x !== s)))
    if (local.scopes) setLocal(({ scopes: _gone, ...rest }) => rest)
  }

  return (
    <Modal
      open={open}
      title="Create an API key"
      onClose={close}
      footer={
        <>
          <Button onClick={close} disabled={fetching}>
            Cancel
          </Button>
          <Button variant="primary" loading={fetching} onClick={() => void submit()}>
            Create key
          </Button>
        </>
      }
    >
      <form className="stack" onSubmit={submit} noValidate>
        <ErrorBanner error={problem} shownFields={['name', 'scopes']} />
        <TextField
          label="Name"
          value={name}
          onChange={(e) => {
            setName(e.target.value)
            if (local.name) setLocal(({ name: _gone, ...rest }) => rest)
          }}
          error={errors.name}
          hint="What uses it, so you know what breaks if you revoke it (e.g. “Help center sync”)."
          maxLength={200}
          autoFocus
        />
        <fieldset className="ak-fieldset" aria-describedby={errors.scopes ? 'ak-scopes-error' : undefined}>
          <legend>Scopes</legend>
          <div className="ak-checks">
            {SCOPES.map((s) => (
              <label key={s.scope} className={`ak-check ${scopes.includes(s.scope) ? 'on' : ''}`}>
                <input type="checkbox" checked={scopes.includes(s.scope)} onChange={(e) => toggle(s.scope, e.target.checked)} />
                <span>
                  <span className="ak-check-title">
                    {s.label} <code>{s.scope}</code>
                  </span>
                  <span className="ak-check-desc">{s.description}</span>
                </span>
              </label>
            ))}
          </div>
          {errors.scopes ? (
            <div className="error-text" id="ak-scopes-error">
              {errors.scopes}
            </div>
          ) : (
            <div className="small muted">Give only what the system needs. At least one.</div>
          )}
        </fieldset>
        <button type="submit" hidden />
      </form>
    </Modal>
  )
}
