import { PageHeader } from '../../ui'

export default function AuditPage() {
  return <PageHeader title="AuditPage" description="Coming soon." />
}
