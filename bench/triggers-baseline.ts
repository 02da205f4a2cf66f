/**
 * The triggers bench's baseline: a bare `node:http` server that commits one row per request (the
 * request's body, INSERTed with autocommit through a `pg` pool into a table of the bench database)
 * and answers 200 once the row is committed. What accepting a request durably costs with no framework,
 * no tenant, no security and no engine: the ceiling a webhook is compared with.
 */
import { createServer } from 'node:http';
import pg from 'pg';

export interface PlainInsertServer {
  /** e.g. `http://127.0.0.1:41234`; any method and path inserts. */
  origin: string;
  close(): Promise<void>;
}

/** Creates the table `bench_plain` in the database at `url` (as its owner) and serves on 127.0.0.1. */
export async function startPlainInsertServer(args: { url: string; poolSize: number }): Promise<PlainInsertServer> {
  const owner = new pg.Client({ connectionString: args.url });
  await owner.connect();
  try {
    await owner.query(
      `CREATE TABLE bench_plain (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload jsonb NOT NULL,
                                 created_at timestamptz NOT NULL DEFAULT now())`,
    );
  } finally {
    await owner.end();
  }
  const pool = new pg.Pool({ connectionString: args.url, max: args.poolSize });
  // An idle client's connection lost (e.g. the server restarted) is replaced on the next query.
  pool.on('error', (error) => process.stderr.write(`baseline pool: ${error.message}\n`));

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const payload = chunks.length > 0 ? Buffer.concat(chunks).toString('utf8') : 'null';
      pool.query('INSERT INTO bench_plain (payload) VALUES ($1)', [payload]).then(
        () => response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'),
        (error: unknown) => response.writeHead(500).end(error instanceof Error ? error.message : String(error)),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the baseline server has no TCP address');
  return {
    origin: `http://127.0.0.1:${address.port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      await pool.end();
    },
  };
}
