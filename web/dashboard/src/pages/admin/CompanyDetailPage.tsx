import { PageHeader } from '../../ui'

export default function CompanyDetailPage() {
  return <PageHeader title="CompanyDetailPage" description="Coming soon." />
}
