import cliProgress from 'cli-progress'

/** A progress bar on stderr when it is a terminal; otherwise nothing at all. */
export function createProgress(total: number, enabled: boolean) {
  if (!enabled || !process.stderr.isTTY || total <= 1) {
    return { tick: (_label: string) => {}, stop: () => {} }
  }
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: ' {bar} {value}/{total} | ETA {eta_formatted} | {label}',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  )
  bar.start(total, 0, { label: '' })
  return {
    tick: (label: string) => bar.increment(1, { label }),
    stop: () => bar.stop(),
  }
}
