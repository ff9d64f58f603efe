// The coordinator's console end to end against `sansuo serve --demo
// --round-the-clock`: a consultation really goes overdue (the administrator
// sets its workflow's response targets to one minute through the API; the
// demo's business time runs round the clock, so the minute passes at any
// hour), the coordinator urges it from the supervision desk and the lawyer's
// open console shows the urge without reloading; then supervision, an
// extension granted and a reassignment, and the statistics page.
import { test, expect } from '@playwright/test'
import { PASSWORD, checkA11y, community, idempotency, login, resident, unique, visit } from './helpers.js'

async function staffToken(request, username) {
  const response = await request.post('/api/v1/auth/staff', { data: { username, password: PASSWORD } })
  expect(response.status()).toBe(200)
  return (await response.json()).access_token
}

const bearer = (token) => ({ Authorization: `Bearer ${token}` })

/** Set the consultation workflows' targets to a minute; returns the undo. */
async function shortTargets(request, admin) {
  const list = await request.get('/api/v1/admin/workflows', { headers: bearer(admin) })
  expect(list.status()).toBe(200)
  const originals = (await list.json()).items.filter((w) => w.service === 'consultation')
  expect(originals.length).toBeGreaterThan(0)
  const put = async (w, sla) => {
    const response = await request.put(`/api/v1/admin/workflows/${w.name}`, { headers: bearer(admin), data: { sla, ladder: w.ladder } })
    expect(response.status(), await response.text()).toBe(200)
  }
  for (const w of originals) await put(w, { accept_minutes: 1, first_response_minutes: 1, resolution_minutes: 1 })
  return async () => {
    for (const w of originals) await put(w, w.sla)
  }
}

test('a coordinator urges an overdue case and the lawyer sees it live; supervise, extend, reassign', async ({ browser, request }) => {
  test.setTimeout(300_000)
  const admin = await staffToken(request, 'admin')
  const restore = await shortTargets(request, admin)
  const lawyerContext = await browser.newContext()
  const coordContext = await browser.newContext()
  try {
    // The lawyer's console is open and available.
    const lawyer = await lawyerContext.newPage()
    await login(lawyer, 'lawyer.zhang')
    await expect(lawyer).toHaveURL(/\/console\/consultations$/)
    await lawyer.getByTestId('presence').click()
    await lawyer.getByRole('option', { name: '在岗' }).click()
    await expect(lawyer.getByTestId('stream-state')).toHaveText('实时连接')

    // A resident asks; the signed lawyer is offered it and accepts.
    const resident1 = await resident(request, unique('coord-ask'))
    const asked = await request.post('/api/v1/consultations', {
      headers: { ...bearer(resident1), ...idempotency() },
      data: { community_id: await community(request), category_code: 'LJ01', question: `${unique('拖欠工资')} 公司拖欠三个月工资不发，我该怎么办？` },
    })
    expect(asked.status()).toBe(201)
    const caseId = (await asked.json()).id
    await lawyer.getByTestId(`accept-${caseId}`).click()
    await expect(lawyer.getByTestId(`consultation-${caseId}`)).toBeVisible()

    // The coordinator's home is the supervision desk.
    const coord = await coordContext.newPage()
    await login(coord, 'coordinator.sun')
    await expect(coord).toHaveURL(/\/console\/supervision$/)
    await expect(coord.getByTestId('stream-state')).toHaveText('实时连接')
    await visit(coord, 'coordinator-desk')

    // No first answer within the minute: the case turns up as overdue on the
    // open desk (the `overdue` staff event refreshes it).
    await coord.getByTestId('tab-overdue').click()
    const overdueRow = coord.getByTestId('desk-overdue').getByTestId(`case-${caseId}`)
    await expect(overdueRow).toBeVisible({ timeout: 150_000 })
    await expect(coord.getByTestId('desk-overdue')).toContainText('首次回复超时')
    await visit(coord, 'coordinator-desk-overdue')

    // Urge it, by keyboard: Enter on the verb, type the note, Tab to the
    // button and press Space.
    await coord.getByTestId('desk-overdue').getByTestId(`urge-${caseId}`).focus()
    await coord.keyboard.press('Enter')
    const dialog = coord.getByRole('dialog', { name: '催办' })
    await expect(dialog).toBeVisible()
    const note = dialog.getByLabel(/催办说明/)
    for (let i = 0; i < 6 && !(await note.evaluate((el) => el === document.activeElement)); i++) await coord.keyboard.press('Tab')
    await expect(note).toBeFocused()
    await coord.keyboard.type('居民多次来电，请今日内答复')
    await visit(coord, 'coordinator-urge-dialog')
    const submit = dialog.getByTestId('case-dialog-submit')
    for (let i = 0; i < 6 && !(await submit.evaluate((el) => el === document.activeElement)); i++) await coord.keyboard.press('Tab')
    await expect(submit).toBeFocused()
    await coord.keyboard.press('Space')
    await expect(dialog).toBeHidden()
    await expect(coord.getByText('已催办（共 1 次）')).toBeVisible()

    // The lawyer, without reloading: a notification and the mark on the list.
    await expect(lawyer.locator('.notice-urge')).toBeVisible({ timeout: 15_000 })
    await expect(lawyer.locator('.notice-urge')).toContainText('协调员催办')
    await expect(lawyer.getByTestId(`urged-${caseId}`)).toHaveText(/被催办 ×1/)
    await checkA11y(lawyer, 'lawyer-urged')
    await lawyer.getByTestId(`consultation-${caseId}`).click()
    await expect(lawyer.getByTestId('urged')).toHaveText('被催办 1 次')

    // Supervise it (the deadline defaults to three days ahead); the lawyer is told.
    await coord.getByTestId('desk-overdue').getByTestId(`supervise-${caseId}`).click()
    const supervise = coord.getByRole('dialog', { name: '列入督办' })
    await expect(supervise).toBeVisible()
    await supervise.getByLabel(/督办说明/).fill('请本周内办结')
    await visit(coord, 'coordinator-supervise-dialog')
    await supervise.getByTestId('case-dialog-submit').click()
    await expect(supervise).toBeHidden()
    await coord.getByTestId('tab-supervised').click()
    await expect(coord.getByTestId('desk-supervised').getByTestId(`case-${caseId}`)).toBeVisible()
    await expect(coord.getByTestId('desk-supervised').getByTestId(`lift-${caseId}`)).toBeVisible()
    await visit(coord, 'coordinator-desk-supervised')
    await expect(lawyer.locator('.notice-supervised')).toBeVisible({ timeout: 15_000 })

    // The lawyer asks for more time; the coordinator's extensions page shows
    // it live and grants it.
    await coord.getByRole('link', { name: '延期审批' }).click()
    await expect(coord).toHaveURL(/\/console\/extensions$/)
    const zhang = await staffToken(request, 'lawyer.zhang')
    const asks = await request.post(`/api/v1/staff/consultations/${caseId}/extension`, {
      headers: bearer(zhang),
      data: { reason: '需要当事人补充劳动合同和工资流水', extra_hours: 8 },
    })
    expect(asks.status(), await asks.text()).toBe(201)
    const extensionId = (await asks.json()).id
    await expect(coord.getByTestId(`grant-${extensionId}`)).toBeVisible({ timeout: 15_000 })
    await visit(coord, 'coordinator-extensions')
    await coord.getByTestId(`grant-${extensionId}`).click()
    const grant = coord.getByRole('dialog', { name: '同意延期' })
    await grant.getByLabel(/审批意见/).fill('同意延期，请按期办结')
    await visit(coord, 'coordinator-grant-dialog')
    await grant.getByTestId('decision-submit').click()
    await expect(coord.getByTestId(`grant-${extensionId}`)).toBeHidden()

    // Reassign it to another lawyer of the street; the first lawyer is told.
    await coord.getByRole('link', { name: '督办台' }).click()
    await coord.getByTestId('tab-supervised').click()
    await coord.getByTestId('desk-supervised').getByTestId(`reassign-${caseId}`).click()
    const reassign = coord.getByRole('dialog', { name: '改派案件' })
    await reassign.getByTestId('reassign-to').click()
    await coord.getByRole('option', { name: /王律师/ }).click()
    await reassign.getByLabel(/改派原因/).fill('王律师熟悉劳动争议，由其继续跟进')
    await visit(coord, 'coordinator-reassign-dialog')
    await reassign.getByTestId('case-dialog-submit').click()
    await expect(reassign).toBeHidden()
    await expect(coord.getByTestId('desk-supervised')).toContainText('王律师')
    await expect(lawyer.locator('.notice-reassigned')).toBeVisible({ timeout: 15_000 })

    // Lift the supervision.
    await coord.getByTestId('desk-supervised').getByTestId(`lift-${caseId}`).click()
    await expect(coord.getByTestId('desk-supervised').getByTestId(`case-${caseId}`)).toBeHidden()

    // Live queues and the month's statistics, a chart also as a table.
    await coord.getByRole('link', { name: '实时与统计' }).click()
    await expect(coord.getByTestId('live-unrouted')).toBeVisible()
    await expect(coord.getByTestId('chart-service')).toBeVisible()
    await expect(coord.getByTestId('stats-cases')).not.toHaveText('0')
    await expect(coord.getByTestId('chart-service')).toHaveAttribute('aria-label', /法律咨询/)
    await visit(coord, 'coordinator-stats')
    await coord.getByTestId('chart-service-toggle').click()
    await expect(coord.getByTestId('chart-service-table')).toContainText('法律咨询')
    const [csv] = await Promise.all([coord.waitForEvent('download', { timeout: 15_000 }), coord.getByTestId('stats-csv').click()])
    expect(csv.suggestedFilename()).toMatch(/\.csv$/)
    await visit(coord, 'coordinator-stats-table')
  } finally {
    await restore()
    await lawyerContext.close()
    await coordContext.close()
  }
})
