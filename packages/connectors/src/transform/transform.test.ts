import { describe, expect, it } from 'vitest';
import { executeForTest } from '../test-run';
import { transform } from './transform';

describe('transform', () => {
  it('outputs the evaluated value as is', async () => {
    const value = { a: [1, { b: 'c' }], d: null };
    expect(await executeForTest(transform, { value })).toEqual({ kind: 'output', output: value });
  });

  it('outputs null for an undefined value', async () => {
    expect(await executeForTest(transform, { value: undefined })).toEqual({ kind: 'output', output: null });
  });
});
