/** An error a person can fix (configuration, environment, input): the CLI prints its message alone, never a stack. */
export class UserError extends Error {
  override name = 'UserError';
}
