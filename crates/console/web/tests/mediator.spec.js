// The mediator's console end to end against `sansuo serve --demo`: a
// resident's mediation is offered live and accepted, every verb's dialog of
// an accepted case is checked, a free slot is booked on the week calendar
// by keyboard and then moved, the session shows on the case, and the case
// file opens and downloads. axe-core on every page and dialog.
import { test, expect } from '@playwright/test'
import { community, idempotency, login, resident, unique, visit } from './helpers.js'

/** Open a dialog, check it with axe, close it. */
async function checkDialog(page, opener, dialog, name) {
  await page.getByTestId(opener).click()
  const box = page.getByTestId(dialog)
  await expect(box).toBeVisible()
  await visit(page, name)
  await page.keyboard.press('Escape')
  await expect(box).toBeHidden()
}

/** The first free slot of the shown week, or of the next weeks. */
async function firstFreeSlot(page) {
  const slots = page.locator('[data-testid^="slot-"]')
  for (let week = 0; week < 3; week++) {
    await page.waitForLoadState('networkidle', { timeout: 3_000 }).catch(() => {})
    if ((await slots.count()) > 0) return slots
    await page.getByTestId('week-next').click()
    await expect(page.locator('.week .el-loading-mask')).toHaveCount(0)
  }
  throw new Error('no free slot in three weeks')
}

test('a mediator accepts a mediation, books and moves a session on the calendar, and opens its case file', async ({ page, request }) => {
  // axe takes seconds per check, and every page and dialog is checked.
  test.setTimeout(480_000)
  await login(page, 'mediator.chen')
  await expect(page).toHaveURL(/\/console\/mediations$/)
  await page.getByTestId('presence').click()
  await page.getByRole('option', { name: '在岗' }).click()
  await expect(page.getByTestId('stream-state')).toHaveText('实时连接')
  await visit(page, 'mediator-mediations')

  // A resident books a mediation; it is offered live.
  const token = await resident(request, unique('console-mediation'))
  const response = await request.post('/api/v1/mediations', {
    headers: { Authorization: `Bearer ${token}`, ...idempotency() },
    data: {
      community_id: await community(request),
      category_code: 'LJ02',
      facts: `${unique('楼上漏水')} 楼上卫生间漏水已三个月，我家天花板发霉，多次沟通无果。`,
      claims: '请楼上修好防水并赔偿粉刷费用',
      parties: [
        { role: 'applicant', name: '王小明', contact: '13812341234' },
        { role: 'respondent', name: '李大强', contact: '13987654321' },
      ],
    },
  })
  expect(response.status()).toBe(201)
  const caseId = (await response.json()).id
  await expect(page.getByTestId(`offer-${caseId}`)).toBeVisible({ timeout: 10_000 })
  await page.getByTestId(`accept-${caseId}`).click()
  await expect(page.getByTestId(`status-${caseId}`)).toHaveText('已受理')

  // The filters.
  await page.getByTestId('filter-status').click()
  await page.getByRole('option', { name: '已达成协议' }).click()
  await expect(page.getByTestId(`mediation-${caseId}`)).toBeHidden()
  await page.getByTestId('filter-status').click()
  await page.getByRole('option', { name: '已受理' }).click()
  await expect(page.getByTestId(`mediation-${caseId}`)).toBeVisible()
  await page.keyboard.press('Escape')

  // The case: the owner sees the parties in full.
  await page.getByTestId(`mediation-${caseId}`).click()
  await expect(page).toHaveURL(new RegExp(`/console/mediations/${caseId}$`))
  await expect(page.getByTestId('mediation-status')).toHaveText('已受理')
  await expect(page.getByTestId('parties')).toContainText('王小明')
  await expect(page.getByTestId('facts')).toContainText('天花板发霉')
  await visit(page, 'mediator-mediation')

  // Only the verbs of an accepted case, each dialog checked.
  const verbs = page.getByTestId('verbs')
  await expect(verbs.getByTestId('verb-accept')).toHaveCount(0)
  await expect(verbs.getByTestId('verb-agreement')).toHaveCount(0)
  for (const key of ['refuse', 'terminate', 'escalate', 'handBack', 'extension', 'flag']) {
    await checkDialog(page, `verb-${key}`, `dialog-${key}`, `mediator-dialog-${key}`)
  }

  // The API's bounds are checked before sending: a one-character reason.
  await page.getByTestId('verb-flag').click()
  await page.locator('#verb-reason').fill('险')
  await page.getByTestId('verb-confirm').click()
  await expect(page.getByTestId('dialog-flag')).toContainText('2–500')
  await page.locator('#verb-reason').fill('双方多次在楼道争吵，有动手的苗头')
  await page.getByTestId('verb-confirm').click()
  await expect(page.getByTestId('risk-flag')).toBeVisible()
  await expect(page.getByTestId('verb-flag')).toHaveCount(0)

  // An internal note.
  await page.locator('#mediation-reply').fill('已电话联系被申请人，对方愿意调解。')
  await page.getByTestId('reply-internal').click()
  await page.getByTestId('reply-send').click()
  await expect(page.getByTestId('thread')).toContainText('对方愿意调解')
  await expect(page.getByTestId('thread').locator('li.internal')).toHaveCount(1)

  // The book dialog (its own slot picker) is checked too.
  await checkDialog(page, 'verb-book', 'dialog-session', 'mediator-dialog-book')

  // The calendar, opened for this case: book a free slot by keyboard.
  await page.getByTestId('book-on-calendar').click()
  await expect(page).toHaveURL(/\/console\/calendar\?case=/)
  const slots = await firstFreeSlot(page)
  await visit(page, 'mediator-calendar')
  const slot = slots.first()
  const startsAt = (await slot.getAttribute('data-testid')).slice('slot-'.length)
  await slot.focus()
  await page.keyboard.press('Enter')
  await expect(page.getByTestId('dialog-session')).toBeVisible()
  await expect(page.getByTestId('session-time')).toBeVisible()
  await visit(page, 'mediator-calendar-book')
  await page.getByTestId('session-confirm').focus()
  await page.keyboard.press('Enter')
  await expect(page.getByTestId('dialog-session')).toBeHidden()
  const booked = page.locator('[data-testid^="cal-session-"]')
  await expect(booked).toHaveCount(1)
  await expect(page.getByTestId(`slot-${startsAt}`)).toHaveCount(0)
  await visit(page, 'mediator-calendar-booked')

  // Move it to another free slot.
  const sessionId = (await booked.getAttribute('data-testid')).slice('cal-session-'.length)
  await page.getByTestId(`cal-move-${sessionId}`).click()
  await expect(page.getByTestId('moving')).toBeVisible()
  const target = page.locator('[data-testid^="slot-"]').nth(1)
  const movedTo = (await target.getAttribute('data-testid')).slice('slot-'.length)
  await target.click()
  await page.locator('#session-reason').fill('申请人当天需上班，改期')
  await visit(page, 'mediator-calendar-reschedule')
  await page.getByTestId('session-confirm').click()
  await expect(page.getByTestId('moving')).toBeHidden()
  await expect(page.locator('[data-testid^="cal-session-"]')).toHaveCount(1)
  await expect(page.getByTestId(`slot-${startsAt}`)).toBeVisible()
  await expect(page.getByTestId(`slot-${movedTo}`)).toHaveCount(0)

  // The case shows the session; it cannot be recorded as held before it begins.
  await page.locator('[data-testid^="cal-session-"] a').click()
  await expect(page).toHaveURL(new RegExp(`/console/mediations/${caseId}$`))
  await expect(page.getByTestId('mediation-status')).toHaveText('已排期')
  await expect(page.getByTestId('sessions')).toContainText('已预约')
  await expect(page.getByTestId('sessions')).toContainText('已取消')
  await page.getByTestId('session-held').click()
  await expect(page.getByTestId('held-not-begun')).toBeVisible()
  await page.locator('#held-attendees').fill('申请人王小明、被申请人李大强')
  await page.locator('#held-minutes').fill('双方陈述了事实，同意楼上修复防水。')
  await expect(page.getByTestId('held-confirm')).toBeDisabled()
  await visit(page, 'mediator-dialog-held')
  await page.keyboard.press('Escape')
  await checkDialog(page, 'session-cancel', 'dialog-cancel', 'mediator-dialog-cancel')

  // The case file: the printable HTML, and the PDF download.
  await page.getByTestId('case-file-html').click()
  await expect(page.getByTestId('dialog-case-file')).toBeVisible()
  await expect(page.frameLocator('[data-testid="case-file-frame"]').locator('body')).toContainText('人民调解')
  await visit(page, 'mediator-case-file')
  await page.keyboard.press('Escape')
  const download = page.waitForEvent('download')
  await page.getByTestId('case-file-pdf').click()
  expect((await download).suggestedFilename()).toMatch(/\.pdf$/)

  // The list shows the next session.
  await page.getByRole('link', { name: '我的调解' }).click()
  await expect(page.getByTestId(`next-${caseId}`)).not.toHaveText('—')
})
