import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type {
  EvaluationOutcome,
  EvaluationReport,
  EvaluationRequest,
  HostErrorData,
  SandboxWorkerData,
  WorkerMessage,
} from './sandbox-protocol';

/** Plain JavaScript, so that it starts in any thread; it loads the TypeScript worker through tsx. */
const WORKER_ENTRY = new URL('./sandbox-worker-entry.mjs', import.meta.url);
/*
 * Node's default for workers, pinned because the QuickJS stack limit (`stackSizeBytes`, 256 KiB by
 * default) is meant to trip before the host stack does; a smaller host stack breaks the worker instead.
 */
const WORKER_STACK_MB = 4;
const MAX_DEFAULT_SIZE = 4;
const DEFAULT_UNRESPONSIVE_GRACE_MS = 1_000;

export interface SandboxPoolOptions {
  /** Worker threads evaluating at once; more requests wait in a queue. Default: min(4, available CPUs). */
  size?: number;
  /**
   * How long a worker may stay silent past its evaluation's deadline, or after an abort, before it is
   * terminated and replaced, in milliseconds. Default: 1,000.
   */
  unresponsiveGraceMs?: number;
}

export interface CompiledSandboxPoolOptions {
  size: number;
  unresponsiveGraceMs: number;
}

/** Fills in defaults and refuses sizes and graces that are not positive integers. */
export function compileSandboxPoolOptions(options: SandboxPoolOptions = {}): CompiledSandboxPoolOptions {
  const size = options.size ?? Math.min(MAX_DEFAULT_SIZE, availableParallelism());
  const unresponsiveGraceMs = options.unresponsiveGraceMs ?? DEFAULT_UNRESPONSIVE_GRACE_MS;
  if (!Number.isSafeInteger(size) || size < 1) {
    throw new RangeError(`the code sandbox pool size must be a positive integer, not ${size}`);
  }
  if (!Number.isSafeInteger(unresponsiveGraceMs) || unresponsiveGraceMs < 1) {
    throw new RangeError(`unresponsiveGraceMs must be a positive integer, not ${unresponsiveGraceMs}`);
  }
  return { size, unresponsiveGraceMs };
}

/** How an evaluation ended, seen from the pool. */
export interface PoolResult {
  /** `unresponsive`: the worker did not answer by the deadline plus the grace and was terminated. */
  outcome: EvaluationOutcome | { kind: 'unresponsive' };
  /** Set when the worker that ran the evaluation was replaced afterwards: why. */
  workerReplaced?: Error;
}

interface Job {
  readonly request: EvaluationRequest;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
  resolve(result: PoolResult): void;
  reject(reason: unknown): void;
  settled: boolean;
}

type SlotState = 'starting' | 'idle' | 'busy' | 'retired';

interface Slot {
  readonly worker: Worker;
  /** The stop flag shared with the worker: non-zero interrupts its evaluation. */
  readonly stop: Int32Array;
  state: SlotState;
  job: Job | undefined;
  watchdog: NodeJS.Timeout | undefined;
  /** The last error the worker raised, reported when it exits. */
  error: Error | undefined;
  /** Settles when the worker is ready (`undefined`) or was lost before (why). */
  readonly started: Promise<Error | undefined>;
  markStarted(outcome: Error | undefined): void;
}

/**
 * A lazily started set of worker threads that evaluate sandboxed code (`sandbox-worker.ts`) one request
 * each at a time, so that code that spins never blocks the calling thread. Requests beyond `size` wait
 * in a queue; waiting does not count against an evaluation's timeout, but its signal applies.
 *
 * An abort rejects at once with the signal's reason and sets the worker's stop flag, which the worker
 * reads at its next QuickJS interrupt check. A worker that stays silent past the deadline (or the abort)
 * plus `unresponsiveGraceMs`, crashes, or reports a broken module is terminated and replaced on demand.
 * Idle workers are `unref()`'d: an idle pool never keeps the process alive.
 */
export class SandboxPool {
  private options: CompiledSandboxPoolOptions;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];

  constructor(options: SandboxPoolOptions = {}) {
    this.options = compileSandboxPoolOptions(options);
  }

  /** Evaluates `request` in a worker. Rejects only with `signal.reason`; every other end is a result. */
  run(request: EvaluationRequest, signal?: AbortSignal): Promise<PoolResult> {
    return new Promise<PoolResult>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const job: Job = {
        request,
        signal,
        onAbort: () => this.abort(job),
        resolve,
        reject,
        settled: false,
      };
      signal?.addEventListener('abort', job.onAbort, { once: true });
      this.queue.push(job);
      this.pump();
    });
  }

  /**
   * Starts all `size` workers now rather than on demand, so that the first evaluations do not wait
   * for them (at the start of a server, or before measuring). Rejects when one cannot start.
   */
  async start(): Promise<void> {
    while (this.slots.length < this.options.size) this.spawn();
    const failures = await Promise.all(this.slots.map((slot) => slot.started));
    const failure = failures.find((error) => error !== undefined);
    if (failure) throw new Error('a code sandbox worker could not start', { cause: failure });
  }

  /** Applies new options; a smaller pool retires idle workers now and busy ones when they finish. */
  configure(options: SandboxPoolOptions): void {
    this.options = compileSandboxPoolOptions(options);
    for (const slot of this.slots.filter((candidate) => candidate.state === 'idle')) {
      if (this.slots.length > this.options.size) void this.retire(slot);
    }
    this.pump();
  }

  /**
   * Terminates every worker; waiting and running evaluations end as `broken`. Later requests start new
   * workers.
   */
  async close(): Promise<void> {
    const closed: PoolResult = { outcome: { kind: 'broken', message: 'the code sandbox pool was closed' } };
    for (const job of this.queue.splice(0)) this.finish(job, closed);
    const terminations = [...this.slots].map((slot) => {
      const { job } = slot;
      const terminated = this.retire(slot);
      if (job) this.finish(job, closed);
      return terminated;
    });
    await Promise.all(terminations);
  }

  /** Hands queued jobs to idle workers and starts the workers the queue still needs. */
  private pump(): void {
    for (const slot of this.slots) {
      if (slot.state !== 'idle') continue;
      const job = this.queue.shift();
      if (!job) break;
      this.dispatch(slot, job);
    }
    const starting = this.slots.filter((slot) => slot.state === 'starting').length;
    const missing = Math.min(this.queue.length - starting, this.options.size - this.slots.length);
    for (let started = 0; started < missing; started++) this.spawn();
  }

  private dispatch(slot: Slot, job: Job): void {
    slot.state = 'busy';
    slot.job = job;
    Atomics.store(slot.stop, 0, 0);
    slot.worker.ref();
    this.watch(slot, job.request.timeoutMs + this.options.unresponsiveGraceMs);
    slot.worker.postMessage(job.request);
  }

  private spawn(): void {
    const workerData: SandboxWorkerData = { stopBuffer: new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT) };
    const worker = new Worker(WORKER_ENTRY, {
      workerData,
      execArgv: workerExecArgv(process.execArgv),
      resourceLimits: { stackSizeMb: WORKER_STACK_MB },
    });
    let markStarted: (outcome: Error | undefined) => void = () => {};
    const slot: Slot = {
      worker,
      stop: new Int32Array(workerData.stopBuffer),
      state: 'starting',
      job: undefined,
      watchdog: undefined,
      error: undefined,
      started: new Promise((resolve) => {
        markStarted = resolve;
      }),
      markStarted: (outcome) => markStarted(outcome),
    };
    worker.on('message', (message: WorkerMessage) => this.onMessage(slot, message));
    worker.on('error', (error) => {
      slot.error = error;
    });
    worker.on('exit', (exitCode) => {
      if (slot.state === 'retired') return;
      this.onLost(slot, slot.error ?? new Error(`the sandbox worker exited with code ${exitCode}`));
    });
    this.slots.push(slot);
  }

  private onMessage(slot: Slot, message: WorkerMessage): void {
    if (slot.state === 'retired') return;
    switch (message.kind) {
      case 'ready':
        slot.state = 'idle';
        slot.markStarted(undefined);
        this.release(slot);
        return;
      case 'done':
        this.onDone(slot, message.report);
        return;
    }
  }

  private onDone(slot: Slot, report: EvaluationReport): void {
    const { job } = slot;
    clearTimeout(slot.watchdog);
    slot.watchdog = undefined;
    slot.job = undefined;
    const workerReplaced = report.moduleBroken && hostError(report.moduleBroken);
    if (workerReplaced) void this.retire(slot);
    else slot.state = 'idle';
    if (job) this.finish(job, workerReplaced ? { outcome: report.outcome, workerReplaced } : report);
    if (workerReplaced) this.pump();
    else this.release(slot);
  }

  /** A worker that crashed or could not start: whatever it ran, or the queue it was started for, fails. */
  private onLost(slot: Slot, cause: Error): void {
    const { job, state } = slot;
    slot.markStarted(cause);
    void this.retire(slot);
    if (job) {
      this.finish(job, {
        outcome: { kind: 'broken', message: `the sandbox worker stopped: ${cause.message}` },
        workerReplaced: cause,
      });
    }
    if (state === 'starting') {
      // Starting fails the same way every time (the loader or the WebAssembly module is missing): fail
      // what waits instead of starting workers in a loop.
      const failed: PoolResult = {
        outcome: { kind: 'broken', message: `the sandbox could not start: ${cause.message}` },
        workerReplaced: cause,
      };
      for (const waiting of this.queue.splice(0)) this.finish(waiting, failed);
    }
    this.pump();
  }

  private onUnresponsive(slot: Slot): void {
    const { job } = slot;
    void this.retire(slot);
    if (job) {
      this.finish(job, {
        outcome: { kind: 'unresponsive' },
        workerReplaced: new Error('the sandbox worker did not stop in time and was terminated'),
      });
    }
    this.pump();
  }

  /** A worker that has just become idle takes the next job, or is retired or unref()'d. */
  private release(slot: Slot): void {
    this.pump();
    if (slot.state !== 'idle') return;
    if (this.slots.length > this.options.size) void this.retire(slot);
    else slot.worker.unref();
  }

  private abort(job: Job): void {
    if (job.settled) return;
    const slot = this.slots.find((candidate) => candidate.job === job);
    if (slot) {
      Atomics.store(slot.stop, 0, 1);
      this.watch(slot, this.options.unresponsiveGraceMs);
    } else {
      this.queue.splice(this.queue.indexOf(job), 1);
    }
    job.settled = true;
    job.reject(job.signal?.reason);
  }

  private finish(job: Job, result: PoolResult): void {
    if (job.settled) return;
    job.settled = true;
    job.signal?.removeEventListener('abort', job.onAbort);
    job.resolve(result);
  }

  private watch(slot: Slot, ms: number): void {
    clearTimeout(slot.watchdog);
    slot.watchdog = setTimeout(() => this.onUnresponsive(slot), ms);
  }

  private retire(slot: Slot): Promise<number> {
    if (slot.state !== 'retired') {
      slot.state = 'retired';
      clearTimeout(slot.watchdog);
      slot.job = undefined;
      this.slots.splice(this.slots.indexOf(slot), 1);
    }
    return slot.worker.terminate();
  }
}

/**
 * The Node options for a worker: inherited from the parent (`undefined`), except that `--input-type`,
 * which describes the parent's `--eval` text, makes a worker started from a file fail, so it is dropped.
 * Only then are they passed explicitly, because Node refuses per-process options such as
 * `--max-old-space-size` in an explicit list.
 */
function workerExecArgv(parent: readonly string[]): string[] | undefined {
  if (!parent.some((arg) => arg === '--input-type' || arg.startsWith('--input-type='))) return undefined;
  const inherited: string[] = [];
  for (let index = 0; index < parent.length; index++) {
    const arg = parent[index] ?? '';
    if (arg === '--input-type') {
      index++; // its value follows
    } else if (!arg.startsWith('--input-type=')) {
      inherited.push(arg);
    }
  }
  return inherited;
}

function hostError(data: HostErrorData): Error {
  const error = new Error(data.message);
  error.name = data.name;
  if (data.stack !== undefined) error.stack = data.stack;
  return error;
}
