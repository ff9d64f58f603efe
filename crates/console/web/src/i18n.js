import { createI18n } from 'vue-i18n'

const LANG_KEY = 'sansuo.console.lang'

const messages = {
  'zh-CN': {
    app: { title: '三所联动 · 工作台', skip: '跳到主要内容' },
    login: {
      title: '工作人员登录',
      username: '用户名',
      password: '密码',
      submit: '登录',
      failed: '登录失败：{message}',
    },
    menu: {
      offers: '我的待办派单',
      tips: '线索研判台',
      consultations: '我的咨询',
      logout: '退出登录',
      main: '主菜单',
    },
    role: {
      lawyer: '律师',
      mediator: '调解员',
      officer: '民警',
      coordinator: '协调员',
      admin: '管理员',
    },
    presence: {
      label: '在岗状态',
      available: '在岗',
      away: '暂离',
      off_duty: '下班',
      changed: '在岗状态已更新',
    },
    lang: { label: '语言' },
    stream: { open: '实时连接', connecting: '正在连接…', closed: '未连接' },
    common: {
      refresh: '刷新',
      loading: '加载中…',
      empty: '暂无数据',
      back: '返回',
      open: '查看',
      save: '保存',
      cancel: '取消',
      confirm: '确定',
      note: '备注',
      done: '已完成',
      failed: '操作失败：{message}',
      created: '提交时间',
      updated: '更新时间',
      status: '状态',
      category: '类别',
      actions: '操作',
      age: '已等待',
    },
    offers: {
      title: '我的待办派单',
      hint: '请在倒计时结束前接单或拒单；超时将转派他人。',
      service: '业务',
      summary: '摘要',
      countdown: '剩余时间',
      expired: '已超时',
      accept: '接单',
      decline: '拒单',
      declineTitle: '拒单原因',
      reason: '原因（2–500 字，供协调员查看）',
      accepted: '已接单',
      declined: '已拒单',
      newOffer: '新派单到达',
    },
    service: { consultation: '法律咨询', mediation: '人民调解', tip: '线索举报' },
    tips: {
      title: '线索研判台',
      offered: '待签收',
      board: '我的线索',
      priority: '优先级',
      description: '线索内容',
      location: '位置',
      noLocation: '未提供',
      duplicates: '疑似重复',
      duplicateCount: '{n} 条',
      distance: '约 {n} 米',
      noDuplicates: '附近 500 米内 7 天内无同类线索',
      flagged: '曾多次不实',
      statusFilter: '状态',
      categoryFilter: '类别（如 AQ）',
      acknowledge: '签收',
      acknowledged: '已签收',
      triage: '研判',
      verdict: '研判结论',
      verdict_valid: '属实，需处置',
      verdict_unfounded: '不实',
      verdict_not_police_matter: '非警务事项（转交）',
      referredTo: '转交单位',
      verify: '开始核查',
      action: '记录处置',
      close: '办结',
      closeNote: '给举报人的办结说明',
      message: '回复举报人',
      internal: '内部备注',
      send: '发送',
      thread: '沟通记录',
      photos: '照片',
      history: '处理记录',
      supporters: '附议人数',
      anonymous: '匿名',
      newTip: '新线索',
      openMap: '在地图中查看',
    },
    tipStatus: {
      submitted: '已提交', offered: '派单中', pooled: '待认领', acknowledged: '已签收',
      valid: '属实', verifying: '核查中', actioned: '已处置', closed: '已办结',
      unfounded: '不实', referred: '已转交', duplicate: '重复', converted: '已转调解',
    },
    consultations: {
      title: '我的咨询',
      question: '咨询问题',
      answer: '回复',
      answerPlaceholder: '回复居民（1–2000 字）',
      send: '发送回复',
      sent: '回复已发送',
      thread: '沟通记录',
      history: '处理记录',
      resolve: '办结',
      lawyer: '律师',
      urged: '被催办 {n} 次',
    },
    consultationStatus: {
      submitted: '已提交', offered: '派单中', pooled: '待认领', assigned: '处理中',
      answered: '已回复', resolved: '已办结', closed: '已关闭', withdrawn: '已撤回',
      rejected: '已驳回', converted: '已转办',
    },
    author: { resident: '居民', reporter: '举报人', officer: '民警', lawyer: '律师', mediator: '调解员', staff: '工作人员', system: '系统' },
  },
  en: {
    app: { title: 'Sansuo · Staff console', skip: 'Skip to main content' },
    login: {
      title: 'Staff login',
      username: 'Username',
      password: 'Password',
      submit: 'Log in',
      failed: 'Login failed: {message}',
    },
    menu: {
      offers: 'My offers',
      tips: 'Tip triage board',
      consultations: 'My consultations',
      logout: 'Log out',
      main: 'Main menu',
    },
    role: { lawyer: 'Lawyer', mediator: 'Mediator', officer: 'Officer', coordinator: 'Coordinator', admin: 'Administrator' },
    presence: { label: 'Presence', available: 'Available', away: 'Away', off_duty: 'Off duty', changed: 'Presence updated' },
    lang: { label: 'Language' },
    stream: { open: 'Live', connecting: 'Connecting…', closed: 'Offline' },
    common: {
      refresh: 'Refresh', loading: 'Loading…', empty: 'Nothing here', back: 'Back', open: 'Open',
      save: 'Save', cancel: 'Cancel', confirm: 'OK', note: 'Note', done: 'Done',
      failed: 'Failed: {message}', created: 'Submitted', updated: 'Updated', status: 'Status',
      category: 'Category', actions: 'Actions', age: 'Waiting',
    },
    offers: {
      title: 'My offers',
      hint: 'Accept or decline before the countdown ends; then the case goes to someone else.',
      service: 'Service', summary: 'Summary', countdown: 'Time left', expired: 'Expired',
      accept: 'Accept', decline: 'Decline', declineTitle: 'Reason to decline',
      reason: 'Reason (2–500 characters, for the coordinator)', accepted: 'Accepted', declined: 'Declined',
      newOffer: 'New offer',
    },
    service: { consultation: 'Consultation', mediation: 'Mediation', tip: 'Tip' },
    tips: {
      title: 'Tip triage board', offered: 'To sign for', board: 'My tips', priority: 'Priority',
      description: 'Tip', location: 'Location', noLocation: 'Not given', duplicates: 'Likely duplicates', duplicateCount: '{n}', distance: 'about {n} m',
      noDuplicates: 'No open tip of this category within 500 m in 7 days',
      flagged: 'Often unfounded', statusFilter: 'Status', categoryFilter: 'Category (e.g. AQ)',
      acknowledge: 'Sign for', acknowledged: 'Signed for', triage: 'Triage', verdict: 'Verdict',
      verdict_valid: 'Valid', verdict_unfounded: 'Unfounded', verdict_not_police_matter: 'Not a police matter (refer)',
      referredTo: 'Referred to', verify: 'Start checking', action: 'Record action', close: 'Close',
      closeNote: 'Closing note to the reporter', message: 'Reply to the reporter', internal: 'Internal note',
      send: 'Send', thread: 'Thread', photos: 'Photos', history: 'History', supporters: 'Supporters',
      anonymous: 'Anonymous', newTip: 'New tip', openMap: 'Open in map',
    },
    tipStatus: {
      submitted: 'Submitted', offered: 'Offered', pooled: 'Pooled', acknowledged: 'Signed for',
      valid: 'Valid', verifying: 'Verifying', actioned: 'Actioned', closed: 'Closed',
      unfounded: 'Unfounded', referred: 'Referred', duplicate: 'Duplicate', converted: 'Converted',
    },
    consultations: {
      title: 'My consultations', question: 'Question', answer: 'Answer',
      answerPlaceholder: 'Answer the resident (1–2000 characters)', send: 'Send answer', sent: 'Answer sent',
      thread: 'Thread', history: 'History', resolve: 'Resolve', lawyer: 'Lawyer', urged: 'Urged {n} times',
    },
    consultationStatus: {
      submitted: 'Submitted', offered: 'Offered', pooled: 'Pooled', assigned: 'Assigned', answered: 'Answered',
      resolved: 'Resolved', closed: 'Closed', withdrawn: 'Withdrawn', rejected: 'Rejected', converted: 'Converted',
    },
    author: { resident: 'Resident', reporter: 'Reporter', officer: 'Officer', lawyer: 'Lawyer', mediator: 'Mediator', staff: 'Staff', system: 'System' },
  },
}

// Each area of the console keeps its own messages in src/i18n/<area>.js
// (`export default { 'zh-CN': { area: {...} }, en: { area: {...} } }`),
// merged here key by key: areas never edit one shared file.
const areas = import.meta.glob('./i18n/*.js', { eager: true, import: 'default' })
for (const [file, area] of Object.entries(areas)) {
  for (const [locale, keys] of Object.entries(area)) {
    for (const key of Object.keys(keys)) {
      if (key in messages[locale]) throw new Error(`${file}: message key ${locale}.${key} is already defined`)
    }
    Object.assign(messages[locale], keys)
  }
}

function initialLocale() {
  const saved = localStorage.getItem(LANG_KEY)
  return saved === 'en' || saved === 'zh-CN' ? saved : 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'zh-CN',
  messages,
})

export function setLocale(locale) {
  i18n.global.locale.value = locale
  localStorage.setItem(LANG_KEY, locale)
  document.documentElement.lang = locale
}
