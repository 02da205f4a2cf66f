import { defineNode } from '@automateiq/connector-kit';
import { z } from 'zod';

/** The port taken when no case matches. */
export const SWITCH_DEFAULT_PORT = 'default';
const RESERVED_PORTS: ReadonlySet<string> = new Set(['success', 'error', SWITCH_DEFAULT_PORT]);

const params = z
  .object({
    value: z.unknown().describe('The value to match; compared as text (String(value)) with each case.'),
    cases: z
      .array(z.string().min(1))
      .describe('Case names; each is a port. Unique, and not "success", "error" or "default".')
      .superRefine((cases, ctx) => {
        const seen = new Set<string>();
        cases.forEach((name, index) => {
          if (RESERVED_PORTS.has(name)) {
            ctx.addIssue({ code: 'custom', path: [index], message: `"${name}" is a reserved port name` });
          } else if (seen.has(name)) {
            ctx.addIssue({ code: 'custom', path: [index], message: `case "${name}" is listed twice` });
          }
          seen.add(name);
        });
      }),
  })
  .strict()
  .describe('flow.switch params');

/**
 * `flow.switch`: leaves by the port of the case equal to `String(value)`, else by `default`;
 * output `{ value }`.
 */
export const flowSwitch = defineNode({
  type: 'flow.switch',
  title: 'Switch',
  description: 'Takes the port of the case that equals the value, or "default".',
  params,
  ports: (raw) => {
    const cases = raw.cases;
    if (!Array.isArray(cases) || !cases.every((name): name is string => typeof name === 'string')) {
      return [SWITCH_DEFAULT_PORT];
    }
    return [...new Set([...cases, SWITCH_DEFAULT_PORT])];
  },
  execute: async (ctx) => {
    const text = String(ctx.params.value);
    const port = ctx.params.cases.includes(text) ? text : SWITCH_DEFAULT_PORT;
    return { kind: 'output', output: { value: ctx.params.value }, port };
  },
});
