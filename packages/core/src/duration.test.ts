import { describe, expect, it } from 'vitest';
import { durationMs, formatDuration, parseDuration } from './duration';

describe('parseDuration', () => {
  it('reads every unit of the contract', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1d')).toBe(86_400_000);
  });
  it('refuses what is not a duration', () => {
    for (const bad of ['', '5', 'm', '1.5s', '-1s', '5 minutes', '1w'])
      expect(parseDuration(bad)).toBeUndefined();
    expect(() => durationMs('soon')).toThrow(/"soon" is not a duration/);
  });
  it('formats milliseconds for people', () => {
    expect(formatDuration(340)).toBe('340ms');
    expect(formatDuration(1_234)).toBe('1.2s');
  });
});
