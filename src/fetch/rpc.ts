import { type Client, createClient, http } from 'viem'
import type { z } from 'zod'

import { RpcError } from '../errors/index.js'
import { Redactor } from './redact.js'

export type RpcOptions = {
  /** Requests in flight at once. */
  concurrency: number
  /** Attempts after the first one, for transient failures (timeouts, 429, 5xx, dropped connections, garbage bodies). */
  retries: number
  /** Per-request timeout, ms. */
  timeoutMs: number
  /** First backoff delay, ms (doubled per attempt, with jitter, capped at 8 s). */
  backoffMs: number
}

export const DEFAULT_RPC_OPTIONS: RpcOptions = { concurrency: 8, retries: 6, timeoutMs: 30_000, backoffMs: 250 }

/** JSON-RPC error codes (and messages) meaning the node does not serve the method. */
const METHOD_MISSING_CODES = new Set([-32601, -32004])
const METHOD_MISSING_TEXT = /method .*(not found|not supported|does not exist|not available|unsupported)|not implemented|unknown method/i
/** HTTP statuses worth a retry. */
const TRANSIENT_STATUS = new Set([408, 425, 429, 500, 502, 503, 504])
/** JSON-RPC codes worth a retry: rate limits, resource limits, internal errors. */
const TRANSIENT_CODES = new Set([429, -32005, -32007, -32603])

type Failure = { transient: boolean; kind: RpcError['kind']; message: string }

/**
 * A JSON-RPC client over viem's HTTP transport with its own retry policy (viem's is off), a limit on
 * requests in flight, response validation (zod) and call counters. Every error is one line, with the
 * endpoint's credentials redacted.
 */
export class RpcClient {
  readonly redactor: Redactor
  private readonly client: Client
  private readonly opts: RpcOptions
  private inFlight = 0
  private readonly waiting: (() => void)[] = []
  /** Calls made (each attempt counts), by method. */
  readonly calls = new Map<string, number>()
  retriesDone = 0
  /** Methods the node was found not to serve. */
  readonly missing = new Set<string>()

  constructor(url: string, opts: Partial<RpcOptions> = {}) {
    this.opts = { ...DEFAULT_RPC_OPTIONS, ...opts }
    this.redactor = new Redactor(url)
    try {
      const u = new URL(url)
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)')
    } catch {
      throw new RpcError(this.redactor.endpoint, '--rpc must be an http:// or https:// URL', 'transport')
    }
    this.client = createClient({
      transport: http(url, { retryCount: 0, timeout: this.opts.timeoutMs, batch: false, maxResponseBodySize: 1 << 30 }),
    })
  }

  get endpoint(): string {
    return this.redactor.endpoint
  }

  get totalCalls(): number {
    let n = 0
    for (const v of this.calls.values()) n += v
    return n
  }

  /**
   * Calls `method` and validates the result with `schema`. Transient failures are retried with
   * exponential backoff; a malformed result counts as transient (a proxy may have mangled it) until
   * the retries run out.
   */
  async call<T extends z.ZodType>(method: string, params: unknown[], schema: T): Promise<z.infer<T>> {
    let last: Failure | undefined
    for (let attempt = 0; attempt <= this.opts.retries; attempt++) {
      if (attempt > 0) {
        this.retriesDone++
        const base = Math.min(this.opts.backoffMs * 2 ** (attempt - 1), 8_000)
        await sleep(base / 2 + Math.random() * base)
      }
      const failure = await this.withSlot(async (): Promise<Failure | { value: z.infer<T> }> => {
        this.calls.set(method, (this.calls.get(method) ?? 0) + 1)
        let raw: unknown
        try {
          raw = await this.client.request({ method, params } as never)
        } catch (err) {
          return this.classify(method, err)
        }
        const parsed = schema.safeParse(raw)
        if (parsed.success) return { value: parsed.data }
        const issue = parsed.error.issues[0]
        const path = issue?.path.join('.') ?? ''
        return { transient: true, kind: 'malformed', message: `malformed response to ${method}${path === '' ? '' : ` (field ${path})`}: ${issue?.message ?? 'invalid'}` }
      })
      if ('value' in failure) return failure.value
      last = failure
      if (!failure.transient) break
    }
    const f = last as Failure
    if (f.kind === 'method-missing') this.missing.add(method)
    const suffix = f.transient && this.opts.retries > 0 ? ` (gave up after ${this.opts.retries + 1} attempts)` : ''
    throw new RpcError(this.endpoint, this.redactor.scrub(f.message) + suffix, f.kind)
  }

  private classify(method: string, err: unknown): Failure {
    const chain: Record<string, unknown>[] = []
    for (let e = err; e instanceof Error; e = e.cause) chain.push(e as unknown as Record<string, unknown>)
    const names = chain.map((e) => String(e.name))
    const code = chain.map((e) => e.code).find((c): c is number => typeof c === 'number')
    const status = chain.map((e) => e.status).find((s): s is number => typeof s === 'number')
    const rpcMessage = chain.map((e) => e.details).find((d): d is string => typeof d === 'string' && d !== '') ?? ''
    const short = String((chain[0]?.shortMessage as string | undefined) ?? (err instanceof Error ? err.message : String(err))).split('\n')[0] ?? ''
    if ((code !== undefined && METHOD_MISSING_CODES.has(code)) || METHOD_MISSING_TEXT.test(rpcMessage)) {
      return { transient: false, kind: 'method-missing', message: `the node does not serve ${method}` }
    }
    if (names.includes('TimeoutError')) return { transient: true, kind: 'transport', message: `${method} timed out after ${this.opts.timeoutMs} ms` }
    if (status !== undefined && status !== 200) {
      return { transient: TRANSIENT_STATUS.has(status), kind: 'transport', message: `${method}: HTTP ${status}${rpcMessage === '' ? '' : ` (${oneLine(rpcMessage)})`}` }
    }
    if (code !== undefined && code !== -1 && names.some((n) => n.endsWith('RpcError') || n === 'RpcRequestError')) {
      return { transient: TRANSIENT_CODES.has(code), kind: 'rpc', message: `${method} failed: ${oneLine(rpcMessage || short)} (code ${code})` }
    }
    if (names.includes('SyntaxError')) return { transient: true, kind: 'malformed', message: `malformed response to ${method}: the body is not JSON` }
    // Dropped connections, resets, DNS…: transport failures, worth a retry.
    return { transient: true, kind: 'transport', message: `${method}: ${oneLine(short)}` }
  }

  private async withSlot<T>(fn: () => Promise<T>): Promise<T> {
    while (this.inFlight >= this.opts.concurrency) await new Promise<void>((r) => this.waiting.push(r))
    this.inFlight++
    try {
      return await fn()
    } finally {
      this.inFlight--
      this.waiting.shift()?.()
    }
  }
}

function oneLine(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim()
  return t.length > 160 ? `${t.slice(0, 157)}...` : t
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
