import jsonata from 'jsonata';

/**
 * Expressions: JSONata inside `{{ … }}`, anywhere in a node's params.
 *
 * A string that is exactly one `{{ expr }}` yields the expression's raw value; any other string with
 * expressions interpolates their results into the text. Expressions are compiled once and cached by
 * source; evaluation is time-boxed through JSONata's `__evaluate_entry` hook. JSONata has no function
 * that reaches the host (no eval of JavaScript, no require, no I/O), and it reads only own properties
 * of the data, so an expression can read its context and nothing else.
 */

export const ExpressionErrorCode = {
  /** The expression ran past its deadline or nested deeper than allowed. */
  timeout: 'EXPRESSION_TIMEOUT',
  /** The expression does not compile, or failed while evaluating. */
  error: 'EXPRESSION_ERROR',
} as const;
export type ExpressionErrorCode = (typeof ExpressionErrorCode)[keyof typeof ExpressionErrorCode];

/** Why an expression could not be compiled or evaluated. */
export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
  readonly code: ExpressionErrorCode;
  /** The JSONata source (without the braces). */
  readonly expression: string;
  /** 0-based character offset in `expression` where JSONata reported the error, when it did. */
  readonly position?: number;

  constructor(args: {
    code: ExpressionErrorCode;
    expression: string;
    message: string;
    position?: number;
    cause?: unknown;
  }) {
    super(args.message, args.cause === undefined ? undefined : { cause: args.cause });
    this.code = args.code;
    this.expression = args.expression;
    if (args.position !== undefined) this.position = args.position;
  }
}

/** A compiled JSONata expression, shared through the cache. */
export interface CompiledExpression {
  readonly source: string;
  /** @internal */
  readonly jsonata: jsonata.Expression;
}

/** One piece of an interpolated string: literal text or an expression. */
export type TemplatePart = string | CompiledExpression;

/**
 * A JSON value with its expressions compiled. A subtree without expressions is a `literal` holding
 * the original value, so evaluating it costs nothing.
 */
export type Template =
  | { readonly kind: 'literal'; readonly value: unknown }
  | { readonly kind: 'expression'; readonly expression: CompiledExpression }
  | { readonly kind: 'interpolation'; readonly parts: readonly TemplatePart[] }
  | { readonly kind: 'array'; readonly items: readonly Template[] }
  | { readonly kind: 'object'; readonly entries: readonly (readonly [string, Template])[] };

export interface EvaluateOptions {
  /** Time allowed for the whole template, in milliseconds. */
  timeoutMs: number;
  /** Clock in milliseconds (e.g. `performance.now`); only differences are used. */
  now: () => number;
  /** Deepest nesting of JSONata evaluation allowed (deep non-tail recursion). Default: 2,000. */
  maxDepth?: number;
}

/** Default for `EvaluateOptions.maxDepth`. */
export const DEFAULT_MAX_EXPRESSION_DEPTH = 2_000;
/** How many compiled expressions the cache keeps (least recently used go first). */
export const EXPRESSION_CACHE_SIZE = 5_000;

const OPEN = '{{';

/** True when the string holds `{{`, i.e. it is a template rather than plain text. */
export function hasExpression(s: string): boolean {
  return s.includes(OPEN);
}

// ---------------------------------------------------------------------------------------------
// Compiling
// ---------------------------------------------------------------------------------------------

const cache = new Map<string, CompiledExpression>();

/**
 * Compiles one JSONata expression (the text between the braces), from the cache when it was seen
 * before. Throws an `ExpressionError` (`EXPRESSION_ERROR`) quoting JSONata's message on a syntax error.
 */
export function compileExpression(source: string): CompiledExpression {
  const hit = cache.get(source);
  if (hit !== undefined) {
    // Refresh its place so the least recently used entry is always first.
    cache.delete(source);
    cache.set(source, hit);
    return hit;
  }
  let expr: jsonata.Expression;
  try {
    expr = jsonata(source);
  } catch (err) {
    throw new ExpressionError({
      code: ExpressionErrorCode.error,
      expression: source,
      message: jsonataMessage(err),
      ...positionOf(err),
      cause: err,
    });
  }
  const hookable: Hookable = expr;
  hookable.assign(ENTRY_HOOK, onEvaluateEntry);
  const compiled: CompiledExpression = { source, jsonata: expr };
  cache.set(source, compiled);
  if (cache.size > EXPRESSION_CACHE_SIZE) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  return compiled;
}

/** Splits a string into text and `{{ … }}` sources. Throws an `ExpressionError` on an unclosed `{{`. */
function splitTemplate(text: string): (string | { source: string })[] {
  const parts: (string | { source: string })[] = [];
  let from = 0;
  while (from < text.length) {
    const open = text.indexOf(OPEN, from);
    if (open < 0) break;
    if (open > from) parts.push(text.slice(from, open));
    const close = findClose(text, open + OPEN.length);
    if (close < 0) {
      throw new ExpressionError({
        code: ExpressionErrorCode.error,
        expression: text.slice(open + OPEN.length),
        message: 'unclosed "{{" (expected "}}")',
      });
    }
    parts.push({ source: text.slice(open + OPEN.length, close) });
    from = close + 2;
  }
  if (from < text.length) parts.push(text.slice(from));
  return parts;
}

/**
 * Index of the `}}` that closes an expression starting at `from`, skipping JSONata string literals,
 * quoted names and comments and balanced `{ }` (object constructors), or -1.
 */
function findClose(text: string, from: number): number {
  let depth = 0;
  let i = from;
  while (i < text.length) {
    const c = text[i];
    if (c === '"' || c === "'" || c === '`') {
      i = skipQuoted(text, i);
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) return -1;
      i = end + 2;
      continue;
    }
    if (c === '{') depth += 1;
    else if (c === '}') {
      if (depth === 0 && text[i + 1] === '}') return i;
      if (depth > 0) depth -= 1;
    }
    i += 1;
  }
  return -1;
}

function skipQuoted(text: string, start: number): number {
  const quote = text[start];
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\' && quote !== '`') i += 2;
    else if (c === quote) return i + 1;
    else i += 1;
  }
  return i;
}

/**
 * Compiles every expression in a JSON value. Throws an `ExpressionError` on the first expression
 * that does not compile.
 */
export function compileTemplate(value: unknown): Template {
  return compileValue(value, 0);
}

const MAX_TEMPLATE_DEPTH = 200;

function compileValue(value: unknown, depth: number): Template {
  if (depth > MAX_TEMPLATE_DEPTH) return { kind: 'literal', value };
  if (typeof value === 'string') return compileString(value);
  if (Array.isArray(value)) {
    const items = value.map((item) => compileValue(item, depth + 1));
    return items.every(isLiteral) ? { kind: 'literal', value } : { kind: 'array', items };
  }
  if (isRecord(value)) {
    const entries = Object.entries(value).map(([key, item]) => [key, compileValue(item, depth + 1)] as const);
    return entries.every(([, t]) => isLiteral(t)) ? { kind: 'literal', value } : { kind: 'object', entries };
  }
  return { kind: 'literal', value };
}

function compileString(text: string): Template {
  if (!hasExpression(text)) return { kind: 'literal', value: text };
  const parts = splitTemplate(text).map((part) =>
    typeof part === 'string' ? part : compileExpression(part.source),
  );
  const [only] = parts;
  if (parts.length === 1 && only !== undefined && typeof only !== 'string') {
    return { kind: 'expression', expression: only };
  }
  return { kind: 'interpolation', parts };
}

function isLiteral(t: Template): boolean {
  return t.kind === 'literal';
}

// ---------------------------------------------------------------------------------------------
// Evaluating
// ---------------------------------------------------------------------------------------------

/**
 * Evaluates a template against a context (`input`, `steps`, `item`, …). An exact expression yields its
 * raw result (`undefined` becomes `null`); in mixed text, strings are inserted as they are, other
 * values as JSON, `undefined` as nothing. Rejects with an `ExpressionError`: `EXPRESSION_TIMEOUT`
 * when the template runs past `timeoutMs` (all its expressions together) or deeper than `maxDepth`,
 * else `EXPRESSION_ERROR` naming the expression and JSONata's message.
 */
export async function evaluateTemplate(
  tpl: Template,
  context: Record<string, unknown>,
  opts: EvaluateOptions,
): Promise<unknown> {
  if (tpl.kind === 'literal') return tpl.value;
  const budget: Budget = {
    deadline: opts.now() + opts.timeoutMs,
    timeoutMs: opts.timeoutMs,
    maxDepth: opts.maxDepth ?? DEFAULT_MAX_EXPRESSION_DEPTH,
    now: opts.now,
  };
  return evaluateNode(tpl, context, budget);
}

interface Budget {
  deadline: number;
  timeoutMs: number;
  maxDepth: number;
  now: () => number;
}

async function evaluateNode(
  tpl: Template,
  context: Record<string, unknown>,
  budget: Budget,
): Promise<unknown> {
  switch (tpl.kind) {
    case 'literal':
      return tpl.value;
    case 'expression': {
      const result = await run(tpl.expression, context, budget);
      return result === undefined ? null : result;
    }
    case 'interpolation': {
      let text = '';
      for (const part of tpl.parts) {
        text += typeof part === 'string' ? part : stringify(await run(part, context, budget));
      }
      return text;
    }
    case 'array': {
      const out: unknown[] = [];
      for (const item of tpl.items) out.push(await evaluateNode(item, context, budget));
      return out;
    }
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, item] of tpl.entries) out[key] = await evaluateNode(item, context, budget);
      return out;
    }
    default:
      return assertNever(tpl);
  }
}

function stringify(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? '';
}

/**
 * The time box. JSONata (2.x) awaits the function bound to `Symbol.for('jsonata.__evaluate_entry')`
 * before evaluating every AST node; it sees the current frame, whose `base` is the frame of that one
 * `evaluate()` call and carries `depth`, the current nesting. A compiled expression is shared by
 * concurrent evaluations, so the budget cannot live on it: `run` parks the budget in `pendingBudget`
 * and calls `evaluate()`, which reaches the hook synchronously for the root node; the hook then binds
 * the budget to that call's base frame. The budget records the trip, because `$eval` wraps errors
 * thrown inside it into its own.
 */
const ENTRY_HOOK = Symbol.for('jsonata.__evaluate_entry');

interface ActiveBudget extends Budget {
  tripped?: string;
}

/** The jsonata typings only allow string names; the evaluator looks hooks up by symbol. */
interface Hookable {
  assign(name: string | symbol, value: unknown): void;
}

const budgets = new WeakMap<object, ActiveBudget>();
let pendingBudget: ActiveBudget | undefined;

function onEvaluateEntry(_expr: unknown, _input: unknown, environment: unknown): void {
  const base = isRecord(environment) ? environment.base : undefined;
  if (!isRecord(base)) throw new Error('expression evaluated outside its time box');
  let budget = budgets.get(base);
  if (budget === undefined) {
    budget = pendingBudget;
    pendingBudget = undefined;
    if (budget === undefined) throw new Error('expression evaluated outside its time box');
    budgets.set(base, budget);
  }
  if (budget.tripped !== undefined) throw new Error(budget.tripped);
  const depth = typeof base.depth === 'number' ? base.depth : 0;
  if (depth > budget.maxDepth) {
    budget.tripped = `expression nested deeper than ${budget.maxDepth} levels (runaway recursion?)`;
    throw new Error(budget.tripped);
  }
  if (budget.now() > budget.deadline) {
    budget.tripped = `expression ran longer than ${budget.timeoutMs}ms`;
    throw new Error(budget.tripped);
  }
}

async function run(
  expression: CompiledExpression,
  context: Record<string, unknown>,
  budget: Budget,
): Promise<unknown> {
  const active: ActiveBudget = { ...budget };
  try {
    pendingBudget = active;
    const evaluation = expression.jsonata.evaluate(context);
    // evaluate() reached the hook synchronously; never let a budget leak into another evaluation.
    pendingBudget = undefined;
    return toJson(await evaluation, expression.source);
  } catch (err) {
    pendingBudget = undefined;
    if (err instanceof ExpressionError) throw err;
    if (active.tripped !== undefined) {
      throw new ExpressionError({
        code: ExpressionErrorCode.timeout,
        expression: expression.source,
        message: `${active.tripped}: {{${expression.source}}}`,
        cause: err,
      });
    }
    throw new ExpressionError({
      code: ExpressionErrorCode.error,
      expression: expression.source,
      message: `expression {{${expression.source}}} failed: ${jsonataMessage(err)}`,
      ...positionOf(err),
      cause: err,
    });
  }
}

/** JSONata results as plain JSON: its sequences become arrays; a function is an error. */
function toJson(value: unknown, source: string): unknown {
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined = Object.hasOwn(value, 'sequence') ? [] : undefined;
    for (let i = 0; i < value.length; i += 1) {
      const item: unknown = value[i];
      const converted = toJson(item, source);
      if (copy === undefined && converted !== item) copy = value.slice(0, i);
      copy?.push(converted);
    }
    return copy ?? value;
  }
  if (isRecord(value)) {
    if ('_jsonata_lambda' in value || '_jsonata_function' in value) {
      throw new ExpressionError({
        code: ExpressionErrorCode.error,
        expression: source,
        message: `expression {{${source}}} yielded a function, not data`,
      });
    }
    let copy: Record<string, unknown> | undefined;
    for (const [key, item] of Object.entries(value)) {
      const converted = toJson(item, source);
      if (copy === undefined && converted !== item) copy = { ...value };
      if (copy !== undefined) copy[key] = converted;
    }
    return copy ?? value;
  }
  if (typeof value === 'function') {
    throw new ExpressionError({
      code: ExpressionErrorCode.error,
      expression: source,
      message: `expression {{${source}}} yielded a function, not data`,
    });
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSONata throws plain objects `{ code, position, token, message }`; tolerate anything. */
function jsonataMessage(err: unknown): string {
  if (!isRecord(err)) return String(err);
  const text = typeof err.message === 'string' && err.message !== '' ? err.message : 'unknown error';
  return typeof err.code === 'string' ? `${text} (${err.code})` : text;
}

function positionOf(err: unknown): { position?: number } {
  return isRecord(err) && typeof err.position === 'number' ? { position: err.position } : {};
}

function assertNever(value: never): never {
  throw new Error(`unexpected template ${JSON.stringify(value)}`);
}
