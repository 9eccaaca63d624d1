import { Link } from 'react-router'
import { Empty } from '../ui'

export function NotFoundPage() {
  return (
    <div className="card">
      <Empty icon="🧭" title="This page does not exist" action={<Link to="/">Go to the start page</Link>}>
        The address may be mistyped, or what it showed was deleted.
      </Empty>
    </div>
  )
}
