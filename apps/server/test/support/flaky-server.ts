import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local HTTP peer that counts the requests of every path (the side effects a retry must not
 * repeat) and answers 400 to the first `failFirst` requests of the paths it is told to fail, 200 with
 * `{ path, hit }` otherwise (or the status given to `failFirst`, e.g. a retryable 500). `hold(path)`
 * keeps requests of a path waiting until `release(path)`.
 */
export interface FlakyServer {
  url: string;
  hits(path: string): number;
  failFirst(path: string, times?: number, status?: number): void;
  hold(path: string): void;
  release(path: string): void;
  close(): Promise<void>;
}

export async function startFlakyServer(): Promise<FlakyServer> {
  const hits = new Map<string, number>();
  const failures = new Map<string, { left: number; status: number }>();
  const held = new Map<string, (() => void)[] | undefined>();
  const answer = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const hit = (hits.get(path) ?? 0) + 1;
    hits.set(path, hit);
    const respond = (): void => {
      const failure = failures.get(path);
      if (failure && failure.left > 0) {
        failure.left--;
        res.writeHead(failure.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `${path} failed` }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path, hit }));
    };
    const waiting = held.get(path);
    if (waiting) waiting.push(respond);
    else respond();
  };
  const server = createServer(answer);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const release = (path: string): void => {
    const waiting = held.get(path) ?? [];
    held.delete(path);
    for (const respond of waiting) respond();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    hits: (path) => hits.get(path) ?? 0,
    failFirst: (path, times = 1, status = 400) => failures.set(path, { left: times, status }),
    hold: (path) => held.set(path, held.get(path) ?? []),
    release,
    async close() {
      for (const path of [...held.keys()]) release(path);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
