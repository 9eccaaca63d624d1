import { PageHeader } from '../../ui'

export default function CompaniesPage() {
  return <PageHeader title="CompaniesPage" description="Coming soon." />
}
