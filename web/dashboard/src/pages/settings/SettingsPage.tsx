// Company settings (company admins), one tab per concern, each its own form
// at /settings/<tab>: the profile, the widget (with a live preview and the
// embed snippet), the assistant, business hours, security (allowed origins,
// identity verification) and the danger zone.
import { useCallback, useMemo, useState } from 'react'
import { Navigate, NavLink, useParams } from 'react-router'
import { useQuery } from 'urql'
import { ErrorBanner, Loading, PageHeader } from '../../ui'
import { useLive, useOnReconnect } from '../../lib/live'
import { SettingsCompany, SettingsCompanyEvents } from './documents'
import { SettingsContext, useUnsavedGuard, type SettingsCtx } from './SettingsBits'
import { ProfileTab } from './ProfileTab'
import { WidgetTab } from './WidgetTab'
import { AssistantTab } from './AssistantTab'
import { HoursTab } from './HoursTab'
import { SecurityTab } from './SecurityTab'
import { DangerTab } from './DangerTab'
import './settings.css'

const TABS = [
  { id: 'profile', label: 'Profile', Component: ProfileTab },
  { id: 'widget', label: 'Widget', Component: WidgetTab },
  { id: 'assistant', label: 'Assistant', Component: AssistantTab },
  { id: 'business-hours', label: 'Business hours', Component: HoursTab },
  { id: 'security', label: 'Security', Component: SecurityTab },
  { id: 'danger-zone', label: 'Danger zone', Component: DangerTab },
] as const

export default function SettingsPage() {
  const { tab } = useParams()
  const [{ data, error, fetching }, reexecute] = useQuery({ query: SettingsCompany })
  const [dirty, setDirtyState] = useState(false)
  const setDirty = useCallback((d: boolean) => setDirtyState(d), [])
  const refetch = useCallback(() => reexecute({ requestPolicy: 'network-only' }), [reexecute])
  const guard = useUnsavedGuard(dirty)
  // Another admin's change shows at once; forms keep their own unsaved edits.
  useLive(SettingsCompanyEvents, {}, (d) => {
    if (d.companyEvents.kind === 'COMPANY_UPDATED') refetch()
  })
  useOnReconnect(refetch)
  const company = data?.company ?? null
  const ctx = useMemo<SettingsCtx | null>(() => (company ? { company, refetch, setDirty } : null), [company, refetch, setDirty])

  const current = TABS.find((t) => t.id === tab)
  if (!tab) return <Navigate to="/settings/profile" replace />
  if (!current) return <Navigate to="/settings/profile" replace />
  const Tab = current.Component

  return (
    <div className="st-page">
      <PageHeader
        title="Settings"
        description="Your company's profile, how the chat widget looks and behaves, and who may use it."
      />
      <nav className="tabs st-tabs" aria-label="Settings sections">
        {TABS.map((t) => (
          <NavLink key={t.id} to={`/settings/${t.id}`} className={t.id === 'danger-zone' ? 'st-tab-danger' : undefined}>
            {t.label}
          </NavLink>
        ))}
      </nav>
      {!ctx ? (
        error ? (
          <ErrorBanner error={error} onRetry={refetch} />
        ) : fetching || !data ? (
          <Loading>Loading settings…</Loading>
        ) : (
          <ErrorBanner error={{ graphQLErrors: [{ message: 'company not found', extensions: { code: 'NOT_FOUND' } }] }} />
        )
      ) : (
        <SettingsContext.Provider value={ctx}>
          {error && <ErrorBanner error={error} onRetry={refetch} />}
          <Tab key={current.id} />
        </SettingsContext.Provider>
      )}
      {guard}
    </div>
  )
}
