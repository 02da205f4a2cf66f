import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const AIQ = fileURLToPath(new URL('../../bin/aiq.mjs', import.meta.url));

export interface AiqResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `aiq` command in a child process from the repository root. */
export function runAiq(
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<AiqResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [AIQ, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`aiq ${args.join(' ')} did not finish in ${timeoutMs}ms\n${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
