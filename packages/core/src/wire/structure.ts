/**
 * A walk over msgpack bytes that checks their shape before anything is decoded:
 * nesting no deeper than a limit (Map and Set payloads count as the container they
 * replace), and no container declaring more elements than there are bytes left. The
 * decoder allocates a container's declared length up front, so without this a 30 KB
 * frame of nested array16 headers costs gigabytes. Linear in the bytes, allocation free.
 */
import { FlurryError } from '../base/index.js'

/**
 * How deeply values may nest, counted from the frame array: the frame's own fields
 * are at depth 1, a message body's fields at 2. One limit for encode and decode, so
 * whatever arrives can be sent on as it is.
 */
export const MAX_DEPTH = 64

/** Extension types whose payload is msgpack again (Map, Set): walked with the same limit. */
const NESTED_EXT_TYPES = new Set([1, 2])

// Values left per open container, by absolute depth (a Map payload continues above its container).
const stack = new Int32Array(MAX_DEPTH + 2)

function fail(why: string): never {
  throw new FlurryError('BAD_FRAME', `malformed frame: ${why}`)
}

/**
 * Throws FlurryError BAD_FRAME unless `bytes` hold exactly one msgpack value nested at
 * most `maxDepth` deep whose containers fit in the bytes. `baseDepth` is the depth of
 * the value itself (an extension's payload continues its container's depth).
 */
export function checkStructure(bytes: Uint8Array, maxDepth = MAX_DEPTH, baseDepth = 0): void {
  const end = bytes.length
  if (end === 0) fail('empty value')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  // stack[baseDepth + d]: values still to read in the container open at depth d (1-based).
  let depth = 0
  let pos = 0
  // Values still owed by every open container: each takes at least one byte.
  let owed = 1
  const limit = Math.min(maxDepth, MAX_DEPTH) - baseDepth
  const need = (n: number): void => {
    if (pos + n > end) fail('truncated value')
  }
  for (;;) {
    need(1)
    const b = bytes[pos++] as number
    owed--
    let items = -1
    if (b <= 0x7f || b >= 0xe0 || (b >= 0xc0 && b <= 0xc3 && b !== 0xc1)) {
      // fixint, nil, bool
    } else if (b >= 0xa0 && b <= 0xbf) {
      need(b & 0x1f)
      pos += b & 0x1f
    } else if (b >= 0x90 && b <= 0x9f) items = b & 0x0f
    else if (b >= 0x80 && b <= 0x8f) items = (b & 0x0f) * 2
    else {
      switch (b) {
        case 0xc4: case 0xd9: need(1); pos += 1 + (bytes[pos] as number); break
        case 0xc5: case 0xda: need(2); pos += 2 + view.getUint16(pos); break
        case 0xc6: case 0xdb: need(4); pos += 4 + view.getUint32(pos); break
        case 0xca: pos += 4; break
        case 0xcb: pos += 8; break
        case 0xcc: case 0xd0: pos += 1; break
        case 0xcd: case 0xd1: pos += 2; break
        case 0xce: case 0xd2: pos += 4; break
        case 0xcf: case 0xd3: pos += 8; break
        case 0xd4: pos = ext(bytes, pos, 1, depth + baseDepth, maxDepth); break
        case 0xd5: pos = ext(bytes, pos, 2, depth + baseDepth, maxDepth); break
        case 0xd6: pos = ext(bytes, pos, 4, depth + baseDepth, maxDepth); break
        case 0xd7: pos = ext(bytes, pos, 8, depth + baseDepth, maxDepth); break
        case 0xd8: pos = ext(bytes, pos, 16, depth + baseDepth, maxDepth); break
        case 0xc7: need(1); pos = ext(bytes, pos + 1, bytes[pos] as number, depth + baseDepth, maxDepth); break
        case 0xc8: need(2); pos = ext(bytes, pos + 2, view.getUint16(pos), depth + baseDepth, maxDepth); break
        case 0xc9: need(4); pos = ext(bytes, pos + 4, view.getUint32(pos), depth + baseDepth, maxDepth); break
        case 0xdc: need(2); items = view.getUint16(pos); pos += 2; break
        case 0xdd: need(4); items = view.getUint32(pos); pos += 4; break
        case 0xde: need(2); items = view.getUint16(pos) * 2; pos += 2; break
        case 0xdf: need(4); items = view.getUint32(pos) * 2; pos += 4; break
        default: fail(`byte 0x${b.toString(16)} is not msgpack`)
      }
    }
    if (pos > end) fail('truncated value')
    if (items > 0) {
      owed += items
      if (owed > end - pos) fail(`a container declares ${items} elements with ${end - pos} bytes left`)
      if (depth + 1 > limit) fail(`nested deeper than ${maxDepth} levels`)
      stack[baseDepth + ++depth] = items
      continue
    }
    // A value ended: close every container it completed.
    while (depth > 0) {
      const left = (stack[baseDepth + depth] as number) - 1
      if (left > 0) {
        stack[baseDepth + depth] = left
        break
      }
      depth--
    }
    if (depth === 0) break
  }
  if (pos !== end) fail(`${end - pos} bytes after the value`)
}

/** Skips an extension of `len` payload bytes at `pos` (type byte first); walks Map/Set payloads. */
function ext(bytes: Uint8Array, pos: number, len: number, depth: number, maxDepth: number): number {
  if (pos + 1 + len > bytes.length) fail('truncated extension')
  const type = ((bytes[pos] as number) << 24) >> 24
  if (NESTED_EXT_TYPES.has(type)) {
    if (len === 0) fail('empty extension')
    checkStructure(bytes.subarray(pos + 1, pos + 1 + len), maxDepth, depth)
  }
  return pos + 1 + len
}
