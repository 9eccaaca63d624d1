// Business hours: when the team answers, in the company's time zone, or
// always open. Outside them the widget shows the away message.
import { useEffect, useMemo, useState, type FormEvent } from 'react'
import { Link } from 'react-router'
import type { Weekday } from '../../gql/graphql'
import { Banner, Button, Card, ErrorBanner, SelectField } from '../../ui'
import { Icon } from '../../ui/icons'
import {
  DEFAULT_RANGE,
  formToHoursInput,
  hoursPatch,
  hoursToForm,
  hoursValid,
  openAt,
  sameHours,
  timeZoneOptions,
  validateHours,
  WEEKDAY_LABEL,
  zonedNow,
  type DayHours,
  type HoursErrors,
  type HoursForm,
  type TimeRange,
} from './settingsLogic'
import { SaveBar, Toggle, useCompanySave, useForm, useSettings } from './SettingsBits'

const BROWSER_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
const ALL_ZONES: readonly string[] = (() => {
  let zones: string[] = []
  try {
    zones = Intl.supportedValuesOf('timeZone')
  } catch {
    // An old browser: the server checks the zone.
  }
  return zones.length && !zones.includes('UTC') ? [...zones, 'UTC'] : zones
})()

function useMinute(): Date {
  const [now, setNow] = useState(() => new Date())
  useEffect(() => {
    const t = setInterval(() => setNow(new Date()), 30_000)
    return () => clearInterval(t)
  }, [])
  return now
}

export function HoursTab() {
  const { company } = useSettings()
  const saved = useMemo(() => hoursToForm(company.businessHours, BROWSER_ZONE), [company])
  const form = useForm<HoursForm>(saved, sameHours)
  const { save, saving, problem } = useCompanySave()
  const [errors, setErrors] = useState<HoursErrors | null>(null)
  const v = form.values
  const now = useMinute()
  const zones = useMemo(() => timeZoneOptions(ALL_ZONES, BROWSER_ZONE, v.timeZone), [v.timeZone])

  // Errors shown after a first try are re-checked as the user fixes them.
  const shown = errors ? validateHours(v, ALL_ZONES) : null

  const updateDay = (day: Weekday, f: (d: DayHours) => DayHours) =>
    form.setValues((old) => ({ ...old, days: old.days.map((d) => (d.day === day ? f(d) : d)) }))
  const updateRange = (day: Weekday, i: number, patch: Partial<TimeRange>) =>
    updateDay(day, (d) => ({ ...d, ranges: d.ranges.map((r, j) => (j === i ? { ...r, ...patch } : r)) }))

  const copyFirstToAll = () => {
    const first = v.days.find((d) => d.enabled)
    if (!first) return
    form.setValues((old) => ({
      ...old,
      days: old.days.map((d) => (d.enabled ? { ...d, ranges: first.ranges.map((r) => ({ ...r })) } : d)),
    }))
  }

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const check = validateHours(v, ALL_ZONES)
    setErrors(check)
    if (!hoursValid(check)) return
    const c = await save(hoursPatch(form.base, v), { message: v.alwaysOpen ? 'Always open: business hours removed' : 'Business hours saved' })
    if (c) {
      form.commit(hoursToForm(c.businessHours, BROWSER_ZONE))
      setErrors(null)
    }
  }

  const input = formToHoursInput(v)
  const here = zonedNow(now, v.timeZone)
  const openNow = openAt(input, now)
  const firstOpen = v.days.find((d) => d.enabled)

  return (
    <form className="st-form st-narrow" onSubmit={submit} noValidate>
      <Card
        title="Business hours"
        description="When your team answers. The assistant answers all the time; outside these hours visitors who ask for a person are told your away message."
        footer={
          <SaveBar
            dirty={form.dirty}
            saving={saving}
            onDiscard={() => {
              form.reset()
              setErrors(null)
            }}
          />
        }
      >
        <div className="stack loose">
          <ErrorBanner error={problem} />
          <fieldset className="st-choice" aria-label="Opening hours">
            <label className={`st-choice-opt ${v.alwaysOpen ? 'on' : ''}`}>
              <input type="radio" name="hours-mode" checked={v.alwaysOpen} onChange={() => form.set('alwaysOpen', true)} />
              <span>
                <b>Always open</b>
                <span className="muted small">Your team can be asked for at any time.</span>
              </span>
            </label>
            <label className={`st-choice-opt ${!v.alwaysOpen ? 'on' : ''}`}>
              <input type="radio" name="hours-mode" checked={!v.alwaysOpen} onChange={() => form.set('alwaysOpen', false)} />
              <span>
                <b>Set opening hours</b>
                <span className="muted small">Outside them, the widget shows your away message.</span>
              </span>
            </label>
          </fieldset>

          {!v.alwaysOpen && (
            <>
              <div className="st-zone">
                <SelectField
                  label="Time zone"
                  value={v.timeZone}
                  onChange={(e) => form.set('timeZone', e.target.value)}
                  error={shown?.timeZone}
                >
                  {zones.map((z) => (
                    <option key={z} value={z}>
                      {z === BROWSER_ZONE ? `${z.replace(/_/g, ' ')} (this browser)` : z.replace(/_/g, ' ')}
                    </option>
                  ))}
                </SelectField>
                {here && (
                  <div className="st-now" role="status">
                    <span className={`dot ${openNow ? 'on' : ''}`} aria-hidden /> Local time there: {here.label} —{' '}
                    <b>{openNow ? 'open now' : 'closed now'}</b>
                    {form.dirty && <span className="muted"> (with these changes)</span>}
                  </div>
                )}
              </div>

              {shown?.form && <Banner kind="error">{shown.form}</Banner>}

              <div className="st-week" role="group" aria-label="Opening hours by day">
                {v.days.map((d) => {
                  const err = shown?.days[d.day]
                  return (
                    <div key={d.day} className={`st-day ${d.enabled ? '' : 'closed'} ${err ? 'bad' : ''}`}>
                      <div className="st-day-name">
                        <Toggle
                          label={WEEKDAY_LABEL[d.day]}
                          checked={d.enabled}
                          onChange={(on) => updateDay(d.day, (x) => ({ ...x, enabled: on }))}
                        />
                      </div>
                      <div className="st-day-hours">
                        {d.enabled ? (
                          d.ranges.map((r, i) => (
                            <div key={i} className="st-range">
                              <input
                                type="time"
                                className="input"
                                aria-label={`${WEEKDAY_LABEL[d.day]} opens at${d.ranges.length > 1 ? ` (period ${i + 1})` : ''}`}
                                value={r.open}
                                onChange={(e) => updateRange(d.day, i, { open: e.target.value })}
                                aria-invalid={err ? true : undefined}
                              />
                              <span className="muted" aria-hidden>
                                to
                              </span>
                              <input
                                type="time"
                                className="input"
                                aria-label={`${WEEKDAY_LABEL[d.day]} closes at${d.ranges.length > 1 ? ` (period ${i + 1})` : ''}`}
                                value={r.close}
                                onChange={(e) => updateRange(d.day, i, { close: e.target.value })}
                                aria-invalid={err ? true : undefined}
                              />
                              {d.ranges.length > 1 && (
                                <Button
                                  size="small"
                                  variant="ghost"
                                  aria-label={`Remove ${WEEKDAY_LABEL[d.day]} ${r.open}–${r.close}`}
                                  onClick={() => updateDay(d.day, (x) => ({ ...x, ranges: x.ranges.filter((_, j) => j !== i) }))}
                                >
                                  ×
                                </Button>
                              )}
                            </div>
                          ))
                        ) : (
                          <span className="muted">Closed</span>
                        )}
                        {err && <div className="error-text">{err}</div>}
                      </div>
                      <div className="st-day-actions">
                        {d.enabled && d.ranges.length < 4 && (
                          <Button
                            size="small"
                            variant="ghost"
                            aria-label={`Add hours on ${WEEKDAY_LABEL[d.day]}`}
                            title="Add another period (e.g. after a lunch break)"
                            onClick={() => {
                              const last = d.ranges[d.ranges.length - 1]
                              const next = last && last.close < '22:00' ? { open: last.close, close: '23:00' } : { ...DEFAULT_RANGE }
                              updateDay(d.day, (x) => ({ ...x, ranges: [...x.ranges, next] }))
                            }}
                          >
                            <Icon name="plus" size={14} /> Add hours
                          </Button>
                        )}
                      </div>
                    </div>
                  )
                })}
              </div>
              {firstOpen && (
                <div className="row">
                  <Button size="small" onClick={copyFirstToAll}>
                    Copy {WEEKDAY_LABEL[firstOpen.day]}’s hours to every open day
                  </Button>
                </div>
              )}
              <p className="small muted">
                Times are in the time zone above. For hours past midnight, close at 23:59 and open the next day at 00:00.
                What visitors are told outside these hours is set under <Link to="/settings/assistant">Assistant → Away message</Link>.
              </p>
            </>
          )}
        </div>
      </Card>
    </form>
  )
}
