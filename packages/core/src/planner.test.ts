import { describe, expect, it } from 'vitest';
import type { CompiledWorkflow } from './graph';
import { compileWorkflow } from './graph';
import type { EdgeDefinition, NodeDefinition, PlanAction, RunState, StepState } from './model';
import { applyActions, plan, scopeOutcome } from './planner';
import { testRegistry } from './test-registry';

const registry = testRegistry;

const node = (id: string, type = 'transform'): NodeDefinition => ({ id, type });
const forEach = (id: string, nodes: NodeDefinition[], edges: EdgeDefinition[] = []): NodeDefinition => ({
  id,
  type: 'flow.forEach',
  params: { items: '{{ input }}', do: { nodes, edges } },
});
const edge = (from: string, to: string, port?: string): EdgeDefinition =>
  port === undefined ? { from, to } : { from, to, port };

function compile(nodes: NodeDefinition[], edges: EdgeDefinition[] = []): CompiledWorkflow {
  return compileWorkflow({ name: 'test', nodes, edges }, registry);
}

/** Actions in a compact form: `start a`, `skip each[0]/b`, `settle each`, `cancel x`, `finish failed`. */
function show(actions: readonly PlanAction[]): string[] {
  return actions.map((action) => {
    if (action.kind === 'finish') return `finish ${action.outcome.status}`;
    const where = action.scope === '' ? action.nodeId : `${action.scope}/${action.nodeId}`;
    return `${action.kind} ${where}`;
  });
}

/** A run driven by hand: `next()` plans and applies; `set()` plays the engine recording a step. */
class Harness {
  state: RunState = { steps: [] };
  last: PlanAction[] = [];

  constructor(readonly workflow: CompiledWorkflow) {}

  next(): string[] {
    this.last = plan(this.workflow, this.state);
    this.state = applyActions(this.state, this.last);
    return show(this.last);
  }

  /** Replaces the step of `path` (`node` or `scope/node`) with the given fields. */
  set(path: string, fields: Partial<StepState>): this {
    const slash = path.lastIndexOf('/');
    const scope = slash < 0 ? '' : path.slice(0, slash);
    const nodeId = path.slice(slash + 1);
    const others = this.state.steps.filter((step) => step.scope !== scope || step.nodeId !== nodeId);
    this.state = { steps: [...others, { scope, nodeId, status: 'pending', attempt: 1, ...fields }] };
    return this;
  }

  ok(path: string, output: unknown = path, port?: string): this {
    return this.set(path, { status: 'succeeded', output, ...(port === undefined ? {} : { port }) });
  }

  fail(path: string, message = 'boom'): this {
    return this.set(path, { status: 'failed', error: { code: 'E', message, retryable: false } });
  }

  loop(path: string, itemCount: number, concurrency?: number): this {
    return this.set(path, {
      status: 'running',
      itemCount,
      ...(concurrency === undefined ? {} : { concurrency }),
    });
  }

  finish(): PlanAction | undefined {
    return this.last.find((action) => action.kind === 'finish');
  }
}

describe('plan: edges, joins and skips', () => {
  it('runs a linear chain one node after the other and finishes with the last output', () => {
    const run = new Harness(compile([node('a'), node('b'), node('c')], [edge('a', 'b'), edge('b', 'c')]));
    expect(run.next()).toEqual(['start a']);
    expect(run.next()).toEqual([]);
    expect(run.ok('a').next()).toEqual(['start b']);
    expect(run.ok('b').next()).toEqual(['start c']);
    expect(run.ok('c', { done: true }).next()).toEqual(['finish succeeded']);
    expect(run.finish()).toEqual({
      kind: 'finish',
      outcome: { status: 'succeeded', output: { done: true } },
    });
  });

  it('starts every root at once, fans out in parallel and joins once all branches are settled', () => {
    const run = new Harness(
      compile(
        [node('a'), node('z'), node('b'), node('c'), node('d')],
        [edge('a', 'b'), edge('a', 'c'), edge('b', 'd'), edge('c', 'd')],
      ),
    );
    expect(run.next()).toEqual(['start a', 'start z']);
    expect(run.ok('a').next()).toEqual(['start b', 'start c']);
    expect(run.ok('b').next()).toEqual([]);
    expect(run.set('c', { status: 'running' }).next()).toEqual([]);
    expect(run.ok('c').next()).toEqual(['start d']);
    expect(run.ok('d').next()).toEqual([]);
    expect(run.ok('z').next()).toEqual(['finish succeeded']);
    expect(run.finish()).toMatchObject({ outcome: { output: { z: 'z', d: 'd' } } });
  });

  describe('flow.if with a join after its branches', () => {
    const workflow = compile(
      [node('cond', 'flow.if'), node('t1'), node('t2'), node('f1'), node('join'), node('always')],
      [
        edge('cond', 't1', 'true'),
        edge('t1', 't2'),
        edge('t2', 'join'),
        edge('cond', 'f1', 'false'),
        edge('f1', 'join'),
        edge('cond', 'always'),
      ],
    );

    it('takes the true branch, skips the false one, and the join runs after the taken branch', () => {
      const run = new Harness(workflow);
      expect(run.next()).toEqual(['start cond']);
      expect(run.ok('cond', { result: true }, 'true').next()).toEqual([
        'start t1',
        'skip f1',
        'start always',
      ]);
      expect(run.ok('t1').next()).toEqual(['start t2']);
      expect(run.ok('t2').next()).toEqual(['start join']);
    });

    it('propagates the skip down the false branch in the same call', () => {
      const run = new Harness(workflow);
      run.next();
      expect(run.ok('cond', { result: false }, 'false').next()).toEqual([
        'skip t1',
        'skip t2',
        'start f1',
        'start always',
      ]);
      expect(run.ok('f1').next()).toEqual(['start join']);
    });

    it('skips a join none of whose inputs was taken, and what follows it', () => {
      const run = new Harness(
        compile(
          [node('cond', 'flow.if'), node('x'), node('y'), node('after')],
          [edge('cond', 'x', 'true'), edge('cond', 'y', 'true'), edge('x', 'after'), edge('y', 'after')],
        ),
      );
      run.next();
      expect(run.ok('cond', {}, 'false').next()).toEqual([
        'skip x',
        'skip y',
        'skip after',
        'finish succeeded',
      ]);
      expect(run.finish()).toMatchObject({ outcome: { status: 'succeeded', output: {} } });
    });
  });

  describe('failures', () => {
    it('continues by the error edge of a failed step and skips its success edges', () => {
      const run = new Harness(
        compile([node('a'), node('b'), node('handler')], [edge('a', 'b'), edge('a', 'handler', 'error')]),
      );
      run.next();
      expect(run.fail('a').next()).toEqual(['skip b', 'start handler']);
      expect(run.ok('handler', 'handled').next()).toEqual(['finish succeeded']);
      expect(run.finish()).toMatchObject({ outcome: { status: 'succeeded', output: 'handled' } });
    });

    it('does not take the error edge of a step that succeeded', () => {
      const run = new Harness(
        compile([node('a'), node('b'), node('handler')], [edge('a', 'b'), edge('a', 'handler', 'error')]),
      );
      run.next();
      expect(run.ok('a').next()).toEqual(['start b', 'skip handler']);
    });

    it('fails the run at once when a step without error edge fails, even while a sibling runs', () => {
      const run = new Harness(compile([node('a'), node('slow'), node('b')], [edge('a', 'b')]));
      run.next();
      expect(run.fail('a', 'it broke').next()).toEqual(['finish failed']);
      expect(run.finish()).toEqual({
        kind: 'finish',
        outcome: { status: 'failed', error: { code: 'E', message: 'it broke', retryable: false } },
      });
      expect(run.next()).toEqual(['finish failed']);
    });

    it('withdraws the starts of the same call when a forEach failure ends the run', () => {
      const run = new Harness(
        compile([node('a'), node('b'), forEach('each', [node('x')])], [edge('a', 'b')]),
      );
      expect(run.next()).toEqual(['start a', 'start each']);
      run.loop('each', 1).next();
      expect(run.ok('a').fail('each[0]/x').next()).toEqual(['settle each', 'finish failed']);
    });

    it('gives a failed step without recorded error a generic one', () => {
      const run = new Harness(compile([node('a')]));
      run.next();
      run.set('a', { status: 'failed' }).next();
      expect(run.finish()).toMatchObject({
        outcome: { error: { code: 'STEP_FAILED', message: 'step a failed' } },
      });
    });
  });
});

describe('plan: flow.return', () => {
  it('finishes the run at once with the return output while other steps still run', () => {
    const run = new Harness(
      compile(
        [node('a'), node('slow'), node('ret', 'flow.return'), node('after')],
        [edge('a', 'slow'), edge('a', 'ret'), edge('slow', 'after')],
      ),
    );
    run.next();
    expect(run.ok('a').next()).toEqual(['start slow', 'start ret']);
    expect(run.ok('ret', { answer: 42 }).next()).toEqual(['finish succeeded']);
    expect(run.finish()).toMatchObject({ outcome: { status: 'succeeded', output: { answer: 42 } } });
    expect(run.ok('slow').next()).toEqual(['finish succeeded']);
  });

  it('ends an item early: cancels its other pending steps and lets the next item start', () => {
    const run = new Harness(
      compile([
        forEach('each', [node('ret', 'flow.return'), node('slow'), node('after')], [edge('slow', 'after')]),
      ]),
    );
    run.next();
    expect(run.loop('each', 2).next()).toEqual(['start each[0]/ret', 'start each[0]/slow']);
    expect(run.ok('each[0]/ret', 'r0').next()).toEqual([
      'cancel each[0]/slow',
      'start each[1]/ret',
      'start each[1]/slow',
    ]);
    expect(run.next()).toEqual([]);
    // The item ended with its return, so `after` never starts.
    expect(run.ok('each[1]/slow').ok('each[1]/ret', 'r1').next()).toEqual([
      'settle each',
      'finish succeeded',
    ]);
    expect(run.finish()).toMatchObject({ outcome: { output: ['r0', 'r1'] } });
  });
});

describe('plan: the output rule', () => {
  it('uses the output of the single terminal node that succeeded', () => {
    const run = new Harness(
      compile(
        [node('cond', 'flow.if'), node('yes'), node('no')],
        [edge('cond', 'yes', 'true'), edge('cond', 'no', 'false')],
      ),
    );
    run.next();
    run.ok('cond', {}, 'false').next();
    run.ok('no', 'the no branch').next();
    expect(run.finish()).toMatchObject({ outcome: { status: 'succeeded', output: 'the no branch' } });
  });

  it('uses an object of terminal id to output when several terminals succeeded', () => {
    const run = new Harness(compile([node('a'), node('b'), node('c')], [edge('a', 'b'), edge('a', 'c')]));
    run.next();
    run.ok('a').next();
    run.ok('b', 1).ok('c', 2).next();
    expect(run.finish()).toMatchObject({ outcome: { status: 'succeeded', output: { b: 1, c: 2 } } });
  });

  it('prefers the flow.return output over the terminals', () => {
    const run = new Harness(compile([node('ret', 'flow.return'), node('other')]));
    run.next();
    run.ok('other', 'other').next();
    run.ok('ret', 'returned').next();
    expect(run.finish()).toMatchObject({ outcome: { output: 'returned' } });
    expect(scopeOutcome({ workflow: run.workflow, state: run.state })).toEqual({
      status: 'succeeded',
      output: 'returned',
    });
  });
});

describe('plan: flow.forEach', () => {
  const workflow = compile(
    [node('before'), forEach('each', [node('x'), node('y')], [edge('x', 'y')]), node('after')],
    [edge('before', 'each'), edge('each', 'after')],
  );

  it('waits while the forEach step is pending, then runs 5 items at most 2 at a time, in index order', () => {
    const run = new Harness(workflow);
    run.next();
    expect(run.ok('before').next()).toEqual(['start each']);
    expect(run.next()).toEqual([]);
    expect(run.loop('each', 5, 2).next()).toEqual(['start each[0]/x', 'start each[1]/x']);
    expect(run.ok('each[1]/x').next()).toEqual(['start each[1]/y']);
    expect(run.ok('each[1]/y', 'out1').next()).toEqual(['start each[2]/x']);
    expect(run.ok('each[2]/x').ok('each[2]/y', 'out2').next()).toEqual(['start each[3]/x']);
    expect(run.ok('each[0]/x').next()).toEqual(['start each[0]/y']);
    expect(run.ok('each[0]/y', 'out0').next()).toEqual(['start each[4]/x']);
    expect(run.ok('each[4]/x').ok('each[4]/y', 'out4').next()).toEqual([]);
    expect(run.ok('each[3]/x').next()).toEqual(['start each[3]/y']);
    expect(run.ok('each[3]/y', 'out3').next()).toEqual(['settle each', 'start after']);
    expect(run.last[0]).toEqual({
      kind: 'settle',
      scope: '',
      nodeId: 'each',
      outcome: { status: 'succeeded', output: ['out0', 'out1', 'out2', 'out3', 'out4'] },
    });
    expect(run.next()).toEqual([]);
  });

  it('fails the forEach when an item fails, cancels the other items, then fails the run at once', () => {
    const run = new Harness(workflow);
    run.next();
    run.ok('before').next();
    run.loop('each', 5, 2).next();
    run.ok('each[0]/x').next();
    expect(run.fail('each[1]/x', 'bad item').next()).toEqual([
      'settle each',
      'cancel each[0]/y',
      'finish failed',
    ]);
    const error = {
      code: 'ITEM_FAILED',
      message: 'item 1 failed: bad item',
      retryable: false,
      details: { index: 1, error: { code: 'E', message: 'bad item', retryable: false } },
    };
    expect(run.last[0]).toEqual({
      kind: 'settle',
      scope: '',
      nodeId: 'each',
      outcome: { status: 'failed', error },
    });
    expect(run.finish()).toEqual({ kind: 'finish', outcome: { status: 'failed', error } });
    expect(run.next()).toEqual(['finish failed']);
  });

  it('lets a failed forEach continue by its error edge', () => {
    const run = new Harness(
      compile(
        [forEach('each', [node('x')]), node('after'), node('handler')],
        [edge('each', 'after'), edge('each', 'handler', 'error')],
      ),
    );
    run.next();
    run.loop('each', 3, 3).next();
    expect(run.fail('each[2]/x').next()).toEqual([
      'settle each',
      'cancel each[0]/x',
      'cancel each[1]/x',
      'skip after',
      'start handler',
    ]);
  });

  it('settles an empty forEach at once with an empty list', () => {
    const run = new Harness(workflow);
    run.next();
    run.ok('before').next();
    expect(run.loop('each', 0).next()).toEqual(['settle each', 'start after']);
    expect(run.last[0]).toMatchObject({ outcome: { status: 'succeeded', output: [] } });
  });

  it('tells the outcome of one item scope, or nothing while it is open', () => {
    const run = new Harness(workflow);
    run.next();
    run.ok('before').next();
    run.loop('each', 2).next();
    const outcomeOf = (scope: string) => scopeOutcome({ workflow: run.workflow, state: run.state, scope });
    expect(outcomeOf('each[0]')).toBeUndefined();
    run.ok('each[0]/x').next();
    run.ok('each[0]/y', 'y0').next();
    expect(outcomeOf('each[0]')).toEqual({ status: 'succeeded', output: 'y0' });
    expect(outcomeOf('')).toBeUndefined();
  });

  it('runs a nested forEach inside each item and collects nested outputs', () => {
    const run = new Harness(compile([forEach('outer', [forEach('inner', [node('leaf')])])]));
    expect(run.next()).toEqual(['start outer']);
    expect(run.loop('outer', 2).next()).toEqual(['start outer[0]/inner']);
    expect(run.loop('outer[0]/inner', 2, 2).next()).toEqual([
      'start outer[0]/inner[0]/leaf',
      'start outer[0]/inner[1]/leaf',
    ]);
    expect(run.ok('outer[0]/inner[1]/leaf', 'b').next()).toEqual([]);
    expect(run.ok('outer[0]/inner[0]/leaf', 'a').next()).toEqual([
      'settle outer[0]/inner',
      'start outer[1]/inner',
    ]);
    expect(run.loop('outer[1]/inner', 1).next()).toEqual(['start outer[1]/inner[0]/leaf']);
    expect(run.ok('outer[1]/inner[0]/leaf', 'c').next()).toEqual([
      'settle outer[1]/inner',
      'settle outer',
      'finish succeeded',
    ]);
    expect(run.finish()).toMatchObject({ outcome: { output: [['a', 'b'], ['c']] } });
  });

  it('reports a nested item failure through both levels', () => {
    const run = new Harness(compile([forEach('outer', [forEach('inner', [node('leaf')])])]));
    run.next();
    run.loop('outer', 2).next();
    run.loop('outer[0]/inner', 2, 2).next();
    expect(run.fail('outer[0]/inner[1]/leaf', 'deep').next()).toEqual([
      'settle outer[0]/inner',
      'cancel outer[0]/inner[0]/leaf',
      'settle outer',
      'finish failed',
    ]);
    expect(run.finish()).toMatchObject({
      outcome: {
        status: 'failed',
        error: { code: 'ITEM_FAILED', message: 'item 0 failed: item 1 failed: deep' },
      },
    });
  });
});

describe('plan: idempotency', () => {
  it('never repeats an action for a step that is pending, running or waiting', () => {
    const run = new Harness(compile([node('a'), node('b'), node('c')], [edge('a', 'b')]));
    expect(run.next()).toEqual(['start a', 'start c']);
    expect(run.next()).toEqual([]);
    expect(run.set('a', { status: 'running' }).set('c', { status: 'waiting' }).next()).toEqual([]);
    expect(run.ok('a').next()).toEqual(['start b']);
    expect(run.next()).toEqual([]);
  });

  it('decides nothing new when its own actions are applied, forEach items included', () => {
    const run = new Harness(
      compile(
        [forEach('each', [node('x'), node('y')], [edge('x', 'y')]), node('after')],
        [edge('each', 'after')],
      ),
    );
    run.next();
    run.loop('each', 4, 2).next();
    run.ok('each[0]/x').ok('each[1]/x').next();
    const actions = plan(run.workflow, run.state);
    expect(actions).toEqual([]);
  });

  it('returns the same finish on a finished run', () => {
    const run = new Harness(compile([node('a')]));
    run.next();
    run.ok('a', 7).next();
    const first = run.finish();
    expect(plan(run.workflow, run.state)).toEqual([first]);
    expect(plan(run.workflow, run.state)).toEqual([first]);
  });
});
