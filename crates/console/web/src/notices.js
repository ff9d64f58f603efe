// What the staff event stream tells a person, shown wherever they are in
// the console (Layout.vue subscribes once): a toast per event kind that
// concerns them, and the urges received this session by case, which the
// consultation list marks (its summaries carry no urge count).
import { reactive } from 'vue'
import { ElNotification } from 'element-plus'
import { i18n } from './i18n.js'

/** Case id → urges received since login (by `urge` events). */
export const urged = reactive({})

/** Logging out forgets them. */
export function forgetUrges() {
  for (const id of Object.keys(urged)) delete urged[id]
}

const t = (...args) => i18n.global.t(...args)

// Event kind → the notification's type and title key. Others are silent.
const KINDS = {
  offer: { type: 'info', title: 'offers.newOffer' },
  urge: { type: 'warning', title: 'staffNotice.urge' },
  supervised: { type: 'warning', title: 'staffNotice.supervised' },
  reassigned: { type: 'info', title: 'staffNotice.reassigned' },
  overdue: { type: 'error', title: 'staffNotice.overdue' },
  extension_requested: { type: 'info', title: 'staffNotice.extensionRequested' },
}

/** Where a case is read in the console. */
export function caseRoute(service, id) {
  if (service === 'consultation') return { name: 'consultation', params: { id } }
  if (service === 'tip') return { name: 'tip', params: { id } }
  // The mediator's area serves mediations at /console/mediations/:id.
  return { path: `/mediations/${id}` }
}

function detail(event) {
  const data = event.data || {}
  const service = t(`service.${data.service}`)
  switch (event.type) {
    case 'urge':
      return `${service} · ${t(`staffNotice.by.${data.by}`)}`
    case 'supervised':
      return `${service} · ${t('staffNotice.deadline', { at: new Date(data.deadline).toLocaleString() })}`
    case 'reassigned':
      return `${service} · ${t(`staffNotice.direction.${data.direction}`)}`
    case 'overdue':
      return `${service} · ${t(`staffNotice.clock.${data.clock}`)}`
    default:
      return service
  }
}

/** Show `event` if it is one a person should see; `router` opens the case on click. */
export function notify(event, router) {
  const kind = KINDS[event.type]
  if (!kind) return
  const data = event.data || {}
  if (event.type === 'urge' && data.case_id) urged[data.case_id] = (urged[data.case_id] || 0) + 1
  const open = data.case_id && event.type !== 'offer' && !(event.type === 'reassigned' && data.direction === 'taken')
  ElNotification({
    title: t(kind.title),
    message: detail(event),
    type: kind.type,
    duration: event.type === 'offer' ? 4000 : 8000,
    customClass: `notice-${event.type}`,
    onClick: open ? () => router.push(caseRoute(data.service, data.case_id)) : undefined,
  })
}
