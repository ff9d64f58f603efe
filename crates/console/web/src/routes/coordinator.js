// The coordinator's pages (administrators see the same over the district):
// the supervision desk, pending extension requests, live queues and
// statistics.
const roles = ['coordinator', 'admin']

export const pages = [
  { name: 'supervision', path: 'supervision', roles, menu: 'coord.menu.supervision', order: 20 },
  { name: 'extensions', path: 'extensions', roles, menu: 'coord.menu.extensions', order: 21 },
  { name: 'stats', path: 'stats', roles, menu: 'coord.menu.stats', order: 22 },
]

export const routes = [
  {
    path: 'supervision',
    name: 'supervision',
    component: () => import('../views/coordinator/SupervisionDesk.vue'),
    meta: { roles },
  },
  {
    path: 'extensions',
    name: 'extensions',
    component: () => import('../views/coordinator/Extensions.vue'),
    meta: { roles },
  },
  { path: 'stats', name: 'stats', component: () => import('../views/coordinator/Stats.vue'), meta: { roles } },
]

// The administrators' home is their own area's to choose.
export const homes = { coordinator: 'supervision' }
