// The table of resources (the knowledge page and the super admin's All
// resources): what it is, where it comes from, its status with live
// progress, what went wrong, and its actions. On a phone each row is a card.
import { Fragment } from 'react'
import { Link } from 'react-router'
import { Button } from '../../ui'
import { Icon } from '../../ui/icons'
import { ActiveSwitch, menuItems, RowMenu, StatusCell, SyncControl, TypeIcon, type Access, type Res, type ResourceActions } from './bits'
import { asSentence, formatAgo, formatDate, sourceOf, TYPE_LABEL } from './knowledgeLogic'

export type Row = Res & { company?: { id: string; name: string } | null }

export function ResourceTable({
  rows,
  actions,
  access,
  showCompany,
  now,
}: {
  rows: Row[]
  actions: ResourceActions
  access: Access
  showCompany?: boolean
  now: number
}) {
  const cols = showCompany ? 7 : 6
  return (
    <div className="table-wrap">
      <table className="table kn-table">
        <thead>
          <tr>
            <th scope="col">Knowledge</th>
            {showCompany && <th scope="col" className="w-company">Company</th>}
            <th scope="col" className="w-status">Status</th>
            <th scope="col" className="num w-num">
              Passages
            </th>
            <th scope="col" className="w-active">In answers</th>
            <th scope="col" className="w-added">Added</th>
            <th scope="col" className="actions w-actions">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const src = sourceOf(r)
            const failed = r.status === 'FAILED'
            return (
              <Fragment key={r.id}>
              <tr className={`${r.isActive ? '' : 'kn-off'} ${failed ? 'kn-has-error' : ''}`}>
                <td className="kn-main">
                  <div className="kn-title-cell">
                    <TypeIcon type={r.type} />
                    <div className="grow">
                      <Link to={`/knowledge/${r.id}`} className="kn-title">
                        {r.title}
                      </Link>
                      <div className="kn-src" title={src}>
                        <span className="kn-src-type">{TYPE_LABEL[r.type]}</span>
                        {src && r.type !== 'TEXT' && <> · {src}</>}
                      </div>
                      <SyncControl
                        r={r}
                        now={now}
                        editable={access === 'all'}
                        disabled={!!actions.busy[r.id]}
                        onChange={(iv) => actions.setSyncInterval(r, iv)}
                      />
                    </div>
                  </div>
                </td>
                {showCompany && (
                  <td className="kn-company" data-label="Company">
                    {r.company ? <Link to={`/admin/companies/${r.company.id}`}>{r.company.name}</Link> : '—'}
                  </td>
                )}
                <td className="kn-status-td">
                  <StatusCell r={r} />
                </td>
                <td className="num kn-chunks">
                  {r.status === 'COMPLETED' || r.chunkCount > 0 ? (
                    <>
                      {r.chunkCount.toLocaleString('en-US')}
                      <span className="kn-unit"> {r.chunkCount === 1 ? 'passage' : 'passages'}</span>
                    </>
                  ) : (
                    <span aria-label="No passages yet">—</span>
                  )}
                </td>
                <td className="kn-active">
                  {access === 'all' ? (
                    <ActiveSwitch r={r} disabled={!!actions.busy[r.id]} onChange={(v) => actions.setActive(r, v)} />
                  ) : (
                    <span className={`kn-active-ro ${r.isActive ? 'on' : ''}`}>{r.isActive ? 'Active' : 'Off'}</span>
                  )}
                </td>
                <td className="kn-added">
                  <time dateTime={r.createdAt} title={formatDate(r.createdAt)}>
                    {formatAgo(r.createdAt, now)}
                  </time>
                </td>
                <td className="actions">
                  <div className="kn-row-actions">
                    <Link className="btn small" to={`/knowledge/${r.id}`} aria-label={`View ${r.title}`}>
                      View
                    </Link>
                    {access !== 'none' && (
                      <RowMenu
                        label={`More actions for ${r.title}`}
                        items={menuItems(r, actions, access)}
                      />
                    )}
                  </div>
                </td>
              </tr>
              {failed && (
                <tr className="kn-error-row">
                  <td colSpan={cols}>
                    <div className="kn-error" role="note">
                      <Icon name="alert" size={15} />
                      <span className="grow">
                        <strong>Processing failed.</strong> {asSentence(r.error) || 'No reason was given.'}
                      </span>
                      {access !== 'none' && (
                        <Button
                          size="small"
                          onClick={() => actions.reprocess(r)}
                          loading={!!actions.busy[r.id]}
                          aria-label={`Reprocess ${r.title}`}
                        >
                          Reprocess
                        </Button>
                      )}
                    </div>
                  </td>
                </tr>
              )}
              </Fragment>
            )
          })}
        </tbody>
      </table>
    </div>
  )
}

/** Previous / next page of a cursor-paged list, with where we are in it. */
export function Pager({
  page,
  pageSize,
  shown,
  total,
  hasNext,
  onPrev,
  onNext,
}: {
  page: number
  pageSize: number
  shown: number
  total: number
  hasNext: boolean
  onPrev: () => void
  onNext: () => void
}) {
  if (total === 0) return null
  const from = page * pageSize + 1
  const to = page * pageSize + shown
  return (
    <nav className="kn-pager" aria-label="Pages">
      <span className="muted small">
        {shown === 0 ? `${total.toLocaleString('en-US')} in all` : `${from}–${to} of ${total.toLocaleString('en-US')}`}
      </span>
      <div className="row">
        <Button size="small" onClick={onPrev} disabled={page === 0}>
          Previous
        </Button>
        <Button size="small" onClick={onNext} disabled={!hasNext}>
          Next
        </Button>
      </div>
    </nav>
  )
}
