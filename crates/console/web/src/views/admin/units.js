// The caller's organisation, read through GET /admin/org-units (which lists
// one level at a time): the pages need the whole subtree at once for the
// tree, the unit pickers and the lawyer picker.
import { get, session } from '../../api.js'

/** The caller's home unit (the root of what they may administer). */
export async function rootUnitId() {
  if (!session.me) session.me = await get('/staff/me')
  return session.me.org_unit_id
}

async function children(parentId) {
  return (await get(`/admin/org-units?parent_id=${parentId}`)).items
}

/**
 * The subtree under the caller's unit, level by level (grids have no
 * children: not asked). Returns { rootId, tree, flat } where tree nodes are
 * units with `children`, and flat lists them in tree order with `depth`.
 */
export async function loadUnits() {
  const rootId = await rootUnitId()
  const root = { id: rootId, root: true, children: [] }
  let level = [root]
  while (level.length) {
    const next = []
    await Promise.all(
      level
        .filter((node) => node.kind !== 'grid')
        .map(async (node) => {
          node.children = (await children(node.id)).map((unit) => ({ ...unit, children: [] }))
          next.push(...node.children)
        }),
    )
    level = next
  }
  const flat = []
  const walk = (nodes, depth) => {
    for (const node of nodes) {
      flat.push({ ...node, depth })
      walk(node.children, depth + 1)
    }
  }
  walk(root.children, 1)
  return { rootId, tree: root.children, flat }
}

/** Every staff member at home in one of the units (and the root). */
export async function loadAllStaff(rootId, flat) {
  const lists = await Promise.all(
    [rootId, ...flat.map((u) => u.id)].map(async (id) => (await get(`/admin/staff?org_unit_id=${id}`)).items),
  )
  return lists.flat()
}

/** A unit's label in a flat picker, indented by depth. */
export function indented(unit) {
  return `${'\u3000'.repeat(Math.max(0, unit.depth - 1))}${unit.name}`
}

