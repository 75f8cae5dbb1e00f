/** Arguments as a user would type them: those with spaces or quotes in JSON quotes, the rest as they are. */
export function commandLine(args: readonly string[]): string {
  return args.map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a)).join(' ')
}

/** The value of `flag` in an argument list (`--flag value` or `--flag=value`, its first occurrence), or undefined. */
export function optionValue(args: readonly string[], flag: string): string | undefined {
  const i = args.findIndex((a) => a === flag || a.startsWith(`${flag}=`))
  if (i < 0) return undefined
  const a = args[i]!
  return a === flag ? args[i + 1] : a.slice(flag.length + 1)
}
