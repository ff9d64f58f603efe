// The console's only way to the server: the documented /api/v1 API with the
// staff member's Bearer token. Tokens live in sessionStorage (one tab, one
// login; closing the tab logs out of this tab).
import { reactive } from 'vue'

const KEY = 'sansuo.console.session'

export const session = reactive({
  token: null,
  refresh: null,
  expiresAt: null,
  role: null,
  me: null,
  presence: null,
})

function load() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) || 'null')
    if (saved) Object.assign(session, saved)
  } catch {
    sessionStorage.removeItem(KEY)
  }
}
load()

function save() {
  const { token, refresh, expiresAt, role } = session
  sessionStorage.setItem(KEY, JSON.stringify({ token, refresh, expiresAt, role }))
}

export function clearSession() {
  Object.assign(session, { token: null, refresh: null, expiresAt: null, role: null, me: null, presence: null })
  sessionStorage.removeItem(KEY)
}

function take(tokens) {
  session.token = tokens.access_token
  session.refresh = tokens.refresh_token
  session.expiresAt = tokens.expires_at
  session.role = tokens.role
  save()
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`)
    this.status = status
    this.code = code
  }
}

async function parse(response) {
  if (response.status === 204) return null
  const text = await response.text()
  let body = null
  try {
    body = text ? JSON.parse(text) : null
  } catch {
    body = null
  }
  if (!response.ok) {
    const error = body && body.error
    throw new ApiError(response.status, error && error.code, error && error.message)
  }
  return body
}

let refreshing = null

/** Trade the refresh token for a new pair (once at a time). */
export async function refreshTokens() {
  if (!session.refresh) return false
  if (!refreshing) {
    refreshing = fetch('/api/v1/auth/refresh', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: session.refresh }),
    })
      .then(parse)
      .then((tokens) => {
        take(tokens)
        return true
      })
      .catch(() => {
        clearSession()
        return false
      })
      .finally(() => {
        refreshing = null
      })
  }
  return refreshing
}

export function authHeaders() {
  return session.token ? { Authorization: `Bearer ${session.token}` } : {}
}

export async function api(method, path, body, retry = true) {
  const headers = { ...authHeaders(), Accept: 'application/json' }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  const response = await fetch(`/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (response.status === 401 && retry && session.refresh) {
    if (await refreshTokens()) return api(method, path, body, false)
  }
  if (response.status === 401) {
    clearSession()
    window.dispatchEvent(new CustomEvent('sansuo:logged-out'))
  }
  return parse(response)
}

export const get = (path) => api('GET', path)
export const post = (path, body = {}) => api('POST', path, body)
export const put = (path, body) => api('PUT', path, body)
export const patch = (path, body) => api('PATCH', path, body)
export const remove = (path) => api('DELETE', path)

export async function login(username, password) {
  const tokens = await parse(
    await fetch('/api/v1/auth/staff', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username, password }),
    }),
  )
  take(tokens)
  return tokens
}

export async function logout() {
  const refresh = session.refresh
  clearSession()
  if (refresh) {
    try {
      await fetch('/api/v1/auth/logout', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: refresh }),
      })
    } catch {
      // Logged out here either way.
    }
  }
}
