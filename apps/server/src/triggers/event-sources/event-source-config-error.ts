/**
 * An event source cannot be subscribed as configured: a credential field is missing or of the wrong
 * kind, the subject is covered by several streams, the broker refuses the subscription. A person fixes
 * it; retrying alone does not. The message never contains a secret.
 */
export class EventSourceConfigError extends Error {
  override name = 'EventSourceConfigError';
}
