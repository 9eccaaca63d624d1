// Routes of the dashboard. Pages load on demand (each is its own chunk), so
// the first screen only downloads what it shows.
import { lazy, Suspense, type ReactNode } from 'react'
import { createBrowserRouter, createRoutesFromElements, Navigate, Outlet, Route, RouterProvider, useLocation } from 'react-router'
import { AuthProvider, isCompanyAdmin, isSuperAdmin, useAuth } from './lib/auth'
import { Layout } from './Layout'
import { Loading } from './ui'
import { ToastProvider } from './ui/toast'
import { LoginPage, SuperAdminLoginPage } from './pages/LoginPage'
import { NotFoundPage } from './pages/NotFoundPage'

const SignupPage = lazy(() => import('./pages/SignupPage'))
const InboxPage = lazy(() => import('./pages/inbox/InboxPage'))
const KnowledgePage = lazy(() => import('./pages/knowledge/KnowledgePage'))
const ResourcePage = lazy(() => import('./pages/knowledge/ResourcePage'))
const AnalyticsPage = lazy(() => import('./pages/analytics/AnalyticsPage'))
const TeamPage = lazy(() => import('./pages/team/TeamPage'))
const SettingsPage = lazy(() => import('./pages/settings/SettingsPage'))
const ApiKeysPage = lazy(() => import('./pages/apikeys/ApiKeysPage'))
const AuditPage = lazy(() => import('./pages/audit/AuditPage'))
const CompaniesPage = lazy(() => import('./pages/admin/CompaniesPage'))
const CompanyDetailPage = lazy(() => import('./pages/admin/CompanyDetailPage'))
const AllResourcesPage = lazy(() => import('./pages/admin/AllResourcesPage'))
const AllAgentsPage = lazy(() => import('./pages/admin/AllAgentsPage'))

function Page({ children }: { children: ReactNode }) {
  return <Suspense fallback={<Loading />}>{children}</Suspense>
}

/** Sends a signed-out visitor to the login page, and back here after. */
function RequireSession({ children }: { children: ReactNode }) {
  const { signedIn, viewer } = useAuth()
  const loc = useLocation()
  if (!signedIn || !viewer) {
    return <Navigate to="/login" replace state={{ from: loc.pathname + loc.search }} />
  }
  return <>{children}</>
}

function RequireRole({ role, children }: { role: 'admin' | 'super' | 'staff'; children: ReactNode }) {
  const { viewer } = useAuth()
  const ok =
    role === 'super' ? isSuperAdmin(viewer) : role === 'admin' ? isCompanyAdmin(viewer) : viewer?.kind === 'USER'
  if (!ok) return <Navigate to="/" replace />
  return <>{children}</>
}

function Home() {
  const { viewer } = useAuth()
  return <Navigate to={isSuperAdmin(viewer) ? '/admin/companies' : '/inbox'} replace />
}

/** The providers every page needs, inside the router (pages use its hooks). */
function Root() {
  return (
    <ToastProvider>
      <AuthProvider>
        <Outlet />
      </AuthProvider>
    </ToastProvider>
  )
}

// A data router, so that a page with unsaved changes can hold navigation
// (useBlocker), the browser's Back button included.
const router = createBrowserRouter(
  createRoutesFromElements(
    <Route element={<Root />}>
            <Route path="/login" element={<LoginPage />} />
            <Route path="/admin/login" element={<SuperAdminLoginPage />} />
            <Route
              path="/signup"
              element={
                <Page>
                  <SignupPage />
                </Page>
              }
            />
            <Route
              element={
                <RequireSession>
                  <Layout />
                </RequireSession>
              }
            >
              <Route index element={<Home />} />
              <Route path="inbox" element={<RequireRole role="staff"><Page><InboxPage /></Page></RequireRole>} />
              <Route path="inbox/:id" element={<RequireRole role="staff"><Page><InboxPage /></Page></RequireRole>} />
              <Route path="knowledge" element={<RequireRole role="staff"><Page><KnowledgePage /></Page></RequireRole>} />
              <Route path="knowledge/:id" element={<Page><ResourcePage /></Page>} />
              <Route path="analytics" element={<Page><AnalyticsPage /></Page>} />
              <Route path="team" element={<RequireRole role="staff"><Page><TeamPage /></Page></RequireRole>} />
              <Route path="settings" element={<RequireRole role="admin"><Page><SettingsPage /></Page></RequireRole>} />
              <Route path="settings/:tab" element={<RequireRole role="admin"><Page><SettingsPage /></Page></RequireRole>} />
              <Route path="api-keys" element={<RequireRole role="admin"><Page><ApiKeysPage /></Page></RequireRole>} />
              <Route path="audit" element={<Page><AuditPage /></Page>} />
              <Route path="admin/companies" element={<RequireRole role="super"><Page><CompaniesPage /></Page></RequireRole>} />
              <Route path="admin/companies/:id" element={<RequireRole role="super"><Page><CompanyDetailPage /></Page></RequireRole>} />
              <Route path="admin/resources" element={<RequireRole role="super"><Page><AllResourcesPage /></Page></RequireRole>} />
              <Route path="admin/agents" element={<RequireRole role="super"><Page><AllAgentsPage /></Page></RequireRole>} />
              <Route path="admin/analytics" element={<RequireRole role="super"><Page><AnalyticsPage /></Page></RequireRole>} />
              <Route path="*" element={<NotFoundPage />} />
            </Route>
    </Route>,
  ),
)

export function App() {
  return <RouterProvider router={router} />
}
