// The team: who answers the company's visitors, who is online now, and (for
// company admins) adding, changing, deactivating and removing members. The
// list follows the company's events and is read again every 30 seconds, so
// presence stays current.
import { useEffect, useMemo, useState, type FormEvent } from 'react'
import { useMutation, useQuery, type CombinedError } from 'urql'
import { graphql } from '../../gql'
import type { Role, TeamMembersQuery } from '../../gql/graphql'
import { isCompanyAdmin, useViewer } from '../../lib/auth'
import { describeError, type Problem } from '../../lib/errors'
import { useLive, useOnReconnect } from '../../lib/live'
import { passwordOK } from '../../lib/password'
import {
  Badge,
  Button,
  Card,
  Checkbox,
  ConfirmDialog,
  CopyButton,
  Empty,
  ErrorBanner,
  Loading,
  Modal,
  PageHeader,
  SelectField,
  TextField,
} from '../../ui'
import { Icon } from '../../ui/icons'
import { PasswordRules } from '../../ui/PasswordRules'
import { useToast } from '../../ui/toast'
import { Avatar, GuardedButton, MemberStatus, RoleBadge } from './TeamBits'
import { changedFields, filterMembers, formatDate, generatePassword, ROLE_HELP, ROLE_LABEL, selfGuard } from './teamLogic'

const TeamMembers = graphql(`
  query TeamMembers {
    agents(first: 500, orderBy: { field: FULL_NAME, direction: ASC }) {
      totalCount
      edges {
        node {
          id
          email
          fullName
          role
          isActive
          online
          lastSeenAt
          createdAt
        }
      }
    }
  }
`)

const TeamCompanyEvents = graphql(`
  subscription TeamCompanyEvents {
    companyEvents {
      kind
      agentID
    }
  }
`)

const TeamCreateAgent = graphql(`
  mutation TeamCreateAgent($input: CreateAgentInput!) {
    createAgent(input: $input) {
      id
      fullName
      email
      role
    }
  }
`)

const TeamUpdateAgent = graphql(`
  mutation TeamUpdateAgent($id: ID!, $input: UpdateAgentInput!) {
    updateAgent(id: $id, input: $input) {
      id
      email
      fullName
      role
      isActive
      online
      lastSeenAt
      createdAt
    }
  }
`)

const TeamRemoveAgent = graphql(`
  mutation TeamRemoveAgent($id: ID!) {
    removeAgent(id: $id)
  }
`)

type Member = NonNullable<NonNullable<NonNullable<TeamMembersQuery['agents']['edges']>[number]>['node']>

const REFRESH_MS = 30_000
const MEMBER_FIELDS = ['email', 'password', 'fullName', 'role']

export default function TeamPage() {
  const viewer = useViewer()
  const admin = isCompanyAdmin(viewer)
  const me = viewer.user?.id
  const toast = useToast()
  const [{ data, error, fetching }, reexecute] = useQuery({ query: TeamMembers })
  const refetch = () => reexecute({ requestPolicy: 'network-only' })
  const [now, setNow] = useState(() => Date.now())

  // Presence changes without an event: read the list again now and then
  // (not while the tab is hidden), and at once on a team change.
  useEffect(() => {
    const t = setInterval(() => {
      setNow(Date.now())
      if (!document.hidden) reexecute({ requestPolicy: 'network-only' })
    }, REFRESH_MS)
    return () => clearInterval(t)
  }, [reexecute])
  useLive(TeamCompanyEvents, {}, (d) => {
    if (d.companyEvents.kind !== 'COMPANY_UPDATED') refetch()
  })
  useOnReconnect(refetch)

  const [query, setQuery] = useState('')
  const [adding, setAdding] = useState(false)
  const [editing, setEditing] = useState<Member | null>(null)
  const [deactivating, setDeactivating] = useState<Member | null>(null)
  const [removing, setRemoving] = useState<Member | null>(null)
  const [{ fetching: updating }, updateAgent] = useMutation(TeamUpdateAgent)
  const [{ fetching: deleting }, removeAgent] = useMutation(TeamRemoveAgent)
  const [actionError, setActionError] = useState<CombinedError | null>(null)

  const members = useMemo(() => (data?.agents.edges ?? []).flatMap((e) => (e?.node ? [e.node] : [])), [data])
  const shown = useMemo(() => filterMembers(members, query), [members, query])
  const online = members.filter((m) => m.online && m.isActive).length
  const total = data?.agents.totalCount ?? 0

  const setActive = async (m: Member, isActive: boolean) => {
    setActionError(null)
    const r = await updateAgent({ id: m.id, input: { isActive } })
    if (r.error) {
      if (isActive) toast(describeError(r.error).message, 'error')
      else setActionError(r.error)
      return
    }
    setDeactivating(null)
    toast(isActive ? `${m.fullName} can sign in again.` : `${m.fullName} is deactivated and signed out.`)
    refetch()
  }

  const remove = async (m: Member) => {
    setActionError(null)
    const r = await removeAgent({ id: m.id })
    if (r.error) {
      setActionError(r.error)
      return
    }
    setRemoving(null)
    toast(`${m.fullName} was removed from the team.`)
    refetch()
  }

  const description = admin
    ? 'The people who answer your visitors. Add agents, change their role, or deactivate someone who left.'
    : 'The people who answer your visitors, and who is online now.'

  return (
    <>
      <PageHeader
        title="Team"
        description={description}
        actions={
          admin && (
            <Button variant="primary" onClick={() => setAdding(true)}>
              <Icon name="plus" size={16} /> Add agent
            </Button>
          )
        }
      />
      {error && !data && <ErrorBanner error={error} onRetry={refetch} />}
      {!data && fetching && <Loading>Loading the team…</Loading>}
      {data && (
        <Card bodyClass="">
          <div className="tm-toolbar">
            <div className="search">
              <label htmlFor="team-search" className="sr-only">
                Search the team
              </label>
              <input
                id="team-search"
                className="input"
                type="search"
                placeholder="Search by name or email"
                value={query}
                onChange={(e) => setQuery(e.target.value)}
              />
            </div>
            <div className="summary" aria-live="polite">
              <span className="tm-presence on" style={{ marginRight: 12 }}>
                <span className="dot on" aria-hidden /> {online} online
              </span>
              {total} {total === 1 ? 'member' : 'members'}
            </div>
          </div>
          {error && <div style={{ padding: '12px 16px 0' }}><ErrorBanner error={error} onRetry={refetch} /></div>}
          {shown.length === 0 ? (
            query ? (
              <Empty title="Nobody matches" action={<Button onClick={() => setQuery('')}>Clear the search</Button>}>
                No member's name or email contains “{query.trim()}”.
              </Empty>
            ) : (
              <Empty title="No team members yet" action={admin && <Button variant="primary" onClick={() => setAdding(true)}>Add agent</Button>}>
                Add the people who answer your visitors when the assistant hands a conversation over.
              </Empty>
            )
          ) : (
            <div className="table-wrap">
              <table className="table tm-table">
                <thead>
                  <tr>
                    <th scope="col">Member</th>
                    <th scope="col">Role</th>
                    <th scope="col">Status</th>
                    <th scope="col">Added</th>
                    {admin && (
                      <th scope="col">
                        <span className="sr-only">Actions</span>
                      </th>
                    )}
                  </tr>
                </thead>
                <tbody>
                  {shown.map((m) => (
                    <tr key={m.id} className={m.isActive ? '' : 'tm-row-off'}>
                      <td className="c-main">
                        <div className="tm-member">
                          <Avatar name={m.fullName} />
                          <div className="who">
                            <div className="name">
                              {m.fullName}
                              {m.id === me && <Badge>You</Badge>}
                            </div>
                            <div className="email">{m.email}</div>
                          </div>
                        </div>
                      </td>
                      <td>
                        <RoleBadge role={m.role} />
                      </td>
                      <td>
                        <MemberStatus member={m} now={now} />
                      </td>
                      <td className="c-added nowrap muted" data-label="Added">
                        {formatDate(m.createdAt)}
                      </td>
                      {admin && (
                        <td className="actions">
                          <div className="tm-actions">
                            <Button size="small" onClick={() => setEditing(m)} aria-label={`Edit ${m.fullName}`}>
                              Edit
                            </Button>
                            {m.isActive ? (
                              <GuardedButton
                                reason={selfGuard('deactivate', m.id, me)}
                                label={`Deactivate ${m.fullName}`}
                                onClick={() => {
                                  setActionError(null)
                                  setDeactivating(m)
                                }}
                              >
                                Deactivate
                              </GuardedButton>
                            ) : (
                              <Button size="small" variant="ghost" onClick={() => void setActive(m, true)} aria-label={`Reactivate ${m.fullName}`} disabled={updating}>
                                Reactivate
                              </Button>
                            )}
                            <GuardedButton
                              reason={selfGuard('remove', m.id, me)}
                              label={`Remove ${m.fullName}`}
                              onClick={() => {
                                setActionError(null)
                                setRemoving(m)
                              }}
                            >
                              <span className="tm-danger">Remove</span>
                            </GuardedButton>
                          </div>
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {!admin && <div className="tm-note">Only company admins can add or change team members.</div>}
          {total > members.length && (
            <div className="tm-note">
              Showing the first {members.length} of {total} members (search works within them).
            </div>
          )}
        </Card>
      )}

      {admin && <AddMemberModal open={adding} onClose={() => setAdding(false)} onAdded={refetch} />}
      {admin && editing && (
        <EditMemberModal
          key={editing.id}
          member={editing}
          isSelf={editing.id === me}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null)
            refetch()
          }}
        />
      )}
      <ConfirmDialog
        open={!!deactivating}
        title={`Deactivate ${deactivating?.fullName ?? ''}?`}
        confirmLabel="Deactivate"
        busy={updating}
        error={actionError}
        onClose={() => setDeactivating(null)}
        onConfirm={() => deactivating && void setActive(deactivating, false)}
      >
        <p>
          They are signed out at once and can't sign in until you reactivate them. They get no new conversations.
        </p>
        <p className="muted" style={{ margin: 0 }}>
          Their conversations and messages stay as they are. You can reactivate them at any time.
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={!!removing}
        title={`Remove ${removing?.fullName ?? ''} from the team?`}
        confirmLabel="Remove"
        busy={deleting}
        error={actionError}
        onClose={() => setRemoving(null)}
        onConfirm={() => removing && void remove(removing)}
      >
        <p>
          <b>{removing?.email}</b> can no longer sign in, and the account is deleted. This can't be undone.
        </p>
        <p className="muted" style={{ margin: 0 }}>
          The conversations they answered stay, with their messages (shown without a name). To keep the account for later,
          deactivate it instead.
        </p>
      </ConfirmDialog>
    </>
  )
}

/** Password input with "Generate" and "Show" buttons, and the rules as one types. */
function PasswordInput({
  label,
  value,
  onChange,
  error,
  autoFocus,
  hint,
}: {
  label: string
  value: string
  onChange: (v: string) => void
  error?: string
  autoFocus?: boolean
  hint?: string
}) {
  const [visible, setVisible] = useState(false)
  return (
    <div className="stack tight">
      <TextField
        label={label}
        type={visible ? 'text' : 'password'}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        error={error}
        hint={hint}
        autoComplete="new-password"
        autoFocus={autoFocus}
        spellCheck={false}
        aria-describedby="tm-pw-rules"
        required
      />
      <div className="tm-pw-tools">
        <Button
          size="small"
          onClick={() => {
            onChange(generatePassword())
            setVisible(true)
          }}
        >
          Generate a password
        </Button>
        <Button size="small" variant="ghost" onClick={() => setVisible((v) => !v)} aria-pressed={visible}>
          {visible ? 'Hide' : 'Show'}
        </Button>
        {value && <CopyButton size="small" text={value} label="Copy" />}
      </div>
      <PasswordRules id="tm-pw-rules" password={value} />
    </div>
  )
}

function RoleSelect({
  value,
  onChange,
  error,
  disabledReason,
}: {
  value: Role
  onChange: (r: Role) => void
  error?: string
  disabledReason?: string | null
}) {
  return (
    <SelectField
      label="Role"
      value={value}
      onChange={(e) => onChange(e.target.value as Role)}
      error={error}
      disabled={!!disabledReason}
      hint={disabledReason ?? ROLE_HELP[value]}
    >
      <option value="AGENT">{ROLE_LABEL.AGENT}</option>
      <option value="COMPANY_ADMIN">{ROLE_LABEL.COMPANY_ADMIN}</option>
    </SelectField>
  )
}

function AddMemberModal({ open, onClose, onAdded }: { open: boolean; onClose: () => void; onAdded: () => void }) {
  const empty = { fullName: '', email: '', password: '', role: 'AGENT' as Role }
  const [f, setF] = useState(empty)
  const [problem, setProblem] = useState<Problem | null>(null)
  const [added, setAdded] = useState<{ fullName: string; email: string; password: string; role: Role } | null>(null)
  const [{ fetching }, createAgent] = useMutation(TeamCreateAgent)
  const ready = f.fullName.trim() && f.email.trim() && passwordOK(f.password)

  const reset = () => {
    setF(empty)
    setProblem(null)
    setAdded(null)
  }
  const close = () => {
    reset()
    onClose()
  }

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (!ready) return
    setProblem(null)
    const r = await createAgent({ input: { fullName: f.fullName.trim(), email: f.email.trim(), password: f.password, role: f.role } })
    if (r.error || !r.data) {
      setProblem(describeError(r.error))
      return
    }
    const u = r.data.createAgent
    setAdded({ fullName: u.fullName, email: u.email, password: f.password, role: u.role })
    onAdded()
  }

  const fe = problem?.fields ?? {}
  const signInURL = `${window.location.origin}/login`
  if (added) {
    return (
      <Modal
        open={open}
        title={`${added.fullName} is on the team`}
        onClose={close}
        footer={
          <>
            <Button onClick={reset}>Add another</Button>
            <Button variant="primary" onClick={close} autoFocus>
              Done
            </Button>
          </>
        }
      >
        <div className="tm-done">
          <p style={{ margin: 0 }}>
            They can sign in now as {added.role === 'COMPANY_ADMIN' ? 'a company admin' : 'an agent'}. Send them these details
            in a safe way; the password is not shown again.
          </p>
          <dl className="tm-creds">
            <dt>Sign in at</dt>
            <dd>{signInURL}</dd>
            <dt>Email</dt>
            <dd>{added.email}</dd>
            <dt>Password</dt>
            <dd className="mono">{added.password}</dd>
          </dl>
          <div>
            <CopyButton
              text={`Sign in to Concierge at ${signInURL}\nEmail: ${added.email}\nPassword: ${added.password}`}
              label="Copy the sign-in details"
            />
          </div>
        </div>
      </Modal>
    )
  }
  return (
    <Modal
      open={open}
      title="Add a team member"
      onClose={close}
      footer={
        <>
          <Button onClick={close} disabled={fetching}>
            Cancel
          </Button>
          <Button variant="primary" type="submit" form="tm-add-form" loading={fetching} disabled={!ready}>
            {f.role === 'COMPANY_ADMIN' ? 'Add company admin' : 'Add agent'}
          </Button>
        </>
      }
    >
      <form id="tm-add-form" className="stack" onSubmit={submit} noValidate>
        <ErrorBanner error={problem} shownFields={MEMBER_FIELDS} />
        <TextField
          label="Full name"
          value={f.fullName}
          onChange={(e) => setF({ ...f, fullName: e.target.value })}
          error={fe.fullName}
          autoComplete="off"
          autoFocus
          required
        />
        <TextField
          label="Email"
          type="email"
          value={f.email}
          onChange={(e) => setF({ ...f, email: e.target.value })}
          error={fe.email}
          hint="They sign in with it."
          autoComplete="off"
          required
        />
        <PasswordInput label="Password" value={f.password} onChange={(password) => setF({ ...f, password })} error={fe.password} />
        <RoleSelect value={f.role} onChange={(role) => setF({ ...f, role })} error={fe.role} />
      </form>
    </Modal>
  )
}

function EditMemberModal({
  member,
  isSelf,
  onClose,
  onSaved,
}: {
  member: Member
  isSelf: boolean
  onClose: () => void
  onSaved: () => void
}) {
  const toast = useToast()
  const [f, setF] = useState({ fullName: member.fullName, email: member.email, role: member.role, password: '' })
  const [resetting, setResetting] = useState(false)
  const [problem, setProblem] = useState<Problem | null>(null)
  const [{ fetching }, updateAgent] = useMutation(TeamUpdateAgent)
  const draft = { ...f, password: resetting ? f.password : '' }
  const changes = changedFields(member, draft)
  const ready = Object.keys(changes).length > 0 && f.fullName.trim() && f.email.trim() && (!resetting || passwordOK(f.password))
  const roleGuard = selfGuard('role', member.id, isSelf ? member.id : undefined)

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (!ready) return
    setProblem(null)
    const r = await updateAgent({ id: member.id, input: changes })
    if (r.error) {
      setProblem(describeError(r.error))
      return
    }
    toast(changes.password ? `Saved. ${isSelf ? 'You are' : `${member.fullName} is`} signed out everywhere; sign in with the new password.` : 'Saved.')
    onSaved()
  }

  const fe = problem?.fields ?? {}
  return (
    <Modal
      open
      title={`Edit ${member.fullName}`}
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose} disabled={fetching}>
            Cancel
          </Button>
          <Button variant="primary" type="submit" form="tm-edit-form" loading={fetching} disabled={!ready}>
            Save changes
          </Button>
        </>
      }
    >
      <form id="tm-edit-form" className="stack" onSubmit={submit} noValidate>
        <ErrorBanner error={problem} shownFields={MEMBER_FIELDS} />
        <TextField label="Full name" value={f.fullName} onChange={(e) => setF({ ...f, fullName: e.target.value })} error={fe.fullName} required />
        <TextField
          label="Email"
          type="email"
          value={f.email}
          onChange={(e) => setF({ ...f, email: e.target.value })}
          error={fe.email}
          hint={isSelf ? 'You sign in with it.' : 'They sign in with it.'}
          required
        />
        <RoleSelect value={f.role} onChange={(role) => setF({ ...f, role })} error={fe.role} disabledReason={roleGuard} />
        <Checkbox
          label="Set a new password"
          hint={
            isSelf
              ? 'You will be signed out everywhere, here too, and sign in again with it.'
              : 'For a forgotten password. They are signed out everywhere and sign in with the new one.'
          }
          checked={resetting}
          onChange={(e) => setResetting(e.target.checked)}
        />
        {resetting && (
          <PasswordInput label="New password" value={f.password} onChange={(password) => setF({ ...f, password })} error={fe.password} autoFocus />
        )}
        {!resetting && fe.password && <div className="error-text">{fe.password}</div>}
      </form>
    </Modal>
  )
}
