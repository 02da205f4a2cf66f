import { describe, expect, it } from 'vitest';
import { contentHashId } from './message-id';

describe('contentHashId', () => {
  it('is stable, prefixed, and tells apart lists that concatenate alike', () => {
    const id = contentHashId('amqp', ['orders', 'created', Buffer.from('{}')]);
    expect(id).toMatch(/^amqp:sha256:[0-9a-f]{64}$/);
    expect(contentHashId('amqp', ['orders', 'created', Buffer.from('{}')])).toBe(id);
    expect(contentHashId('amqp', ['ordersc', 'reated', Buffer.from('{}')])).not.toBe(id);
  });
});
