import cliProgress from 'cli-progress'

const barOptions = (stream: NodeJS.WriteStream) => ({
  stream,
  format: ' {bar} {value}/{total} | ETA {eta_formatted} | {label}',
  hideCursor: true,
  clearOnComplete: true,
  etaBuffer: 20,
})

/** A progress bar on stderr when it is a terminal; otherwise nothing at all. */
export function createProgress(total: number, enabled: boolean) {
  if (!enabled || !process.stderr.isTTY || total <= 1) {
    return { tick: (_label: string) => {}, stop: () => {} }
  }
  const bar = new cliProgress.SingleBar(barOptions(process.stderr), cliProgress.Presets.shades_classic)
  bar.start(total, 0, { label: '' })
  return {
    tick: (label: string) => bar.increment(1, { label }),
    stop: () => bar.stop(),
  }
}

/** A progress bar whose stage (and total) can change: one bar per stage, restarted on change. */
export function createStagedProgress(enabled: boolean) {
  if (!enabled || !process.stderr.isTTY) return { update: (_s: string, _d: number, _t: number) => {}, stop: () => {} }
  let bar: cliProgress.SingleBar | undefined
  let stage = ''
  return {
    update(s: string, done: number, total: number) {
      if (s !== stage || bar === undefined) {
        bar?.stop()
        stage = s
        bar = new cliProgress.SingleBar(barOptions(process.stderr), cliProgress.Presets.shades_classic)
        bar.start(Math.max(total, 1), 0, { label: s })
      }
      bar.setTotal(Math.max(total, 1))
      bar.update(done, { label: s })
    },
    stop: () => bar?.stop(),
  }
}
