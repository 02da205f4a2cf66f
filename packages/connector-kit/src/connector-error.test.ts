import { describe, expect, it } from 'vitest';
import { ConnectorError, stepAbortReason, toStepError } from './connector-error';

describe('ConnectorError', () => {
  it('carries code, retryable, details and cause', () => {
    const cause = new Error('socket hang up');
    const err = ConnectorError.retryable('HTTP_503', 'unavailable', { status: 503 }, { cause });
    expect(err).toBeInstanceOf(Error);
    expect(err.cause).toBe(cause);
    expect(err.toStepError()).toEqual({
      code: 'HTTP_503',
      message: 'unavailable',
      retryable: true,
      details: { status: 503 },
    });
    expect(ConnectorError.fatal('X', 'y').toStepError()).toEqual({
      code: 'X',
      message: 'y',
      retryable: false,
    });
  });
});

describe('toStepError', () => {
  it('maps abort reasons by their code', () => {
    expect(toStepError({ code: 'TIMEOUT' })).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(toStepError({ code: 'CANCELLED', message: 'stop' })).toEqual({
      code: 'CANCELLED',
      message: 'stop',
      retryable: false,
    });
    expect(toStepError(stepAbortReason('TIMEOUT', 'step timed out after 30s'))).toMatchObject({
      code: 'TIMEOUT',
      message: 'step timed out after 30s',
    });
  });

  it('maps DOMException TimeoutError and AbortError, using the signal reason', () => {
    expect(toStepError(new DOMException('t', 'TimeoutError')).code).toBe('TIMEOUT');
    expect(toStepError(new DOMException('a', 'AbortError')).code).toBe('CANCELLED');
    const controller = new AbortController();
    controller.abort({ code: 'TIMEOUT' });
    expect(toStepError(new DOMException('a', 'AbortError'), { signal: controller.signal }).code).toBe(
      'TIMEOUT',
    );
    const timedOut = new AbortController();
    timedOut.abort(new DOMException('t', 'TimeoutError'));
    expect(toStepError(new DOMException('a', 'AbortError'), { signal: timedOut.signal }).code).toBe(
      'TIMEOUT',
    );
  });

  it('maps anything else to INTERNAL without a stack', () => {
    const err = toStepError(new TypeError('x is not a function'));
    expect(err).toEqual({ code: 'INTERNAL', message: 'x is not a function', retryable: false });
    expect(toStepError('plain').message).toBe('plain');
    const hostile = {
      toString() {
        throw new Error('no');
      },
    };
    expect(toStepError(hostile).code).toBe('INTERNAL');
  });
});
