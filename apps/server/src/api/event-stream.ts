import type { ServerResponse } from 'node:http';

export interface EventStreamOptions {
  /** Interval of the heartbeat comment that keeps proxies from closing an idle stream. Default: 15s. */
  heartbeatMs?: number;
  /** Bytes a slow client may leave unread before the stream is closed on it. Default: 1 MiB. */
  maxBufferedBytes?: number;
}

/**
 * One server-sent event stream (text/event-stream) on a response the caller took over from Fastify
 * (`reply.hijack()`): named events with JSON data, comments, a heartbeat, and one end — by the
 * server, the client going away, or a client too slow to read.
 */
export class EventStream {
  private open = true;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly closers: (() => void)[] = [];
  private readonly maxBufferedBytes: number;

  constructor(
    private readonly res: ServerResponse,
    args: {
      /** Headers already set for the response (security headers, CORS); the stream's own win. */
      headers?: Readonly<Record<string, string | number | readonly string[] | undefined>>;
      options?: EventStreamOptions;
    } = {},
  ) {
    this.maxBufferedBytes = args.options?.maxBufferedBytes ?? 1024 * 1024;
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(args.headers ?? {})) {
      if (value !== undefined) headers[name] = typeof value === 'number' ? String(value) : typeof value === 'string' ? value : [...value];
    }
    res.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
      // A stream's connection is not reused: once it ends, it closes, and a closing server is not
      // kept waiting by it.
      connection: 'close',
    });
    res.on('close', () => this.end());
    res.on('error', () => this.end());
    this.heartbeat = setInterval(() => this.comment('heartbeat'), args.options?.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
    // The client may have gone while the stream was being set up.
    if (res.destroyed || res.socket === null || res.socket.destroyed) this.end();
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Sends `event: <name>` with `data` as one line of JSON. */
  send(event: string, data: unknown): void {
    this.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** A comment line, ignored by clients (`: <text>`). */
  comment(text: string): void {
    this.write(`: ${text.replace(/[\r\n]+/g, ' ')}\n\n`);
  }

  /** Called once when the stream ends, whoever ends it. */
  onEnd(fn: () => void): void {
    if (this.open) this.closers.push(fn);
    else fn();
  }

  end(): void {
    if (!this.open) return;
    this.open = false;
    clearInterval(this.heartbeat);
    if (!this.res.writableEnded) this.res.end();
    for (const fn of this.closers.splice(0)) fn();
  }

  private write(chunk: string): void {
    if (!this.open) return;
    if (this.res.writableLength > this.maxBufferedBytes) {
      this.end();
      return;
    }
    this.res.write(chunk);
  }
}
