import { parentPort, workerData } from 'node:worker_threads';
import { newQuickJSWASMModule } from 'quickjs-emscripten';
import { evaluateCode } from './evaluate-code';
import type { EvaluationRequest, SandboxWorkerData, WorkerMessage } from './sandbox-protocol';

/*
 * The body of a sandbox worker (started through `sandbox-worker-entry.mjs`): loads its own QuickJS
 * module, says `ready`, then evaluates one request at a time and answers each with `done`. It is
 * replaced, never repaired, once its module broke.
 */
const port = parentPort;
if (!port) throw new Error('sandbox-worker.ts runs only as a worker thread');
const { stopBuffer } = workerData as SandboxWorkerData;
const stop = new Int32Array(stopBuffer);
const module = await newQuickJSWASMModule();

const post = (message: WorkerMessage): void => port.postMessage(message);
port.on('message', (request: EvaluationRequest) => {
  const report = evaluateCode({ module, request, shouldStop: () => Atomics.load(stop, 0) !== 0 });
  post({ kind: 'done', report });
});
post({ kind: 'ready' });
