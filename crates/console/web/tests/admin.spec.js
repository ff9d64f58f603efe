// The administrator's console end to end against `sansuo serve --demo`:
// a new community with its case-number pattern, room and QR code; a staff
// member in it; a rota slot and a one-off shift; a category edited; a
// holiday marked. Every page and dialog is checked with axe-core. Names are
// unique so the spec can run twice against one demo.
import { test, expect } from '@playwright/test'
import { login, unique, visit } from './helpers.js'

const STREET = '欧阳路街道'

/** Pick an option of an Element Plus select (the option's name contains `option`). */
async function choose(page, select, option) {
  // (Its placeholder lies over the input: the click goes to the select.)
  await select.click({ force: true })
  await page.getByRole('option', { name: option }).first().click()
}

/** The local date `days` from now as YYYY-MM-DD (the browser's zone). */
function day(days) {
  const d = new Date(Date.now() + days * 86_400_000 + 8 * 3_600_000)
  return d.toISOString().slice(0, 10)
}

test('the administrator sets up a community, its staff, duty, a category and a holiday', async ({ page }) => {
  // One long flow over five pages, with axe-core on each page and dialog.
  test.setTimeout(360_000)
  await login(page, 'admin')
  await expect(page).toHaveURL(/\/console\/org$/)
  await expect(page.getByTestId(`unit-${STREET}`)).toBeVisible()
  await visit(page, 'admin-org')

  // A new community under the street.
  const name = unique('测试社区')
  const scene = unique('e2e')
  await page.getByTestId(`unit-${STREET}`).click()
  await expect(page.getByTestId('unit-details')).toContainText(STREET)
  await page.getByTestId('unit-new').click()
  const create = page.getByTestId('unit-create')
  await expect(create).toBeVisible()
  await visit(page, 'admin-unit-create')
  await create.getByTestId('unit-name').fill(name)
  await create.getByTestId('unit-scene').fill(scene)
  await choose(page, create.getByLabel('责任派出所'), '欧阳路派出所')
  await create.getByTestId('unit-submit').click()
  await expect(create).toBeHidden()
  await expect(page.getByTestId('unit-details')).toContainText(name)

  // Its case-number pattern.
  await page.getByTestId('unit-pattern').fill('〔{year}〕测试{kind}字第{n}号')
  await page.getByTestId('unit-save').click()
  await expect(page.getByText('已保存').first()).toBeVisible()

  // A room.
  const room = unique('调解室')
  await page.getByTestId('room-name').fill(room)
  await page.getByRole('button', { name: '新增调解室' }).click()
  await expect(page.getByTestId('rooms').getByRole('textbox')).toHaveValue(room)

  // The signed lawyer tab, then the QR code: shown from a data: URL and downloaded.
  await page.getByRole('tab', { name: '签约律师' }).click()
  await expect(page.getByText('尚无签约律师。')).toBeVisible()
  await visit(page, 'admin-org-lawyer')
  await page.getByRole('tab', { name: '二维码' }).click()
  await expect(page.getByTestId('qr-image')).toHaveAttribute('src', /^data:image\/png;base64,/)
  const downloading = page.waitForEvent('download')
  await page.getByTestId('qr-download').click()
  expect((await downloading).suggestedFilename()).toBe(`${scene}.png`)
  await visit(page, 'admin-org-qr')

  // A staff member at home in the new community.
  await page.getByRole('link', { name: '人员管理' }).click()
  await expect(page).toHaveURL(/\/console\/staff$/)
  await visit(page, 'admin-staff')
  await choose(page, page.getByTestId('staff-unit'), name)
  const username = unique('e2e.mediator')
  const display = unique('调解员')
  await page.getByTestId('staff-new').click()
  const form = page.getByTestId('staff-form')
  await expect(form).toBeVisible()
  await visit(page, 'admin-staff-create')
  await form.getByTestId('staff-username').fill(username)
  await form.getByTestId('staff-password').fill('sansuo-e2e-password')
  await form.getByTestId('staff-name').fill(display)
  await form.getByTestId('staff-submit').click()
  await expect(form).toBeHidden()
  await expect(page.getByTestId('staff-table')).toContainText(username)

  // Edit it: capacity 8.
  await page.getByTestId(`staff-edit-${username}`).click()
  await expect(form).toBeVisible()
  await visit(page, 'admin-staff-edit')
  await form.getByLabel('最大在办数').fill('8')
  await form.getByTestId('staff-submit').click()
  await expect(form).toBeHidden()
  await expect(page.getByTestId('staff-table').getByRole('row', { name: new RegExp(username) })).toContainText('8')

  // Reset its password, by keyboard only.
  await page.getByTestId(`staff-password-${username}`).focus()
  await page.keyboard.press('Enter')
  const reset = page.getByTestId('staff-password-dialog')
  await expect(reset).toBeVisible()
  await visit(page, 'admin-staff-password')
  await reset.getByTestId('staff-new-password').focus()
  await page.keyboard.type('another-e2e-password')
  await page.keyboard.press('Tab')
  await page.keyboard.press('Shift+Tab')
  await page.keyboard.press('Enter')
  await expect(page.getByText('密码已重置')).toBeVisible()
  await expect(reset).toBeHidden()

  // Law firms tab.
  await page.getByRole('tab', { name: '律师事务所' }).click()
  await expect(page.getByTestId('law-firms')).toContainText('三所联动律师事务所')
  await visit(page, 'admin-law-firms')

  // The community's rota: the new mediator every day 08:00–20:00.
  await page.getByRole('link', { name: '值班排班' }).click()
  await expect(page).toHaveURL(/\/console\/rota$/)
  await choose(page, page.getByTestId('rota-unit'), name)
  await expect(page.getByText('该单位尚无排班规则，保存后生效。')).toBeVisible()
  await visit(page, 'admin-rota')
  await choose(page, page.getByRole('combobox', { name: '值班人员 1' }), display)
  await page.keyboard.press('Escape')
  await page.getByTestId('rota-save').click()
  await expect(page.getByTestId('rota-preview')).toContainText(display)

  // A one-off shift tomorrow evening.
  await page.getByRole('tab', { name: '每周值班' }).click()
  await choose(page, page.getByTestId('shift-staff'), display)
  await page.getByTestId('shift-start').fill(`${day(1)}T20:00`)
  await page.getByTestId('shift-end').fill(`${day(1)}T23:00`)
  await page.getByTestId('shift-add').click()
  await expect(page.getByTestId('shifts')).toContainText(display)
  await visit(page, 'admin-rota-shifts')

  // A holiday.
  await page.getByRole('link', { name: '工作日历' }).click()
  await expect(page).toHaveURL(/\/console\/calendar-admin$/)
  await visit(page, 'admin-calendar')
  const holiday = `${new Date().getFullYear() + 2}-0${1 + Math.floor(Math.random() * 9)}-1${Math.floor(Math.random() * 9)}`
  await page.getByTestId('calendar-day').fill(holiday)
  await page.getByTestId('calendar-source').fill('端到端测试')
  await page.getByTestId('calendar-set').click()
  await expect(page.getByTestId('calendar')).toContainText(holiday)
  await page.getByTestId('calendar-import').click()
  await expect(page.getByTestId('calendar-import-dialog')).toBeVisible()
  await visit(page, 'admin-calendar-import')
  await page.getByTestId('calendar-import-dialog').getByRole('button', { name: '取消' }).click()

  // A category's English name.
  await page.getByRole('link', { name: '类别与流程' }).click()
  await expect(page).toHaveURL(/\/console\/catalogue$/)
  await visit(page, 'admin-catalogue')
  const edit = page.locator('[data-testid^="category-edit-"]').first()
  await edit.click()
  const category = page.getByTestId('category-form')
  await expect(category).toBeVisible()
  await visit(page, 'admin-category-edit')
  const english = unique('E2E category')
  await category.getByLabel('英文名称').fill(english)
  await category.getByTestId('category-submit').click()
  await expect(category).toBeHidden()
  await edit.click()
  await expect(category.getByLabel('英文名称')).toHaveValue(english)
  await category.getByRole('button', { name: '取消' }).click()

  // Workflows (viewed and their JSON editor opened).
  await page.getByRole('tab', { name: '流程', exact: true }).click()
  await page.getByTestId('workflows').getByRole('button', { name: /编辑/ }).first().click()
  await expect(page.getByTestId('workflow-form')).toBeVisible()
  await visit(page, 'admin-workflow-edit')
})

test('a coordinator sees the admin pages but not the district-wide editing', async ({ page }) => {
  await login(page, 'coordinator.sun')
  await page.getByRole('link', { name: '工作日历' }).click()
  await expect(page.getByTestId('calendar')).toBeVisible()
  await expect(page.getByTestId('calendar-import')).toHaveCount(0)
  await page.getByRole('link', { name: '类别与流程' }).click()
  await expect(page.getByTestId('categories')).toBeVisible()
  await expect(page.locator('[data-testid^="category-edit-"]')).toHaveCount(0)
  // The English texts.
  await page.getByTestId('language').click()
  await page.getByRole('option', { name: 'English' }).click()
  await expect(page.getByRole('heading', { name: 'Categories & workflows' })).toBeVisible()
  await page.getByRole('link', { name: 'Organisation' }).click()
  await expect(page.getByTestId('org-tree')).toContainText('Community')
  await visit(page, 'admin-org-coordinator-en')
})
