// The staff console end to end against `sansuo serve --demo`: the officer's
// live triage board and the lawyer's offer-to-answer flow, with axe-core on
// every page and a screenshot of each.
import { test, expect } from '@playwright/test'
import { checkA11y, community, idempotency, login, resident, shot, unique, visit } from './helpers.js'

test('login page', async ({ page }) => {
  await page.goto('/console/')
  await expect(page).toHaveURL(/\/console\/login/)
  await expect(page.getByRole('heading', { name: '工作人员登录' })).toBeVisible()
  await visit(page, 'login')
  // The English switch.
  await page.getByTestId('language').click()
  await page.getByRole('option', { name: 'English' }).click()
  await expect(page.getByRole('heading', { name: 'Staff login' })).toBeVisible()
  await visit(page, 'login-en')
})

test('an officer sees a new tip appear live, signs for it, triages and closes it', async ({ page, request }) => {
  await login(page, 'officer.liu')
  await expect(page).toHaveURL(/\/console\/tips$/)
  await expect(page.getByTestId('stream-state')).toHaveText('实时连接')

  // First paint of the board, on a fresh load of the page.
  await page.reload()
  await expect(page.getByTestId('stream-state')).toHaveText('实时连接')
  await expect(page.getByTestId('tip-board')).toBeVisible()
  await page.waitForFunction(() => performance.getEntriesByName('sansuo:board-ready').length > 0)
  const paint = await page.evaluate(() => {
    const fcp = performance.getEntriesByName('first-contentful-paint')[0]
    const ready = performance.getEntriesByName('sansuo:board-ready')[0]
    return { fcp: fcp ? Math.round(fcp.startTime) : null, ready: Math.round(ready.startTime) }
  })
  console.log(`MEASURE board first-contentful-paint: ${paint.fcp} ms; board loaded (rows rendered): ${paint.ready} ms`)
  await visit(page, 'officer-board')

  // A neighbour reported the same thing a moment ago (a likely duplicate).
  const communityId = await community(request)
  const where = { lat: 31.2646, lng: 121.5052, address: '3号楼东侧' }
  const earlier = await request.post('/api/v1/tips', {
    headers: { Authorization: `Bearer ${await resident(request, unique('console-nb'))}`, ...idempotency() },
    data: { community_id: communityId, category_code: 'AQ01', description: '3号楼东侧通道堆满了杂物，消防车进不来', location: where },
  })
  expect(earlier.status()).toBe(201)

  // A resident reports a tip; the open board shows it without a reload.
  const token = await resident(request, unique('console-tip'))
  const description = `${unique('楼道堆物')} 3号楼东侧消防通道被电动车和杂物堵死了`
  const started = Date.now()
  const response = await request.post('/api/v1/tips', {
    headers: { Authorization: `Bearer ${token}`, ...idempotency() },
    data: {
      community_id: communityId,
      category_code: 'AQ01',
      description,
      location: where,
      anonymous: false,
    },
  })
  expect(response.status()).toBe(201)
  const tipId = (await response.json()).tip.id
  const row = page.getByTestId(`offer-${tipId}`)
  await expect(page.getByTestId(`offer-${(await earlier.json()).tip.id}`)).toBeVisible()
  await expect(row).toBeVisible({ timeout: 10_000 })
  console.log(`MEASURE resident submission to the tip row visible on the open board: ${Date.now() - started} ms`)
  await expect(page.getByTestId(`countdown-${tipId}`)).toHaveText(/\d\d:\d\d/)
  await shot(page, 'officer-board-new-tip')

  // Sign for it from the board: it moves to the officer's own tips.
  await page.getByTestId(`accept-${tipId}`).click()
  const link = page.getByTestId(`tip-${tipId}`)
  await expect(link).toBeVisible()
  await expect(page.getByTestId(`status-${tipId}`)).toHaveText('已签收')
  await link.click()
  await expect(page).toHaveURL(new RegExp(`/console/tips/${tipId}$`))
  await expect(page.getByTestId('tip-status')).toHaveText('已签收')
  await expect(page.getByTestId('tip-similar')).toContainText('AQ01')
  await visit(page, 'officer-tip')

  // Triage: valid.
  await page.getByTestId('verdict-valid').click()
  await page.locator('#triage-note').fill('已核实，派社区民警处置')
  await page.getByTestId('tip-triage').click()
  await expect(page.getByTestId('tip-status')).toHaveText('属实')

  // Close with a note to the reporter.
  await page.locator('#step-note').fill('杂物已清理，消防通道恢复畅通。感谢您的举报。')
  await page.getByTestId('tip-close').click()
  await expect(page.getByTestId('tip-status')).toHaveText('已办结')
  await expect(page.getByTestId('tip-history')).toContainText('close')
  await visit(page, 'officer-tip-closed')

  // The deep link works on a fresh load too.
  await page.reload()
  await expect(page.getByTestId('tip-status')).toHaveText('已办结')
})

test('a lawyer accepts an offer within its countdown and answers', async ({ page, request }) => {
  await login(page, 'lawyer.zhang')
  await expect(page).toHaveURL(/\/console\/consultations$/)
  await page.getByTestId('presence').click()
  await page.getByRole('option', { name: '在岗' }).click()
  await expect(page.getByTestId('stream-state')).toHaveText('实时连接')
  await visit(page, 'lawyer-consultations')

  const token = await resident(request, unique('console-ask'))
  const communityId = await community(request)
  const question = `${unique('房东不退押金')} 租期满了房东以墙面有污渍为由扣下全部押金，合理吗？`
  const response = await request.post('/api/v1/consultations', {
    headers: { Authorization: `Bearer ${token}`, ...idempotency() },
    data: { community_id: communityId, category_code: 'LJ01', question },
  })
  expect(response.status()).toBe(201)
  const caseId = (await response.json()).id

  // The offer appears live, with its countdown running.
  const countdown = page.getByTestId(`countdown-${caseId}`)
  await expect(countdown).toHaveText(/^\d+:\d\d(:\d\d)?$/, { timeout: 10_000 })
  const first = await countdown.textContent()
  await expect(countdown).not.toHaveText(first, { timeout: 5_000 })
  await shot(page, 'lawyer-offer')

  // The offers page lists it as well.
  await page.getByRole('link', { name: '我的待办派单' }).click()
  await expect(page.getByTestId(`offer-${caseId}`)).toBeVisible()
  await visit(page, 'lawyer-offers')

  await page.getByTestId(`accept-${caseId}`).click()
  await expect(page).toHaveURL(new RegExp(`/console/consultations/${caseId}$`))
  await expect(page.getByTestId('consultation-status')).toHaveText('处理中')
  await expect(page.getByTestId('question')).toContainText('押金')
  await visit(page, 'lawyer-consultation')

  await page.getByLabel('回复', { exact: true }).fill('押金扣除须以实际损失为限，正常使用造成的磨损不应扣押金。建议先协商，并保留入住和退租时的照片。')
  await page.getByTestId('send-answer').click()
  await expect(page.getByTestId('consultation-status')).toHaveText('已回复')
  await expect(page.getByTestId('thread')).toContainText('正常使用造成的磨损')
  await visit(page, 'lawyer-consultation-answered')

  // The resident sees the answer.
  const mine = await request.get(`/api/v1/consultations/${caseId}`, { headers: { Authorization: `Bearer ${token}` } })
  expect((await mine.json()).status).toBe('answered')

  // Keyboard: on a fresh load the first Tab reaches the skip link, the next
  // ones the presence switch; the menu's links follow.
  await page.reload()
  await expect(page.getByTestId('consultation-status')).toHaveText('已回复')
  await page.keyboard.press('Tab')
  await expect(page.locator('.skip-link')).toBeFocused()
  await page.keyboard.press('Tab')
  await expect(page.getByRole('combobox', { name: '在岗状态' })).toBeFocused()
  await page.getByRole('link', { name: '我的咨询' }).focus()
  await page.keyboard.press('Enter')
  await expect(page).toHaveURL(/\/console\/consultations$/)
  await checkA11y(page, 'lawyer-keyboard')
})
