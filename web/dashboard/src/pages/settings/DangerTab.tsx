// Danger zone: a company admin may deactivate the company. Everyone is
// signed out; only the platform's administrators can reactivate it.
import { useState } from 'react'
import { useMutation } from 'urql'
import { useAuth } from '../../lib/auth'
import { Button, ErrorBanner, Modal, TypeToConfirm } from '../../ui'
import { SettingsDeactivateCompany } from './documents'
import { useSettings } from './SettingsBits'
import { confirmsName } from './settingsLogic'

export function DangerTab() {
  const { company } = useSettings()
  const { signOut } = useAuth()
  const [open, setOpen] = useState(false)
  const [typed, setTyped] = useState('')
  const [{ fetching, error }, deactivate] = useMutation(SettingsDeactivateCompany)
  const ok = confirmsName(typed, company.name)

  return (
    <div className="st-form st-narrow">
      <section className="card section st-danger" aria-labelledby="st-danger-title">
        <div className="card-head">
          <div>
            <h2 id="st-danger-title">Danger zone</h2>
            <p>Actions here affect your whole company and cannot be undone from this dashboard.</p>
          </div>
        </div>
        <div className="card-body st-danger-row">
          <div className="grow">
            <h3>Deactivate this company</h3>
            <ul className="st-list small">
              <li>Everyone on your team, you included, is signed out at once and cannot sign in.</li>
              <li>The chat widget stops working on your site, and your API keys are refused.</li>
              <li>Your knowledge, conversations and settings are kept. Only the platform’s administrators can reactivate it.</li>
            </ul>
          </div>
          <Button variant="danger" onClick={() => setOpen(true)}>
            Deactivate company…
          </Button>
        </div>
      </section>
      <Modal
        open={open}
        title="Deactivate the company?"
        onClose={() => {
          if (!fetching) {
            setOpen(false)
            setTyped('')
          }
        }}
        footer={
          <>
            <Button
              onClick={() => {
                setOpen(false)
                setTyped('')
              }}
              disabled={fetching}
            >
              Cancel
            </Button>
            <Button
              variant="danger"
              disabled={!ok}
              loading={fetching}
              onClick={async () => {
                const r = await deactivate({})
                if (!r.error) void signOut('this company is deactivated')
              }}
            >
              Deactivate and sign out
            </Button>
          </>
        }
      >
        <form
          className="stack"
          onSubmit={async (e) => {
            e.preventDefault()
            if (!ok || fetching) return
            const r = await deactivate({})
            if (!r.error) void signOut('this company is deactivated')
          }}
        >
          <p>
            <b>{company.name}</b> will be deactivated: your whole team is signed out, the widget and the API keys stop working.
            Only a platform administrator can undo this.
          </p>
          <TypeToConfirm name={company.name} value={typed} onChange={setTyped} />
          <ErrorBanner error={error} />
        </form>
      </Modal>
    </div>
  )
}
