// Widget: its colour, greeting and assistant name with a live preview, and
// how to put it on a site (the embed snippet, the test page).
import { useId, useMemo, useState, type FormEvent } from 'react'
import { Card, ErrorBanner, TextArea, TextField } from '../../ui'
import { Icon } from '../../ui/icons'
import { changedFields, embedSnippet, isDirty, onBrand, parseHex, validateWidget, type WidgetValues } from './settingsLogic'
import { CharCount, CodeBlock, fieldErrors, SaveBar, useCompanySave, useForm, useSettings, type SettingsCompany } from './SettingsBits'
import { WidgetPreview } from './WidgetPreview'

const SWATCHES = ['#4F46E5', '#2563EB', '#0891B2', '#059669', '#CA8A04', '#EA580C', '#DC2626', '#DB2777', '#7C3AED', '#111827']

function toForm(c: SettingsCompany): WidgetValues {
  return { brandColor: c.brandColor.toUpperCase(), greeting: c.greeting, assistantName: c.assistantName }
}

export function WidgetTab() {
  const { company } = useSettings()
  const saved = useMemo(() => toForm(company), [company])
  const form = useForm(saved, (a, b) => !isDirty(a, b))
  const { save, saving, problem, clearFieldError } = useCompanySave()
  const [local, setLocal] = useState<Record<string, string>>({})
  const errors = fieldErrors(local, problem)
  const v = form.values
  const colour = parseHex(v.brandColor) ?? form.base.brandColor
  const pickerId = useId()
  const origin = window.location.origin
  const snippet = embedSnippet(origin, company.widgetKey)
  const testURL = `${origin}/widget/test?key=${encodeURIComponent(company.widgetKey)}`

  const setField = <K extends keyof WidgetValues>(k: K, val: WidgetValues[K]) => {
    form.set(k, val)
    clearFieldError(k as string)
    if (local[k as string]) setLocal(({ [k as string]: _gone, ...rest }) => rest)
  }

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const normalized = { ...v, brandColor: parseHex(v.brandColor) ?? v.brandColor }
    const problems = validateWidget(normalized)
    setLocal(problems)
    if (Object.keys(problems).length) return
    const c = await save(changedFields(form.base, normalized), { message: 'Widget saved' })
    if (c) form.commit(toForm(c))
  }

  return (
    <div className="st-widget">
      <div className="st-form st-area-look">
        <form onSubmit={submit} noValidate>
          <Card
            title="Look and greeting"
            description="What visitors see when they open the chat."
            footer={
              <SaveBar
                dirty={form.dirty}
                saving={saving}
                onDiscard={() => {
                  form.reset()
                  setLocal({})
                }}
              />
            }
          >
            <div className="stack">
              <ErrorBanner error={problem} shownFields={['brandColor', 'greeting', 'assistantName']} />
              <div className="field">
                <label htmlFor={pickerId}>Brand colour</label>
                <div className="st-colour">
                  <input
                    id={pickerId}
                    type="color"
                    className="input color"
                    value={colour.toLowerCase()}
                    onChange={(e) => setField('brandColor', e.target.value.toUpperCase())}
                  />
                  <input
                    className="input st-hex mono"
                    aria-label="Brand colour, hex"
                    value={v.brandColor}
                    maxLength={7}
                    spellCheck={false}
                    aria-invalid={errors.brandColor ? true : undefined}
                    onChange={(e) => setField('brandColor', e.target.value)}
                    onBlur={() => {
                      const p = parseHex(v.brandColor)
                      if (p && p !== v.brandColor) setField('brandColor', p)
                    }}
                  />
                  <div className="st-swatches" role="group" aria-label="Suggested colours">
                    {SWATCHES.map((s) => (
                      <button
                        key={s}
                        type="button"
                        className="st-swatch"
                        style={{ background: s }}
                        aria-label={`Use ${s}`}
                        aria-pressed={colour === s}
                        onClick={() => setField('brandColor', s)}
                      />
                    ))}
                  </div>
                </div>
                {errors.brandColor ? (
                  <div className="error">{errors.brandColor}</div>
                ) : (
                  <div className="hint">
                    The header, the visitor’s messages and the chat bubble. Text on it is{' '}
                    {onBrand(colour) === '#fff' ? 'white' : 'dark'}, chosen for contrast.
                  </div>
                )}
              </div>
              <div className="st-counted">
                <CharCount value={v.greeting} max={500} />
                <TextArea
                  label="Greeting"
                  value={v.greeting}
                  onChange={(e) => setField('greeting', e.target.value)}
                  error={errors.greeting}
                  hint="The assistant’s first message when a visitor opens the chat. Leave empty for none. Up to 500 characters."
                  rows={3}
                />
              </div>
              <TextField
                label="Assistant name"
                value={v.assistantName}
                onChange={(e) => setField('assistantName', e.target.value)}
                error={errors.assistantName}
                hint="Shown under your company name and above the assistant’s messages."
                maxLength={60}
              />
            </div>
          </Card>
        </form>
      </div>
      <div className="st-area-embed">
        <Card title="Put the widget on your site" description="Paste this before </body> on every page where visitors should be able to chat.">
          <div className="stack">
            <CodeBlock label="HTML" code={snippet} copyLabel="Copy snippet" wrap />
            <div className="row between">
              <span className="small muted">
                Widget key <code>{company.widgetKey}</code>
              </span>
              <a className="btn small" href={testURL} target="_blank" rel="noreferrer">
                <Icon name="globe" size={15} /> Open the test page
              </a>
            </div>
            {company.requireIdentity && (
              <p className="small muted">
                Identity verification is on: add <code>data-external-id</code> and <code>data-user-hash</code> for signed-in
                visitors (see Security).
              </p>
            )}
            {(company.allowedOrigins?.length ?? 0) > 0 && (
              <p className="small muted">
                The widget only works on the sites listed under Security → Allowed origins.
              </p>
            )}
          </div>
        </Card>
      </div>
      <WidgetPreview
        companyName={company.name}
        logoURL={company.logoURL || null}
        brandColor={colour}
        greeting={v.greeting}
        assistantName={v.assistantName}
        awayMessage={company.awayMessage ?? ''}
      />
    </div>
  )
}
