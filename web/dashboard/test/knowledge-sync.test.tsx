// Scheduled re-sync on the knowledge page: the select of a website or
// Facebook page, what it says about the next and the last sync, and
// nothing for PDFs and texts.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { cleanup, fireEvent, render, screen } from '@testing-library/react'
import { SyncControl } from '../src/pages/knowledge/bits'
import { formatDate, formatIn, syncSummary } from '../src/pages/knowledge/knowledgeLogic'

const now = Date.parse('2026-03-02T09:00:00Z')
const hours = (h: number) => new Date(now + h * 3600_000).toISOString()
const site = {
  title: 'docs.acme.test',
  type: 'WEBSITE' as const,
  isActive: true,
  syncInterval: 'WEEKLY' as const,
  nextSyncAt: hours(6 * 24),
  lastSyncedAt: hours(-3),
}

afterEach(cleanup)

describe('SyncControl', () => {
  it('lets an admin pick the interval and says when it syncs next and last', () => {
    const onChange = vi.fn()
    render(<SyncControl r={site} now={now} editable onChange={onChange} />)
    const select = screen.getByRole('combobox', { name: 'Re-sync “docs.acme.test”' }) as HTMLSelectElement
    expect(select.value).toBe('WEEKLY')
    expect([...select.options].map((o) => o.textContent)).toEqual(['Never', 'Daily', 'Weekly', 'Monthly'])
    expect(screen.getByText('Next sync: in 6 days')).toBeTruthy()
    expect(screen.getByText('Last synced 3 h ago')).toBeTruthy()
    fireEvent.change(select, { target: { value: 'DAILY' } })
    expect(onChange).toHaveBeenCalledWith('DAILY')
  })

  it('gives the exact times on hover in the list', () => {
    const { container } = render(<SyncControl r={site} now={now} editable onChange={() => {}} />)
    const times = [...container.querySelectorAll('time')].map((t) => [t.textContent, t.dateTime, t.title])
    expect(times).toEqual([
      ['Next sync: in 6 days', site.nextSyncAt, formatDate(site.nextSyncAt)],
      ['Last synced 3 h ago', site.lastSyncedAt, formatDate(site.lastSyncedAt)],
    ])
    // Never: no next time to give.
    cleanup()
    const never = render(<SyncControl r={{ ...site, syncInterval: 'NEVER', nextSyncAt: null }} now={now} editable onChange={() => {}} />)
    expect([...never.container.querySelectorAll('time')].map((t) => t.textContent)).toEqual(['Last synced 3 h ago'])
  })

  it('is read-only text for agents, and disabled while a change is saved', () => {
    const { rerender } = render(<SyncControl r={site} now={now} editable={false} onChange={() => {}} />)
    expect(screen.queryByRole('combobox')).toBeNull()
    expect(screen.getByText('Re-sync: weekly')).toBeTruthy()
    rerender(<SyncControl r={site} now={now} editable disabled onChange={() => {}} />)
    expect((screen.getByRole('combobox') as HTMLSelectElement).disabled).toBe(true)
  })

  it('leaves out its own word where a heading says Re-sync', () => {
    const { container } = render(<SyncControl r={site} now={now} editable labelled onChange={() => {}} />)
    expect(screen.getByRole('combobox', { name: 'Re-sync “docs.acme.test”' })).toBeTruthy()
    expect(container.textContent).not.toContain('Re-sync')
    expect(container.querySelector('svg')).toBeNull()
    // A resource's page has the room for the dates themselves.
    expect(screen.getByText(`Next sync: ${formatDate(site.nextSyncAt)} (in 6 days)`)).toBeTruthy()
    expect(screen.getByText(`Last synced ${formatDate(site.lastSyncedAt)} (3 h ago)`)).toBeTruthy()
  })

  it('shows nothing for PDFs and texts', () => {
    const { container } = render(
      <SyncControl r={{ ...site, type: 'PDF', syncInterval: 'NEVER', nextSyncAt: null }} now={now} editable onChange={() => {}} />,
    )
    expect(container.innerHTML).toBe('')
  })
})

describe('syncSummary', () => {
  it('covers never, paused, due and not yet synced', () => {
    expect(syncSummary({ ...site, syncInterval: 'NEVER', nextSyncAt: null }, now).next).toBe('Next sync: never')
    expect(syncSummary({ ...site, isActive: false }, now).next).toBe('Next sync: paused while off')
    expect(syncSummary({ ...site, nextSyncAt: hours(-1) }, now).next).toBe('Next sync: due now')
    expect(syncSummary({ ...site, lastSyncedAt: null }, now).last).toBe('Not synced yet')
    expect(syncSummary({ ...site, type: 'TEXT' }, now)).toEqual({ next: '', last: '', nextAt: null, lastAt: null })
  })

  it('gives the times shown, and writes the dates out when asked', () => {
    expect(syncSummary(site, now)).toEqual({
      next: 'Next sync: in 6 days',
      last: 'Last synced 3 h ago',
      nextAt: site.nextSyncAt,
      lastAt: site.lastSyncedAt,
    })
    const dated = syncSummary(site, now, true)
    expect(dated.next).toBe(`Next sync: ${formatDate(site.nextSyncAt)} (in 6 days)`)
    expect(dated.last).toBe(`Last synced ${formatDate(site.lastSyncedAt)} (3 h ago)`)
    // Past a day "ago" is the date already: said once.
    expect(syncSummary({ ...site, lastSyncedAt: hours(-50) }, now, true).last).toBe(`Last synced ${formatDate(hours(-50))}`)
    // Never, paused and due: no date to write out.
    expect(syncSummary({ ...site, syncInterval: 'NEVER', nextSyncAt: null }, now, true)).toMatchObject({ next: 'Next sync: never', nextAt: null })
    expect(syncSummary({ ...site, isActive: false }, now, true)).toMatchObject({ next: 'Next sync: paused while off', nextAt: null })
    expect(syncSummary({ ...site, nextSyncAt: hours(-1) }, now, true).next).toBe('Next sync: due now')
    expect(syncSummary({ ...site, lastSyncedAt: null }, now, true)).toMatchObject({ last: 'Not synced yet', lastAt: null })
  })

  it('formats the time to come', () => {
    expect(formatIn(hours(0.5), now)).toBe('in 30 min')
    expect(formatIn(hours(20), now)).toBe('in 20 h')
    expect(formatIn(hours(24 * 30), now)).toBe('in 30 days')
  })
})
