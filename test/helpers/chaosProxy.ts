import { type IncomingMessage, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What the proxy does with one request. */
export type Fault = 'pass' | 'drop' | 'delay' | '429' | '500' | '503' | 'garbage' | 'truncated' | 'wrong-shape'

export type ChaosOptions = {
  /** Decides each request's fault from its JSON-RPC method and sequence number. */
  fault?: (method: string, index: number) => Fault
  /** Delay of a 'delay' fault, ms (make it longer than the client's timeout to force a timeout). */
  delayMs?: number
  /** Every response is delayed by this much (to slow a fetch down), ms. */
  latencyMs?: number
  /** Methods answered with JSON-RPC "method not found". */
  missingMethods?: readonly string[]
  /** Required credentials: HTTP Basic user:pass and/or a query parameter `apikey`. */
  auth?: { user: string; pass: string; apikey?: string }
}

export type ChaosProxy = { url: string; port: number; faults: Map<Fault, number>; requests: number; close(): Promise<void> }

/**
 * A JSON-RPC proxy on 127.0.0.1 in front of a node, injecting faults: dropped connections, delays,
 * HTTP 429/500/503, bodies that are not JSON, truncated JSON, and results of the wrong shape.
 */
export async function startChaosProxy(target: string, opts: ChaosOptions = {}): Promise<ChaosProxy> {
  const faults = new Map<Fault, number>()
  let index = 0
  const state = { requests: 0 }
  const sockets = new Set<import('node:net').Socket>()
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res).catch(() => res.destroy())
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const body = Buffer.concat(chunks).toString()
    state.requests++
    if (opts.auth !== undefined) {
      const u = new URL(req.url ?? '/', 'http://x')
      const expected = `Basic ${Buffer.from(`${opts.auth.user}:${opts.auth.pass}`).toString('base64')}`
      if (req.headers.authorization !== expected || (opts.auth.apikey !== undefined && u.searchParams.get('apikey') !== opts.auth.apikey)) {
        res.writeHead(401, { 'content-type': 'text/plain' }).end('unauthorized')
        return
      }
    }
    let msg: { id?: unknown; method?: string } = {}
    try {
      msg = JSON.parse(body) as typeof msg
    } catch {
      // forwarded as is
    }
    const method = msg.method ?? '?'
    if (opts.missingMethods?.includes(method)) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'Method not found' } }))
      return
    }
    const fault = opts.fault?.(method, index++) ?? 'pass'
    faults.set(fault, (faults.get(fault) ?? 0) + 1)
    if (opts.latencyMs !== undefined) await sleep(opts.latencyMs)
    switch (fault) {
      case 'drop':
        req.socket.destroy()
        return
      case '429':
      case '500':
      case '503':
        res.writeHead(Number(fault), { 'content-type': 'text/plain' }).end(fault === '429' ? 'Too Many Requests' : 'upstream trouble')
        return
      case 'garbage':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>502 Bad Gateway (cached)</body></html>')
        return
      case 'delay':
        await sleep(opts.delayMs ?? 2_000)
        break
      default:
        break
    }
    const upstream = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    let text = await upstream.text()
    if (fault === 'truncated') text = text.slice(0, Math.max(1, Math.floor(text.length / 2)))
    if (fault === 'wrong-shape') text = JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { unexpected: true } })
    if (res.destroyed) return
    res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(text)
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    faults,
    get requests() {
      return state.requests
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy()
        server.close(() => r())
      }),
  }
}
