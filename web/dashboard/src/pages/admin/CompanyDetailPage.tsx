// Super admin: one company. Its profile and widget, its plan (changed
// here), deactivation and reactivation, its team, how much knowledge and
// how many conversations it has, its last 30 days in figures, and deleting
// it with everything it holds (the name typed to confirm).
import { useState, type ReactNode } from 'react'
import { Link, useLocation, useNavigate, useParams } from 'react-router'
import { useMutation, useQuery } from 'urql'
import { graphql } from '../../gql'
import type { CompanyDetailQuery, SubscriptionPlan } from '../../gql/graphql'
import { describeError } from '../../lib/errors'
import { useLive, useOnReconnect } from '../../lib/live'
import { Button, Card, ConfirmDialog, CopyButton, Empty, ErrorBanner, Loading, Modal, SelectField, TypeToConfirm } from '../../ui'
import { useToast } from '../../ui/toast'
import { StatCards } from '../analytics/AnalyticsSummary'
import { Avatar, MemberStatus, RoleBadge, StatusBadge } from '../team/TeamBits'
import { formatDate, formatDateTime } from '../team/teamLogic'
import { confirmsName, PLAN_OPTIONS } from './adminLogic'
import { CompanyMark, PlanBadge } from './CompanyBits'
import '../team/team.css'
import './companies.css'

const CompanyDetail = graphql(`
  query CompanyDetail($id: ID!) {
    company(id: $id) {
      id
      name
      slug
      email
      phone
      website
      logoURL
      subscriptionPlan
      isActive
      deactivatedAt
      widgetKey
      brandColor
      assistantName
      requireIdentity
      autoHandoff
      allowedOrigins
      createdAt
      updatedAt
    }
    agents(first: 100, where: { companyID: $id }, orderBy: { field: FULL_NAME, direction: ASC }) {
      totalCount
      edges {
        node {
          id
          fullName
          email
          role
          isActive
          online
          lastSeenAt
          createdAt
        }
      }
    }
    resources: resources(first: 0, where: { companyID: $id }) {
      totalCount
    }
    readyResources: resources(first: 0, where: { companyID: $id, status: COMPLETED }) {
      totalCount
    }
    failedResources: resources(first: 0, where: { companyID: $id, status: FAILED }) {
      totalCount
    }
    conversations: conversations(first: 0, where: { companyID: $id }) {
      totalCount
    }
    waiting: conversations(first: 0, where: { companyID: $id, status: WAITING_HUMAN }) {
      totalCount
    }
    analytics(companyId: $id) {
      conversations
      messages
      visitorMessages
      botResolvedRate
      handoffRate
      medianFirstResponseSeconds
      medianBotFirstResponseSeconds
      medianHumanFirstResponseSeconds
      csatAverage
      ratings
    }
  }
`)

const CompanyDetailEvents = graphql(`
  subscription CompanyDetailEvents($companyId: ID) {
    companyEvents(companyId: $companyId) {
      kind
    }
  }
`)

const CompanyDetailSetPlan = graphql(`
  mutation CompanyDetailSetPlan($id: ID!, $plan: SubscriptionPlan!) {
    updateCompany(id: $id, input: { subscriptionPlan: $plan }) {
      id
      subscriptionPlan
      updatedAt
    }
  }
`)

const CompanyDetailDeactivate = graphql(`
  mutation CompanyDetailDeactivate($id: ID!) {
    deactivateCompany(id: $id) {
      id
      isActive
      deactivatedAt
    }
  }
`)

const CompanyDetailActivate = graphql(`
  mutation CompanyDetailActivate($id: ID!) {
    activateCompany(id: $id) {
      id
      isActive
      deactivatedAt
    }
  }
`)

const CompanyDetailDelete = graphql(`
  mutation CompanyDetailDelete($id: ID!) {
    deleteCompany(id: $id)
  }
`)

type Company = NonNullable<CompanyDetailQuery['company']>

const nf = new Intl.NumberFormat()

export default function CompanyDetailPage() {
  const { id = '' } = useParams()
  const [{ data, error, fetching }, reexecute] = useQuery({ query: CompanyDetail, variables: { id } })
  const refetch = () => reexecute({ requestPolicy: 'network-only' })
  useLive(CompanyDetailEvents, { companyId: id }, () => refetch(), { pause: !data?.company })
  useOnReconnect(refetch)

  if (!data && fetching) return <Loading>Loading the company…</Loading>
  if (!data) {
    return (
      <>
        <BackLink />
        <ErrorBanner error={error} onRetry={refetch} />
      </>
    )
  }
  if (!data.company) {
    return (
      <>
        <BackLink />
        <Card>
          <Empty title="This company does not exist" action={<Link className="btn" to="/admin/companies">See all companies</Link>}>
            It may have been deleted.
          </Empty>
        </Card>
      </>
    )
  }
  return <Detail data={data} company={data.company} refetch={refetch} />
}

function BackLink() {
  const state = useLocation().state as { back?: string } | null
  const to = state?.back?.startsWith('/admin/companies') ? state.back : '/admin/companies'
  return (
    <div style={{ marginBottom: 10 }}>
      <Link to={to} className="small">
        ← Companies
      </Link>
    </div>
  )
}

function Detail({ data, company: c, refetch }: { data: CompanyDetailQuery; company: Company; refetch: () => void }) {
  const toast = useToast()
  const navigate = useNavigate()
  const [confirmDeactivate, setConfirmDeactivate] = useState(false)
  const [deleting, setDeleting] = useState(false)
  const [deactivateState, deactivate] = useMutation(CompanyDetailDeactivate)
  const [activateState, activate] = useMutation(CompanyDetailActivate)
  const members = (data.agents.edges ?? []).flatMap((e) => (e?.node ? [e.node] : []))
  const online = members.filter((m) => m.online && m.isActive).length
  const activeMembers = members.filter((m) => m.isActive).length

  const doDeactivate = async () => {
    const r = await deactivate({ id: c.id })
    if (r.error) return
    setConfirmDeactivate(false)
    toast(`${c.name} is deactivated. Its users are signed out.`)
    refetch()
  }
  const doActivate = async () => {
    const r = await activate({ id: c.id })
    if (r.error) {
      toast(describeError(r.error).message, 'error')
      return
    }
    toast(`${c.name} is active again.`)
    refetch()
  }

  return (
    <>
      <BackLink />
      <div className="page-head">
        <div className="co-head">
          <CompanyMark name={c.name} logoURL={c.logoURL} big />
          <div style={{ minWidth: 0 }}>
            <h1>{c.name}</h1>
            <div className="badges">
              <PlanBadge plan={c.subscriptionPlan} />
              <StatusBadge active={c.isActive} />
              <span className="muted small">Since {formatDate(c.createdAt)}</span>
            </div>
          </div>
        </div>
        <div className="row">
          <Link className="btn" to={`/admin/analytics?company=${c.id}`}>
            Analytics
          </Link>
          <Link className="btn" to={`/admin/resources?company=${encodeURIComponent(c.name)}`}>
            Knowledge
          </Link>
        </div>
      </div>

      {!c.isActive && (
        <div style={{ marginBottom: 16 }}>
          <Notice>
            Deactivated {c.deactivatedAt ? `on ${formatDateTime(c.deactivatedAt)}` : ''}: its users cannot sign in, its widget does not
            answer and its API keys are refused. Nothing is deleted.
          </Notice>
        </div>
      )}

      <div className="co-counts">
        <div className="card stat co-count">
          <div className="k">Team</div>
          <div className="v">{nf.format(data.agents.totalCount)}</div>
          <div className="d">
            {activeMembers} active · {online} online now
          </div>
        </div>
        <div className="card stat co-count">
          <div className="k">Knowledge</div>
          <div className="v">{nf.format(data.resources.totalCount)}</div>
          <div className="d">
            {data.resources.totalCount === 1 ? 'resource' : 'resources'}, {nf.format(data.readyResources.totalCount)} ready
            {data.failedResources.totalCount > 0 && ` · ${nf.format(data.failedResources.totalCount)} failed`}
          </div>
        </div>
        <div className="card stat co-count">
          <div className="k">Conversations</div>
          <div className="v">{nf.format(data.conversations.totalCount)}</div>
          <div className="d">{nf.format(data.waiting.totalCount)} waiting for a person</div>
        </div>
      </div>

      <div className="co-grid">
        <Card title="Profile">
          <dl className="co-dl">
            <dt>Slug</dt>
            <dd className="mono">{c.slug}</dd>
            <dt>Contact email</dt>
            <dd>
              <a href={`mailto:${c.email}`}>{c.email}</a>
            </dd>
            <dt>Phone</dt>
            <dd>{c.phone || <span className="muted">—</span>}</dd>
            <dt>Website</dt>
            <dd>
              {c.website ? (
                <a href={c.website} target="_blank" rel="noreferrer">
                  {c.website}
                </a>
              ) : (
                <span className="muted">—</span>
              )}
            </dd>
            <dt>Widget key</dt>
            <dd>
              <div className="row">
                <span className="mono">{c.widgetKey}</span>
                <CopyButton size="small" text={c.widgetKey} />
              </div>
            </dd>
            <dt>Assistant</dt>
            <dd>
              {c.assistantName} · <span className="co-swatch" style={{ background: c.brandColor }} aria-hidden />
              <span className="mono">{c.brandColor}</span>
            </dd>
            <dt>Handoff</dt>
            <dd>{c.autoHandoff ? 'To a person when the assistant cannot answer' : 'Only when the visitor asks'}</dd>
            <dt>Visitor identity</dt>
            <dd>{c.requireIdentity ? 'Required (signed userHash)' : 'Not required'}</dd>
            <dt>Allowed sites</dt>
            <dd>{c.allowedOrigins?.length ? c.allowedOrigins.join(', ') : <span className="muted">Any site</span>}</dd>
            <dt>Last change</dt>
            <dd>{formatDateTime(c.updatedAt)}</dd>
          </dl>
        </Card>
        <div className="co-side">
          <PlanCard company={c} />
          <Card
            title="Status"
            description={c.isActive ? 'The company works normally.' : 'Its users are locked out until you reactivate it.'}
          >
            <div className="stack">
              {c.isActive ? (
                <>
                  <p className="muted small" style={{ margin: 0 }}>
                    Deactivating signs its users out at once and stops its widget and API keys. Nothing is deleted.
                  </p>
                  <div>
                    <Button variant="danger-soft" onClick={() => setConfirmDeactivate(true)}>
                      Deactivate company
                    </Button>
                  </div>
                </>
              ) : (
                <div>
                  <Button variant="primary" loading={activateState.fetching} onClick={() => void doActivate()}>
                    Reactivate company
                  </Button>
                </div>
              )}
            </div>
          </Card>
        </div>
      </div>

      <section className="co-30d" aria-labelledby="co-30d">
        <div className="co-sechead">
          <div>
            <h2 id="co-30d">Last 30 days</h2>
            <p>Its conversations in figures.</p>
          </div>
          <Link className="btn small" to={`/admin/analytics?company=${c.id}`}>
            Full analytics
          </Link>
        </div>
        {data.analytics.conversations === 0 && data.analytics.messages === 0 ? (
          <Card>
            <p className="muted" style={{ margin: 0 }}>
              No conversations in the last 30 days.
            </p>
          </Card>
        ) : (
          <StatCards a={data.analytics} compact />
        )}
      </section>

      <Card
        className="co-section-gap"
        title="Team"
        description="Members are managed by the company's own admins."
        bodyClass=""
        actions={
          <Link className="btn small" to={`/admin/agents?company=${c.id}`}>
            In all agents
          </Link>
        }
      >
        {members.length === 0 ? (
          <Empty title="No members">This company has no users.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="table tm-table">
              <thead>
                <tr>
                  <th scope="col">Member</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">Added</th>
                </tr>
              </thead>
              <tbody>
                {members.map((m) => (
                  <tr key={m.id} className={m.isActive ? '' : 'tm-row-off'}>
                    <td className="c-main">
                      <div className="tm-member">
                        <Avatar name={m.fullName} />
                        <div className="who">
                          <div className="name">{m.fullName}</div>
                          <div className="email">{m.email}</div>
                        </div>
                      </div>
                    </td>
                    <td>
                      <RoleBadge role={m.role} />
                    </td>
                    <td>
                        <MemberStatus member={m} />
                      </td>
                    <td className="c-added nowrap muted" data-label="Added">
                      {formatDate(m.createdAt)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {data.agents.totalCount > members.length && (
          <div className="tm-note">
            Showing {members.length} of {data.agents.totalCount}.
          </div>
        )}
      </Card>

      <Card className="co-section-gap co-danger" title="Delete this company">
        <div className="row between">
          <p className="muted" style={{ margin: 0, maxWidth: '62ch' }}>
            Removes the company with its users, knowledge, conversations, API keys and files, for good. To stop it without losing
            anything, deactivate it instead.
          </p>
          <Button variant="danger" onClick={() => setDeleting(true)}>
            Delete company…
          </Button>
        </div>
      </Card>

      <ConfirmDialog
        open={confirmDeactivate}
        title={`Deactivate ${c.name}?`}
        confirmLabel="Deactivate"
        busy={deactivateState.fetching}
        error={deactivateState.error}
        onClose={() => setConfirmDeactivate(false)}
        onConfirm={() => void doDeactivate()}
      >
        <p>
          Its {activeMembers} active {activeMembers === 1 ? 'user is' : 'users are'} signed out at once and cannot sign in. Its
          widget stops answering visitors and its API keys are refused.
        </p>
        <p className="muted" style={{ margin: 0 }}>
          Nothing is deleted: reactivate it at any time to restore everything as it was.
        </p>
      </ConfirmDialog>
      {deleting && (
        <DeleteCompanyDialog
          company={c}
          counts={{ users: data.agents.totalCount, resources: data.resources.totalCount, conversations: data.conversations.totalCount }}
          onClose={() => setDeleting(false)}
          onDeleted={() => {
            toast(`${c.name} was deleted.`)
            navigate('/admin/companies', { replace: true })
          }}
        />
      )}
    </>
  )
}

function Notice({ children }: { children: ReactNode }) {
  return (
    <div className="banner warn" role="status">
      <div className="grow">{children}</div>
    </div>
  )
}

function PlanCard({ company: c }: { company: Company }) {
  const toast = useToast()
  const [plan, setPlan] = useState<SubscriptionPlan>(c.subscriptionPlan)
  const [{ fetching, error }, save] = useMutation(CompanyDetailSetPlan)
  const changed = plan !== c.subscriptionPlan
  const problem = error ? describeError(error) : null
  return (
    <Card title="Plan" description="What the company may use. It takes effect at once.">
      <form
        className="stack"
        onSubmit={async (e) => {
          e.preventDefault()
          if (!changed) return
          const r = await save({ id: c.id, plan })
          if (!r.error) toast(`${c.name} is on the ${PLAN_OPTIONS.find((p) => p.value === plan)?.label ?? plan} plan.`)
        }}
      >
        <div className="co-plan">
          <SelectField
            label="Subscription plan"
            value={plan}
            onChange={(e) => setPlan(e.target.value as SubscriptionPlan)}
            error={problem?.fields.subscriptionPlan}
          >
            {PLAN_OPTIONS.map((p) => (
              <option key={p.value} value={p.value}>
                {p.label}
                {p.value === c.subscriptionPlan ? ' (current)' : ''}
              </option>
            ))}
          </SelectField>
          <Button type="submit" variant="primary" loading={fetching} disabled={!changed}>
            Save
          </Button>
        </div>
        <div className="muted small">{PLAN_OPTIONS.find((p) => p.value === plan)?.detail}</div>
        <ErrorBanner error={problem} shownFields={['subscriptionPlan']} />
      </form>
    </Card>
  )
}

function DeleteCompanyDialog({
  company: c,
  counts,
  onClose,
  onDeleted,
}: {
  company: Company
  counts: { users: number; resources: number; conversations: number }
  onClose: () => void
  onDeleted: () => void
}) {
  const [typed, setTyped] = useState('')
  const [{ fetching, error }, del] = useMutation(CompanyDetailDelete)
  const ok = confirmsName(typed, c.name)
  return (
    <Modal
      open
      title={`Delete ${c.name}?`}
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose} disabled={fetching}>
            Cancel
          </Button>
          <Button type="submit" form="co-delete-form" variant="danger" loading={fetching} disabled={!ok}>
            Delete for good
          </Button>
        </>
      }
    >
      <form
        id="co-delete-form"
        className="stack"
        onSubmit={async (e) => {
          e.preventDefault()
          if (!ok) return
          const r = await del({ id: c.id })
          if (!r.error && r.data?.deleteCompany) onDeleted()
        }}
      >
        <p style={{ margin: 0 }}>This cannot be undone. It deletes:</p>
        <ul style={{ margin: 0, paddingLeft: 20 }}>
          <li>
            {nf.format(counts.users)} {counts.users === 1 ? 'user' : 'users'} and their sessions
          </li>
          <li>
            {nf.format(counts.resources)} knowledge {counts.resources === 1 ? 'resource' : 'resources'} with their files
          </li>
          <li>
            {nf.format(counts.conversations)} {counts.conversations === 1 ? 'conversation' : 'conversations'} with their messages
          </li>
          <li>its API keys, widget and settings</li>
        </ul>
        <TypeToConfirm name={c.name} value={typed} onChange={setTyped} />
        <ErrorBanner error={error} />
      </form>
    </Modal>
  )
}
