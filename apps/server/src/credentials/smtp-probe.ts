import { lookup } from 'node:dns/promises';
import { isIP, type Socket, connect as connectTcp } from 'node:net';
import { connect as connectTls } from 'node:tls';
import {
  AddressClass,
  classifyAddress,
  compileEgressAllowList,
  normaliseHost,
  parseIp,
} from '@automateiq/connector-kit';

/** An SMTP server's reply: its code and text lines. */
interface SmtpReply {
  code: number;
  lines: string[];
}

/** Largest reply read, in bytes: a server that talks more is not an SMTP server. */
const MAX_REPLY_BYTES = 64 * 1024;

/**
 * Connects to an SMTP server (TLS from the first byte when `secure`), reads its greeting, says EHLO and
 * QUIT, and describes what it offers. The host must pass the egress policy (public, or named by the
 * allow-list), as for connectors. Does not authenticate. Rejects with a message that is safe to show.
 */
export async function probeSmtp(args: {
  host: string;
  port: number;
  secure: boolean;
  egressAllow: readonly string[];
  signal: AbortSignal;
}): Promise<string> {
  const address = await egressAddress(args.host, args.egressAllow);
  const socket = await open({ ...args, address });
  const reader = replyReader(socket);
  try {
    const greeting = await reader.next(args.signal);
    if (greeting.code !== 220) throw new Error(`the server greeted with ${greeting.code}, not 220`);
    socket.write('EHLO automateiq\r\n');
    const ehlo = await reader.next(args.signal);
    if (ehlo.code !== 250) throw new Error(`the server answered EHLO with ${ehlo.code}`);
    socket.write('QUIT\r\n');
    const offers = ehlo.lines
      .slice(1)
      .map((line) => line.split(' ')[0]?.toUpperCase() ?? '')
      .filter((word) => /^[A-Z0-9-]+$/.test(word));
    return `${args.host}:${args.port} answered EHLO${args.secure ? ' over TLS' : ''}${
      offers.length > 0 ? `; it offers ${offers.join(', ')}` : ''
    } (authentication was not tried)`;
  } finally {
    socket.destroy();
  }
}

/** The address to connect to, after the egress check (a host name is resolved once: no rebinding). */
async function egressAddress(host: string, allow: readonly string[]): Promise<string> {
  const allowList = compileEgressAllowList(allow);
  const name = normaliseHost(host);
  let addresses: readonly string[];
  if (isIP(name) !== 0) addresses = [name];
  else {
    try {
      addresses = (await lookup(name, { all: true, verbatim: true })).map((a) => a.address);
    } catch (cause) {
      throw new Error(`the host ${name} does not resolve`, { cause });
    }
  }
  const first = addresses[0];
  if (first === undefined) throw new Error(`the host ${name} has no addresses`);
  if (allowList.allowsHost(name)) return first;
  for (const text of addresses) {
    const address = parseIp(text);
    if (!address) throw new Error(`the host ${name} resolves to "${text}", which is not an IP address`);
    const addressClass = classifyAddress(address);
    if (addressClass !== AddressClass.public && !allowList.allowsAddress(address))
      throw new Error(`the host ${name} resolves to ${text} (${addressClass}), which the egress allow-list does not name`);
  }
  return first;
}

function open(args: { host: string; address: string; port: number; secure: boolean; signal: AbortSignal }): Promise<Socket> {
  return new Promise((resolve, reject) => {
    if (args.signal.aborted) {
      reject(new Error(`${args.host}:${args.port} did not answer in time`));
      return;
    }
    const servername = isIP(args.host) === 0 ? args.host : undefined;
    const socket: Socket = args.secure
      ? connectTls({ host: args.address, port: args.port, ...(servername ? { servername } : {}) })
      : connectTcp({ host: args.address, port: args.port });
    const onAbort = (): void => {
      socket.destroy();
      reject(new Error(`${args.host}:${args.port} did not answer in time`));
    };
    args.signal.addEventListener('abort', onAbort, { once: true });
    socket.once(args.secure ? 'secureConnect' : 'connect', () => {
      args.signal.removeEventListener('abort', onAbort);
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      args.signal.removeEventListener('abort', onAbort);
      reject(new Error(`could not connect to ${args.host}:${args.port}: ${error.code ?? error.message}`, { cause: error }));
    });
  });
}

/** Reads SMTP replies ("250-…" continuation lines, "250 …" the last one) from a socket. */
function replyReader(socket: Socket): { next(signal: AbortSignal): Promise<SmtpReply> } {
  let buffer = '';
  let received = 0;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    received += chunk.length;
    buffer += chunk;
    if (received > MAX_REPLY_BYTES) failure = new Error('the server sent more than an SMTP reply');
    wake?.();
  });
  socket.on('error', (error: NodeJS.ErrnoException) => {
    failure = new Error(`the connection failed: ${error.code ?? error.message}`, { cause: error });
    wake?.();
  });
  socket.on('close', () => {
    failure ??= new Error('the server closed the connection');
    wake?.();
  });
  function take(): SmtpReply | undefined {
    const lines: string[] = [];
    let rest = buffer;
    for (;;) {
      const end = rest.indexOf('\n');
      if (end < 0) return undefined;
      const line = rest.slice(0, end).replace(/\r$/, '');
      rest = rest.slice(end + 1);
      const match = /^(\d{3})([ -])?(.*)$/.exec(line);
      if (!match) throw new Error('the server does not speak SMTP');
      lines.push(match[3] ?? '');
      if (match[2] !== '-') {
        buffer = rest;
        return { code: Number(match[1]), lines };
      }
    }
  }
  return {
    async next(signal) {
      for (;;) {
        const reply = take();
        if (reply) return reply;
        if (failure) throw failure;
        if (signal.aborted) throw new Error('the server did not answer in time');
        await new Promise<void>((resolve) => {
          const done = (): void => {
            signal.removeEventListener('abort', done);
            wake = undefined;
            resolve();
          };
          wake = done;
          signal.addEventListener('abort', done, { once: true });
        });
      }
    },
  };
}
