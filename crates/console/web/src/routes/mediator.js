// The mediator's pages: my mediations, a mediation's view and the week calendar.
export const pages = [
  { name: 'mediations', path: 'mediations', roles: ['mediator'], menu: 'mediator.menu.mediations', order: 20 },
  { name: 'calendar', path: 'calendar', roles: ['mediator'], menu: 'mediator.menu.calendar', order: 21 },
]

export const routes = [
  {
    path: 'mediations',
    name: 'mediations',
    component: () => import('../views/Mediations.vue'),
    meta: { roles: ['mediator'] },
  },
  {
    path: 'mediations/:id',
    name: 'mediation',
    component: () => import('../views/MediationView.vue'),
    meta: { roles: ['mediator', 'coordinator', 'admin'] },
  },
  {
    path: 'calendar',
    name: 'calendar',
    component: () => import('../views/Calendar.vue'),
    meta: { roles: ['mediator'] },
  },
]

export const homes = { mediator: 'mediations' }
