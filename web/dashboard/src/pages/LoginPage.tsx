// Sign in: company staff with email and password, super admins with their
// username (a separate page, linked at the bottom).
import { useState, type FormEvent } from 'react'
import { Link, Navigate, useLocation, useNavigate } from 'react-router'
import { useMutation } from 'urql'
import { graphql } from '../gql'
import { useAuth } from '../lib/auth'
import { describeError } from '../lib/errors'
import { Icon } from '../ui/icons'
import { Banner, Button, ErrorBanner, TextField } from '../ui'

const LoginMutation = graphql(`
  mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) {
      token
      refreshToken
      expiresAt
    }
  }
`)

const SuperAdminLoginMutation = graphql(`
  mutation SuperAdminLogin($username: String!, $password: String!) {
    superAdminLogin(username: $username, password: $password) {
      token
      refreshToken
      expiresAt
    }
  }
`)

export function AuthFrame({ children, wide }: { children: React.ReactNode; wide?: boolean }) {
  return (
    <div className="auth">
      <div className={`auth-card ${wide ? 'wide' : ''}`}>
        <div className="brand">
          <span className="brand-mark" aria-hidden>
            <Icon name="inbox" size={16} />
          </span>
          Concierge
        </div>
        <div className="card card-body">{children}</div>
      </div>
    </div>
  )
}

function useAfterSignIn() {
  const loc = useLocation()
  const from = (loc.state as { from?: string } | null)?.from
  return from && from !== '/login' ? from : '/'
}

export function LoginPage() {
  const { signIn, signedIn, viewer, endedReason } = useAuth()
  const navigate = useNavigate()
  const next = useAfterSignIn()
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [res, login] = useMutation(LoginMutation)
  if (signedIn && viewer) return <Navigate to={next} replace />
  const problem = res.error ? describeError(res.error) : null
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const r = await login({ email: email.trim(), password })
    if (r.data?.login) {
      signIn(r.data.login, 'USER')
      navigate(next, { replace: true })
    }
  }
  return (
    <AuthFrame>
      <h1>Sign in</h1>
      <p className="sub">Your team's inbox, knowledge and widget.</p>
      <form className="stack" onSubmit={submit} noValidate>
        {endedReason && <Banner kind="warn">{endedReason}</Banner>}
        <ErrorBanner error={problem} shownFields={['email', 'password']} />
        <TextField
          label="Email"
          type="email"
          autoComplete="username"
          required
          autoFocus
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={problem?.fields.email}
        />
        <TextField
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={problem?.fields.password}
        />
        <Button type="submit" variant="primary" block loading={res.fetching} disabled={!email || !password}>
          Sign in
        </Button>
      </form>
      <div className="alt">
        New to Concierge? <Link to="/signup">Create your company's account</Link>
      </div>
      <p className="alt small">
        Trying it locally? <code>concierge serve</code> prints the demo logins (also in <code>data/demo-credentials.txt</code>).
        <br />
        <Link to="/admin/login">Platform administrator sign-in</Link>
      </p>
    </AuthFrame>
  )
}

export function SuperAdminLoginPage() {
  const { signIn, signedIn, viewer, endedReason } = useAuth()
  const navigate = useNavigate()
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [res, login] = useMutation(SuperAdminLoginMutation)
  if (signedIn && viewer) return <Navigate to="/" replace />
  const problem = res.error ? describeError(res.error) : null
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const r = await login({ username: username.trim(), password })
    if (r.data?.superAdminLogin) {
      signIn(r.data.superAdminLogin, 'SUPER_ADMIN')
      navigate('/admin/companies', { replace: true })
    }
  }
  return (
    <AuthFrame>
      <h1>Platform administrator</h1>
      <p className="sub">Sign in to run the platform: companies, their knowledge and agents.</p>
      <form className="stack" onSubmit={submit} noValidate>
        {endedReason && <Banner kind="warn">{endedReason}</Banner>}
        <ErrorBanner error={problem} shownFields={['username', 'password']} />
        <TextField
          label="Username"
          autoComplete="username"
          required
          autoFocus
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          error={problem?.fields.username}
        />
        <TextField
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={problem?.fields.password}
        />
        <Button type="submit" variant="primary" block loading={res.fetching} disabled={!username || !password}>
          Sign in
        </Button>
      </form>
      <div className="alt">
        <Link to="/login">Company sign-in</Link>
      </div>
    </AuthFrame>
  )
}
