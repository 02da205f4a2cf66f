/**
 * The benches' load generator: `wrk` when it is installed (load-wrk.ts; it needs far less of the
 * shared cores), else autocannon in a child process so that its work does not share the server's
 * event loop (it still shares the machine's cores, and takes much of them). The parent sends one
 * `LoadSpec` and receives one `LoadResult`. `generateLoad` runs either.
 */
import { fork } from 'node:child_process';
import autocannon from 'autocannon';
import { percentile } from './bench-database';
import { wrkAvailable, wrkLoad } from './load-wrk';

/** Marks the forked process as the load generator. */
const CHILD_FLAG = '--aiq-load-generator';

export interface LoadRequest {
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadSpec {
  /** The server's origin, e.g. `http://127.0.0.1:41234`. */
  origin: string;
  method: 'GET' | 'POST';
  connections: number;
  /** Measured time, in seconds, after `warmupSeconds` of the same load that is not counted. */
  durationSeconds: number;
  warmupSeconds: number;
  /** Sent in this order, round-robin over every connection. */
  requests: readonly LoadRequest[];
}

export interface LoadResult {
  responses: number;
  seconds: number;
  requestsPerSecond: number;
  /** Over every response, in milliseconds, from autocannon's per-response times (not its whole-ms histogram). */
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  /** Connection errors and timeouts. */
  errors: number;
  non2xx: number;
  statusCodes: Record<string, number>;
}

/** What the load generator tells its parent: the measured part begins, then its figures. */
type LoadMessage = { kind: 'measuring' } | { kind: 'result'; result: LoadResult };

/** The load generator `generateLoad` uses on this machine. */
export const loadGenerator: 'wrk' | 'autocannon' = wrkAvailable() ? 'wrk' : 'autocannon';

/**
 * Runs `spec` (with wrk, or autocannon in a fresh child process) and returns its figures.
 * `onMeasuring` is called when the warm-up is over and the measured part begins.
 */
export function generateLoad(spec: LoadSpec, onMeasuring: () => void = () => {}): Promise<LoadResult> {
  if (loadGenerator === 'wrk') return wrkLoad(spec, onMeasuring);
  return new Promise((resolve, reject) => {
    const child = fork(new URL(import.meta.url), [CHILD_FLAG], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    let result: LoadResult | undefined;
    child.on('message', (message: LoadMessage) => {
      if (message.kind === 'measuring') {
        onMeasuring();
        return;
      }
      result = message.result;
      child.disconnect();
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (result) resolve(result);
      else reject(new Error(`the load generator exited with code ${code} and no result`));
    });
    child.send(spec);
  });
}

function cannon(spec: LoadSpec, seconds: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const statusCodes: Record<string, number> = {};
    let next = 0;
    const instance = autocannon(
      {
        url: spec.origin,
        method: spec.method,
        connections: spec.connections,
        duration: seconds,
        requests: [
          {
            setupRequest: (request) => {
              const entry = spec.requests[next++ % spec.requests.length];
              if (!entry) throw new Error('the load spec has no requests');
              return { ...request, method: spec.method, path: entry.path, headers: entry.headers, body: entry.body };
            },
          },
        ],
      },
      (error, summary) => {
        if (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        latencies.sort((a, b) => a - b);
        const responses = latencies.length;
        resolve({
          responses,
          seconds: summary.duration,
          requestsPerSecond: responses / summary.duration,
          latencyMs: {
            mean: latencies.reduce((sum, ms) => sum + ms, 0) / Math.max(1, responses),
            p50: percentile(latencies, 50),
            p90: percentile(latencies, 90),
            p99: percentile(latencies, 99),
            max: latencies.at(-1) ?? Number.NaN,
          },
          errors: summary.errors,
          non2xx: summary.non2xx,
          statusCodes,
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      latencies.push(responseTime);
      statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
    });
  });
}

function tell(message: LoadMessage): void {
  process.send?.(message);
}

// The child's side: one spec in, one result out.
if (process.argv.includes(CHILD_FLAG)) {
  process.once('message', (spec: LoadSpec) => {
    void (async () => {
      if (spec.warmupSeconds > 0) await cannon(spec, spec.warmupSeconds);
      tell({ kind: 'measuring' });
      tell({ kind: 'result', result: await cannon(spec, spec.durationSeconds) });
    })().catch((error: unknown) => {
      process.stderr.write(`load generator failed: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    });
  });
}
