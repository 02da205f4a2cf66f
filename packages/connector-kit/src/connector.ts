import type { NodeTypeSpec } from '@automateiq/core';
import type { z } from 'zod';
import type { ConnectorLogger } from './connector-logger';
import type { SafeHttpClient } from './safe-http';

/** What executing a node produced. */
export type NodeOutcome =
  /** The step succeeded. `port`: for nodes with ports of their own (`flow.if`, `flow.switch`). */
  | { kind: 'output'; output: unknown; port?: string }
  /** The step waits until `until` (no worker held), then succeeds with `output`. */
  | { kind: 'wait'; until: Date; output: unknown }
  /**
   * The step waits (no worker held) until an event named `event` is delivered to the run, and succeeds
   * with its payload; at `timeoutAt` (if any) it fails with code `TIMEOUT` instead.
   */
  | { kind: 'waitForEvent'; event: string; timeoutAt?: Date | undefined }
  /**
   * The engine starts a run of another workflow of the tenant (`workflow`: its id or name; `version`:
   * pinned, else the latest of an active workflow) with `input`; the step waits (no worker held) and
   * succeeds with the child run's output, or fails with its error.
   */
  | { kind: 'subworkflow'; workflow: string; version?: number | undefined; input: unknown }
  /** The engine runs the node's inline graph once per item, at most `concurrency` at a time. */
  | { kind: 'forEach'; items: unknown[]; concurrency: number };
export type NodeOutcomeKind = NodeOutcome['kind'];

/** The run a step belongs to. */
export interface ConnectorRunInfo {
  id: string;
  tenantId: string;
  workflowId: string;
  version: number;
}

/** Caps from the tenant's plan. */
export interface ConnectorLimits {
  /** Largest heap of one `code.js` evaluation, in MiB. */
  codeMemoryMb: number;
  /** Longest `code.js` evaluation, in milliseconds. */
  codeTimeoutMs: number;
}

/** Everything a connector receives for one attempt of one step. */
export interface ConnectorContext<P> {
  /** The node's params, expressions evaluated, parsed by the connector's schema. */
  params: P;
  /** Aborted on step timeout or run cancellation, with an `AbortReason` (see connector-error.ts). */
  signal: AbortSignal;
  logger: ConnectorLogger;
  /** Stable per step: the same on every attempt, so remote systems can deduplicate. */
  idempotencyKey: string;
  /**
   * The node's credential, decrypted (`{ type, ...fields }`), or `undefined` when it has none. Its secret
   * fields are masked (`***`) in the step's output, error and logs.
   */
  credential: Readonly<Record<string, unknown>> | undefined;
  /**
   * Marks a secret the connector obtained with the credential (e.g. an OAuth2 access token): it is
   * masked like the credential's own secret fields. Absent where nothing is masked (unit tests).
   */
  maskSecret?: (secret: string) => void;
  /** 1-based. */
  attempt: number;
  run: ConnectorRunInfo;
  node: { id: string; type: string };
  /** The expression context: `input`, `trigger`, `steps`, `item`, `index`, `vars`, `run`. */
  scope: Readonly<Record<string, unknown>>;
  /** A fetch that enforces the egress policy. */
  http: SafeHttpClient;
  /** The injected clock, epoch milliseconds. */
  now(): number;
  limits: ConnectorLimits;
  /** The platform's address as people and outside systems reach it (links a node sends); undefined when unknown. */
  publicUrl?: string | undefined;
}

/** A node type that can be executed: the spec the workflow language validates against, plus `execute`. */
export interface Connector<P = unknown> extends NodeTypeSpec {
  params: z.ZodType<P>;
  /** Short label, e.g. `HTTP request`. */
  title: string;
  /** One or two sentences for the designer and `GET /v1/connectors`. */
  description: string;
  /**
   * Performs one attempt of a step. Throws `ConnectorError` to fail it (anything else becomes a
   * non-retryable `INTERNAL` error, see `toStepError`).
   */
  execute(ctx: ConnectorContext<P>): Promise<NodeOutcome>;
}

/** What `defineNode` and `defineConnector` take besides the behaviour. */
export interface ConnectorSpec<P> {
  type: string;
  title: string;
  description: string;
  /** A zod object schema (`z.object({...}).strict()`) whose fields carry `.describe()` texts. */
  params: z.ZodType<P>;
  ports?: (params: Record<string, unknown>) => readonly string[];
  rawParams?: readonly string[];
  subgraphParam?: string;
}

/** Defines a node that decides its own outcome (control nodes: ports, waits, loops). */
export function defineNode<P>(
  spec: ConnectorSpec<P> & { execute(ctx: ConnectorContext<P>): Promise<NodeOutcome> },
): Connector<P> {
  return { ...spec, execute: (ctx) => spec.execute(ctx) };
}

/** Defines a connector whose `run` returns the step's output (wrapped as `{ kind: 'output', output }`). */
export function defineConnector<P>(
  spec: ConnectorSpec<P> & { run(ctx: ConnectorContext<P>): Promise<unknown> },
): Connector<P> {
  const { run, ...rest } = spec;
  return {
    ...rest,
    execute: async (ctx) => ({ kind: 'output', output: await run(ctx) }),
  };
}
