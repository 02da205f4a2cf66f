// The entry of a sandbox worker thread. A worker does not reliably inherit the TypeScript loader of
// the thread that started it: `node --import tsx` passes it on through `execArgv`, but tsx's
// `register()` API (`bin/aiq.mjs`) and Vitest's transforms do not. So the worker registers tsx itself,
// resolved from this file, whatever the working directory; when it already had tsx this adds a second,
// harmless layer of the same hooks.
import { register } from 'tsx/esm/api';

register();
await import('./sandbox-worker.ts');
