import { PageHeader } from '../../ui'

export default function KnowledgePage() {
  return <PageHeader title="KnowledgePage" description="Coming soon." />
}
