/** The command-line flags of the benchmarks (`npm run bench -- NAME --flag value ...`). */

/** The flag being read, and the argument that follows it. */
export interface FlagReader {
  /** The flag as written, e.g. `--tenants`. */
  readonly flag: string;
  /** Takes the argument after the flag, its value; undefined when the flag ends the list. */
  readonly value: () => string | undefined;
}

/** What each flag a benchmark knows does, by the flag as written (`--keep`). */
export type FlagHandlers = Readonly<Record<string, (reader: FlagReader) => void>>;

/**
 * Reads `args` from the first to the last, handing each flag to its handler in `handlers` (which takes
 * the flag's value, if it has one). Throws `unknown option X; options: <usage>` on a flag not in
 * `handlers`, and whatever a handler throws.
 */
export function readFlags({ args, handlers, usage }: { args: readonly string[]; handlers: FlagHandlers; usage: string }): void {
  for (let i = 0; i < args.length; i++) {
    const flag = args[i] ?? '';
    const handler = Object.hasOwn(handlers, flag) ? handlers[flag] : undefined;
    if (!handler) throw new Error(`unknown option ${flag}; options: ${usage}`);
    handler({ flag, value: () => args[++i] });
  }
}

/** `text` as a whole number of at least 1; throws `<flag> takes a whole number of at least 1` otherwise. */
export function wholeNumber(flag: string, text: string | undefined): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} takes a whole number of at least 1`);
  return value;
}
