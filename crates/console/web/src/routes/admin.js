// The administrator's pages; the coordinator may use them within his subtree
// (the API's AdminAuth). Route names carry an admin- prefix so no other
// area's names collide. District-wide settings (calendar,
// categories, workflows) are read by both but changed by the administrator
// only (AdministratorAuth); those pages hide their editing for coordinators.
const BOTH = ['coordinator', 'admin']

export const pages = [
  { name: 'admin-org', path: 'org', roles: BOTH, menu: 'admin.menu.org', order: 60 },
  { name: 'admin-staff', path: 'staff', roles: BOTH, menu: 'admin.menu.staff', order: 61 },
  { name: 'admin-rota', path: 'rota', roles: BOTH, menu: 'admin.menu.rota', order: 62 },
  { name: 'admin-calendar', path: 'calendar-admin', roles: BOTH, menu: 'admin.menu.calendar', order: 63 },
  { name: 'admin-catalogue', path: 'catalogue', roles: BOTH, menu: 'admin.menu.catalogue', order: 64 },
]

export const routes = [
  { path: 'org', name: 'admin-org', component: () => import('../views/admin/OrgPage.vue'), meta: { roles: BOTH } },
  { path: 'staff', name: 'admin-staff', component: () => import('../views/admin/StaffPage.vue'), meta: { roles: BOTH } },
  { path: 'rota', name: 'admin-rota', component: () => import('../views/admin/RotaPage.vue'), meta: { roles: BOTH } },
  {
    path: 'calendar-admin',
    name: 'admin-calendar',
    component: () => import('../views/admin/CalendarPage.vue'),
    meta: { roles: BOTH },
  },
  {
    path: 'catalogue',
    name: 'admin-catalogue',
    component: () => import('../views/admin/CataloguePage.vue'),
    meta: { roles: BOTH },
  },
]

export const homes = { admin: 'admin-org' }
