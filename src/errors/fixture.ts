import { MegabenchError, type MegabenchErrorOptions } from './base.js'

/** A fixture file could not be read, is not JSON, is truncated, or does not match its format. */
export class FixtureError extends MegabenchError {
  override name = 'FixtureError'
  constructor(file: string, message: string, options: Omit<MegabenchErrorOptions, 'where'> = {}) {
    super(message, { ...options, where: file })
  }
}

/** No fixture files were found where the user pointed. */
export class NoFixturesError extends MegabenchError {
  override name = 'NoFixturesError'
  constructor(paths: readonly string[]) {
    super(`no realblock-v1 fixture files (*.json) found in ${paths.join(', ')}`)
  }
}
