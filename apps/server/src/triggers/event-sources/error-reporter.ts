import type { CompiledEventSourceOptions } from './event-source-options';
import { credentialSecrets, redactError } from './redact-error';

/**
 * A source's errors made safe to log (see `redactError`: the credential's secrets and URL passwords
 * become `***`), and reported to its `onError`.
 */
export class ErrorReporter {
  readonly #options: Pick<CompiledEventSourceOptions, 'onError'>;
  readonly #secrets: readonly string[];

  constructor(options: Pick<CompiledEventSourceOptions, 'credential' | 'onError'>) {
    this.#options = options;
    this.#secrets = credentialSecrets(options.credential);
  }

  /** `error` as an Error led by `context`, without the credential's secrets. */
  redact(error: unknown, context: string): Error {
    return redactError(error, { context, secrets: this.#secrets });
  }

  /** Hands `error`, redacted and led by `context`, to `onError`. */
  report(error: unknown, context: string): void {
    this.#options.onError(this.redact(error, context));
  }
}
