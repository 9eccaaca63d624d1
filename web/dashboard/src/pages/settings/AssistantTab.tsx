// Assistant: how it sounds, whether it hands over to a person by itself,
// and what visitors are told when nobody can answer.
import { useMemo, useState, type FormEvent } from 'react'
import { Card, ErrorBanner, TextArea } from '../../ui'
import { changedFields, DEFAULT_AWAY, isDirty, validateAssistant, type AssistantValues } from './settingsLogic'
import { CharCount, fieldErrors, SaveBar, Toggle, useCompanySave, useForm, useSettings, type SettingsCompany } from './SettingsBits'
import { WidgetPreview } from './WidgetPreview'

const TONES = ['friendly and concise', 'warm and reassuring', 'formal and precise', 'playful, with short sentences']

function toForm(c: SettingsCompany): AssistantValues {
  return { assistantTone: c.assistantTone ?? '', autoHandoff: c.autoHandoff, awayMessage: c.awayMessage ?? '' }
}

export function AssistantTab() {
  const { company } = useSettings()
  const saved = useMemo(() => toForm(company), [company])
  const form = useForm(saved, (a, b) => !isDirty(a, b))
  const { save, saving, problem, clearFieldError } = useCompanySave()
  const [local, setLocal] = useState<Record<string, string>>({})
  const errors = fieldErrors(local, problem)
  const v = form.values

  const setField = <K extends keyof AssistantValues>(k: K, val: AssistantValues[K]) => {
    form.set(k, val)
    clearFieldError(k as string)
    if (local[k as string]) setLocal(({ [k as string]: _gone, ...rest }) => rest)
  }

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const problems = validateAssistant(v)
    setLocal(problems)
    if (Object.keys(problems).length) return
    const c = await save(changedFields(form.base, v), { message: 'Assistant settings saved' })
    if (c) form.commit(toForm(c))
  }

  return (
    <div className="st-split">
      <form className="st-form" onSubmit={submit} noValidate>
        <Card
          title="Assistant"
          description="How the assistant answers your visitors from your knowledge."
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
          <div className="stack loose">
            <ErrorBanner error={problem} shownFields={['assistantTone', 'autoHandoff', 'awayMessage']} />
            <div className="stack tight">
              <div className="st-counted">
                <CharCount value={v.assistantTone} max={200} />
                <TextArea
                  label="Tone"
                  value={v.assistantTone}
                  onChange={(e) => setField('assistantTone', e.target.value)}
                  error={errors.assistantTone}
                  placeholder="e.g. friendly and concise"
                  hint="How the assistant should sound. It always answers from your knowledge only, in the visitor’s language. Up to 200 characters."
                  rows={2}
                />
              </div>
              <div className="row st-chips" role="group" aria-label="Suggested tones">
                <span className="small muted">Try:</span>
                {TONES.map((t) => (
                  <button key={t} type="button" className="st-chip" onClick={() => setField('assistantTone', t)}>
                    {t}
                  </button>
                ))}
              </div>
            </div>
            <Toggle
              label="Hand over to a person automatically"
              checked={v.autoHandoff}
              onChange={(on) => setField('autoHandoff', on)}
              hint={
                v.autoHandoff ? (
                  <>
                    <b>On:</b> when the assistant cannot answer from your knowledge, the conversation goes straight to your
                    team’s inbox and waits for an agent.
                  </>
                ) : (
                  <>
                    <b>Off:</b> when the assistant cannot answer, it says so and the conversation stays with it; the visitor
                    can still choose “Talk to a person”.
                  </>
                )
              }
            />
            <div className="st-counted">
              <CharCount value={v.awayMessage} max={500} />
              <TextArea
                label="Away message"
                value={v.awayMessage}
                onChange={(e) => setField('awayMessage', e.target.value)}
                error={errors.awayMessage}
                placeholder={DEFAULT_AWAY}
                hint="Shown in the widget outside business hours, and said when a visitor asks for a person while nobody is online or the team is closed. Empty: the default above. Up to 500 characters."
                rows={3}
              />
            </div>
          </div>
        </Card>
      </form>
      <WidgetPreview
        key="away"
        companyName={company.name}
        logoURL={company.logoURL || null}
        brandColor={company.brandColor}
        greeting={company.greeting}
        assistantName={company.assistantName}
        awayMessage={v.awayMessage}
        away
        caption="Shown here outside business hours, with your away message."
      />
    </div>
  )
}
