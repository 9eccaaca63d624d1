// Profile: the company's name, contact details and logo; the plan, which
// only the platform's administrators change, is shown read-only.
import { useMemo, useState, type FormEvent } from 'react'
import { Badge, Card, ErrorBanner, ProgressBar, TextField } from '../../ui'
import { LogoPicker } from '../../ui/LogoPicker'
import { changedFields, isDirty, validateProfile, type ProfileValues } from './settingsLogic'
import { fieldErrors, SaveBar, useCompanySave, useForm, useObjectURL, useSettings, type SettingsCompany } from './SettingsBits'
import { WidgetPreview } from './WidgetPreview'

const PLAN_LABEL: Record<string, string> = { FREE: 'Free', BASIC: 'Basic', PREMIUM: 'Premium', ENTERPRISE: 'Enterprise' }

interface ProfileForm extends ProfileValues {
  logo: File | null
}

function toForm(c: SettingsCompany): ProfileForm {
  return { name: c.name, email: c.email, phone: c.phone ?? '', website: c.website ?? '', logo: null }
}

const sameProfile = (a: ProfileForm, b: ProfileForm) => a.logo === b.logo && !isDirty(text(a), text(b))

function text(f: ProfileForm): ProfileValues {
  return { name: f.name, email: f.email, phone: f.phone, website: f.website }
}

export function ProfileTab() {
  const { company } = useSettings()
  const saved = useMemo(() => toForm(company), [company])
  const form = useForm(saved, sameProfile)
  const { save, saving, progress, problem, clearFieldError } = useCompanySave()
  const [local, setLocal] = useState<Record<string, string>>({})
  const [pickerKey, setPickerKey] = useState(0)
  const logoPreview = useObjectURL(form.values.logo)
  const errors = fieldErrors(local, problem)
  const v = form.values

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const problems = validateProfile(text(v))
    setLocal(problems)
    if (Object.keys(problems).length) return
    const patch = changedFields(text(form.base), text(v))
    const c = await save(patch, { logo: v.logo, message: 'Profile saved', viewerChanged: true })
    if (c) {
      form.commit(toForm(c))
      setPickerKey((k) => k + 1)
    }
  }

  const edit = (k: keyof ProfileValues) => (e: { target: { value: string } }) => {
    form.set(k, e.target.value)
    clearFieldError(k as string)
    if (local[k]) setLocal(({ [k]: _gone, ...rest }) => rest)
  }

  return (
    <div className="st-split">
      <form className="st-form" onSubmit={submit} noValidate>
        <Card
          title="Company profile"
          description="Shown to your team, and your name and logo to visitors in the widget."
          footer={
            <SaveBar
              dirty={form.dirty}
              saving={saving}
              onDiscard={() => {
                form.reset()
                setLocal({})
                setPickerKey((k) => k + 1)
              }}
            />
          }
        >
          <div className="stack">
            <ErrorBanner error={problem} shownFields={['name', 'email', 'phone', 'website', 'logo']} />
            <TextField label="Company name" value={v.name} onChange={edit('name')} error={errors.name} maxLength={200} required autoComplete="organization" />
            <div className="grid2">
              <TextField
                label="Contact email"
                type="email"
                value={v.email}
                onChange={edit('email')}
                error={errors.email}
                hint="Where the platform writes to you."
                required
                autoComplete="email"
              />
              <TextField label="Phone" type="tel" value={v.phone} onChange={edit('phone')} error={errors.phone} hint="Optional." autoComplete="tel" />
            </div>
            <TextField
              label="Website"
              type="url"
              value={v.website}
              onChange={edit('website')}
              error={errors.website}
              placeholder="https://www.example.com"
              hint="Optional."
              autoComplete="url"
            />
            <LogoPicker
              key={pickerKey}
              file={v.logo}
              currentURL={company.logoURL || null}
              onChange={(f) => {
                form.set('logo', f)
                clearFieldError('logo')
              }}
              error={errors.logo}
            />
            {progress !== null && (
              <div className="stack tight">
                <div className="small muted">Uploading the logo… {Math.round(progress * 100)}%</div>
                <ProgressBar value={progress} label="Logo upload" />
              </div>
            )}
          </div>
        </Card>
        <Card title="Plan">
          <div className="st-plan">
            <Badge kind="primary">{PLAN_LABEL[company.subscriptionPlan] ?? company.subscriptionPlan}</Badge>
            <p className="muted small">
              Your plan sets how much knowledge you can add (pages crawled, jobs per hour). It is managed by the platform’s
              administrators: contact them to change it.
            </p>
          </div>
        </Card>
      </form>
      <WidgetPreview
        companyName={v.name}
        logoURL={logoPreview ?? (company.logoURL || null)}
        brandColor={company.brandColor}
        greeting={company.greeting}
        assistantName={company.assistantName}
        awayMessage={company.awayMessage ?? ''}
        caption="Your name and logo in the widget's header. Updates as you type; nothing is saved yet."
      />
    </div>
  )
}
