import { createRouter, createWebHistory } from 'vue-router'
import { session } from './api.js'
import Login from './views/Login.vue'
import Layout from './views/Layout.vue'

// Each role's area declares its pages in src/routes/<area>.js:
//   pages  the menu entries ({ name, path, roles, menu, order })
//   routes the child routes under the layout (pages load on demand, a chunk
//          each, so the login page stays small)
//   homes  { role: route name } where a role lands after login
// Areas never edit one shared file.
const areas = Object.values(import.meta.glob('./routes/*.js', { eager: true }))

/** Each role's pages; the menu is built from this list. */
export const pages = [
  { name: 'offers', path: 'offers', roles: null, menu: 'menu.offers', order: 10 },
  ...areas.flatMap((a) => a.pages || []),
].sort((a, b) => (a.order ?? 50) - (b.order ?? 50))

const homes = Object.assign({}, ...areas.map((a) => a.homes || {}))

export function homeFor(role) {
  return { name: homes[role] || 'offers' }
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
        { path: 'offers', name: 'offers', component: () => import('./views/Offers.vue') },
        ...areas.flatMap((a) => a.routes || []),
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
