import { PageHeader } from '../../ui'

export default function AllAgentsPage() {
  return <PageHeader title="AllAgentsPage" description="Coming soon." />
}
