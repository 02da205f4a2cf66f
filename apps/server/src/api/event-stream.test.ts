import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EventStream } from './event-stream';

describe('EventStream', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  /** A server whose every response is an event stream handed to `use`; returns what a client reads. */
  async function serve(use: (stream: EventStream) => void): Promise<Response> {
    server = createServer((_req, res) => use(new EventStream(res, { headers: { 'x-frame-options': 'DENY' }, options: { heartbeatMs: 30 } })));
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  }

  it('sends named JSON events and heartbeat comments with the stream headers, until it ends', async () => {
    let ended = 0;
    const response = await serve((stream) => {
      stream.onEnd(() => ended++);
      stream.send('run', { id: 'r', text: 'two\nlines' });
      setTimeout(() => stream.end(), 100);
    });
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    const text = await response.text();
    expect(text.startsWith('event: run\ndata: {"id":"r","text":"two\\nlines"}\n\n')).toBe(true);
    expect(text.split(': heartbeat\n\n').length - 1).toBeGreaterThanOrEqual(2);
    expect(ended).toBe(1);
  });

  it('ends once when the client goes away, and writes nothing after', async () => {
    let stream: EventStream | undefined;
    const ends: number[] = [];
    const response = await serve((s) => {
      stream = s;
      s.onEnd(() => ends.push(Date.now()));
      s.comment('hello');
    });
    const reader = response.body?.getReader();
    await reader?.read();
    await reader?.cancel();
    for (let i = 0; i < 100 && stream?.isOpen; i++) await new Promise((r) => setTimeout(r, 10));
    expect(stream?.isOpen).toBe(false);
    stream?.send('late', {});
    stream?.end();
    expect(ends).toHaveLength(1);
  });
});
