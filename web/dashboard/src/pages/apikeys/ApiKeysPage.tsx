import { PageHeader } from '../../ui'

export default function ApiKeysPage() {
  return <PageHeader title="ApiKeysPage" description="Coming soon." />
}
