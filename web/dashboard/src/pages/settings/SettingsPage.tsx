import { PageHeader } from '../../ui'

export default function SettingsPage() {
  return <PageHeader title="SettingsPage" description="Coming soon." />
}
