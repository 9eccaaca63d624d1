import { passwordRules } from '../lib/password'

export function PasswordRules({ password, confirm, id }: { password: string; confirm?: string; id?: string }) {
  return (
    <ul className="rules" id={id} aria-live="polite">
      {passwordRules(password, confirm).map((r) => (
        <li key={r.text} className={r.ok ? 'ok' : ''}>
          {r.text}
        </li>
      ))}
    </ul>
  )
}
