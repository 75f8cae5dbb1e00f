import { removeTempDbDirsOf } from './paths.js'

/**
 * What an interrupted run must undo. Code that creates something temporary (a scratch LMDB, a directory
 * being built, a child process) registers how to undo it here and unregisters when it has cleaned up
 * normally; on SIGINT or SIGTERM the CLI runs every registered task (newest first), prints one line and
 * exits 130. Library users who install their own handlers can call `runInterruptTasks()` themselves.
 */

/** A cleanup task: synchronous, or a promise the handler waits for (bounded by INTERRUPT_GRACE_MS). */
export type InterruptTask = () => void | Promise<void>

const tasks = new Set<InterruptTask>()

/** How long the handler waits for asynchronous tasks (child processes exiting) before it exits anyway. */
export const INTERRUPT_GRACE_MS = 5_000

/** Registers a task; returns the function that unregisters it (call it after the normal cleanup). */
export function onInterrupt(task: InterruptTask): () => void {
  tasks.add(task)
  return () => {
    tasks.delete(task)
  }
}

/** Tasks registered now (for tests). */
export function pendingInterruptTasks(): number {
  return tasks.size
}

/** Runs every registered task once, newest first; errors are ignored (best effort while exiting). */
export async function runInterruptTasks(): Promise<void> {
  const list = [...tasks].reverse()
  tasks.clear()
  const waits: Promise<void>[] = []
  for (const t of list) {
    try {
      const r = t()
      if (r instanceof Promise) waits.push(r.catch(() => {}))
    } catch {
      // best effort
    }
  }
  if (waits.length === 0) return
  await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, INTERRUPT_GRACE_MS).unref())])
}

let installed = false

/**
 * Installs the SIGINT/SIGTERM handlers of the CLI: run the tasks, print one line, exit 130. A second
 * signal while cleaning up exits at once.
 */
export function installInterruptHandlers(write: (line: string) => void = (l) => process.stderr.write(l)): void {
  if (installed) return
  installed = true
  let stopping = false
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130)
    stopping = true
    const n = tasks.size
    void runInterruptTasks().finally(() => {
      write(`megabench: interrupted (${signal}); ${n === 0 ? 'nothing to clean up' : `removed temporary files and stopped child processes (${n} task${n === 1 ? '' : 's'})`}\n`)
      process.exit(130)
    })
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
}

/**
 * Ties a child process to this one: on an interrupt it receives SIGTERM (and SIGKILL if it has not
 * exited within the grace period), and the handler waits for it to exit. A child that had to be killed
 * could not clean up: the temporary state DBs it made (named by its pid) are removed here. Unregisters
 * itself when the child exits.
 */
export function superviseChild(child: import('node:child_process').ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const unregister = onInterrupt(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), INTERRUPT_GRACE_MS - 500)
    timer.unref()
    await exited
    clearTimeout(timer)
    if (child.signalCode === 'SIGKILL' && child.pid !== undefined) removeTempDbDirsOf(child.pid)
  })
  void exited.then(unregister)
}
