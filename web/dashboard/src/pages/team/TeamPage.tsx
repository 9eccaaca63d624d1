import { PageHeader } from '../../ui'

export default function TeamPage() {
  return <PageHeader title="TeamPage" description="Coming soon." />
}
