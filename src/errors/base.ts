/**
 * The one error base class of megabench.
 *
 * `shortMessage` is a single line that names what was wrong and where (file, block, field); it is what
 * the CLI prints. `details` carries the longer explanation, `cause` the underlying error.
 */
export type MegabenchErrorOptions = {
  /** Longer, optional explanation (may span lines). */
  details?: string | undefined
  /** The error that caused this one. */
  cause?: unknown
  /** Where the problem is: a file path, block number, field name… Rendered as `where: short`. */
  where?: string | undefined
}

export class MegabenchError extends Error {
  override name = 'MegabenchError'
  readonly shortMessage: string
  readonly details: string | undefined
  readonly where: string | undefined

  constructor(shortMessage: string, options: MegabenchErrorOptions = {}) {
    const oneLine = (options.where ? `${options.where}: ${shortMessage}` : shortMessage).replace(
      /\s*\n\s*/g,
      ' ',
    )
    super(oneLine, options.cause === undefined ? undefined : { cause: options.cause })
    this.shortMessage = shortMessage
    this.details = options.details
    this.where = options.where
  }

  /** Walks the `cause` chain; returns the first error for which `fn` is true (or the last one). */
  walk(fn?: (err: unknown) => boolean): unknown {
    let err: unknown = this
    for (;;) {
      if (fn?.(err) === true) return err
      const next = err instanceof Error ? err.cause : undefined
      if (next === undefined) return fn === undefined ? err : undefined
      err = next
    }
  }
}

/** One line for any thrown value: the message of a MegabenchError, or `name: message` otherwise. */
export function formatErrorLine(err: unknown): string {
  if (err instanceof MegabenchError) return err.message
  if (err instanceof Error) return `${err.name}: ${err.message}`.split('\n')[0] ?? String(err)
  return String(err)
}
