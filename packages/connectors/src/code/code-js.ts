import { defineConnector } from '@automateiq/connector-kit';
import { parseDuration, durationSchema } from '@automateiq/core';
import { z } from 'zod';
import { type CodeArguments, runSandboxedCode } from './run-sandboxed-code';

const MIB = 1024 * 1024;

const params = z
  .object({
    code: z
      .string()
      .min(1)
      .describe(
        'The body of an async JavaScript function that sees input, steps, item, index, vars and attempt (1-based); returns a JSON value; an error thrown with `retryable = true` is retried by the retry policy. Not evaluated as a template.',
      ),
    timeout: durationSchema
      .optional()
      .describe('Longest run of the code, e.g. 500ms. Default and upper bound: the plan’s code timeout.'),
    memoryMb: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('Heap limit in MiB. Default and upper bound: the plan’s code memory.'),
  })
  .strict()
  .describe('code.js params');

/**
 * `code.js`: runs the code in a QuickJS WebAssembly sandbox (see `runSandboxedCode`) with
 * `min(memoryMb, plan)` MiB and `min(timeout, plan)` of wall time; the output is the returned value
 * (`undefined` → `null`).
 */
export const codeJs = defineConnector({
  type: 'code.js',
  title: 'Code (JavaScript)',
  description: 'Runs a JavaScript function body in a sandbox and outputs what it returns.',
  params,
  rawParams: ['code'],
  run: async (ctx) => {
    const { code, timeout, memoryMb } = ctx.params;
    const requestedMs = timeout === undefined ? undefined : parseDuration(timeout);
    const timeoutMs = Math.min(requestedMs ?? ctx.limits.codeTimeoutMs, ctx.limits.codeTimeoutMs);
    const memoryLimitMb = Math.min(memoryMb ?? ctx.limits.codeMemoryMb, ctx.limits.codeMemoryMb);
    const args: CodeArguments = {
      input: ctx.scope.input,
      steps: ctx.scope.steps,
      item: ctx.scope.item,
      index: ctx.scope.index,
      vars: ctx.scope.vars,
      attempt: ctx.attempt,
    };
    return runSandboxedCode({
      code,
      args,
      timeoutMs,
      memoryLimitBytes: memoryLimitMb * MIB,
      signal: ctx.signal,
      onModuleDiscarded: (cause) =>
        ctx.logger.warn('code.js broke its sandbox worker; it was replaced', {
          cause: cause instanceof Error ? cause.message : String(cause),
        }),
    });
  },
});
