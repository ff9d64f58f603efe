// The lawyer's pages: my consultations and a consultation's view.
export const pages = [
  { name: 'consultations', path: 'consultations', roles: ['lawyer'], menu: 'menu.consultations', order: 20 },
]

export const routes = [
  {
    path: 'consultations',
    name: 'consultations',
    component: () => import('../views/Consultations.vue'),
    meta: { roles: ['lawyer'] },
  },
  {
    path: 'consultations/:id',
    name: 'consultation',
    component: () => import('../views/ConsultationView.vue'),
    meta: { roles: ['lawyer', 'coordinator', 'admin'] },
  },
]

export const homes = { lawyer: 'consultations' }
