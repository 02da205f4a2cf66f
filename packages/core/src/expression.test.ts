import { describe, expect, it } from 'vitest';
import {
  compileExpression,
  compileTemplate,
  EXPRESSION_CACHE_SIZE,
  ExpressionError,
  evaluateTemplate,
  hasExpression,
  type Template,
} from './expression';

const now = () => performance.now();
const opts = { timeoutMs: 1_000, now };
const context = {
  input: { since: '2024-01-01', total: 150, tags: ['a', 'b'] },
  steps: { fetch: { output: { body: { orders: [{ id: 1 }, { id: 2 }] } } } },
  item: { name: 'Ada' },
};

async function evaluate(value: unknown, ctx: Record<string, unknown> = context): Promise<unknown> {
  return evaluateTemplate(compileTemplate(value), ctx, opts);
}

async function failure(promise: Promise<unknown>): Promise<ExpressionError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ExpressionError) return err;
    throw err;
  }
  throw new Error('expected an ExpressionError');
}

describe('hasExpression', () => {
  it('sees {{ in a string', () => {
    expect(hasExpression('a {{ b }}')).toBe(true);
    expect(hasExpression('plain text { }')).toBe(false);
  });
});

describe('evaluateTemplate', () => {
  it('yields the raw value of a string that is exactly one expression', async () => {
    expect(await evaluate('{{ input.total }}')).toBe(150);
    expect(await evaluate('{{ input.total > 100 }}')).toBe(true);
    expect(await evaluate('{{ steps.fetch.output.body.orders }}')).toEqual([{ id: 1 }, { id: 2 }]);
    expect(await evaluate('{{ {"n": item.name} }}')).toEqual({ n: 'Ada' });
  });

  it('turns undefined into null for an exact expression', async () => {
    expect(await evaluate('{{ input.missing }}')).toBeNull();
  });

  it('interpolates mixed text: strings as they are, objects as JSON, undefined as nothing', async () => {
    expect(await evaluate('since={{ input.since }}&n={{ input.total }}')).toBe('since=2024-01-01&n=150');
    expect(await evaluate('tags: {{ input.tags }}')).toBe('tags: ["a","b"]');
    expect(await evaluate('[{{ input.missing }}]')).toBe('[]');
    expect(await evaluate(' {{ input.total }}')).toBe(' 150');
  });

  it('finds the closing braces after object constructors and string literals', async () => {
    expect(await evaluate('{{ {"a": {"b": 1}} }}')).toEqual({ a: { b: 1 } });
    expect(await evaluate('x{{ "}}" }}y')).toBe('x}}y');
  });

  it('evaluates expressions inside nested objects and arrays and leaves the rest alone', async () => {
    const value = {
      url: 'https://shop.example.com/orders?since={{ input.since }}',
      body: { ids: ['{{ steps.fetch.output.body.orders.id }}', 7, null], keep: { x: true } },
    };
    expect(await evaluate(value)).toEqual({
      url: 'https://shop.example.com/orders?since=2024-01-01',
      body: { ids: [[1, 2], 7, null], keep: { x: true } },
    });
  });

  it('returns a value without expressions as it is, unevaluated', async () => {
    const value = { a: [1, 'two', { three: 3 }] };
    const tpl = compileTemplate(value);
    expect(tpl).toEqual({ kind: 'literal', value });
    expect(await evaluateTemplate(tpl, {}, opts)).toBe(value);
  });

  it('returns plain arrays, not JSONata sequences', async () => {
    const result = await evaluate('{{ steps.fetch.output.body.orders.id }}');
    expect(result).toEqual([1, 2]);
    expect(Object.keys(result as object)).toEqual(['0', '1']);
  });

  it('reports an evaluation failure with the expression and JSONata message', async () => {
    const err = await failure(evaluate('{{ $number("x") }}'));
    expect(err.code).toBe('EXPRESSION_ERROR');
    expect(err.expression).toBe(' $number("x") ');
    expect(err.message).toMatch(/\$number\("x"\).*failed: Unable to cast value to a number/);
  });

  it('refuses a function as a result', async () => {
    const err = await failure(evaluate('{{ function($x) { $x } }}'));
    expect(err.code).toBe('EXPRESSION_ERROR');
    expect(err.message).toMatch(/function/);
  });

  it('runs concurrent evaluations of one cached expression each in its own time box', async () => {
    const slow = compileTemplate('{{ ( $f := function($n) { $n > 0 ? $f($n - 1) : "done" }; $f(2000) ) }}');
    const quick = evaluateTemplate(slow, {}, { timeoutMs: 5_000, now });
    let tick = 0;
    const doomed = evaluateTemplate(slow, {}, { timeoutMs: 50, now: () => tick++ });
    expect(await quick).toBe('done');
    expect((await failure(doomed)).code).toBe('EXPRESSION_TIMEOUT');
  });
});

describe('the time box', () => {
  const timeoutMs = 300;

  async function timed(tpl: Template): Promise<{ err: ExpressionError; ms: number }> {
    const start = performance.now();
    const err = await failure(evaluateTemplate(tpl, {}, { timeoutMs, now }));
    return { err, ms: performance.now() - start };
  }

  it('stops a tail-recursive function (JSONata optimises the tail call, so it never overflows)', async () => {
    const { err, ms } = await timed(compileTemplate('{{ ( $f := function($n){ $f($n+1) }; $f(0) ) }}'));
    expect(err.code).toBe('EXPRESSION_TIMEOUT');
    expect(ms).toBeLessThan(timeoutMs + 100);
  });

  it('stops a non-tail recursive function by depth, long before the deadline', async () => {
    const { err, ms } = await timed(compileTemplate('{{ ( $f := function($n){ 1 + $f($n+1) }; $f(0) ) }}'));
    expect(err.code).toBe('EXPRESSION_TIMEOUT');
    expect(err.message).toMatch(/deeper than 2000/);
    expect(ms).toBeLessThan(timeoutMs + 100);
  });

  it('stops a non-tail recursive function at the deadline when depth is not limited', async () => {
    // After the trip, unwinding tens of thousands of suspended async frames takes 15-70 ms more.
    const start = performance.now();
    const err = await failure(
      evaluateTemplate(
        compileTemplate('{{ ( $f := function($n){ 1 + $f($n+1) }; $f(0) ) }}'),
        {},
        {
          timeoutMs: 100,
          now,
          maxDepth: Number.POSITIVE_INFINITY,
        },
      ),
    );
    expect(err.code).toBe('EXPRESSION_TIMEOUT');
    expect(err.message).toMatch(/longer than 100ms/);
    expect(performance.now() - start).toBeLessThan(300);
  });

  it('stops a runaway expression hidden inside $eval', async () => {
    const { err, ms } = await timed(
      compileTemplate(`{{ $eval('( $f := function($n){ $f($n+1) }; $f(0) )') }}`),
    );
    expect(err.code).toBe('EXPRESSION_TIMEOUT');
    expect(ms).toBeLessThan(timeoutMs + 100);
  });

  it('stops a long loop over a range', async () => {
    const { err } = await timed(compileTemplate('{{ $sum([1..10000000].($ * 2)) }}'));
    expect(err.code).toBe('EXPRESSION_TIMEOUT');
  });
});

describe('expressions cannot reach the host', () => {
  const attempts = [
    '{{ $eval("process") }}',
    '{{ $lookup($lookup(input, "constructor"), "constructor")("return process")() }}',
    '{{ input.constructor.constructor("return process")() }}',
    '{{ $string.constructor("return process")() }}',
    '{{ $require("fs") }}',
    '{{ $process }}',
    '{{ $globalThis }}',
    '{{ input.__proto__ }}',
  ];
  for (const source of attempts) {
    it(`gets nothing from ${source}`, async () => {
      const outcome = await evaluate(source).then(
        (value) => ({ value }),
        (err: unknown) => ({ err }),
      );
      if ('err' in outcome) {
        expect(outcome.err).toBeInstanceOf(ExpressionError);
      } else {
        expect(outcome.value).toBeNull();
      }
    });
  }
});

describe('compileExpression', () => {
  it('returns the cached compilation for a source seen before', () => {
    const first = compileExpression('input.total * 2');
    expect(compileExpression('input.total * 2')).toBe(first);
    expect(compileTemplate('{{input.total * 2}}')).toEqual({ kind: 'expression', expression: first });
  });

  it('keeps a bounded cache, dropping the least recently used source first', () => {
    const kept = compileExpression('"kept"');
    const dropped = compileExpression('"dropped"');
    for (let i = 0; i < EXPRESSION_CACHE_SIZE; i += 1) {
      if (i % 100 === 0) compileExpression('"kept"');
      compileExpression(`${i}`);
    }
    expect(compileExpression('"kept"')).toBe(kept);
    expect(compileExpression('"dropped"')).not.toBe(dropped);
  });

  it('throws an ExpressionError with JSONata message and position on a syntax error', () => {
    let caught: unknown;
    try {
      compileExpression('a +');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ExpressionError);
    expect(caught).toMatchObject({ code: 'EXPRESSION_ERROR', expression: 'a +', position: 3 });
    expect((caught as ExpressionError).message).toMatch(/Unexpected end of expression/);
  });

  it('refuses an unclosed {{ in a template', () => {
    expect(() => compileTemplate('hello {{ name')).toThrow(/unclosed/);
  });

  it('survives sources that overflow the JSONata parser', () => {
    expect(() => compileExpression('('.repeat(100_000))).toThrow(ExpressionError);
  });
});
