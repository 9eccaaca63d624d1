// The server's password rules (auth.CheckPasswordPolicy), shown as the user
// types: 8 to 256 characters.
export const MIN_PASSWORD = 8
export const MAX_PASSWORD = 256

export interface Rule {
  text: string
  ok: boolean
}

export function passwordRules(pw: string, confirm?: string): Rule[] {
  const n = [...pw].length
  const rules: Rule[] = [
    { text: `At least ${MIN_PASSWORD} characters`, ok: n >= MIN_PASSWORD },
    { text: `At most ${MAX_PASSWORD} characters`, ok: new TextEncoder().encode(pw).length <= MAX_PASSWORD && n > 0 },
  ]
  if (confirm !== undefined) rules.push({ text: 'Both passwords match', ok: pw.length > 0 && pw === confirm })
  return rules
}

export function passwordOK(pw: string, confirm?: string): boolean {
  return passwordRules(pw, confirm).every((r) => r.ok)
}
