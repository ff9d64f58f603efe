// Names for the ids the coordinator endpoints answer with: the units and
// staff of the caller's subtree, walked from their own unit down
// (GET /admin/org-units?parent_id=, GET /admin/staff?org_unit_id=). A
// district is a few dozen units, so the walk is small; it is read once per
// page.
import { reactive } from 'vue'
import { get, session } from '../../api.js'

// Deep enough for district → street → community; stations hang off the district.
const DEPTH = 3

/** The caller's home unit: the statistics are of its subtree. */
export async function myUnit() {
  const me = session.me || (await get('/staff/me'))
  return me.org_unit_id
}

/** Who may be given a case of `service` (POST /admin/cases/{id}/reassign). */
export const roleFor = (service) => ({ consultation: 'lawyer', mediation: 'mediator', tip: 'officer' })[service]

export function useDirectory() {
  const dir = reactive({ units: {}, staff: {}, loaded: false })

  async function walk(parent, depth) {
    const query = parent ? `?parent_id=${parent}` : ''
    const [units, staff] = await Promise.all([
      get(`/admin/org-units${query}`),
      get(`/admin/staff${parent ? `?org_unit_id=${parent}` : ''}`),
    ])
    for (const s of staff.items) dir.staff[s.id] = s
    for (const u of units.items) dir.units[u.id] = u
    if (depth > 0) await Promise.all(units.items.map((u) => walk(u.id, depth - 1)))
  }

  async function load() {
    await walk(null, DEPTH)
    dir.loaded = true
  }

  const unitName = (id) => (dir.units[id] ? dir.units[id].name : '—')
  const staffName = (id) => (id && dir.staff[id] ? dir.staff[id].display_name : '—')
  /** Active staff of `role`, by name. */
  const staffOf = (role) =>
    Object.values(dir.staff)
      .filter((s) => s.role === role && s.active)
      .sort((a, b) => a.display_name.localeCompare(b.display_name, 'zh-CN'))

  return { dir, load, unitName, staffName, staffOf }
}
