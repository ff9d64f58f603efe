// The case-level work-order verbs of a mediation as form specs: the path
// they post to, their fields with the API's bounds, and the body they send.
// VerbDialog.vue renders one; its rules mirror the API's validation.
const reason = { name: 'reason', kind: 'textarea', min: 2, max: 500 }

export const VERBS = [
  { key: 'accept', path: 'accept', fields: [], primary: true },
  { key: 'decline', path: 'decline', fields: [reason], leaves: true },
  {
    key: 'refuse',
    path: 'refuse',
    danger: true,
    fields: [
      { name: 'ground', kind: 'select', options: ['already_handled', 'specialised_body', 'party_refuses', 'not_mediable'] },
      { name: 'referral', kind: 'textarea', min: 2, max: 500 },
    ],
  },
  {
    key: 'agreement',
    path: 'agreement',
    primary: true,
    fields: [
      { name: 'kind', kind: 'select', options: ['written', 'oral'], initial: 'written' },
      { name: 'terms', kind: 'textarea', min: 2, max: 5000 },
      { name: 'performance_method', kind: 'textarea', min: 2, max: 500 },
      { name: 'effective_on', kind: 'date', today: true },
      { name: 'perform_by', kind: 'date', optional: true },
    ],
  },
  {
    key: 'terminate',
    path: 'terminate',
    danger: true,
    fields: [reason, { name: 'routes', kind: 'checks', options: ['arbitration', 'administrative', 'court'], initial: [] }],
  },
  { key: 'escalate', path: 'escalate', fields: [reason], leaves: true },
  { key: 'handBack', path: 'hand-back', fields: [reason], leaves: true },
  {
    key: 'extension',
    path: 'extension',
    fields: [{ name: 'extra_hours', kind: 'number', min: 1, max: 240, initial: 16 }, reason],
    keepsView: true,
  },
  {
    key: 'confirmation',
    path: 'confirmation',
    fields: [
      { name: 'applied_on', kind: 'date', today: true },
      { name: 'court', kind: 'input', min: 2, max: 100 },
      { name: 'ruling', kind: 'textarea', min: 2, max: 2000, optional: true },
    ],
  },
  {
    key: 'visit',
    path: 'visit',
    primary: true,
    fields: [
      { name: 'performance', kind: 'select', options: ['performed', 'partly', 'not_performed'], initial: 'performed' },
      { name: 'satisfaction', kind: 'number', min: 1, max: 5, initial: 5 },
    ],
  },
  { key: 'close', path: 'close', fields: [] },
  { key: 'reopen', path: 'reopen', fields: [reason] },
  { key: 'flag', path: 'flag-public-order-risk', danger: true, fields: [reason] },
]

/** The request body of a filled form: optional empty fields are left out. */
export function bodyOf(verb, form) {
  if (!verb.fields.length) return undefined
  const body = {}
  for (const f of verb.fields) {
    const value = form[f.name]
    if (typeof value === 'string') {
      if (value.trim() || !f.optional) body[f.name] = value.trim()
    } else if (value !== null && value !== undefined) {
      body[f.name] = value
    }
  }
  return body
}
