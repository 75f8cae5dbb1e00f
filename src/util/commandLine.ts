/** Arguments as a user would type them: those with spaces or quotes in JSON quotes, the rest as they are. */
export function commandLine(args: readonly string[]): string {
  return args.map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a)).join(' ')
}
