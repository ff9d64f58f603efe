import { expect } from '@playwright/test'
import AxeBuilder from '@axe-core/playwright'
import { mkdirSync } from 'node:fs'
import { randomUUID } from 'node:crypto'

export const PASSWORD = process.env.DEMO_PASSWORD || 'sansuo-demo'
const SHOTS = new URL('../test-results/screenshots/', import.meta.url).pathname
mkdirSync(SHOTS, { recursive: true })

/** Log in through the console's login page; lands on the role's home. */
export async function login(page, username) {
  await page.goto('/console/login')
  await page.getByLabel(/用户名|Username/).fill(username)
  await page.getByLabel(/^密码$|^Password$/).fill(PASSWORD)
  await page.getByRole('button', { name: /登录|Log in/ }).click()
  await expect(page.getByTestId('stream-state')).toBeVisible()
}

/** Zero serious or critical axe-core violations on the page as it is. */
export async function checkA11y(page, name) {
  const started = Date.now()
  // Toasts (Element Plus's own notifications and messages) come and go by
  // themselves: one that starts fading while axe reads the page has
  // half-transparent text and fails contrast by chance (seen in CI). They
  // are left out; the page under them is what is checked.
  const results = await new AxeBuilder({ page }).exclude('.el-notification').exclude('.el-message').analyze()
  console.log(`axe on ${name}: ${Date.now() - started} ms`)
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  const text = bad
    .map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join('\n  ')}`)
    .join('\n')
  expect(bad, `axe on ${name}:\n${text}`).toEqual([])
}

export async function shot(page, name) {
  await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true })
}

/** Check and photograph a page. */
export async function visit(page, name) {
  // (The event stream keeps one request open: networkidle may never come.)
  await page.waitForLoadState('networkidle', { timeout: 3_000 }).catch(() => {})
  // Let every finite transition end first: a dialog fading in, or a toast
  // fading out, has half-transparent text that fails contrast by chance
  // (seen in CI: a select's placeholder at 4.42:1 in an opening dialog).
  // Spinners run forever and are not waited for.
  await page
    .waitForFunction(
      () =>
        document
          .getAnimations()
          .filter((a) => a.playState === 'running' && a.effect?.getComputedTiming().iterations !== Infinity).length === 0,
      null,
      { timeout: 5_000 },
    )
    .catch(() => {})
  await checkA11y(page, name)
  await shot(page, name)
}

export async function resident(request, name) {
  const response = await request.post('/api/v1/auth/demo', { data: { name } })
  expect(response.status()).toBe(200)
  return (await response.json()).access_token
}

export async function community(request, scene = 'hk-jjq') {
  const response = await request.get(`/api/v1/communities/by-scene/${scene}`)
  expect(response.status()).toBe(200)
  return (await response.json()).id
}

export function unique(prefix) {
  return `${prefix}-${randomUUID().slice(0, 8)}`
}

export function idempotency() {
  return { 'Idempotency-Key': randomUUID() }
}
