// The officer's pages: the tip triage board and a tip's view.
export const pages = [{ name: 'tips', path: 'tips', roles: ['officer'], menu: 'menu.tips', order: 20 }]

export const routes = [
  { path: 'tips', name: 'tips', component: () => import('../views/TipBoard.vue'), meta: { roles: ['officer'] } },
  {
    path: 'tips/:id',
    name: 'tip',
    component: () => import('../views/TipView.vue'),
    meta: { roles: ['officer', 'coordinator', 'admin'] },
  },
]

export const homes = { officer: 'tips' }
