/**
 * `npm run bench -- NAME [options]`: runs one benchmark and prints its figures.
 * Benchmarks: engine, api, triggers.
 */
const benches: Record<string, () => Promise<{ run(args: string[]): Promise<void> }>> = {
  engine: () => import('./engine'),
  api: () => import('./api'),
  triggers: () => import('./triggers'),
};

const [name, ...args] = process.argv.slice(2);
const load = name ? benches[name] : undefined;
if (!load) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(benches).join('|')}>\n`);
  process.exit(2);
}
await (await load()).run(args);
process.exit(0);

export {};
