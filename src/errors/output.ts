import { MegabenchError } from './base.js'

/** A run result on disk is not a run result, or has a schema version this build cannot read. */
export class RunResultError extends MegabenchError {
  override name = 'RunResultError'
  constructor(file: string, message: string, cause?: unknown) {
    super(message, { where: file, cause })
  }
}

/** Writing the report directory failed. */
export class OutputError extends MegabenchError {
  override name = 'OutputError'
  constructor(path: string, message: string, cause?: unknown) {
    super(message, { where: path, cause })
  }
}

/** A command-line option has a value megabench cannot use. */
export class UsageError extends MegabenchError {
  override name = 'UsageError'
}
