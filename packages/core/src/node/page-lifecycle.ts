/**
 * Page lifecycle in browsers: `pagehide` and `freeze` say goodbye (others see the
 * tab go at once, and the page stays eligible for the back/forward cache);
 * `pageshow` with `persisted` and `resume` rejoin. Outside a page it does nothing.
 */
import type { NodeCore } from './node.js'

interface PageLike {
  addEventListener(type: string, fn: (e: { persisted?: boolean }) => void): void
  removeEventListener(type: string, fn: (e: { persisted?: boolean }) => void): void
}

export function watchPageLifecycle(node: NodeCore): () => void {
  const win = globalThis as unknown as Partial<PageLike> & { document?: Partial<PageLike> }
  const doc = win.document
  if (typeof win.addEventListener !== 'function' || doc === undefined || typeof doc.addEventListener !== 'function') {
    return () => {}
  }
  const w = win as PageLike
  const d = doc as PageLike
  const hide = () => node.suspend()
  const show = (e: { persisted?: boolean }) => {
    if (e.persisted === true) node.resume()
  }
  const resume = () => node.resume()
  w.addEventListener('pagehide', hide)
  w.addEventListener('pageshow', show)
  d.addEventListener('freeze', hide)
  d.addEventListener('resume', resume)
  return () => {
    w.removeEventListener('pagehide', hide)
    w.removeEventListener('pageshow', show)
    d.removeEventListener('freeze', hide)
    d.removeEventListener('resume', resume)
  }
}
