import type { QuickJSContext, QuickJSHandle, QuickJSWASMModule } from 'quickjs-emscripten';
import {
  CODE_ARGUMENT_NAMES,
  type CodeFailure,
  codeTimeout,
  type EvaluationOutcome,
  type EvaluationReport,
  type EvaluationRequest,
  hostErrorData,
} from './sandbox-protocol';

const MIB = 1024 * 1024;
/** Longest error description read out of the sandbox, in characters. */
const MAX_ERROR_CHARS = 2_000;
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

type Interruption = 'deadline' | 'stop' | undefined;
type Phase = 'code' | 'result';
type FailureOutcome = Extract<EvaluationOutcome, { kind: 'failed' | 'interrupted' }>;

/** Ends an evaluation early with its outcome; never leaves this file. */
class EvaluationEnded extends Error {
  constructor(readonly outcome: FailureOutcome) {
    super(`the evaluation ended: ${outcome.kind}`);
  }
}

export interface EvaluateCodeInput {
  module: QuickJSWASMModule;
  request: EvaluationRequest;
  /** Whether the main thread asked to stop; read at every QuickJS interrupt check. */
  shouldStop: () => boolean;
}

/**
 * Runs `request.code` in a fresh QuickJS runtime of `module` and reports the outcome as data. The
 * runtime has no host functions at all, only the ECMAScript built-ins. Synchronous: call it on a
 * thread that may block (a sandbox worker). After a report with `moduleBroken`, `module` must not be
 * used again.
 */
export function evaluateCode({ module, request, shouldStop }: EvaluateCodeInput): EvaluationReport {
  const runtime = module.newRuntime();
  let context: QuickJSContext | undefined;
  let outcome: EvaluationOutcome;
  try {
    runtime.setMemoryLimit(request.memoryLimitBytes);
    runtime.setMaxStackSize(request.stackSizeBytes);
    const deadline = performance.now() + request.timeoutMs;
    const state: { interruption: Interruption } = { interruption: undefined };
    runtime.setInterruptHandler(() => {
      if (state.interruption) return true;
      if (shouldStop()) state.interruption = 'stop';
      else if (performance.now() > deadline) state.interruption = 'deadline';
      return state.interruption !== undefined;
    });
    context = runtime.newContext();
    outcome = evaluate({
      context,
      request,
      state,
      hasPendingJob: () => runtime.hasPendingJob(),
      runJobs: () => runtime.executePendingJobs(),
    });
  } catch (error) {
    if (!(error instanceof EvaluationEnded)) {
      // A host exception tore through the WebAssembly code: leave the module alone, it is replaced.
      const message =
        error instanceof RangeError
          ? 'the code nested data or calls too deeply for the sandbox'
          : `the sandbox failed: ${error instanceof Error ? error.message : String(error)}`;
      return { outcome: { kind: 'broken', message }, moduleBroken: hostErrorData(error) };
    }
    outcome = error.outcome;
  }
  try {
    context?.dispose();
    runtime.dispose();
  } catch (error) {
    // QuickJS asserts on leaked objects and aborts; the outcome stands, the module is replaced.
    return { outcome, moduleBroken: hostErrorData(error) };
  }
  return { outcome };
}

interface EvaluateInput {
  context: QuickJSContext;
  request: EvaluationRequest;
  state: { interruption: Interruption };
  hasPendingJob(): boolean;
  runJobs(): { error?: QuickJSHandle | undefined; dispose(): void };
}

type SandboxResult = { value: QuickJSHandle; error?: undefined } | { error: QuickJSHandle };

function evaluate(input: EvaluateInput): EvaluationOutcome {
  const { context, request, state } = input;
  const owned: QuickJSHandle[] = [];
  const own = (handle: QuickJSHandle): QuickJSHandle => {
    owned.push(handle);
    return handle;
  };
  let intact = true;
  try {
    // Set-up, before any user code runs, so the code cannot replace what the host relies on.
    const describeError = setup(context.evalCode(DESCRIBE_ERROR, 'describe-error.js', GLOBAL_CODE), {
      own,
      ended: () => interruption(state, request),
    });
    const json = own(context.getProp(context.global, 'JSON'));
    const parse = own(context.getProp(json, 'parse'));
    const stringify = own(context.getProp(json, 'stringify'));

    const failure = (error: QuickJSHandle, phase: Phase): EvaluationEnded => {
      const interrupted = interruption(state, request);
      if (interrupted) return interrupted;
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
        return memoryLimit(request);
      }
      const descriptionHandle = own(described.value);
      // The code may have replaced String.prototype.slice; never copy an unbounded description out.
      const descriptionLength = context.getNumber(own(context.getProp(descriptionHandle, 'length')));
      const description =
        descriptionLength <= MAX_ERROR_CHARS + 1
          ? context.getString(descriptionHandle)
          : 'the code failed with an error that cannot be shown';
      if (description.startsWith('InternalError: out of memory')) return memoryLimit(request);
      if (phase === 'result') {
        return failed({
          code: 'CODE_RESULT_NOT_JSON',
          message: `the result cannot be converted to JSON: ${description}`,
        });
      }
      // An error the code marks `retryable = true` (a busy service, say) is retried by the node's policy.
      return failed({ code: 'CODE_ERROR', message: description, retryable: retryableFlag(context, error) });
    };
    const unwrap = (result: SandboxResult, phase: Phase): QuickJSHandle => {
      if (result.error) throw failure(own(result.error), phase);
      return own(result.value);
    };

    const fn = unwrap(
      context.evalCode(`${PRELUDE}${request.code}${EPILOGUE}`, 'code.js', GLOBAL_CODE),
      'code',
    );
    const args = unwrap(context.callFunction(parse, json, own(context.newString(request.argsJson))), 'code');
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
      throw failed({
        code: 'CODE_ERROR',
        message: 'the code awaited a promise that never settled (the sandbox has no timers or I/O)',
      });
    }
    if (settled.type === 'rejected') throw failure(own(settled.error), 'code');
    const value = own(settled.value);
    if (context.typeof(value) === 'undefined') return { kind: 'value', json: 'null' };

    const text = unwrap(context.callFunction(stringify, json, value), 'result');
    if (context.typeof(text) !== 'string') {
      throw failed({
        code: 'CODE_RESULT_NOT_JSON',
        message: `the code returned a ${context.typeof(value)}, which has no JSON form`,
      });
    }
    const length = context.getNumber(own(context.getProp(text, 'length')));
    if (length > request.maxOutputChars) {
      throw failed({
        code: 'CODE_OUTPUT_TOO_LARGE',
        message: `the result is ${length} characters of JSON, more than the ${request.maxOutputChars} allowed`,
        details: { length, maxChars: request.maxOutputChars },
      });
    }
    return { kind: 'value', json: context.getString(text) };
  } catch (error) {
    // A host exception tore through the WebAssembly code: its handles must not be touched again.
    if (!(error instanceof EvaluationEnded)) intact = false;
    throw error;
  } finally {
    if (intact) {
      for (const handle of owned.reverse()) {
        if (handle.alive) handle.dispose();
      }
    }
  }
}

function failed(failure: Omit<CodeFailure, 'retryable'> & { retryable?: boolean }): EvaluationEnded {
  return new EvaluationEnded({ kind: 'failed', failure: { retryable: false, ...failure } });
}

/** How an interrupted evaluation ends, or `undefined` when it was not interrupted. */
function interruption(
  state: { interruption: Interruption },
  request: EvaluationRequest,
): EvaluationEnded | undefined {
  switch (state.interruption) {
    case 'stop':
      return new EvaluationEnded({ kind: 'interrupted' });
    case 'deadline':
      return new EvaluationEnded({ kind: 'failed', failure: codeTimeout(request.timeoutMs) });
    case undefined:
      return undefined;
  }
}

/**
 * Unwraps a set-up step, which fails only when it was interrupted (a deadline shorter than the set-up
 * of a cold worker) or the sandbox itself is broken.
 */
function setup(
  result: SandboxResult,
  { own, ended }: { own: (handle: QuickJSHandle) => QuickJSHandle; ended: () => EvaluationEnded | undefined },
): QuickJSHandle {
  if (result.error) {
    own(result.error);
    throw ended() ?? new Error('the sandbox could not compile its own helper');
  }
  return own(result.value);
}

function memoryLimit(request: EvaluationRequest): EvaluationEnded {
  const limitMb = Math.round((request.memoryLimitBytes / MIB) * 10) / 10;
  return failed({
    code: 'CODE_MEMORY_LIMIT',
    message: `the code used more than ${limitMb} MiB of memory`,
    details: { memoryLimitMb: limitMb },
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
