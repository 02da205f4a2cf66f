import { describe, expect, it } from 'vitest';
import { credentialSecrets, redactError } from './redact-error';

describe('redactError', () => {
  it('removes the credential secrets and URL passwords, and leads with the context', () => {
    const secrets = credentialSecrets({ url: 'amqp://ann:p%40ss@rabbit:5672', token: 'tok-123', servers: ['nats://u:nats-pw@a'] });
    const error = redactError(new Error('cannot reach amqp://ann:p%40ss@rabbit:5672 (p@ss, tok-123, nats-pw) or mqtt://x:y@h'), {
      context: 'subscribe failed',
      secrets,
    });
    expect(error.message).toBe('subscribe failed: cannot reach amqp://ann:***@rabbit:5672 (***, ***, ***) or mqtt://x:***@h');
    expect(error.cause).toBeUndefined();
  });

  it('keeps an error without secrets as the cause', () => {
    const original = new Error('ECONNREFUSED 127.0.0.1:5672');
    const error = redactError(original, { context: 'amqp connection lost', secrets: ['hunter2'] });
    expect(error.message).toBe('amqp connection lost: ECONNREFUSED 127.0.0.1:5672');
    expect(error.cause).toBe(original);
  });
});
