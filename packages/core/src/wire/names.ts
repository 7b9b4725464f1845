/**
 * What a registry name, a node id, a peer URL and a short remote text may be: one set
 * of rules for the API (BAD_ARGUMENT) and for every frame that carries them
 * (BAD_FRAME), so nothing the API refuses can arrive from the wire and spread.
 */

/** Longest registry name, in UTF-16 code units. */
export const MAX_NAME_LENGTH = 1024
/** Longest peer listen URL. */
export const MAX_URL_LENGTH = 2048
/** Longest reason, code or other short text a frame may carry. */
export const MAX_REASON_LENGTH = 256

/** A node name: the part of an id before '@'. */
export const NODE_NAME_RE = /^[A-Za-z0-9_.:-]{1,64}$/
const NODE_ID_RE = /^[A-Za-z0-9_.:-]{1,64}@[0-9a-f]{16}$/
const URL_RE = /^[a-z][a-z0-9+.-]{0,15}:\/\/[\x21-\x7e]+$/i
const CODE_RE = /^[A-Z][A-Z_]{0,31}$/

/** Why `s` is not printable, well-formed text (a control character, a lone surrogate), or null. */
function textFault(s: string): string | null {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return 'a control character'
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1)
      if (!(d >= 0xdc00 && d <= 0xdfff)) return 'a lone surrogate'
      i++
    } else if (c >= 0xdc00 && c <= 0xdfff) return 'a lone surrogate'
  }
  return null
}

/** Why `name` is not a valid registry name, or null when it is. */
export function nameFault(name: unknown): string | null {
  if (typeof name !== 'string') return 'not a string'
  if (name.length === 0) return 'empty'
  if (name.length > MAX_NAME_LENGTH) return `longer than ${MAX_NAME_LENGTH} characters`
  return textFault(name)
}

export function isName(name: unknown): name is string {
  return nameFault(name) === null
}

/** `name@` + 16 hex digits, name as createNode allows it. */
export function isNodeId(id: unknown): id is string {
  return typeof id === 'string' && id.length <= 81 && NODE_ID_RE.test(id)
}

export function isPeerUrl(url: unknown): url is string {
  return typeof url === 'string' && url.length <= MAX_URL_LENGTH && URL_RE.test(url)
}

/** An error code on the wire: upper case and underscores. */
export function isCode(code: unknown): code is string {
  return typeof code === 'string' && CODE_RE.test(code)
}

/** A reason (nodedown, unregister): short printable text. */
export function isReason(text: unknown): text is string {
  return typeof text === 'string' && text.length <= MAX_REASON_LENGTH && textFault(text) === null
}

/** The UTF-8 length of `s` (what a name costs on the wire and in a quota). */
export function utf8Length(s: string): number {
  let n = s.length
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x80) n += c >= 0x800 && (c < 0xd800 || c > 0xdfff) ? 2 : 1
  }
  return n
}
