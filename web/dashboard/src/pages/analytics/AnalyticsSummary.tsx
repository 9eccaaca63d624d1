// The headline figures of an analytics period as stat cards. No charts
// here: the company detail page shows these without loading the chart
// library, which only the analytics page's chunk pulls in.
import { formatDuration, formatPercent } from './analyticsLogic'
import './analytics.css'

export interface Figures {
  conversations: number
  messages: number
  visitorMessages: number
  botResolvedRate: number
  handoffRate: number
  medianFirstResponseSeconds?: number | null
  medianBotFirstResponseSeconds?: number | null
  medianHumanFirstResponseSeconds?: number | null
  csatAverage?: number | null
  ratings: number
}

const nf = new Intl.NumberFormat()

function Stat({ label, value, detail, title }: { label: string; value: string; detail: string; title?: string }) {
  return (
    <div className="card stat an-stat" title={title}>
      <div className="k">{label}</div>
      <div className="v">{value}</div>
      <div className="d">{detail}</div>
    </div>
  )
}

export function StatCards({ a, compact }: { a: Figures; compact?: boolean }) {
  const noAnswers = a.conversations === 0
  const cards = [
    <Stat key="c" label="Conversations" value={nf.format(a.conversations)} detail="started in this period" />,
    <Stat
      key="m"
      label="Messages"
      value={nf.format(a.messages)}
      detail={`${nf.format(a.visitorMessages)} from visitors`}
    />,
    <Stat
      key="b"
      label="Resolved by the assistant"
      value={noAnswers ? '—' : formatPercent(a.botResolvedRate)}
      detail="answered without a human"
      title="Of the conversations the assistant answered, the share that never went to a human."
    />,
    <Stat
      key="h"
      label="Handed to a human"
      value={noAnswers ? '—' : formatPercent(a.handoffRate)}
      detail="of conversations"
      title="Of the conversations with a visitor message, the share that went to a human."
    />,
    <Stat
      key="f"
      label="First response"
      value={formatDuration(a.medianFirstResponseSeconds)}
      detail="median, assistant or team"
      title="Median time from a visitor's first message to the first answer."
    />,
    <Stat
      key="fb"
      label="Assistant's first response"
      value={formatDuration(a.medianBotFirstResponseSeconds)}
      detail="median"
      title="Median time from a visitor's first message to the assistant's first answer."
    />,
    <Stat
      key="fh"
      label="Team's first response"
      value={formatDuration(a.medianHumanFirstResponseSeconds)}
      detail={a.medianHumanFirstResponseSeconds == null ? 'no handoff answered yet' : 'median, from the handoff'}
      title="Median time from a visitor asking for a human to the first agent message."
    />,
    <Stat
      key="s"
      label="Satisfaction"
      value={a.csatAverage == null ? '—' : `${a.csatAverage.toFixed(1)} / 5`}
      detail={a.ratings === 0 ? 'no ratings yet' : `${nf.format(a.ratings)} ${a.ratings === 1 ? 'rating' : 'ratings'}`}
      title="Average of the visitors' ratings (1 to 5)."
    />,
  ]
  return <div className={`an-stats ${compact ? 'compact' : ''}`}>{cards}</div>
}
