import { Session } from 'node:inspector/promises'

/** A V8 CPU profile (the .cpuprofile format Chrome DevTools and speedscope open). */
export type CpuProfile = {
  nodes: {
    id: number
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number; scriptId?: string }
    hitCount?: number
    children?: number[]
  }[]
  startTime: number
  endTime: number
  samples?: number[]
  timeDeltas?: number[]
}

/**
 * Starts V8's sampling CPU profiler in this process through node:inspector (always available; no
 * flags, no child process), so that exactly the replay window is profiled. `stop()` returns the profile.
 */
export async function startCpuProfile(samplingIntervalUs = 500): Promise<{ stop(): Promise<CpuProfile> }> {
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: samplingIntervalUs })
  await session.post('Profiler.start')
  return {
    async stop() {
      try {
        const { profile } = await session.post('Profiler.stop')
        await session.post('Profiler.disable')
        return profile as unknown as CpuProfile
      } finally {
        session.disconnect()
      }
    },
  }
}

/** The profile's file name in a run directory (`replay --profile cpu`). */
export const CPU_PROFILE_FILE = 'replay.cpuprofile'
