import { onBeforeUnmount, ref } from 'vue'
import { ElMessage } from 'element-plus'
import { i18n } from './i18n.js'

/** A clock ticking every second while the component lives. */
export function useNow() {
  const now = ref(Date.now())
  const timer = setInterval(() => {
    now.value = Date.now()
  }, 1000)
  onBeforeUnmount(() => clearInterval(timer))
  return now
}

/** "mm:ss" (or "h:mm:ss") left until `iso`; null once past. */
export function countdown(iso, now) {
  const left = Math.floor((new Date(iso).getTime() - now) / 1000)
  if (left <= 0) return null
  const h = Math.floor(left / 3600)
  const m = Math.floor((left % 3600) / 60)
  const s = left % 60
  const mm = String(m).padStart(2, '0')
  const ss = String(s).padStart(2, '0')
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`
}

export function secondsLeft(iso, now) {
  return Math.floor((new Date(iso).getTime() - now) / 1000)
}

/** Local date and time of an RFC 3339 instant. */
export function when(iso) {
  if (!iso) return ''
  const locale = i18n.global.locale.value === 'en' ? 'en-GB' : 'zh-CN'
  return new Date(iso).toLocaleString(locale, { hour12: false })
}

/** How long ago, coarse: "5 分钟" / "5 min". */
export function age(iso, now) {
  const minutes = Math.max(0, Math.floor((now - new Date(iso).getTime()) / 60000))
  const en = i18n.global.locale.value === 'en'
  if (minutes < 60) return en ? `${minutes} min` : `${minutes} 分钟`
  const hours = Math.floor(minutes / 60)
  if (hours < 48) return en ? `${hours} h` : `${hours} 小时`
  const days = Math.floor(hours / 24)
  return en ? `${days} d` : `${days} 天`
}

export function fail(error) {
  ElMessage({ type: 'error', message: i18n.global.t('common.failed', { message: error.message }), showClose: true })
}

export function ok(message) {
  ElMessage({ type: 'success', message })
}

/** A canned reply added to what is already typed: on a line of its own. */
export function withInserted(typed, text) {
  return typed.trim() ? `${typed.trimEnd()}\n${text}` : text
}
