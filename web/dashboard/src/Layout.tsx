// The signed-in frame: the sidebar (what this role can do), the company and
// the person signed in, and the live links every page relies on: the
// company's events (a deactivated company or agent is signed out at once)
// and, for company staff, the inbox.
import { useEffect, useState } from 'react'
import { NavLink, Outlet, useLocation } from 'react-router'
import { graphql } from './gql'
import { isCompanyAdmin, isSuperAdmin, useAuth, useViewer } from './lib/auth'
import { useConnectionLost, useLive } from './lib/live'
import { InboxProvider, useInboxSummary } from './inbox/InboxContext'
import { Button } from './ui'
import { Icon, type IconName } from './ui/icons'

const LayoutCompanyEvents = graphql(`
  subscription LayoutCompanyEvents {
    companyEvents {
      kind
      agentID
      company {
        id
        isActive
        name
        logoURL
        subscriptionPlan
      }
      agent {
        id
        isActive
        role
      }
    }
  }
`)

interface NavItem {
  to: string
  label: string
  icon: IconName
  count?: number
}

function CompanyWatcher() {
  const { signOut, refreshViewer } = useAuth()
  const v = useViewer()
  useLive(LayoutCompanyEvents, {}, (d) => {
    const e = d.companyEvents
    if (e.kind === 'COMPANY_UPDATED') {
      if (e.company && !e.company.isActive) void signOut('this company is deactivated')
      else refreshViewer()
    }
    if (e.kind === 'AGENT_UPDATED' && e.agent && e.agent.id === v.user?.id) {
      if (!e.agent.isActive) void signOut('this account is deactivated')
      else if (e.agent.role !== v.user?.role) refreshViewer()
    }
    if (e.kind === 'AGENT_REMOVED' && e.agentID === v.user?.id) void signOut('this account was removed')
  })
  return null
}

function Initials({ name }: { name: string }) {
  const letters = name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0]!.toUpperCase())
    .join('')
  return (
    <span className="avatar" aria-hidden style={{ display: 'grid', placeItems: 'center', background: '#4f46e5', color: '#fff', fontWeight: 700, fontSize: 11, width: 28, height: 28, borderRadius: '50%', flex: 'none' }}>
      {letters || '?'}
    </span>
  )
}

function Sidebar({ onNavigate }: { onNavigate: () => void }) {
  const v = useViewer()
  const { signOut } = useAuth()
  const summary = useInboxSummary()
  const sup = isSuperAdmin(v)
  const admin = isCompanyAdmin(v)
  const sections: { title?: string; items: NavItem[] }[] = sup
    ? [
        {
          title: 'Platform',
          items: [
            { to: '/admin/companies', label: 'Companies', icon: 'building' },
            { to: '/admin/resources', label: 'Knowledge', icon: 'book' },
            { to: '/admin/agents', label: 'Agents', icon: 'users' },
            { to: '/admin/analytics', label: 'Analytics', icon: 'chart' },
            { to: '/audit', label: 'Audit log', icon: 'list' },
          ],
        },
      ]
    : [
        {
          items: [
            { to: '/inbox', label: 'Inbox', icon: 'inbox', count: summary.waiting },
            { to: '/knowledge', label: 'Knowledge', icon: 'book' },
            { to: '/analytics', label: 'Analytics', icon: 'chart' },
            { to: '/team', label: 'Team', icon: 'users' },
          ],
        },
        ...(admin
          ? [
              {
                title: 'Admin',
                items: [
                  { to: '/settings', label: 'Settings & widget', icon: 'settings' },
                  { to: '/api-keys', label: 'API keys', icon: 'key' },
                  { to: '/audit', label: 'Audit log', icon: 'list' },
                ] satisfies NavItem[],
              },
            ]
          : []),
      ]
  const name = v.user?.fullName ?? v.superAdmin?.fullName ?? v.superAdmin?.username ?? ''
  const role = sup ? 'Super admin' : admin ? 'Company admin' : 'Agent'
  return (
    <aside className="sidebar" aria-label="Main navigation">
      <div className="brand">
        <span className="brand-mark" aria-hidden>
          <Icon name="inbox" size={16} />
        </span>
        Concierge
      </div>
      {v.company && (
        <div className="company-chip">
          {v.company.logoURL ? <img src={v.company.logoURL} alt="" /> : <Initials name={v.company.name} />}
          <div style={{ minWidth: 0 }}>
            <div className="name">{v.company.name}</div>
            <div className="plan">{v.company.subscriptionPlan.toLowerCase()} plan</div>
          </div>
        </div>
      )}
      <nav className="nav">
        {sections.map((s, i) => (
          <div key={i} style={{ display: 'contents' }}>
            {s.title && <div className="nav-section">{s.title}</div>}
            {s.items.map((it) => (
              <NavLink key={it.to} to={it.to} onClick={onNavigate}>
                <span className="icon">
                  <Icon name={it.icon} />
                </span>
                {it.label}
                {!!it.count && (
                  <span className="count" aria-label={`${it.count} waiting`}>
                    {it.count}
                  </span>
                )}
              </NavLink>
            ))}
          </div>
        ))}
      </nav>
      <div className="sidebar-foot">
        <div className="me">
          <Initials name={name} />
          <div className="who">
            <div style={{ color: '#fff', fontWeight: 600 }}>{name}</div>
            <div className="role">
              {role}
              {v.user?.email ? ` · ${v.user.email}` : ''}
            </div>
          </div>
        </div>
        <div className="row">
          <a className="btn ghost small grow" href="/graphiql" target="_blank" rel="noreferrer">
            API explorer
          </a>
          <Button variant="ghost" size="small" className="grow" onClick={() => void signOut()}>
            Sign out
          </Button>
        </div>
      </div>
    </aside>
  )
}

function Frame() {
  const [open, setOpen] = useState(false)
  const lost = useConnectionLost()
  const loc = useLocation()
  useEffect(() => setOpen(false), [loc.pathname])
  const full = loc.pathname.startsWith('/inbox')
  return (
    <div className={`shell ${open ? 'nav-open' : ''}`}>
      <Sidebar onNavigate={() => setOpen(false)} />
      {open && <div className="scrim" onClick={() => setOpen(false)} aria-hidden />}
      <div className="main">
        <header className="topbar">
          <Button variant="ghost" size="small" aria-label="Open the menu" aria-expanded={open} onClick={() => setOpen(true)} style={{ color: '#fff' }}>
            <Icon name="menu" />
          </Button>
          <span className="title">Concierge</span>
        </header>
        {lost && (
          <div className="conn-banner" role="status">
            Reconnecting to live updates… Nothing is lost: what happened meanwhile appears when the connection is back.
          </div>
        )}
        <main className={`content ${full ? 'full' : ''}`} id="main">
          <Outlet />
        </main>
      </div>
    </div>
  )
}

export function Layout() {
  const v = useViewer()
  if (isSuperAdmin(v)) return <Frame />
  return (
    <InboxProvider>
      <CompanyWatcher />
      <Frame />
    </InboxProvider>
  )
}
