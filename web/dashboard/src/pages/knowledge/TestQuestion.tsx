// "Test a question": staff ask what a visitor might ask and see what the
// assistant would answer, and the passages its search found with their
// scores against the relevance threshold. Nothing is stored or sent to
// anyone. The last few questions are kept (in this browser) to ask again.
import { Fragment, useEffect, useState, type FormEvent, type ReactNode } from 'react'
import { Link } from 'react-router'
import { useClient } from 'urql'
import type { KnowledgeTestQuestionQuery } from '../../gql/graphql'
import { describeError, type Problem } from '../../lib/errors'
import { Badge, Button, ErrorBanner, TextField } from '../../ui'
import { Icon } from '../../ui/icons'
import { KnowledgeTestQuestion } from './documents'
import { LeftOutNote } from './bits'
import { displayText, pushHistory } from './knowledgeLogic'

type Test = KnowledgeTestQuestionQuery['testQuestion']

// Results of this session, per company and question: going back to a
// question shows its result without asking again.
const results = new Map<string, Test>()

function historyKey(companyId: string) {
  return `concierge.knowledge.tests.${companyId}`
}

function loadHistory(companyId: string): string[] {
  try {
    const v = JSON.parse(localStorage.getItem(historyKey(companyId)) ?? '[]') as unknown
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, 5) : []
  } catch {
    return []
  }
}

const OUTCOME: Record<Test['outcome'], { label: string; kind: 'ok' | 'warn' | 'danger'; text: string }> = {
  ANSWERED: {
    label: 'Answered',
    kind: 'ok',
    text: 'The assistant would answer from the relevant passages below, citing them.',
  },
  DECLINED: {
    label: 'Declined',
    kind: 'warn',
    text: 'Nothing in the knowledge is relevant enough: the assistant would say it cannot answer and, with automatic handoff on, pass the conversation to your team. Add knowledge that covers this question.',
  },
  FAILED: {
    label: 'Failed',
    kind: 'danger',
    text: 'The model or the index failed: a visitor would get a polite fallback and a handoff to your team.',
  },
}

function pct(x: number) {
  return `${Math.round(Math.max(0, Math.min(1, x)) * 100)}%`
}

/** The answer's [n] markers as small citation chips. */
function AnswerText({ text, citations }: { text: string; citations: Test['citations'] }) {
  const parts: ReactNode[] = []
  const re = /\[(\d+)\]/g
  let last = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(text))) {
    parts.push(text.slice(last, m.index))
    const n = Number(m[1])
    const c = citations[n - 1]
    parts.push(
      c ? (
        <Link key={m.index} to={`/knowledge/${c.resourceID}`} className="kn-cite" title={c.title}>
          {n}
        </Link>
      ) : (
        m[0]
      ),
    )
    last = m.index + m[0].length
  }
  parts.push(text.slice(last))
  return <p className="kn-answer">{parts.map((p, i) => <Fragment key={i}>{p}</Fragment>)}</p>
}

function ScoreBar({ score, threshold, relevant }: { score: number; threshold: number; relevant: boolean }) {
  return (
    <div className="kn-score">
      <div
        className={`kn-score-bar ${relevant ? 'on' : ''}`}
        role="meter"
        aria-valuemin={0}
        aria-valuemax={1}
        aria-valuenow={Number(score.toFixed(2))}
        aria-label={`Score ${score.toFixed(2)}, threshold ${threshold.toFixed(2)}`}
      >
        <span className="fill" style={{ width: pct(score) }} />
        <span className="mark" style={{ left: pct(threshold) }} title={`Threshold ${threshold.toFixed(2)}`} />
      </div>
      <span className="kn-score-n">{score.toFixed(2)}</span>
    </div>
  )
}

function Passage({ p, rank, threshold }: { p: Test['passages'][number]; rank: number; threshold: number }) {
  const [more, setMore] = useState(false)
  const text = displayText(p.text)
  const long = text.length > 420 || text.split('\n').length > 4
  const where = [p.heading, p.page ? `page ${p.page}` : ''].filter(Boolean).join(' · ')
  return (
    <li className={`kn-passage ${p.relevant ? 'relevant' : ''}`}>
      <div className="kn-passage-head">
        <span className="kn-rank" aria-label={`Rank ${rank}`}>
          {rank}
        </span>
        <div className="grow">
          <div className="kn-passage-title">
            {p.resource ? (
              <Link to={`/knowledge/${p.resource.id}`}>{p.resource.title}</Link>
            ) : (
              <span>
                {p.title} <span className="muted">(deleted)</span>
              </span>
            )}
          </div>
          {(where || p.url) && (
            <div className="kn-passage-where">
              {where}
              {p.url && (
                <>
                  {where && ' · '}
                  <a href={p.url} target="_blank" rel="noreferrer noopener">
                    {p.url}
                  </a>
                </>
              )}
            </div>
          )}
        </div>
        {p.relevant ? <Badge kind="ok">Relevant</Badge> : <Badge>Below threshold</Badge>}
      </div>
      <ScoreBar score={p.score} threshold={threshold} relevant={p.relevant} />
      <LeftOutNote sentences={p.leftOut} />
      <p className={`kn-passage-text ${long && !more ? 'clamped' : ''}`}>{text}</p>
      {long && (
        <button type="button" className="kn-link-btn" onClick={() => setMore((m) => !m)} aria-expanded={more}>
          {more ? 'Show less' : 'Show more'}
        </button>
      )}
    </li>
  )
}

export function TestQuestionPanel({ companyId, hasKnowledge }: { companyId: string; hasKnowledge: boolean }) {
  const client = useClient()
  const [question, setQuestion] = useState('')
  const [history, setHistory] = useState<string[]>(() => loadHistory(companyId))
  const [result, setResult] = useState<Test | null>(null)
  const [problem, setProblem] = useState<Problem | null>(null)
  const [asking, setAsking] = useState(false)

  useEffect(() => {
    try {
      localStorage.setItem(historyKey(companyId), JSON.stringify(history))
    } catch {
      // Private mode: the history lasts as long as the page.
    }
  }, [history, companyId])

  const ask = async (q: string, fresh = true) => {
    const text = q.trim()
    if (!text) {
      setProblem({ code: 'BAD_USER_INPUT', message: '', fields: { question: 'Type a question a visitor might ask.' } })
      return
    }
    setQuestion(text)
    setProblem(null)
    const cached = results.get(`${companyId}\n${text}`)
    if (!fresh && cached) {
      setResult(cached)
      setHistory((h) => pushHistory(h, text))
      return
    }
    setAsking(true)
    const res = await client.query(KnowledgeTestQuestion, { question: text }, { requestPolicy: 'network-only' }).toPromise()
    setAsking(false)
    if (res.error) {
      setProblem(describeError(res.error))
      return
    }
    if (res.data) {
      results.set(`${companyId}\n${text}`, res.data.testQuestion)
      setResult(res.data.testQuestion)
      setHistory((h) => pushHistory(h, text))
    }
  }

  const submit = (e: FormEvent) => {
    e.preventDefault()
    void ask(question)
  }

  const relevant = result?.passages.filter((p) => p.relevant).length ?? 0
  const o = result ? OUTCOME[result.outcome] : null

  return (
    <div className="kn-test">
      <section className="card section">
        <div className="card-head">
          <div>
            <h2>Test a question</h2>
            <p>
              Ask what a visitor might ask: see what the assistant would answer, and the passages of your knowledge it would
              use. Nothing is stored or sent to anyone.
            </p>
          </div>
        </div>
        <div className="card-body stack">
          {!hasKnowledge && (
            <div className="kn-hint-box">
              There is no knowledge yet: every question will be declined. Add a text, a PDF or a website first.
            </div>
          )}
          <form className="kn-ask" onSubmit={submit}>
            <TextField
              label="Question"
              value={question}
              onChange={(e) => {
                setQuestion(e.target.value)
                if (problem?.fields.question) setProblem(null)
              }}
              error={problem?.fields.question}
              placeholder="e.g. How long does delivery take?"
              maxLength={5000}
              className="grow"
            />
            <Button variant="primary" type="submit" loading={asking}>
              Test
            </Button>
          </form>
          {history.length > 0 && (
            <div className="kn-history">
              <span className="muted small">Recent:</span>
              {history.map((h) => (
                <button
                  key={h}
                  type="button"
                  className={`kn-chip ${result?.question === h ? 'on' : ''}`}
                  onClick={() => void ask(h, false)}
                  title={`Show “${h}” again`}
                >
                  {h}
                </button>
              ))}
              <button type="button" className="kn-link-btn" onClick={() => setHistory([])}>
                Clear
              </button>
            </div>
          )}
          <ErrorBanner error={problem} shownFields={['question']} onRetry={problem?.code === 'RATE_LIMITED' ? () => void ask(question) : undefined} />
        </div>
      </section>

      {result && o && (
        <>
          <section className="card section" aria-live="polite">
            <div className="card-head">
              <div className="grow">
                <div className="row">
                  <h2>What the assistant would answer</h2>
                  <Badge kind={o.kind}>{o.label}</Badge>
                </div>
                <p className="kn-break">
                  To “{result.question}” · {o.text}
                </p>
              </div>
              <Button size="small" onClick={() => void ask(result.question)} loading={asking}>
                <Icon name="refresh" size={16} /> Ask again
              </Button>
            </div>
            <div className="card-body stack">
              <AnswerText text={result.answer} citations={result.citations} />
              {result.citations.length > 0 && (
                <ol className="kn-cited">
                  {result.citations.map((c, i) => (
                    <li key={i}>
                      <span className="kn-cite static">{i + 1}</span>
                      <Link to={`/knowledge/${c.resourceID}`}>{c.title}</Link>
                      {c.page ? <span className="muted"> · page {c.page}</span> : null}
                      {c.url ? (
                        <span className="muted kn-break">
                          {' '}
                          · <a href={c.url} target="_blank" rel="noreferrer noopener">{c.url}</a>
                        </span>
                      ) : null}
                    </li>
                  ))}
                </ol>
              )}
            </div>
          </section>

          <section className="card section">
            <div className="card-head">
              <div>
                <h2>Passages found</h2>
                <p>
                  {result.passages.length === 0
                    ? 'The search found nothing.'
                    : `${result.passages.length === 1 ? "The best match" : `${result.passages.length} best matches`}, ${relevant} relevant. A passage must score at least ${result.threshold.toFixed(2)} (the line on each bar) to be used.`}
                </p>
              </div>
            </div>
            {result.passages.length > 0 ? (
              <ol className="kn-passages">
                {result.passages.map((p, i) => (
                  <Passage key={i} p={p} rank={i + 1} threshold={result.threshold} />
                ))}
              </ol>
            ) : (
              <div className="card-body muted">No passage of the active knowledge matches this question at all.</div>
            )}
          </section>
        </>
      )}
    </div>
  )
}
