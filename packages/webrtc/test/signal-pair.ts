/**
 * Two attempts of one process that signal each other in memory: each side's
 * signaling data goes through msgpack (as a node would carry it) to the other's
 * `receive`, from a later task.
 */
import { decode, encode } from '@msgpack/msgpack'
import type { DirectAttempt, DirectTransport, Link } from '@flurry/core'

export interface SignalPair {
  offerer: DirectAttempt
  answerer: DirectAttempt
  /** Signaling messages sent each way so far. */
  sent: { offerer: number; answerer: number }
}

export function signalPair(offering: DirectTransport, answering: DirectTransport = offering): SignalPair {
  const sent = { offerer: 0, answerer: 0 }
  const carry = (to: () => DirectAttempt, side: 'offerer' | 'answerer') => (data: unknown) => {
    sent[side]++
    const bytes = encode(data)
    setTimeout(() => to().receive(decode(bytes)), 0)
  }
  const pair: SignalPair = {
    offerer: offering.open({ initiator: true, send: carry(() => pair.answerer, 'offerer') }),
    answerer: undefined as unknown as DirectAttempt,
    sent,
  }
  pair.answerer = answering.open({ initiator: false, send: carry(() => pair.offerer, 'answerer') })
  return pair
}

/** Both links of a pair, once open. */
export async function openLinks(offering: DirectTransport, answering?: DirectTransport): Promise<[Link, Link]> {
  const { offerer, answerer } = signalPair(offering, answering)
  return Promise.all([offerer.link, answerer.link])
}
