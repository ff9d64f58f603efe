// What every case handler shares (issue 17): canned replies inserted into an
// answer, the officer's own duty roster, and a tip's location as a map link
// (the demo's default Amap template), with axe-core on every page and dialog.
import { test, expect } from '@playwright/test'
import { checkA11y, community, idempotency, login, resident, shot, unique, visit } from './helpers.js'

async function apiToken(request, username) {
  const response = await request.post('/api/v1/auth/staff', { data: { username, password: 'sansuo-demo' } })
  expect(response.status()).toBe(200)
  return (await response.json()).access_token
}

test('a lawyer keeps a canned reply, inserts it by keyboard into an answer and sends it', async ({ page, request }) => {
  await login(page, 'lawyer.zhang')
  await page.getByTestId('presence').click()
  await page.getByRole('option', { name: '在岗' }).click()
  await expect(page.getByTestId('stream-state')).toHaveText('实时连接')

  const token = await resident(request, unique('canned-ask'))
  const response = await request.post('/api/v1/consultations', {
    headers: { Authorization: `Bearer ${token}`, ...idempotency() },
    data: {
      community_id: await community(request),
      category_code: 'LJ01',
      question: `${unique('邻居漏水')} 楼上漏水把我家天花板泡坏了，物业说不管，我该找谁？`,
    },
  })
  expect(response.status()).toBe(201)
  const caseId = (await response.json()).id
  await page.getByRole('link', { name: '我的待办派单' }).click()
  await page.getByTestId(`accept-${caseId}`).click()
  await expect(page).toHaveURL(new RegExp(`/console/consultations/${caseId}$`))
  await expect(page.getByTestId('consultation-status')).toHaveText('处理中')

  // Keep a canned reply of one's own, through the manage dialog.
  const title = unique('漏水')
  const text = '楼上漏水造成损失，可先与楼上住户协商赔偿；协商不成，可申请人民调解或向法院起诉。请保留照片和维修票据。'
  await page.getByTestId('canned-manage').click()
  const dialog = page.getByRole('dialog', { name: '我的常用回复' })
  await expect(dialog).toBeVisible()
  await visit(page, 'canned-dialog')
  await dialog.getByLabel('标题（最多 40 字）').fill(title)
  await dialog.getByLabel('回复内容').fill(text)
  await dialog.getByTestId('canned-add').click()
  await expect(dialog.getByTestId('canned-own')).toContainText(title)
  await page.keyboard.press('Escape')
  await expect(dialog).toBeHidden()

  // Pick it by keyboard: focus the picker, open it, type to filter, Enter.
  const picker = page.getByRole('combobox', { name: '常用回复' })
  await picker.focus()
  await page.keyboard.type(title)
  await expect(page.getByRole('option', { name: title })).toBeVisible()
  await page.keyboard.press('ArrowDown')
  await page.keyboard.press('Enter')
  const answer = page.getByLabel('回复', { exact: true })
  await expect(answer).toHaveValue(text)
  await visit(page, 'canned-inserted')
  // Tab on to the send button and press it.
  await answer.focus()
  await answer.press('End')
  await page.keyboard.type('\n如需帮助请再留言。')
  await page.getByTestId('send-answer').focus()
  await page.keyboard.press('Enter')
  await expect(page.getByTestId('consultation-status')).toHaveText('已回复')
  await expect(page.getByTestId('thread')).toContainText('请保留照片和维修票据。')
  await expect(page.getByTestId('thread')).toContainText('如需帮助请再留言。')
  await visit(page, 'canned-sent')

  // The reply can go again: delete it in the dialog.
  await page.getByTestId('canned-manage').click()
  await dialog.getByRole('button', { name: `删除 ${title}` }).click()
  await expect(dialog.getByTestId('canned-own')).not.toContainText(title)
  await shot(page, 'canned-deleted')
})

test('an officer reads their duty roster week by week', async ({ page, request }) => {
  // A shift this week for officer.liu, put on the roster by the administrator.
  const officer = await apiToken(request, 'officer.liu')
  const me = await (await request.get('/api/v1/staff/me', { headers: { Authorization: `Bearer ${officer}` } })).json()
  const admin = await apiToken(request, 'admin')
  const starts = new Date(Date.now() + 3600 * 1000)
  starts.setMinutes(0, 0, 0)
  const ends = new Date(starts.getTime() + 8 * 3600 * 1000)
  const shift = await request.post('/api/v1/admin/duty-shifts', {
    headers: { Authorization: `Bearer ${admin}` },
    data: { org_unit_id: me.org_unit_id, staff_id: me.id, starts_at: starts.toISOString(), ends_at: ends.toISOString() },
  })
  expect(shift.status()).toBe(201)

  await login(page, 'officer.liu')
  await page.getByRole('link', { name: '我的值班表' }).click()
  await expect(page).toHaveURL(/\/console\/roster$/)
  await expect(page.getByTestId('roster-shift').filter({ hasText: '刘警官' }).first()).toBeVisible()
  await visit(page, 'officer-roster')

  // Keyboard: next week and back.
  const week = await page.getByTestId('roster-week').textContent()
  await page.getByTestId('roster-next').focus()
  await page.keyboard.press('Enter')
  await expect(page.getByTestId('roster-week')).not.toHaveText(week)
  await page.getByTestId('roster-prev').focus()
  await page.keyboard.press('Space')
  await expect(page.getByTestId('roster-week')).toHaveText(week)
  await checkA11y(page, 'officer-roster-keyboard')
})

test("a tip's location links to the district's map", async ({ page, request }) => {
  await login(page, 'officer.liu')
  await expect(page).toHaveURL(/\/console\/tips$/)
  await expect(page.getByTestId('stream-state')).toHaveText('实时连接')
  const response = await request.post('/api/v1/tips', {
    headers: { Authorization: `Bearer ${await resident(request, unique('map-tip'))}`, ...idempotency() },
    data: {
      community_id: await community(request),
      category_code: 'AQ01',
      description: `${unique('井盖缺失')} 小区北门外人行道上的井盖不见了，晚上很危险`,
      location: { lat: 31.2651, lng: 121.5061, address: '北门外人行道' },
      anonymous: false,
    },
  })
  expect(response.status()).toBe(201)
  const tipId = (await response.json()).tip.id
  await page.getByTestId(`accept-${tipId}`).click()
  await page.getByTestId(`tip-${tipId}`).click()
  await expect(page).toHaveURL(new RegExp(`/console/tips/${tipId}$`))
  const link = page.getByTestId('tip-map-link')
  await expect(link).toContainText('北门外人行道')
  await expect(link).toHaveAttribute('href', 'https://uri.amap.com/marker?position=121.5061,31.2651&coordinate=wgs84&callnative=0')
  await expect(link).toHaveAttribute('target', '_blank')
  await expect(link).toHaveAttribute('rel', /noopener/)
  // The tip's reply box has the canned replies picker too.
  await expect(page.getByRole('combobox', { name: '常用回复' })).toBeVisible()
  await visit(page, 'officer-tip-map')
})
