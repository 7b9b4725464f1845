/**
 * Every frame type of the protocol, as named constants, with one builder and one
 * reader per frame. A frame is a msgpack array `[type, ...fields]`; the tables with
 * examples are in docs/PROTOCOL.md. Readers check shapes and throw only FlurryError
 * BAD_FRAME, so a peer's garbage can never reach deeper code.
 */
import { FlurryError } from '../base/index.js'
import { MAX_REASON_LENGTH, isCode, isNodeId, isPeerUrl, isReason, nameFault } from './names.js'

/** Protocol versions this build speaks (inclusive). */
export const PROTOCOL_VERSION_MIN = 1
export const PROTOCOL_VERSION_MAX = 1

export const F = {
  // session
  HELLO: 1,
  PROOF: 2,
  REFUSE: 3,
  PING: 4,
  PONG: 5,
  GOODBYE: 6,
  ERROR: 7,
  // node: mesh and replication
  PEERS: 16,
  SYNC: 17,
  DELTA: 18,
  SLICE_REQ: 19,
  UNCOUNT: 20,
  REFUSE_NAME: 21,
  // bus
  BUS_HELLO: 24,
  BUS_ENV: 25,
  BUS_STATUS: 26,
  // actor traffic on per-node channels
  DIRECT: 32,
  ROUTED: 33,
} as const
export type FrameType = (typeof F)[keyof typeof F]

/** Roles in HELLO. */
export const ROLE_PEER = 0
export const ROLE_CLIENT = 1

/** Why a SYNC was sent. */
export const SYNC_SESSION = 0
export const SYNC_PUSH = 1
export const SYNC_REPAIR = 2

/** Operations inside a DELTA, flattened: [op, ...args, op, ...args]. */
export const OP_PUT = 1 // name, pidId, at (stamp: ms * 1024 + counter)
export const OP_DEL = 2 // name, reason
export const OP_CLIENT_ADD = 3 // clientId
export const OP_CLIENT_DEL = 4 // clientId, reason

/** Why a name left its owner's slice (OP_DEL). */
export const DEL_UNREGISTER = 0
export const DEL_EXIT = 1
export const DEL_CONFLICT = 2
export const DEL_REFUSED = 3

/** Actor operations inside DIRECT / ROUTED frames. */
export const A_SEND = 1 // pidId, body
export const A_CALL = 2 // pidId, ref, body
export const A_REPLY = 3 // ref, ok, value
export const A_MONITOR = 4 // ref, pidId
export const A_DEMONITOR = 5 // ref
export const A_DOWN = 6 // ref, reason
export const A_EXIT = 7 // pidId, reason
export const A_FENCE = 8 // (the frame's seq is the last seq sent on the old route)
export const A_SIGNAL = 9 // data (WebRTC signaling, routed through homes)

export function bad(what: string): never {
  throw new FlurryError('BAD_FRAME', `malformed frame: ${what}`)
}

export function isStr(v: unknown): v is string {
  return typeof v === 'string'
}
export function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v)
}
export function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0
}
export function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array
}

export function str(v: unknown, what: string): string {
  return typeof v === 'string' ? v : bad(what)
}
export function uint(v: unknown, what: string): number {
  return isUint(v) ? v : bad(what)
}
export function num(v: unknown, what: string): number {
  return isNum(v) ? v : bad(what)
}
export function bytes(v: unknown, what: string, len?: number): Uint8Array {
  if (!(v instanceof Uint8Array) || (len !== undefined && v.length !== len)) bad(what)
  return v
}
export function arr(v: unknown, what: string): unknown[] {
  return Array.isArray(v) ? v : bad(what)
}
/** A node id (`name@` + 16 hex digits): anything else is BAD_FRAME. */
export function nodeId(v: unknown, what: string): string {
  return isNodeId(v) ? v : bad(what)
}
/** A registry name by the API's rules. */
export function regName(v: unknown, what: string): string {
  const fault = nameFault(v)
  return fault === null ? (v as string) : bad(`${what} (${fault})`)
}
export function reason(v: unknown, what: string): string {
  return isReason(v) ? v : bad(what)
}

/** The frame type of a decoded frame. */
export function frameType(frame: unknown): number {
  if (!Array.isArray(frame) || frame.length === 0 || !isUint(frame[0])) bad('not a frame array')
  return frame[0] as number
}

// ---- session ---------------------------------------------------------------

export interface Hello {
  vMin: number
  vMax: number
  id: string
  key: Uint8Array
  role: number
  url: string | null
  nonce: Uint8Array
  clock: number
}
export function helloFrame(h: Hello): unknown[] {
  return [F.HELLO, h.vMin, h.vMax, h.id, h.key, h.role, h.url, h.nonce, h.clock]
}
export function readHello(f: unknown[]): Hello {
  const role = uint(f[5], 'hello role')
  if (role !== ROLE_PEER && role !== ROLE_CLIENT) bad('hello role')
  const url = f[6] === null || f[6] === undefined ? null : isPeerUrl(f[6]) ? f[6] : bad('hello url')
  return {
    vMin: uint(f[1], 'hello vMin'),
    vMax: uint(f[2], 'hello vMax'),
    id: nodeId(f[3], 'hello id'),
    key: bytes(f[4], 'hello key', 32),
    role,
    url,
    nonce: bytes(f[7], 'hello nonce', 16),
    clock: num(f[8], 'hello clock'),
  }
}

export function proofFrame(mac: Uint8Array, sig: Uint8Array): unknown[] {
  return [F.PROOF, mac, sig]
}
export function readProof(f: unknown[]): { mac: Uint8Array; sig: Uint8Array } {
  return { mac: bytes(f[1], 'proof mac', 32), sig: bytes(f[2], 'proof sig', 64) }
}

export function refuseFrame(code: string, message: string): unknown[] {
  return [F.REFUSE, code, message]
}
export function errorFrame(code: string, message: string): unknown[] {
  return [F.ERROR, code, message]
}
/** A remote's code (PROTOCOL when it is not one) and message (cut short: it is for logs). */
export function readCodeMessage(f: unknown[]): { code: string; message: string } {
  const message = typeof f[2] === 'string' ? f[2].slice(0, 4 * MAX_REASON_LENGTH) : ''
  return { code: isCode(f[1]) ? f[1] : 'PROTOCOL', message }
}

export function goodbyeFrame(reason: string): unknown[] {
  return [F.GOODBYE, reason]
}
/** The remote's goodbye text, cut short (it becomes a close detail and a log line). */
export function readGoodbye(f: unknown[]): string {
  return typeof f[1] === 'string' ? f[1].slice(0, MAX_REASON_LENGTH) : 'goodbye'
}

/** PING carries the sender's clock. */
export function pingFrame(clock: number): unknown[] {
  return [F.PING, clock]
}
export function readPing(f: unknown[]): number {
  return num(f[1], 'ping clock')
}
/**
 * PONG carries the client's clock and echoes the clock of the PING it answers: the
 * home then knows the newest of its clocks the client had seen (its clock rule).
 */
export function pongFrame(clock: number, echo: number): unknown[] {
  return [F.PONG, clock, echo]
}
export function readPong(f: unknown[]): { clock: number; echo: number | null } {
  return { clock: num(f[1], 'pong clock'), echo: f[2] === undefined || f[2] === null ? null : num(f[2], 'pong echo') }
}

// ---- node: mesh and replication ---------------------------------------------

/** PEERS: flat [id, url, id, url, ...] of the peers the sender has sessions with. */
export function peersFrame(flat: string[]): unknown[] {
  return [F.PEERS, flat]
}
export function readPeers(f: unknown[]): Array<[string, string]> {
  const flat = arr(f[1], 'peers list')
  if (flat.length % 2 !== 0) bad('peers list')
  const out: Array<[string, string]> = []
  for (let i = 0; i < flat.length; i += 2) {
    out.push([nodeId(flat[i], 'peer id'), isPeerUrl(flat[i + 1]) ? (flat[i + 1] as string) : bad('peer url')])
  }
  return out
}

/**
 * One slice, or part of one, inside a SYNC: names flat as [name, pidId, at, ...].
 * `clients` is the peer's clients list, or null for a client (or when not sent).
 */
export interface SliceChunk {
  owner: string
  seq: number
  role: number
  clients: string[] | null
  names: unknown[]
}
export function syncFrame(purpose: number, more: boolean, clock: number, chunks: unknown[][]): unknown[] {
  return [F.SYNC, purpose, more, clock, chunks]
}
export function chunkOf(c: SliceChunk): unknown[] {
  return [c.owner, c.seq, c.role, c.clients, c.names]
}
export function readSync(f: unknown[]): { purpose: number; more: boolean; clock: number; chunks: SliceChunk[] } {
  const raw = arr(f[4], 'sync chunks')
  const chunks: SliceChunk[] = []
  for (const c of raw) {
    const a = arr(c, 'sync chunk')
    const clients = a[3] === null ? null : arr(a[3], 'sync clients')
    if (clients !== null) for (const id of clients) nodeId(id, 'sync client id')
    const names = arr(a[4], 'sync names')
    if (names.length % 3 !== 0) bad('sync names')
    for (let i = 0; i < names.length; i += 3) {
      regName(names[i], 'sync name')
      uint(names[i + 1], 'sync pid')
      num(names[i + 2], 'sync stamp')
    }
    chunks.push({
      owner: nodeId(a[0], 'sync owner'),
      seq: uint(a[1], 'sync seq'),
      role: uint(a[2], 'sync role'),
      clients: clients as string[] | null,
      names,
    })
  }
  return { purpose: uint(f[1], 'sync purpose'), more: f[2] === true, clock: num(f[3], 'sync clock'), chunks }
}

export function deltaFrame(owner: string, prevSeq: number, seq: number, clock: number, ops: unknown[]): unknown[] {
  return [F.DELTA, owner, prevSeq, seq, clock, ops]
}
export interface Delta {
  owner: string
  prevSeq: number
  seq: number
  clock: number
  ops: unknown[]
}
export function readDelta(f: unknown[]): Delta {
  const d = {
    owner: nodeId(f[1], 'delta owner'),
    prevSeq: uint(f[2], 'delta prevSeq'),
    seq: uint(f[3], 'delta seq'),
    clock: num(f[4], 'delta clock'),
    ops: arr(f[5], 'delta ops'),
  }
  if (d.seq <= d.prevSeq) bad('delta seq')
  checkOps(d.ops)
  return d
}
/** Validates a flat op list so that appliers can index it without checks. */
export function checkOps(ops: unknown[]): void {
  let i = 0
  while (i < ops.length) {
    switch (ops[i]) {
      case OP_PUT:
        regName(ops[i + 1], 'put name')
        uint(ops[i + 2], 'put pid')
        num(ops[i + 3], 'put stamp')
        i += 4
        break
      case OP_DEL:
        regName(ops[i + 1], 'del name')
        uint(ops[i + 2], 'del reason')
        i += 3
        break
      case OP_CLIENT_ADD:
        nodeId(ops[i + 1], 'client id')
        i += 2
        break
      case OP_CLIENT_DEL:
        nodeId(ops[i + 1], 'client id')
        reason(ops[i + 2], 'client reason')
        i += 3
        break
      default:
        bad('delta op')
    }
  }
}

/**
 * Walks a checked op list: `visit(op, at)` for each op, `at` its index. The one place
 * that knows how wide each op is.
 */
export function forEachOp(ops: unknown[], visit: (op: number, at: number) => void): void {
  for (let i = 0; i < ops.length; i += opWidth(ops[i] as number)) visit(ops[i] as number, i)
}
/** How many list entries an op takes, itself included. */
export function opWidth(op: number): number {
  return op === OP_PUT ? 4 : op === OP_CLIENT_ADD ? 2 : 3
}

export function sliceReqFrame(owner: string): unknown[] {
  return [F.SLICE_REQ, owner]
}
export function readSliceReq(f: unknown[]): string {
  return nodeId(f[1], 'slice request owner')
}
/** The home stopped counting these owners: `[UNCOUNT, owner, reason, owner, reason, …]`. */
export function uncountFrame(owners: ReadonlyArray<readonly [string, string]>): unknown[] {
  const f: unknown[] = [F.UNCOUNT]
  for (const [owner, why] of owners) f.push(owner, why)
  return f
}
export function readUncount(f: unknown[]): Array<{ owner: string; reason: string }> {
  if (f.length < 3 || f.length % 2 === 0) bad('uncount owners')
  const out: Array<{ owner: string; reason: string }> = []
  for (let i = 1; i < f.length; i += 2) out.push({ owner: nodeId(f[i], 'uncount owner'), reason: isReason(f[i + 1]) ? f[i + 1] as string : 'noconnection' })
  return out
}
/** The home refused the claim `name` stamped `at` in the client's delta `seq`. */
export function refuseNameFrame(seq: number, name: string, code: string, at: number): unknown[] {
  return [F.REFUSE_NAME, seq, name, code, at]
}
export function readRefuseName(f: unknown[]): { seq: number; name: string; code: string; at: number } {
  return {
    seq: uint(f[1], 'refuse seq'),
    name: regName(f[2], 'refused name'),
    code: isCode(f[3]) ? f[3] : bad('refuse code'),
    at: num(f[4], 'refused stamp'),
  }
}

// ---- bus ---------------------------------------------------------------------

export interface BusHello {
  id: string
  key: Uint8Array
  nonce: Uint8Array
  replyTo: Uint8Array | null
  homed: boolean
  mac: Uint8Array
  sig: Uint8Array
  clock: number
}
export function busHelloFrame(h: BusHello): unknown[] {
  return [F.BUS_HELLO, h.id, h.key, h.nonce, h.replyTo, h.homed, h.mac, h.sig, h.clock]
}
export function readBusHello(f: unknown[]): BusHello {
  return {
    id: nodeId(f[1], 'bus hello id'),
    key: bytes(f[2], 'bus hello key', 32),
    nonce: bytes(f[3], 'bus hello nonce', 16),
    replyTo: f[4] === null ? null : bytes(f[4], 'bus hello replyTo', 16),
    homed: f[5] === true,
    mac: bytes(f[6], 'bus hello mac', 32),
    sig: bytes(f[7], 'bus hello sig', 64),
    clock: num(f[8], 'bus hello clock'),
  }
}
/** Header frame of every bus post: who sent it and to whom ('' = every member). */
export function busEnvFrame(from: string, to: string): unknown[] {
  return [F.BUS_ENV, from, to]
}
export function readBusEnv(f: unknown[]): { from: string; to: string } {
  return { from: nodeId(f[1], 'bus from'), to: f[2] === '' ? '' : nodeId(f[2], 'bus to') }
}
export function busStatusFrame(homed: boolean): unknown[] {
  return [F.BUS_STATUS, homed]
}
