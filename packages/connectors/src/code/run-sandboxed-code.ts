import { ConnectorError } from '@automateiq/connector-kit';
import type { QuickJSContext, QuickJSHandle, QuickJSWASMModule } from 'quickjs-emscripten';
import { discardQuickJsModule, loadQuickJsModule } from './quickjs-module';

const MIB = 1024 * 1024;

/** Names the code sees, in this order, as parameters of the function it is the body of. */
export const CODE_ARGUMENT_NAMES = ['input', 'steps', 'item', 'index', 'vars', 'attempt'] as const;
export type CodeArguments = Partial<Record<(typeof CODE_ARGUMENT_NAMES)[number], unknown>>;

export interface SandboxOptions {
  /** The body of an async function whose parameters are `CODE_ARGUMENT_NAMES`; its return value is the result. */
  code: string;
  /** Passed in as JSON; absent or `undefined` values arrive as `undefined`. */
  args: CodeArguments;
  /** Heap limit of the evaluation, in bytes (the arguments' JSON and the result's count towards it). */
  memoryLimitBytes: number;
  /** Deadline of the evaluation, in milliseconds of wall time. */
  timeoutMs: number;
  /** Stops the evaluation at its next interrupt check; see `runSandboxedCode`. */
  signal?: AbortSignal;
  /** QuickJS stack limit, in bytes. Default: 256 KiB (1 MiB overflows the WebAssembly stack first). */
  stackSizeBytes?: number;
  /** Longest result, in characters of its JSON text. Default: 10 MiB. */
  maxOutputChars?: number;
  /** Called when an evaluation broke the shared module and it was dropped (for a log line). */
  onModuleDiscarded?: (cause: unknown) => void;
}

/** Longest error description read out of the sandbox, in characters. */
const MAX_ERROR_CHARS = 2_000;
const DEFAULT_STACK_BYTES = 256 * 1024;
const DEFAULT_MAX_OUTPUT_CHARS = 10 * MIB;
/** The line before the user's code; reported line numbers are shifted by it so they are the user's. */
const PRELUDE = `(async function (${CODE_ARGUMENT_NAMES.join(', ')}) {\n`;
const PRELUDE_LINES = 1;
const EPILOGUE = '\n})';
const GLOBAL_CODE = { type: 'global', strict: false } as const;

/*
 * Describes a thrown value as bounded text (`Name: message (line N)`) inside the sandbox, so that the
 * host never copies an unbounded string out. Compiled before the user's code runs.
 */
const DESCRIBE_ERROR = `(function (error, max, offset) {
  let text;
  try {
    if (error instanceof Error) {
      text = String(error.name) + ': ' + String(error.message);
      const match = /code\\.js:(\\d+)/.exec(String(error.stack));
      if (match) text += ' (line ' + Math.max(1, Number(match[1]) - offset) + ')';
    } else if (typeof error === 'string') {
      text = error;
    } else {
      text = JSON.stringify(error);
      if (typeof text !== 'string') text = String(error);
    }
  } catch (describeFailure) {
    text = 'a value that cannot be described was thrown';
  }
  text = String(text);
  return text.length > max ? text.slice(0, max) + '…' : text;
})`;

type Interruption = 'deadline' | 'signal' | undefined;
type Phase = 'code' | 'result';

/**
 * Runs untrusted JavaScript in a fresh QuickJS runtime (WebAssembly) and returns its JSON result
 * (`undefined` becomes `null`). The code cannot reach the process, the file system or the network:
 * the sandbox has no host functions at all, only the ECMAScript built-ins. `await` works on promises
 * the code makes itself; there are no timers or I/O, so a promise that nothing resolves fails.
 *
 * Fails with fatal `ConnectorError`s: `CODE_ERROR` (a thrown error, syntax error or stack overflow,
 * with its line), `CODE_TIMEOUT`, `CODE_MEMORY_LIMIT`, `CODE_RESULT_NOT_JSON`, `CODE_OUTPUT_TOO_LARGE`,
 * `CODE_SANDBOX_FAILURE` (the sandbox itself broke, e.g. data nested so deeply that the host stack ran
 * out; the shared module is then replaced). When `signal` aborts it rejects with the signal's reason.
 * Once started the evaluation is synchronous, so an abort that arrives meanwhile (from a timer or I/O)
 * takes effect at the latest at the deadline.
 */
export async function runSandboxedCode(options: SandboxOptions): Promise<unknown> {
  const module = await loadQuickJsModule();
  options.signal?.throwIfAborted();
  const runtime = module.newRuntime();
  let context: QuickJSContext | undefined;
  let hostFailure: { cause: unknown } | undefined;
  try {
    runtime.setMemoryLimit(options.memoryLimitBytes);
    runtime.setMaxStackSize(options.stackSizeBytes ?? DEFAULT_STACK_BYTES);
    const deadline = performance.now() + options.timeoutMs;
    const state: { interruption: Interruption } = { interruption: undefined };
    runtime.setInterruptHandler(() => {
      if (state.interruption) return true;
      if (options.signal?.aborted) state.interruption = 'signal';
      else if (performance.now() > deadline) state.interruption = 'deadline';
      return state.interruption !== undefined;
    });
    context = runtime.newContext();
    return evaluate({
      context,
      options,
      state,
      hasPendingJob: () => runtime.hasPendingJob(),
      runJobs: () => runtime.executePendingJobs(),
    });
  } catch (error) {
    if (error instanceof ConnectorError || isSignalReason(error, options.signal)) throw error;
    hostFailure = { cause: error };
    throw sandboxFailure(error);
  } finally {
    // After a host exception the module's state is unknown: drop it rather than touch it again.
    if (hostFailure) discard(module, options, hostFailure.cause);
    else disposeOrDiscard(module, options, [context, runtime]);
  }
}

function isSignalReason(error: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true && error === signal.reason;
}

function discard(module: QuickJSWASMModule, options: SandboxOptions, cause: unknown): void {
  discardQuickJsModule(module);
  options.onModuleDiscarded?.(cause);
}

/** Disposes in order; when that fails (QuickJS asserts on leaked objects and aborts), drops the module. */
function disposeOrDiscard(
  module: QuickJSWASMModule,
  options: SandboxOptions,
  disposables: readonly ({ dispose(): void } | undefined)[],
): void {
  try {
    for (const disposable of disposables) disposable?.dispose();
  } catch (cause) {
    discard(module, options, cause);
  }
}

function sandboxFailure(cause: unknown): ConnectorError {
  const message =
    cause instanceof RangeError
      ? 'the code nested data or calls too deeply for the sandbox'
      : `the sandbox failed: ${cause instanceof Error ? cause.message : String(cause)}`;
  return ConnectorError.fatal('CODE_SANDBOX_FAILURE', message, undefined, { cause });
}

interface EvaluateInput {
  context: QuickJSContext;
  options: SandboxOptions;
  state: { interruption: Interruption };
  hasPendingJob(): boolean;
  runJobs(): { error?: QuickJSHandle | undefined; dispose(): void };
}

type SandboxResult = { value: QuickJSHandle; error?: undefined } | { error: QuickJSHandle };

function evaluate(input: EvaluateInput): unknown {
  const { context, options, state } = input;
  const owned: QuickJSHandle[] = [];
  const own = (handle: QuickJSHandle): QuickJSHandle => {
    owned.push(handle);
    return handle;
  };
  let intact = true;
  try {
    // Set-up, before any user code runs, so the code cannot replace what the host relies on.
    const describeError = setup(context.evalCode(DESCRIBE_ERROR, 'describe-error.js', GLOBAL_CODE), own);
    const json = own(context.getProp(context.global, 'JSON'));
    const parse = own(context.getProp(json, 'parse'));
    const stringify = own(context.getProp(json, 'stringify'));

    const failure = (error: QuickJSHandle, phase: Phase): unknown => {
      if (state.interruption === 'signal') return options.signal?.reason;
      if (state.interruption === 'deadline') {
        return ConnectorError.fatal('CODE_TIMEOUT', `the code ran longer than ${options.timeoutMs}ms`, {
          timeoutMs: options.timeoutMs,
        });
      }
      const described = context.callFunction(
        describeError,
        context.undefined,
        error,
        own(context.newNumber(MAX_ERROR_CHARS)),
        own(context.newNumber(PRELUDE_LINES)),
      );
      // The helper catches everything the error can throw at it; what remains is running out of memory.
      if (described.error) {
        own(described.error);
        return memoryLimit(options);
      }
      const descriptionHandle = own(described.value);
      // The code may have replaced String.prototype.slice; never copy an unbounded description out.
      const descriptionLength = context.getNumber(own(context.getProp(descriptionHandle, 'length')));
      const description =
        descriptionLength <= MAX_ERROR_CHARS + 1
          ? context.getString(descriptionHandle)
          : 'the code failed with an error that cannot be shown';
      if (description.startsWith('InternalError: out of memory')) return memoryLimit(options);
      if (phase === 'result') {
        return ConnectorError.fatal(
          'CODE_RESULT_NOT_JSON',
          `the result cannot be converted to JSON: ${description}`,
        );
      }
      // An error the code marks `retryable = true` (a busy service, say) is retried by the node's policy.
      return retryableFlag(context, error)
        ? ConnectorError.retryable('CODE_ERROR', description)
        : ConnectorError.fatal('CODE_ERROR', description);
    };
    const unwrap = (result: SandboxResult, phase: Phase): QuickJSHandle => {
      if (result.error) throw failure(own(result.error), phase);
      return own(result.value);
    };

    const fn = unwrap(
      context.evalCode(`${PRELUDE}${options.code}${EPILOGUE}`, 'code.js', GLOBAL_CODE),
      'code',
    );
    const args = unwrap(
      context.callFunction(parse, json, own(context.newString(JSON.stringify(options.args)))),
      'code',
    );
    const argHandles = CODE_ARGUMENT_NAMES.map((name) => own(context.getProp(args, name)));
    const promise = unwrap(context.callFunction(fn, context.undefined, ...argHandles), 'code');

    while (input.hasPendingJob()) {
      const jobs = input.runJobs();
      if (jobs.error) {
        own(jobs.error);
        throw failure(jobs.error, 'code');
      }
    }
    const settled = context.getPromiseState(promise);
    if (settled.type === 'pending') {
      throw ConnectorError.fatal(
        'CODE_ERROR',
        'the code awaited a promise that never settled (the sandbox has no timers or I/O)',
      );
    }
    if (settled.type === 'rejected') throw failure(own(settled.error), 'code');
    const value = own(settled.value);
    if (context.typeof(value) === 'undefined') return null;

    const text = unwrap(context.callFunction(stringify, json, value), 'result');
    if (context.typeof(text) !== 'string') {
      throw ConnectorError.fatal(
        'CODE_RESULT_NOT_JSON',
        `the code returned a ${context.typeof(value)}, which has no JSON form`,
      );
    }
    const length = context.getNumber(own(context.getProp(text, 'length')));
    const maxChars = options.maxOutputChars ?? DEFAULT_MAX_OUTPUT_CHARS;
    if (length > maxChars) {
      throw ConnectorError.fatal(
        'CODE_OUTPUT_TOO_LARGE',
        `the result is ${length} characters of JSON, more than the ${maxChars} allowed`,
        { length, maxChars },
      );
    }
    return JSON.parse(context.getString(text));
  } catch (error) {
    // A host exception tore through the WebAssembly code: its handles must not be touched again.
    if (!(error instanceof ConnectorError) && !isSignalReason(error, options.signal)) intact = false;
    throw error;
  } finally {
    if (intact) {
      for (const handle of owned.reverse()) {
        if (handle.alive) handle.dispose();
      }
    }
  }
}

/** Unwraps a set-up step, which only fails when the sandbox itself is broken. */
function setup(result: SandboxResult, own: (handle: QuickJSHandle) => QuickJSHandle): QuickJSHandle {
  if (result.error) {
    own(result.error);
    throw new Error('the sandbox could not compile its own helper');
  }
  return own(result.value);
}

function memoryLimit(options: SandboxOptions): ConnectorError {
  const limitMb = Math.round((options.memoryLimitBytes / MIB) * 10) / 10;
  return ConnectorError.fatal('CODE_MEMORY_LIMIT', `the code used more than ${limitMb} MiB of memory`, {
    memoryLimitMb: limitMb,
  });
}

/** Whether a thrown value carries `retryable: true`. A getter that throws counts as not retryable. */
function retryableFlag(context: QuickJSContext, error: QuickJSHandle): boolean {
  if (context.typeof(error) !== 'object') return false;
  let flag: QuickJSHandle;
  try {
    flag = context.getProp(error, 'retryable');
  } catch {
    return false; // a throwing getter: the error does not say it is retryable
  }
  try {
    return context.typeof(flag) === 'boolean' && context.dump(flag) === true;
  } finally {
    flag.dispose();
  }
}
