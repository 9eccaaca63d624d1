// A faithful mock of the chat widget (web/widget/widget.js): its panel and
// bubble, drawn with the same sizes, colours and text, so a change of
// colour, greeting, assistant name, name or logo shows before it is saved.
import { useState, type CSSProperties } from 'react'
import { HEX, onBrand, DEFAULT_AWAY } from './settingsLogic'

const CHAT = 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z'
const CLOSE = 'M5.3 6.7l1.4-1.4L12 10.6l5.3-5.3 1.4 1.4-5.3 5.3 5.3 5.3-1.4 1.4-5.3-5.3-5.3 5.3-1.4-1.4 5.3-5.3z'

function Glyph({ d }: { d: string }) {
  return (
    <svg viewBox="0 0 24 24" fill="currentColor" aria-hidden focusable="false">
      <path d={d} />
    </svg>
  )
}

export interface PreviewProps {
  companyName: string
  logoURL: string | null
  brandColor: string
  greeting: string
  assistantName: string
  awayMessage?: string
  /** Start with the "outside business hours" note shown. */
  away?: boolean
  /** What this tab changes, for the caption. */
  caption?: string
}

export function WidgetPreview({ companyName, logoURL, brandColor, greeting, assistantName, awayMessage, away: awayDefault = false, caption }: PreviewProps) {
  const [open, setOpen] = useState(true)
  const [away, setAway] = useState(awayDefault)
  const brand = HEX.test(brandColor) ? brandColor : '#4F46E5'
  const vars = { '--st-wp-brand': brand, '--st-wp-on-brand': onBrand(brand) } as CSSProperties
  const name = companyName.trim() || 'Your company'
  const assistant = assistantName.trim() || 'Assistant'
  return (
    <section className="st-wp" aria-label="Widget preview">
      <div className="st-wp-head">
        <div>
          <h3>Live preview</h3>
          <p className="muted small">{caption ?? 'How visitors see the widget. Updates as you type; nothing is saved yet.'}</p>
        </div>
      </div>
      <div className="st-wp-controls">
        <label className="st-wp-opt">
          <input type="checkbox" checked={away} onChange={(e) => setAway(e.target.checked)} /> Outside business hours
        </label>
        <label className="st-wp-opt">
          <input type="checkbox" checked={open} onChange={(e) => setOpen(e.target.checked)} /> Chat open
        </label>
      </div>
      <div className="st-wp-stage" style={vars} aria-hidden="true" inert>
        <div className="st-wp-root">
          {open && (
            <div className="st-wp-panel">
              <header className="st-wp-header">
                {logoURL && <img src={logoURL} alt="" />}
                <div className="st-wp-titles">
                  <h2>{name}</h2>
                  <p>{assistant}</p>
                </div>
                <span className="st-wp-x">
                  <Glyph d={CLOSE} />
                </span>
              </header>
              {away && <div className="st-wp-note">{awayMessage?.trim() || DEFAULT_AWAY}</div>}
              <div className="st-wp-log">
                {greeting.trim() && (
                  <div className="st-wp-msg staff">
                    <div className="st-wp-who">{assistant}</div>
                    <div className="st-wp-body">{greeting.trim()}</div>
                  </div>
                )}
                <div className="st-wp-msg visitor">
                  <div className="st-wp-body">Hi! Do you ship to Canada?</div>
                </div>
                <div className="st-wp-msg staff">
                  <div className="st-wp-who">{assistant}</div>
                  <div className="st-wp-body">Yes, we ship to Canada in 3–5 business days.</div>
                </div>
              </div>
              <div className="st-wp-actions">
                <span className="st-wp-chip">Talk to a person</span>
              </div>
              <div className="st-wp-compose">
                <span className="st-wp-input">Type your message…</span>
                <span className="st-wp-send">➤</span>
              </div>
            </div>
          )}
          <span className="st-wp-launcher">
            <Glyph d={open ? CLOSE : CHAT} />
          </span>
        </div>
      </div>
    </section>
  )
}
