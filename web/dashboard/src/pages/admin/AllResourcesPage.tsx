import { PageHeader } from '../../ui'

export default function AllResourcesPage() {
  return <PageHeader title="AllResourcesPage" description="Coming soon." />
}
