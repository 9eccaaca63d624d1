// Sign up: a company and its first company admin (registerCompany), with an
// optional logo and the plan. On success the admin is signed in.
import { useState, type FormEvent } from 'react'
import { Link, useNavigate } from 'react-router'
import { graphql } from '../gql'
import type { SubscriptionPlan } from '../gql/graphql'
import { useAuth } from '../lib/auth'
import { describeError, type Problem } from '../lib/errors'
import { passwordOK } from '../lib/password'
import { uploadRequest } from '../lib/upload'
import { Button, ErrorBanner, SelectField, TextField } from '../ui'
import { LogoPicker } from '../ui/LogoPicker'
import { PasswordRules } from '../ui/PasswordRules'
import { AuthFrame } from './LoginPage'

const RegisterCompanyMutation = graphql(`
  mutation RegisterCompany($input: RegisterCompanyInput!) {
    registerCompany(input: $input) {
      token
      refreshToken
      expiresAt
      company {
        id
        slug
      }
    }
  }
`)

export const PLANS: { value: SubscriptionPlan; label: string; detail: string }[] = [
  { value: 'FREE', label: 'Free', detail: 'websites up to 50 pages, 20 ingestions an hour' },
  { value: 'BASIC', label: 'Basic', detail: 'websites up to 200 pages, 100 ingestions an hour' },
  { value: 'PREMIUM', label: 'Premium', detail: 'websites up to 1,000 pages, 500 ingestions an hour' },
  { value: 'ENTERPRISE', label: 'Enterprise', detail: 'websites up to 5,000 pages, 2,000 ingestions an hour' },
]

const FIELDS = ['name', 'email', 'phone', 'website', 'logo', 'adminFullName', 'adminEmail', 'adminPassword', 'slug', 'subscriptionPlan']

export default function SignupPage() {
  const { signIn } = useAuth()
  const navigate = useNavigate()
  const [f, setF] = useState({
    name: '',
    email: '',
    phone: '',
    website: '',
    plan: 'FREE' as SubscriptionPlan,
    adminFullName: '',
    adminEmail: '',
    password: '',
    confirm: '',
  })
  const [logo, setLogo] = useState<File | null>(null)
  const [progress, setProgress] = useState<number | null>(null)
  const [problem, setProblem] = useState<Problem | null>(null)
  const [busy, setBusy] = useState(false)
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF((s) => ({ ...s, [k]: e.target.value }))
  const ready = f.name.trim() && f.email.trim() && f.adminFullName.trim() && f.adminEmail.trim() && passwordOK(f.password, f.confirm)

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (!ready) return
    setBusy(true)
    setProblem(null)
    const input = {
      name: f.name.trim(),
      email: f.email.trim(),
      phone: f.phone.trim() || undefined,
      website: f.website.trim() || undefined,
      subscriptionPlan: f.plan,
      adminFullName: f.adminFullName.trim(),
      adminEmail: f.adminEmail.trim(),
      adminPassword: f.password,
      ...(logo ? { logo } : {}),
    }
    const r = await uploadRequest(RegisterCompanyMutation, { input }, logo ? setProgress : undefined)
    setBusy(false)
    setProgress(null)
    if (r.data?.registerCompany) {
      signIn(r.data.registerCompany, 'USER')
      navigate('/knowledge', { replace: true, state: { welcome: true } })
      return
    }
    setProblem(describeError(r.error))
  }

  const fe = problem?.fields ?? {}
  return (
    <AuthFrame wide>
      <h1>Create your company's account</h1>
      <p className="sub">You will be its first company admin. It takes a minute; you can change everything later.</p>
      <form className="stack loose" onSubmit={submit} noValidate>
        <ErrorBanner error={problem} shownFields={FIELDS} />
        <fieldset className="stack" style={{ border: 0, padding: 0, margin: 0 }}>
          <legend className="label" style={{ marginBottom: 8, fontSize: 14 }}>
            Company
          </legend>
          <div className="grid2">
            <TextField label="Company name" required autoFocus value={f.name} onChange={set('name')} error={fe.name} autoComplete="organization" />
            <TextField
              label="Contact email"
              type="email"
              required
              value={f.email}
              onChange={set('email')}
              error={fe.email}
              hint="Where we reach the company."
              autoComplete="email"
            />
            <TextField label="Website" type="url" placeholder="https://example.com" value={f.website} onChange={set('website')} error={fe.website} hint="Optional." />
            <TextField label="Phone" type="tel" value={f.phone} onChange={set('phone')} error={fe.phone} hint="Optional." autoComplete="tel" />
            <SelectField
              label="Plan"
              value={f.plan}
              onChange={(e) => setF((s) => ({ ...s, plan: e.target.value as SubscriptionPlan }))}
              error={fe.subscriptionPlan}
              hint={PLANS.find((p) => p.value === f.plan)?.detail}
            >
              {PLANS.map((p) => (
                <option key={p.value} value={p.value}>
                  {p.label}
                </option>
              ))}
            </SelectField>
            <LogoPicker file={logo} onChange={setLogo} error={fe.logo} />
          </div>
        </fieldset>
        <fieldset className="stack" style={{ border: 0, padding: 0, margin: 0 }}>
          <legend className="label" style={{ marginBottom: 8, fontSize: 14 }}>
            You, the company admin
          </legend>
          <div className="grid2">
            <TextField label="Full name" required value={f.adminFullName} onChange={set('adminFullName')} error={fe.adminFullName} autoComplete="name" />
            <TextField label="Your email" type="email" required value={f.adminEmail} onChange={set('adminEmail')} error={fe.adminEmail} hint="You sign in with it." autoComplete="username" />
            <TextField
              label="Password"
              type="password"
              required
              value={f.password}
              onChange={set('password')}
              error={fe.adminPassword}
              autoComplete="new-password"
              aria-describedby="pw-rules"
            />
            <TextField label="Repeat the password" type="password" required value={f.confirm} onChange={set('confirm')} autoComplete="new-password" />
          </div>
          <PasswordRules id="pw-rules" password={f.password} confirm={f.confirm} />
        </fieldset>
        <Button type="submit" variant="primary" block loading={busy} disabled={!ready}>
          {progress !== null && progress < 1 ? `Uploading the logo… ${Math.round(progress * 100)}%` : 'Create the account'}
        </Button>
      </form>
      <div className="alt">
        Already have an account? <Link to="/login">Sign in</Link>
      </div>
    </AuthFrame>
  )
}
