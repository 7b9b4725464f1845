/**
 * How the tests launch Chromium: the system's build (Debian package `chromium`, or
 * $CHROMIUM_PATH), never a Playwright download.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type LaunchOptions } from '@playwright/test'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium'

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]

/**
 * Chromium's own temporary files (its SingletonSocket folders, which a killed browser
 * leaves behind) go to a folder of this test process, removed when it exits.
 */
const RUN_TMP = mkdtempSync(join(tmpdir(), 'flurry-e2e-run-'))
process.once('exit', () => rmSync(RUN_TMP, { recursive: true, force: true }))
const CHROMIUM_ENV = { ...process.env, TMPDIR: RUN_TMP } as Record<string, string>

export const launchOptions: LaunchOptions = {
  executablePath: CHROMIUM_PATH,
  args: CHROMIUM_ARGS,
  env: CHROMIUM_ENV,
  timeout: 30_000,
}

/** The same launch with more command-line switches (a separate browser). */
export function launchOptionsWith(...args: string[]): LaunchOptions {
  return { ...launchOptions, args: [...CHROMIUM_ARGS, ...args] }
}

/**
 * A Chromium this process starts itself, driven over CDP by Playwright with
 * `noDefaults`: its default context gets none of Playwright's page overrides. The
 * lifecycle tests need that, because Playwright's focus emulation holds a visible
 * capturer on every page it creates, and a visible page cannot be hidden or frozen
 * (CDP Page.setWebLifecycleState 'frozen' is then silently ignored).
 */
export async function launchWithoutOverrides(extraArgs: string[] = []): Promise<{ browser: Browser; context: BrowserContext; close(): Promise<void> }> {
  const profile = await mkdtemp(join(RUN_TMP, 'chromium-'))
  const child = spawn(
    CHROMIUM_PATH,
    ['--headless', '--remote-debugging-port=0', `--user-data-dir=${profile}`, ...CHROMIUM_ARGS, ...extraArgs, 'about:blank'],
    { stdio: ['ignore', 'ignore', 'pipe'], env: CHROMIUM_ENV },
  )
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
    await rm(profile, { recursive: true, force: true })
  }
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      let err = ''
      const timer = setTimeout(() => reject(new Error(`chromium did not open its DevTools port within 20 s:\n${err}`)), 20_000)
      child.stderr.setEncoding('utf8')
      child.stderr.on('data', (chunk: string) => {
        err += chunk
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(err)
        if (m !== null) {
          clearTimeout(timer)
          resolve(m[1] as string)
        }
      })
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`chromium exited (${code ?? signal}):\n${err}`))
      })
    })
    const browser = await chromium.connectOverCDP(endpoint, { noDefaults: true, isLocal: true, timeout: 20_000 })
    const context = browser.contexts()[0] as BrowserContext
    return {
      browser,
      context,
      async close() {
        await browser.close().catch(() => {})
        await kill()
      },
    }
  } catch (err) {
    await kill()
    throw err
  }
}
