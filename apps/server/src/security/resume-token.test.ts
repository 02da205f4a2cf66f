import { describe, expect, it } from 'vitest';
import { MasterKey } from './master-key';
import { MasterKeyRing } from './master-key-ring';
import { RunResumeTokens } from './resume-token';

const tenant = '01936f3e-0000-7000-8000-000000000001';
const run = '01936f3e-0000-7000-8000-0000000000aa';

describe('run resume tokens', () => {
  it('verify for their run and tenant only', async () => {
    const tokens = new RunResumeTokens(MasterKeyRing.from(MasterKey.generate()).signingKeys('run-resume'));
    const token = tokens.sign(tenant, run);
    expect(await tokens.verify(tenant, run, token)).toBe(true);
    expect(await tokens.verify(tenant, '01936f3e-0000-7000-8000-0000000000ab', token)).toBe(false);
    expect(await tokens.verify('01936f3e-0000-7000-8000-000000000002', run, token)).toBe(false);
    for (const forged of ['', '.', 'x', `${token}x`, token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), `zz${token}`]) {
      expect(await tokens.verify(tenant, run, forged)).toBe(false);
    }
  });

  it('from another master key do not verify', async () => {
    const mine = new RunResumeTokens(MasterKeyRing.from(MasterKey.generate()).signingKeys('run-resume'));
    const theirs = new RunResumeTokens(MasterKeyRing.from(MasterKey.generate()).signingKeys('run-resume'));
    expect(await mine.verify(tenant, run, theirs.sign(tenant, run))).toBe(false);
  });
});
