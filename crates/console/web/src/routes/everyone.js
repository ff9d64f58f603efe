// The officer's own duty roster (read-only; coordinators keep it).
export const pages = [{ name: 'roster', path: 'roster', roles: ['officer'], menu: 'myRoster.menu', order: 30 }]

export const routes = [
  { path: 'roster', name: 'roster', component: () => import('../views/Roster.vue'), meta: { roles: ['officer'] } },
]

export const homes = {}
