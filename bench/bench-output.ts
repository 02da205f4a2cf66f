/** A line of a benchmark's report, on standard output. */
export const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** A whole number with thousands separators: 12,345. */
export const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/**
 * A latency in ms with `digits` decimals; `-` when there is none (no answer in the window: the load
 * generator's JSON turns an empty percentile's NaN into null).
 */
export const fixed = (n: number | null | undefined, digits = 2): string =>
  typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : '-';
