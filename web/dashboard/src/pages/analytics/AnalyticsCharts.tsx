// The analytics page's charts (recharts, loaded with this page only):
// conversations and messages per day, and visitor messages per hour of the
// viewer's day.
import { useEffect, useState } from 'react'
import { Area, AreaChart, Bar, BarChart, CartesianGrid, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import { axisClockLabel, clockLabel, dayLabel, type DayPoint, type HourPoint } from './analyticsLogic'

const PRIMARY = '#4f46e5'
const TEAL = '#0d9488'
const GRID = '#eef0f3'
const AXIS = { fontSize: 12, fill: '#6b7280' }

interface TipProps {
  active?: boolean
  label?: string | number
  payload?: readonly { name?: string | number; value?: unknown; color?: string; dataKey?: unknown }[]
}

function ChartTip({ active, payload, title }: TipProps & { title: string }) {
  if (!active || !payload?.length) return null
  return (
    <div className="an-tip">
      <div className="t">{title}</div>
      {payload.map((p) => (
        <div key={String(p.dataKey)} className="r">
          <span className="sw" style={{ background: p.color }} />
          {p.name}: <b>{Number(p.value).toLocaleString()}</b>
        </div>
      ))}
    </div>
  )
}

export function ActivityChart({ days }: { days: DayPoint[] }) {
  const summary = `${days.length} days; ${days.reduce((n, d) => n + d.conversations, 0)} conversations and ${days.reduce((n, d) => n + d.messages, 0)} messages in all.`
  return (
    <div className="an-chart" role="img" aria-label={`Conversations and messages per day: ${summary}`}>
      <ResponsiveContainer width="100%" height="100%">
        <AreaChart data={days} margin={{ top: 8, right: 8, bottom: 0, left: -12 }}>
          <defs>
            <linearGradient id="an-msg" x1="0" y1="0" x2="0" y2="1">
              <stop offset="0%" stopColor={PRIMARY} stopOpacity={0.22} />
              <stop offset="100%" stopColor={PRIMARY} stopOpacity={0.02} />
            </linearGradient>
            <linearGradient id="an-conv" x1="0" y1="0" x2="0" y2="1">
              <stop offset="0%" stopColor={TEAL} stopOpacity={0.3} />
              <stop offset="100%" stopColor={TEAL} stopOpacity={0.04} />
            </linearGradient>
          </defs>
          <CartesianGrid stroke={GRID} vertical={false} />
          <XAxis dataKey="day" tickFormatter={(d: string) => dayLabel(d)} tick={AXIS} tickLine={false} axisLine={{ stroke: '#e5e7eb' }} minTickGap={24} />
          <YAxis allowDecimals={false} tick={AXIS} tickLine={false} axisLine={false} width={48} />
          <Tooltip
            cursor={{ stroke: '#c7d2fe' }}
            content={(p: TipProps) => <ChartTip {...p} title={p.label ? dayLabel(String(p.label)) : ''} />}
          />
          <Area type="monotone" dataKey="messages" name="Messages" stroke={PRIMARY} strokeWidth={2} fill="url(#an-msg)" isAnimationActive={false} />
          <Area type="monotone" dataKey="conversations" name="Conversations" stroke={TEAL} strokeWidth={2} fill="url(#an-conv)" isAnimationActive={false} />
        </AreaChart>
      </ResponsiveContainer>
    </div>
  )
}

/** Whether the screen is phone-narrow (fewer axis labels fit). */
function useNarrow(): boolean {
  const q = '(max-width: 720px)'
  const [narrow, setNarrow] = useState(() => window.matchMedia?.(q).matches ?? false)
  useEffect(() => {
    const m = window.matchMedia?.(q)
    if (!m) return
    const on = () => setNarrow(m.matches)
    m.addEventListener('change', on)
    return () => m.removeEventListener('change', on)
  }, [])
  return narrow
}

export function HoursChart({ hours, peak }: { hours: HourPoint[]; peak: HourPoint | null }) {
  const narrow = useNarrow()
  const data = hours.map((h) => ({ ...h, label: clockLabel(h.localMinutes) }))
  const axisOf = new Map(hours.map((h) => [clockLabel(h.localMinutes), axisClockLabel(h.localMinutes)]))
  return (
    <div className="an-chart short" role="img" aria-label={peak ? `Visitor messages per hour; the busiest hour starts at ${clockLabel(peak.localMinutes)}.` : 'Visitor messages per hour.'}>
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -12 }}>
          <CartesianGrid stroke={GRID} vertical={false} />
          <XAxis
            dataKey="label"
            tickFormatter={(v: string) => axisOf.get(v) ?? v}
            tick={AXIS}
            tickLine={false}
            axisLine={{ stroke: '#e5e7eb' }}
            // A label every 3 hours (every 4 on a phone).
            interval={narrow ? 3 : 2}
          />
          <YAxis allowDecimals={false} tick={AXIS} tickLine={false} axisLine={false} width={48} />
          <Tooltip
            cursor={{ fill: '#eef2ff' }}
            content={(p: TipProps) => {
              const i = data.findIndex((d) => d.label === p.label)
              const next = i >= 0 ? clockLabel((data[i]!.localMinutes + 60) % 1440) : ''
              return <ChartTip {...p} title={i >= 0 ? `${p.label} – ${next}` : ''} />
            }}
          />
          <Bar dataKey="messages" name="Visitor messages" radius={[3, 3, 0, 0]} isAnimationActive={false}>
            {data.map((d) => (
              <Cell key={d.utcHour} fill={peak && d.utcHour === peak.utcHour ? PRIMARY : '#a5b4fc'} />
            ))}
          </Bar>
        </BarChart>
      </ResponsiveContainer>
    </div>
  )
}
