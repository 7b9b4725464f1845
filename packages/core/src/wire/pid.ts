/**
 * A process identifier: the node that runs the actor and a number unique on that
 * node. Pids are immutable values; inside messages they travel as a msgpack
 * extension (see codec.ts) and arrive as Pid instances on any node.
 */
export class Pid {
  readonly node: string
  readonly id: number
  #wire: Uint8Array | undefined

  constructor(node: string, id: number) {
    this.node = node
    this.id = id
  }

  equals(other: unknown): boolean {
    return other instanceof Pid && other.id === this.id && other.node === this.node
  }

  toString(): string {
    return `<${this.node}.${this.id}>`
  }

  toJSON(): string {
    return this.toString()
  }

  /** console.log(pid) in Node shows <node.id> too. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString()
  }

  /** The extension payload, encoded once per pid: pids are sent again and again. */
  static wireOf(pid: Pid): Uint8Array {
    let w = pid.#wire
    if (w === undefined) {
      w = encodePidPayload(pid.node, pid.id)
      pid.#wire = w
    }
    return w
  }
}

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder('utf-8', { fatal: true })

/** Payload: id as a little-endian uint32 or float64 (by length), then the node id in UTF-8. */
function encodePidPayload(node: string, id: number): Uint8Array {
  const nodeBytes = textEncoder.encode(node)
  const out = new Uint8Array(1 + 8 + nodeBytes.length)
  const view = new DataView(out.buffer)
  let off: number
  if (Number.isInteger(id) && id >= 0 && id <= 0xffffffff) {
    out[0] = 4
    view.setUint32(1, id, true)
    off = 5
  } else {
    out[0] = 8
    view.setFloat64(1, id, true)
    off = 9
  }
  out.set(nodeBytes, off)
  return out.subarray(0, off + nodeBytes.length)
}

/** Returns null when the payload is malformed; the codec turns that into BAD_FRAME. */
export function decodePidPayload(data: Uint8Array): Pid | null {
  if (data.length < 1) return null
  const width = data[0]
  if (width !== 4 && width !== 8) return null
  if (data.length < 1 + width) return null
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  const id = width === 4 ? view.getUint32(1, true) : view.getFloat64(1, true)
  let node: string
  try {
    node = textDecoder.decode(data.subarray(1 + width))
  } catch {
    return null
  }
  if (node.length === 0) return null
  return new Pid(node, id)
}
