/**
 * What the kernel says a process of a load run has used: CPU time, bytes through
 * read/write syscalls (sockets included) and resident memory, from /proc/<pid>.
 */
import { readFileSync } from 'node:fs'

export interface ProcStat {
  /** utime + stime, ms. */
  cpuMs: number
  /** rchar / wchar of /proc/<pid>/io. */
  readBytes: number
  writeBytes: number
  /** VmRSS of /proc/<pid>/status. */
  rssKb: number
}

/** Linux counts CPU time in clock ticks of 1/100 s (CLK_TCK). */
const TICK_MS = 10

export function procStat(pid: number): ProcStat {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name may hold spaces: fields are counted from the ')' that ends it.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const io = readFileSync(`/proc/${pid}/io`, 'utf8')
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const field = (key: string, text: string): number => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(text)?.[1] ?? NaN)
  return {
    cpuMs: (Number(f[11]) + Number(f[12])) * TICK_MS,
    readBytes: field('rchar', io),
    writeBytes: field('wchar', io),
    rssKb: field('VmRSS', status),
  }
}
