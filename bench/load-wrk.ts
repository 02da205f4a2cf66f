/**
 * The benches' load generator when `wrk` (Debian's package `wrk`, C) is on the PATH: it costs the
 * shared cores far less CPU per request than autocannon, which ran in Node and took about half of the
 * machine at a few thousand requests/s. A Lua script sends the spec's requests round-robin, counts the
 * answers by status and prints its figures as one JSON line, which `wrkLoad` reads.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadResult, LoadSpec } from './api-load';

/** Whether `wrk` can be run here. */
export function wrkAvailable(): boolean {
  const probe = spawnSync('wrk', ['--version'], { stdio: 'ignore' });
  return probe.error === undefined;
}

/** Runs `spec` with wrk (one thread): the warm-up, then the measured part. */
export async function wrkLoad(spec: LoadSpec, onMeasuring: () => void): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'aiq-wrk-'));
  try {
    const script = join(dir, 'load.lua');
    writeFileSync(script, luaScript(spec));
    if (spec.warmupSeconds > 0) await runWrk(spec, script, spec.warmupSeconds);
    onMeasuring();
    return await runWrk(spec, script, spec.durationSeconds);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What the script's `done` prints: wrk's times are in microseconds. */
interface WrkReport {
  durationUs: number;
  requests: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latencyUs: { mean: number; p50: number; p90: number; p99: number; max: number };
  statusCodes: Record<string, number>;
}

const REPORT_PREFIX = 'AIQ_WRK_REPORT ';

function runWrk(spec: LoadSpec, script: string, seconds: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const args = ['-t1', `-c${spec.connections}`, `-d${seconds}s`, '--timeout', '30s', '-s', script, spec.origin];
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (output += chunk));
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = output.split('\n').find((l) => l.startsWith(REPORT_PREFIX));
      if (code !== 0 || line === undefined) {
        reject(new Error(`wrk exited with code ${code} and no report:\n${output}`));
        return;
      }
      const report = JSON.parse(line.slice(REPORT_PREFIX.length)) as WrkReport;
      const ms = (us: number): number => us / 1_000;
      const responses = Object.values(report.statusCodes).reduce((sum, n) => sum + n, 0);
      const secondsMeasured = report.durationUs / 1_000_000;
      const non2xx = Object.entries(report.statusCodes).reduce((sum, [code, n]) => sum + (code.startsWith('2') ? 0 : n), 0);
      const { connect, read, write, timeout } = report.errors;
      resolve({
        responses,
        seconds: secondsMeasured,
        requestsPerSecond: responses / secondsMeasured,
        latencyMs: {
          mean: ms(report.latencyUs.mean),
          p50: ms(report.latencyUs.p50),
          p90: ms(report.latencyUs.p90),
          p99: ms(report.latencyUs.p99),
          max: ms(report.latencyUs.max),
        },
        errors: connect + read + write + timeout,
        non2xx,
        statusCodes: report.statusCodes,
      });
    });
  });
}

/** A Lua string literal of `text`'s UTF-8 bytes (printable ASCII as is, every other byte as `\ddd`). */
function luaString(text: string): string {
  let out = '"';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += byte >= 0x20 && byte < 0x7f && char !== '"' && char !== '\\' ? char : `\\${byte.toString().padStart(3, '0')}`;
  }
  return `${out}"`;
}

function luaScript(spec: LoadSpec): string {
  const requests = spec.requests.map((r) => {
    const headers = Object.entries(r.headers)
      .map(([name, value]) => `[${luaString(name)}] = ${luaString(value)}`)
      .join(', ');
    return `  { ${luaString(r.path)}, { ${headers} }, ${r.body === undefined ? 'nil' : luaString(r.body)} },`;
  });
  return `
local specs = {
${requests.join('\n')}
}
local prepared = {}
local next_request = 0
counts = {}  -- a global: the main state reads it with thread:get
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for i, s in ipairs(specs) do
    prepared[i] = wrk.format(${luaString(spec.method)}, s[1], s[2], s[3])
  end
end

function request()
  next_request = next_request % #prepared + 1
  return prepared[next_request]
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do
      totals[status] = (totals[status] or 0) + n
    end
  end
  local codes = {}
  for status, n in pairs(totals) do
    codes[#codes + 1] = string.format('"%d": %d', status, n)
  end
  local e = summary.errors
  io.write(string.format(
    '${REPORT_PREFIX}{"durationUs": %d, "requests": %d, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latencyUs": {"mean": %f, "p50": %d, "p90": %d, "p99": %d, "max": %d}, "statusCodes": {%s}}\\n',
    summary.duration, summary.requests, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    table.concat(codes, ", ")))
end
`;
}
