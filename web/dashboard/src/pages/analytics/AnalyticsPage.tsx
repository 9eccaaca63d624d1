// Analytics: how the assistant and the team are doing over a period. Company
// staff see their company (/analytics); super admins see the whole platform
// or one company (/admin/analytics?company=<id>). The period is in the URL
// (?period=7|30|90|custom&from=&to=), so a view can be shared.
import { useMemo, useRef } from 'react'
import { Link, useSearchParams } from 'react-router'
import { useQuery } from 'urql'
import { graphql } from '../../gql'
import type { AnalyticsReportQuery } from '../../gql/graphql'
import { isCompanyAdmin, isSuperAdmin, useViewer } from '../../lib/auth'
import { Card, Empty, ErrorBanner, Loading, PageHeader, Segmented, SelectField, TextField } from '../../ui'
import { timeAgo } from '../team/teamLogic'
import { ActivityChart, HoursChart } from './AnalyticsCharts'
import { StatCards } from './AnalyticsSummary'
import {
  clockLabel,
  dayOf,
  fillDays,
  localHours,
  peakHour,
  periodFromParams,
  periodRange,
  utcOffsetLabel,
  type Period,
} from './analyticsLogic'
import './analytics.css'

const AnalyticsReport = graphql(`
  query AnalyticsReport($companyId: ID, $from: Time, $to: Time) {
    analytics(companyId: $companyId, from: $from, to: $to) {
      from
      to
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
      busiestHours {
        hour
        messages
      }
      knowledgeGaps {
        question
        count
        lastAskedAt
      }
      byDay {
        day
        conversations
        messages
      }
    }
  }
`)

const AnalyticsCompanies = graphql(`
  query AnalyticsCompanies {
    companies(first: 500, orderBy: { field: NAME, direction: ASC }) {
      totalCount
      edges {
        node {
          id
          name
          isActive
        }
      }
    }
  }
`)

type Report = AnalyticsReportQuery['analytics']

const PRESETS = [
  { value: '7', label: '7 days' },
  { value: '30', label: '30 days' },
  { value: '90', label: '90 days' },
  { value: 'custom', label: 'Custom' },
] as const

const DAY = 86_400_000
const rangeFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' })

function CompanyPicker({ value, onChange }: { value: string; onChange: (id: string) => void }) {
  const [{ data, error }] = useQuery({ query: AnalyticsCompanies })
  const companies = (data?.companies.edges ?? []).flatMap((e) => (e?.node ? [e.node] : []))
  return (
    <SelectField
      className="an-company"
      label="Company"
      value={value}
      onChange={(e) => onChange(e.target.value)}
      error={error ? 'The companies could not be loaded.' : undefined}
    >
      <option value="">All companies (platform)</option>
      {/* Keep a company chosen by link even before the list arrives. */}
      {value && !companies.some((c) => c.id === value) && <option value={value}>{data ? 'Unknown company' : 'Loading…'}</option>}
      {companies.map((c) => (
        <option key={c.id} value={c.id}>
          {c.name}
          {c.isActive ? '' : ' (deactivated)'}
        </option>
      ))}
    </SelectField>
  )
}

export default function AnalyticsPage() {
  const viewer = useViewer()
  const sup = isSuperAdmin(viewer)
  const admin = isCompanyAdmin(viewer)
  const [params, setParams] = useSearchParams()
  const period = periodFromParams(params)
  const companyId = sup ? params.get('company') || null : null
  const today = dayOf(Date.now())
  const periodKey = JSON.stringify(period)
  // The bounds only change with the choice or the (UTC) day, so the query
  // is not sent again at every render.
  const range = useMemo(() => periodRange(period, Date.now()), [periodKey, today]) // eslint-disable-line react-hooks/exhaustive-deps
  const bad = 'error' in range ? range : null
  const bounds = 'error' in range ? null : range

  const [{ data, error, fetching }, reexecute] = useQuery({
    query: AnalyticsReport,
    variables: { companyId, from: bounds?.from, to: bounds?.to ?? undefined },
    pause: !!bad,
  })
  // Keep the last figures on screen while another period loads.
  const last = useRef<Report | null>(null)
  if (data) last.current = data.analytics
  const report = data?.analytics ?? last.current
  const stale = !data && !!report

  const update = (changes: Record<string, string | null>) => {
    const next = new URLSearchParams(params)
    for (const [k, v] of Object.entries(changes)) {
      if (v === null || v === '') next.delete(k)
      else next.set(k, v)
    }
    setParams(next, { replace: true })
  }

  const choosePeriod = (v: string) => {
    if (v === 'custom') {
      // Start the custom period from the one shown.
      const days = period.kind === 'preset' ? period.days : 30
      update({ period: 'custom', from: dayOf(Date.now() - (days - 1) * DAY), to: today })
    } else {
      update({ period: v, from: null, to: null })
    }
  }

  const periodValue = period.kind === 'custom' ? 'custom' : String(period.days)
  const title = sup ? 'Platform analytics' : 'Analytics'
  const span = report ? `${rangeFmt.format(Date.parse(report.from))} – ${rangeFmt.format(Date.parse(report.to) - 1)}` : ''
  const lead = sup
    ? companyId
      ? "How the assistant and the team answered this company's visitors"
      : 'How the assistant and the teams answered visitors, across every company'
    : 'How the assistant and your team answered your visitors'
  const description = span ? `${lead}: ${span}.` : `${lead}.`

  return (
    <>
      <PageHeader
        title={title}
        description={description}
        actions={
          sup && companyId ? (
            <Link className="btn" to={`/admin/companies/${companyId}`}>
              Open the company
            </Link>
          ) : undefined
        }
      />
      <div className="an-toolbar">
        {sup && <CompanyPicker value={companyId ?? ''} onChange={(id) => update({ company: id })} />}
        <div className="an-period">
          <span className="label" aria-hidden>
            Period
          </span>
          <Segmented label="Period" value={periodValue} options={PRESETS.map((p) => ({ value: p.value, label: p.label }))} onChange={choosePeriod} />
        </div>
        {period.kind === 'custom' && <CustomRange period={period} today={today} error={bad} onChange={(from, to) => update({ period: 'custom', from, to })} />}
        {fetching && (
          <span className="an-status" role="status">
            <span className="spinner" aria-hidden /> Updating…
          </span>
        )}
      </div>

      {error && <ErrorBanner error={error} onRetry={() => reexecute({ requestPolicy: 'network-only' })} />}
      {!report && !error && !bad && <Loading>Loading the figures…</Loading>}
      {report && <ReportView report={report} stale={stale} admin={admin} sup={sup} companyChosen={!!companyId} />}
    </>
  )
}

function CustomRange({
  period,
  today,
  error,
  onChange,
}: {
  period: Extract<Period, { kind: 'custom' }>
  today: string
  error: { error: string; field: 'from' | 'to' } | null
  onChange: (from: string, to: string) => void
}) {
  return (
    <>
      <TextField
        className="an-date"
        label="From"
        type="date"
        value={period.from}
        max={today}
        onChange={(e) => onChange(e.target.value, period.to)}
        error={error?.field === 'from' ? error.error : undefined}
      />
      <TextField
        className="an-date"
        label="To"
        type="date"
        value={period.to}
        max={today}
        onChange={(e) => onChange(period.from, e.target.value)}
        error={error?.field === 'to' ? error.error : undefined}
      />
    </>
  )
}

function ReportView({
  report,
  stale,
  admin,
  sup,
  companyChosen,
}: {
  report: Report
  stale: boolean
  admin: boolean
  sup: boolean
  companyChosen: boolean
}) {
  const days = useMemo(() => fillDays(report.byDay, report.from, report.to), [report])
  const tz = new Date().getTimezoneOffset()
  const hours = useMemo(() => localHours(report.busiestHours, tz), [report, tz])
  const peak = peakHour(hours)
  const zone = (Intl.DateTimeFormat().resolvedOptions().timeZone ?? '').replace(/_/g, ' ')
  const offset = utcOffsetLabel(tz)
  const zoneText = !zone || /^(Etc\/)?UTC$/.test(zone) ? offset : `${zone}, ${offset}`
  const empty = report.conversations === 0 && report.messages === 0

  if (empty) {
    return (
      <Card className={stale ? 'an-stale' : ''}>
        <Empty title="No conversations in this period yet">
          {sup
            ? companyChosen
              ? "This company's visitors have not chatted in this period. Try a longer period."
              : 'No visitor chatted with any company in this period. Try a longer period.'
            : 'Figures appear here once visitors chat with your widget. Try a longer period, or put the widget on your site.'}
        </Empty>
        {admin && (
          <div className="row" style={{ justifyContent: 'center', marginTop: -16, paddingBottom: 16 }}>
            <Link className="btn" to="/settings">
              Set up the widget
            </Link>
          </div>
        )}
      </Card>
    )
  }

  return (
    <div className={stale ? 'an-stale' : ''} aria-busy={stale || undefined}>
      <StatCards a={report} />
      <Card
        className="an-activity"
        title="Conversations and messages"
        description="Per day (UTC days)."
        actions={
          <div className="an-legend" aria-hidden>
            <span>
              <span className="sw" style={{ background: '#0d9488' }} />
              Conversations
            </span>
            <span>
              <span className="sw" style={{ background: '#4f46e5' }} />
              Messages
            </span>
          </div>
        }
      >
        <ActivityChart days={days} />
      </Card>
      <div className="an-split">
        <Card
          title="Busiest hours"
          description={
            <>
              Visitor messages per hour, in your time zone ({zoneText}).
              {peak && (
                <>
                  {' '}
                  Busiest: <span className="an-peak">{clockLabel(peak.localMinutes)} – {clockLabel((peak.localMinutes + 60) % 1440)}</span>.
                </>
              )}
            </>
          }
        >
          {peak ? <HoursChart hours={hours} peak={peak} /> : <Empty title="No visitor messages in this period" />}
        </Card>
        <Card
          title="Knowledge gaps"
          description="Questions the assistant could not answer, most asked first."
          actions={
            admin && (
              <Link className="btn small" to="/knowledge">
                Add knowledge
              </Link>
            )
          }
          bodyClass=""
        >
          {report.knowledgeGaps.length === 0 ? (
            <Empty title="No unanswered questions">The knowledge covered everything visitors asked in this period.</Empty>
          ) : (
            <div className="table-wrap">
              <table className="table an-gaps">
                <thead>
                  <tr>
                    <th scope="col">Question</th>
                    <th scope="col" className="n">
                      Times asked
                    </th>
                    <th scope="col" className="c-last">
                      Last asked
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {report.knowledgeGaps.map((g) => (
                    <tr key={g.question + g.lastAskedAt}>
                      <td className="q">{g.question}</td>
                      <td className="n">{g.count}</td>
                      <td className="c-last nowrap muted" title={new Date(g.lastAskedAt).toLocaleString()}>
                        {timeAgo(g.lastAskedAt)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {admin && report.knowledgeGaps.length > 0 && (
            <div className="an-note">
              Add a text, a page or a document that answers them: the assistant uses it from then on.
            </div>
          )}
        </Card>
      </div>
    </div>
  )
}
