import { PageHeader } from '../../ui'

export default function InboxPage() {
  return <PageHeader title="InboxPage" description="Coming soon." />
}
