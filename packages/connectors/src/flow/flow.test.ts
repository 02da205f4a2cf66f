import { ConnectorError, parseConnectorParams } from '@automateiq/connector-kit';
import { describe, expect, it } from 'vitest';
import { executeForTest, rejection } from '../test-run';
import { flowFail } from './flow-fail';
import { flowForEach } from './flow-for-each';
import { flowIf } from './flow-if';
import { flowReturn } from './flow-return';
import { flowSwitch } from './flow-switch';
import { flowWait } from './flow-wait';
import { flowWaitForEvent } from './flow-wait-for-event';
import { isTruthy } from './is-truthy';

describe('isTruthy', () => {
  it.each([false, 0, Number.NaN, null, undefined, '', '0', 'false', 'FALSE', ' false ', '  '])(
    '%j is false',
    (v) => {
      expect(isTruthy(v)).toBe(false);
    },
  );
  it.each([true, 1, -1, 'true', 'no', 'f', '00', [], {}, 'x'])('%j is true', (v) => {
    expect(isTruthy(v)).toBe(true);
  });
});

describe('flow.if', () => {
  it('leaves by the true or false port with { result }', async () => {
    expect(await executeForTest(flowIf, { condition: 'yes' })).toEqual({
      kind: 'output',
      output: { result: true },
      port: 'true',
    });
    expect(await executeForTest(flowIf, { condition: 'false' })).toEqual({
      kind: 'output',
      output: { result: false },
      port: 'false',
    });
    expect(await executeForTest(flowIf, { condition: undefined })).toMatchObject({ port: 'false' });
  });

  it('declares its ports', () => {
    expect(flowIf.ports?.({})).toEqual(['true', 'false']);
  });
});

describe('flow.switch', () => {
  it('takes the case equal to String(value), else default', async () => {
    const cases = ['a', '1', 'true'];
    expect(await executeForTest(flowSwitch, { value: 'a', cases })).toEqual({
      kind: 'output',
      output: { value: 'a' },
      port: 'a',
    });
    expect(await executeForTest(flowSwitch, { value: 1, cases })).toMatchObject({
      port: '1',
      output: { value: 1 },
    });
    expect(await executeForTest(flowSwitch, { value: true, cases })).toMatchObject({ port: 'true' });
    expect(await executeForTest(flowSwitch, { value: 'z', cases })).toMatchObject({ port: 'default' });
  });

  it('declares the cases and default as ports, only when cases is a list of strings', () => {
    expect(flowSwitch.ports?.({ cases: ['a', 'b', 'a'] })).toEqual(['a', 'b', 'default']);
    expect(flowSwitch.ports?.({ cases: '{{ vars.cases }}' })).toEqual(['default']);
    expect(flowSwitch.ports?.({ cases: ['a', 1] })).toEqual(['default']);
    expect(flowSwitch.ports?.({})).toEqual(['default']);
  });

  it('refuses reserved and repeated case names', () => {
    for (const cases of [['success'], ['error'], ['default'], ['a', 'a']]) {
      expect(() => parseConnectorParams(flowSwitch, { value: 1, cases })).toThrow(ConnectorError);
    }
  });
});

describe('flow.forEach', () => {
  const graph = { nodes: [{ id: 'x', type: 'transform', params: { value: '{{ item }}' } }] };

  it('asks the engine to run the graph per item, concurrency default 1', async () => {
    expect(await executeForTest(flowForEach, { items: [1, 2], do: graph })).toEqual({
      kind: 'forEach',
      items: [1, 2],
      concurrency: 1,
    });
    expect(await executeForTest(flowForEach, { items: [], concurrency: 5, do: graph })).toMatchObject({
      concurrency: 5,
    });
  });

  it('fails with INVALID_ITEMS when items is not an array', async () => {
    for (const items of [undefined, null, 'a,b', { 0: 'a' }]) {
      const err = await rejection(executeForTest(flowForEach, { items, do: graph }));
      expect(err).toBeInstanceOf(ConnectorError);
      expect(err).toMatchObject({ code: 'INVALID_ITEMS', retryable: false });
    }
  });

  it('bounds concurrency to 1..100 and declares do as a raw subgraph', () => {
    for (const concurrency of [0, 101, 1.5]) {
      expect(() => parseConnectorParams(flowForEach, { items: [], concurrency, do: graph })).toThrow(
        /concurrency/,
      );
    }
    expect(flowForEach.subgraphParam).toBe('do');
    expect(flowForEach.rawParams).toEqual(['do']);
  });
});

describe('flow.wait', () => {
  const now = Date.parse('2030-01-01T00:00:00.000Z');

  it('waits for a duration from now()', async () => {
    const outcome = await executeForTest(flowWait, { duration: '5m' }, { now: () => now });
    expect(outcome).toEqual({
      kind: 'wait',
      until: new Date(now + 300_000),
      output: { waitedUntil: '2030-01-01T00:05:00.000Z' },
    });
  });

  it('waits until a time', async () => {
    const outcome = await executeForTest(
      flowWait,
      { until: '2030-01-02T09:30:00+02:00' },
      { now: () => now },
    );
    expect(outcome).toMatchObject({ kind: 'wait', output: { waitedUntil: '2030-01-02T07:30:00.000Z' } });
  });

  it('needs exactly one of duration and until, each well-formed', () => {
    for (const params of [
      {},
      { duration: '1s', until: '2030-01-01T00:00:00Z' },
      { duration: '5 minutes' },
      { until: 'tomorrow' },
    ]) {
      expect(() => parseConnectorParams(flowWait, params)).toThrow(ConnectorError);
    }
  });
});

describe('flow.return', () => {
  it('outputs its value, null when absent; status and headers stay params', async () => {
    expect(
      await executeForTest(flowReturn, { value: { ok: 1 }, status: 201, headers: { 'x-a': 'b' } }),
    ).toEqual({
      kind: 'output',
      output: { ok: 1 },
    });
    expect(await executeForTest(flowReturn, {})).toEqual({ kind: 'output', output: null });
    expect(() => parseConnectorParams(flowReturn, { status: 600 })).toThrow(ConnectorError);
  });
});

describe('flow.fail', () => {
  it('fails, not retryable, with its code (default FLOW_FAIL) and message', async () => {
    expect(await rejection(executeForTest(flowFail, { message: 'no stock' }))).toMatchObject({
      code: 'FLOW_FAIL',
      message: 'no stock',
      retryable: false,
    });
    expect(await rejection(executeForTest(flowFail, { message: 'm', code: 'OUT_OF_STOCK' }))).toMatchObject({
      code: 'OUT_OF_STOCK',
    });
  });
});

describe('flow.waitForEvent', () => {
  const now = Date.parse('2030-01-01T00:00:00.000Z');

  it('waits for the named event, until the timeout if it has one', async () => {
    expect(await executeForTest(flowWaitForEvent, { event: 'payment.confirmed', timeout: '2h' }, { now: () => now })).toEqual({
      kind: 'waitForEvent',
      event: 'payment.confirmed',
      timeoutAt: new Date(now + 7_200_000),
    });
    expect(await executeForTest(flowWaitForEvent, { event: 'go' }, { now: () => now })).toEqual({
      kind: 'waitForEvent',
      event: 'go',
      timeoutAt: undefined,
    });
  });

  it('refuses a name that is not one, and a bad timeout', () => {
    for (const params of [{ event: '' }, { event: 'has space' }, { event: 'x', timeout: 'soon' }, { timeout: '1m' }]) {
      expect(() => parseConnectorParams(flowWaitForEvent, params)).toThrow(ConnectorError);
    }
  });
});
