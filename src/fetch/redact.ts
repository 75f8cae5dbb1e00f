/**
 * Credentials in RPC URLs (`https://user:pass@host/…`, `?apikey=…`, `/v3/<project key>`) are never
 * printed or written: every URL megabench shows goes through `redactUrl`, and every message that
 * could quote one through a `Redactor` that knows the URL's secrets.
 */

const MASK = '***'

/** Path segments that look like API keys (long runs of letters, digits, `-`, `_`). */
const KEY_SEGMENT = /^[A-Za-z0-9_-]{20,}$/

/** The URL with user, password, query values, fragment and key-like path segments masked. */
export function redactUrl(url: string): string {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return '(unparseable URL)'
  }
  const auth = u.username !== '' || u.password !== '' ? `${MASK}@` : ''
  const path = u.pathname
    .split('/')
    .map((s) => (KEY_SEGMENT.test(s) ? MASK : s))
    .join('/')
  const query = [...u.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=${MASK}`).join('&')
  return `${u.protocol}//${auth}${u.host}${path === '/' ? '' : path}${query === '' ? '' : `?${query}`}${u.hash === '' ? '' : `#${MASK}`}`
}

/** The secret parts of a URL: user, password, query values, key-like path segments, fragment. */
export function urlSecrets(url: string): string[] {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return [url]
  }
  const out = [u.username, u.password, decodeURIComponent(u.username), decodeURIComponent(u.password), u.hash.slice(1)]
  for (const v of u.searchParams.values()) out.push(v, encodeURIComponent(v))
  for (const s of u.pathname.split('/')) if (KEY_SEGMENT.test(s)) out.push(s)
  return out.filter((s) => s.length >= 3).sort((a, b) => b.length - a.length)
}

/** Scrubs a URL's secrets out of any text (error messages from lower layers may quote the URL). */
export class Redactor {
  private readonly secrets: string[]
  constructor(private readonly url: string) {
    this.secrets = urlSecrets(url)
  }
  get endpoint(): string {
    return redactUrl(this.url)
  }
  scrub(text: string): string {
    let out = text.split(this.url).join(this.endpoint)
    for (const s of this.secrets) out = out.split(s).join(MASK)
    return out
  }
}
