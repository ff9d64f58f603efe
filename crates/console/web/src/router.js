import { createRouter, createWebHistory } from 'vue-router'
import { session } from './api.js'
import Login from './views/Login.vue'
import Layout from './views/Layout.vue'

// Pages load on demand (a chunk each), so the login page stays small.
const Offers = () => import('./views/Offers.vue')
const TipBoard = () => import('./views/TipBoard.vue')
const TipView = () => import('./views/TipView.vue')
const Consultations = () => import('./views/Consultations.vue')
const ConsultationView = () => import('./views/ConsultationView.vue')

/** Each role's pages; the menu is built from this list. */
export const pages = [
  { name: 'offers', path: 'offers', roles: null, menu: 'menu.offers' },
  { name: 'tips', path: 'tips', roles: ['officer'], menu: 'menu.tips' },
  { name: 'consultations', path: 'consultations', roles: ['lawyer'], menu: 'menu.consultations' },
]

export function homeFor(role) {
  if (role === 'officer') return { name: 'tips' }
  if (role === 'lawyer') return { name: 'consultations' }
  return { name: 'offers' }
}

export const router = createRouter({
  history: createWebHistory('/console/'),
  routes: [
    { path: '/login', name: 'login', component: Login, meta: { public: true } },
    {
      path: '/',
      component: Layout,
      children: [
        { path: '', name: 'home', redirect: () => homeFor(session.role) },
        { path: 'offers', name: 'offers', component: Offers },
        { path: 'tips', name: 'tips', component: TipBoard, meta: { roles: ['officer'] } },
        { path: 'tips/:id', name: 'tip', component: TipView, meta: { roles: ['officer', 'coordinator', 'admin'] } },
        { path: 'consultations', name: 'consultations', component: Consultations, meta: { roles: ['lawyer'] } },
        {
          path: 'consultations/:id',
          name: 'consultation',
          component: ConsultationView,
          meta: { roles: ['lawyer', 'coordinator', 'admin'] },
        },
      ],
    },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

router.beforeEach((to) => {
  if (to.meta.public) return true
  if (!session.token) return { name: 'login', query: { next: to.fullPath } }
  if (to.meta.roles && !to.meta.roles.includes(session.role)) return homeFor(session.role)
  return true
})
