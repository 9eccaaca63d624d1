import { PageHeader } from '../../ui'

export default function ResourcePage() {
  return <PageHeader title="ResourcePage" description="Coming soon." />
}
