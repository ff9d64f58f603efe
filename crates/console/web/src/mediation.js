// The mediator's pages: time helpers and which work-order verbs a mediation
// allows in each status (mirroring the API's state machine, so only the
// verbs the server would accept are offered).

// The API's dates are local days in Asia/Shanghai (UTC+8, no daylight
// saving): computed here by offset so the browser's own zone does not matter.
const OFFSET = 8 * 3600 * 1000
const DAY = 86400 * 1000

/** The local (Asia/Shanghai) day `YYYY-MM-DD` of an instant (ms or ISO). */
export function localDay(at) {
  const ms = typeof at === 'number' ? at : Date.parse(at)
  return new Date(ms + OFFSET).toISOString().slice(0, 10)
}

/** "HH:MM" local time of an ISO instant. */
export function hhmm(iso) {
  return new Date(Date.parse(iso) + OFFSET).toISOString().slice(11, 16)
}

export function addDays(day, n) {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10)
}

/** The Monday of the local week containing the instant. */
export function mondayOf(ms) {
  const day = localDay(ms)
  const weekday = (new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7
  return addDays(day, -weekday)
}

export function weekDays(monday) {
  return Array.from({ length: 7 }, (_, i) => addDays(monday, i))
}

/** Statuses in which the owner books sessions and records outcomes. */
export const WORKING = ['accepted', 'scheduled', 'heard']
export const STATUSES = [
  'offered', 'accepted', 'scheduled', 'heard', 'agreed', 'terminated', 'closed', 'refused', 'withdrawn',
]

/** The case-level verbs valid for this mediation (viewed by a mediator). */
export function verbsFor(m) {
  const s = m.status
  const working = WORKING.includes(s)
  const anyHeld = m.sessions.some((x) => x.status === 'held')
  const upcoming = m.sessions.some((x) => x.status === 'scheduled')
  const agreement = m.outcome && m.outcome.kind !== 'terminated'
  return {
    accept: s === 'offered',
    decline: s === 'offered',
    refuse: s === 'offered' || s === 'accepted',
    book: working,
    agreement: s === 'heard',
    terminate: working,
    escalate: working,
    // As the API's may_hand_back: nothing done with the parties yet (a
    // scheduled case's bookings are cancelled by the hand-back).
    handBack: (s === 'accepted' || (s === 'scheduled' && upcoming)) && !anyHeld && !m.outcome,
    extension: working,
    confirmation: s === 'agreed' && agreement && !m.outcome.confirmation_applied_on,
    visit: s === 'agreed',
    close: s === 'terminated',
    reopen: s === 'closed',
    flag: !m.public_order_risk && [...WORKING, 'agreed', 'terminated'].includes(s),
    message: [...WORKING, 'agreed', 'terminated'].includes(s),
  }
}
