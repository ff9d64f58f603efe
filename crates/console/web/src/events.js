// The staff event stream, GET /api/v1/staff/events (Server-Sent Events).
// It authenticates with the Bearer header, which EventSource cannot send, so
// it is read with fetch() streaming. The stream ends after a while by design
// (SANSUO_STAFF_STREAM_MAX_SECS); we reconnect with Last-Event-ID, so no
// event is lost.
import { onBeforeUnmount, onMounted, ref } from 'vue'
import { authHeaders, refreshTokens, session } from './api.js'

const listeners = new Set()
export const streamState = ref('closed') // 'open' | 'connecting' | 'closed'

let controller = null
let lastId = null
let running = false

/**
 * In a component: `load()` when it mounts, and again after each event
 * `wanted(event, data)` accepts and after a reconnect (events may have been
 * missed), until it unmounts.
 */
export function useLiveLoad(load, wanted) {
  let off = null
  onMounted(() => {
    load()
    off = onEvent((event) => {
      if (event.type === 'connected' || wanted(event, event.data || {})) load()
    })
  })
  onBeforeUnmount(() => off && off())
}

/** Call `fn({type, data, id})` for each event; returns the unsubscribe. */
export function onEvent(fn) {
  listeners.add(fn)
  return () => listeners.delete(fn)
}

function dispatch(event) {
  for (const fn of listeners) {
    try {
      fn(event)
    } catch (e) {
      console.error(e)
    }
  }
}

/** Parse SSE text blocks; returns the unparsed rest. */
function consume(buffer) {
  let at
  while ((at = buffer.search(/\r?\n\r?\n/)) !== -1) {
    const block = buffer.slice(0, at)
    buffer = buffer.slice(at).replace(/^\r?\n\r?\n/, '')
    let type = 'message'
    let id = null
    const data = []
    for (const line of block.split(/\r?\n/)) {
      if (!line || line.startsWith(':')) continue
      const colon = line.indexOf(':')
      const field = colon === -1 ? line : line.slice(0, colon)
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
      if (field === 'event') type = value
      else if (field === 'data') data.push(value)
      else if (field === 'id') id = value
    }
    if (id !== null) lastId = id
    if (data.length === 0) continue
    let parsed = null
    try {
      parsed = JSON.parse(data.join('\n'))
    } catch {
      parsed = data.join('\n')
    }
    dispatch({ type, data: parsed, id })
  }
  return buffer
}

async function once() {
  controller = new AbortController()
  const headers = { ...authHeaders(), Accept: 'text/event-stream' }
  if (lastId !== null) headers['Last-Event-ID'] = lastId
  const response = await fetch('/api/v1/staff/events', { headers, signal: controller.signal })
  if (response.status === 401) {
    if (!(await refreshTokens())) {
      running = false
      window.dispatchEvent(new CustomEvent('sansuo:logged-out'))
    }
    return
  }
  if (!response.ok || !response.body) throw new Error(`stream: HTTP ${response.status}`)
  streamState.value = 'open'
  // Events may have been missed while we were away: let pages reload.
  dispatch({ type: 'connected', data: null, id: null })
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    buffer = consume(buffer + value)
  }
}

/** Keep the stream open while logged in. */
export async function startStream() {
  if (running) return
  running = true
  let backoff = 500
  while (running && session.token) {
    streamState.value = 'connecting'
    try {
      await once()
      backoff = 500
    } catch (e) {
      if (!running) break
      backoff = Math.min(backoff * 2, 15000)
    }
    streamState.value = 'closed'
    if (running) await new Promise((r) => setTimeout(r, backoff))
  }
  running = false
  streamState.value = 'closed'
}

export function stopStream() {
  running = false
  lastId = null
  if (controller) controller.abort()
}
