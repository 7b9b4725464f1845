/**
 * One time base for every process of a load run: performance.timeOrigin (the wall
 * clock when the process started) plus performance.now() (monotonic since then), in
 * ms. Times taken in different processes on one host compare directly, to well under
 * a millisecond.
 */
export function wallNow(): number {
  return performance.timeOrigin + performance.now()
}
