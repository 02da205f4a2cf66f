import {
  AbortCode,
  type Connector,
  type ConnectorLimits,
  type ConnectorLogger,
  createSecretMask,
  parseConnectorParams,
  type SecretMask,
  type SafeHttpClient,
  stepAbortReason,
  toStepError,
} from '@automateiq/connector-kit';
import {
  compileTemplate,
  durationMs,
  ExpressionError,
  evaluateTemplate,
  expressionScope,
  graphOfScope,
  type NodeDefinition,
  type StepError,
  type Template,
} from '@automateiq/core';
import type { RunContext } from '../store/queries/load-run-contexts';
import type { CredentialSource, StepCredential } from './credential-source';
import type { LoadedWorkflow } from './workflow-cache';

/** What one attempt of a step came to. */
export type StepResult =
  | { kind: 'succeeded'; output: unknown; port?: string | undefined }
  | { kind: 'waiting'; until: number; output: unknown }
  /** Waits for an event named `event` delivered to the run; fails with TIMEOUT at `timeoutAt` (epoch ms) if any. */
  | { kind: 'waitingForEvent'; event: string; timeoutAt?: number | undefined }
  /** Starts a run of another workflow and waits for it (see `NodeOutcome` `subworkflow`). */
  | { kind: 'startChild'; workflow: string; version?: number | undefined; input: unknown }
  | { kind: 'forEach'; items: unknown[]; concurrency: number }
  | { kind: 'failed'; error: StepError };

export interface StepRunnerOptions {
  connectors: ReadonlyMap<string, Connector>;
  http: SafeHttpClient;
  limits: ConnectorLimits;
  logger: (bindings: Record<string, unknown>) => ConnectorLogger;
  /** The platform's public address, for links nodes send (approvals). */
  publicUrl?: string | undefined;
  /** A run's resume URL (`run.resumeUrl`); absent: null. */
  resumeUrl?: ((tenantId: string, runId: string) => string) | undefined;
  /** Where nodes' credentials come from. Default: none (a node that names a credential fails). */
  credentials?: CredentialSource | undefined;
  /** The tenant's largest allowed step output in bytes (its plan's maxPayloadBytes); null: unlimited. Default: none. */
  maxOutputBytes?: ((tenantId: string) => Promise<number | null>) | undefined;
  /** Time allowed for evaluating one node's params. Default: 1s. */
  expressionTimeoutMs?: number;
  /** A step attempt's timeout when its node sets none. Default: 5m. */
  defaultStepTimeoutMs?: number;
  now?: () => number;
}

/**
 * Performs one attempt of one step: evaluates the node's params over the run context, parses them
 * with the connector's schema, and runs the connector under an AbortSignal that fires on the step's
 * timeout or the run's cancellation. Never throws: every failure becomes a `failed` result.
 *
 * A node that names a credential gets it decrypted in `ctx.credential` (each read audited by the
 * vault); every secret of it, and every secret the connector reports through `ctx.maskSecret`, is
 * masked (`***`) in the step's output, error and logs.
 */
export class StepRunner {
  private readonly templates = new WeakMap<NodeDefinition, Template>();
  private readonly now: () => number;

  constructor(private readonly options: StepRunnerOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Performs a pure step inside a transaction that holds its run (a completing or a starting one): a
   * cancellation waits for that transaction, so the step needs no abort signal of its own.
   */
  readonly runPure = (args: Omit<Parameters<StepRunner['run']>[0], 'cancel'>): Promise<StepResult> =>
    this.run({ ...args, cancel: new AbortController().signal });

  async run(args: {
    tenantId: string;
    run: RunContext;
    workflow: LoadedWorkflow;
    scope: string;
    nodeId: string;
    attempt: number;
    /** Aborted when the run is cancelled. */
    cancel: AbortSignal;
  }): Promise<StepResult> {
    const node = graphOfScope(args.workflow.compiled, args.scope).nodes.get(args.nodeId);
    const connector = node && this.options.connectors.get(node.type);
    if (!node || !connector) {
      return fail('UNKNOWN_NODE', `node "${args.nodeId}" of type "${node?.type ?? '?'}" cannot be run`);
    }
    const credential = await this.credentialOf({ tenantId: args.tenantId, runId: args.run.id, node });
    if (credential !== undefined && 'kind' in credential) return credential;
    const mask = createSecretMask(credential?.secrets);
    const result = maskResult(await this.attempt({ ...args, node, connector, credential, mask }), mask);
    return this.withinOutputLimit(args.tenantId, result);
  }

  /** A step whose output is larger than the tenant's plan allows fails (OUTPUT_TOO_LARGE), not retried. */
  private async withinOutputLimit(tenantId: string, result: StepResult): Promise<StepResult> {
    if (!this.options.maxOutputBytes) return result;
    const carried = result.kind === 'succeeded' || result.kind === 'waiting' ? result.output : result.kind === 'forEach' ? result.items : undefined;
    if (carried === undefined) return result;
    const limit = await this.options.maxOutputBytes(tenantId);
    if (limit === null) return result;
    const bytes = Buffer.byteLength(JSON.stringify(carried) ?? '');
    if (bytes <= limit) return result;
    return {
      kind: 'failed',
      error: {
        code: 'OUTPUT_TOO_LARGE',
        message: `the step's output is ${bytes} bytes; the plan's maxPayloadBytes is ${limit}`,
        retryable: false,
        details: { bytes, limit },
      },
    };
  }

  /** The node's credential, undefined when it names none, or the step's failure. */
  private async credentialOf(args: {
    tenantId: string;
    runId: string;
    node: NodeDefinition;
  }): Promise<StepCredential | undefined | Extract<StepResult, { kind: 'failed' }>> {
    const name = args.node.credential;
    if (name === undefined) return undefined;
    const source = this.options.credentials;
    if (!source) return fail('CREDENTIAL_UNAVAILABLE', `credential "${name}": this engine has no credentials vault`);
    let found: StepCredential | undefined;
    try {
      found = await source.forStep({ tenantId: args.tenantId, name, runId: args.runId, nodeId: args.node.id });
    } catch (error) {
      return {
        kind: 'failed',
        error: {
          code: 'CREDENTIAL_UNAVAILABLE',
          message: `credential "${name}" could not be read: ${error instanceof Error ? error.message : String(error)}`,
          retryable: true,
        },
      };
    }
    return found ?? fail('CREDENTIAL_NOT_FOUND', `credential "${name}" does not exist in this tenant`);
  }

  private async attempt(args: Parameters<StepRunner['run']>[0] & {
    node: NodeDefinition;
    connector: Connector;
    credential: StepCredential | undefined;
    mask: SecretMask;
  }): Promise<StepResult> {
    const { node, connector, mask } = args;
    const timeoutMs =
      node.timeout === undefined ? (this.options.defaultStepTimeoutMs ?? 300_000) : durationMs(node.timeout);
    const controller = new AbortController();
    const onCancel = (): void => controller.abort(stepAbortReason(AbortCode.cancelled));
    if (args.cancel.aborted) onCancel();
    args.cancel.addEventListener('abort', onCancel, { once: true });
    const timer = setTimeout(
      () => controller.abort(stepAbortReason(AbortCode.timeout, `the step timed out after ${timeoutMs}ms`)),
      timeoutMs,
    );
    try {
      const scope = {
        ...expressionScope({
          state: { steps: args.run.steps },
          scope: args.scope,
          run: {
            id: args.run.id,
            workflowId: args.run.workflowId,
            version: args.run.version,
            startedAt: args.run.startedAt?.toISOString() ?? null,
            input: args.run.input,
            trigger: args.run.trigger,
            resumeUrl: this.options.resumeUrl?.(args.tenantId, args.run.id) ?? null,
          },
          vars: {},
        }),
        attempt: args.attempt,
      };
      const evaluated = await evaluateTemplate(this.templateOf(node, connector), scope, {
        timeoutMs: this.options.expressionTimeoutMs ?? 1_000,
        now: () => performance.now(),
      });
      const params = parseConnectorParams(connector, {
        ...rawParams(node, connector),
        ...(evaluated as object),
      });
      const outcome = await abortable(
        connector.execute({
          params,
          signal: controller.signal,
          logger: maskedLogger(
            this.options.logger({ tenantId: args.tenantId, runId: args.run.id, nodeId: node.id, scope: args.scope }),
            args.credential && mask,
          ),
          idempotencyKey: `${args.run.id}:${args.scope}:${node.id}`,
          credential: args.credential?.value,
          ...(args.credential ? { maskSecret: (secret: string) => mask.add(secret) } : {}),
          attempt: args.attempt,
          run: {
            id: args.run.id,
            tenantId: args.tenantId,
            workflowId: args.run.workflowId,
            version: args.run.version,
          },
          node: { id: node.id, type: node.type },
          scope,
          http: this.options.http,
          now: this.now,
          limits: this.options.limits,
          publicUrl: this.options.publicUrl,
        }),
        controller.signal,
      );
      switch (outcome.kind) {
        case 'output':
          return { kind: 'succeeded', output: outcome.output, port: outcome.port };
        case 'wait':
          return { kind: 'waiting', until: outcome.until.getTime(), output: outcome.output };
        case 'waitForEvent':
          return { kind: 'waitingForEvent', event: outcome.event, timeoutAt: outcome.timeoutAt?.getTime() };
        case 'subworkflow':
          return { kind: 'startChild', workflow: outcome.workflow, version: outcome.version, input: outcome.input };
        case 'forEach':
          return { kind: 'forEach', items: outcome.items, concurrency: outcome.concurrency };
      }
    } catch (error) {
      return { kind: 'failed', error: stepErrorOf(error) };
    } finally {
      clearTimeout(timer);
      args.cancel.removeEventListener('abort', onCancel);
    }
  }

  /** The node's params without its raw ones, compiled once per node definition. */
  private templateOf(node: NodeDefinition, connector: Connector): Template {
    let template = this.templates.get(node);
    if (!template) {
      const raw = new Set(connector.rawParams ?? []);
      const evaluated = Object.fromEntries(
        Object.entries(node.params ?? {}).filter(([key]) => !raw.has(key)),
      );
      template = compileTemplate(evaluated);
      this.templates.set(node, template);
    }
    return template;
  }
}

function rawParams(node: NodeDefinition, connector: Connector): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const key of connector.rawParams ?? []) {
    if (node.params && key in node.params) raw[key] = node.params[key];
  }
  return raw;
}

/** A connector that ignores its signal still yields at the abort: the step must end on time. */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Expression failures are the user's: their code and the expression travel with them. */
function stepErrorOf(error: unknown): StepError {
  if (error instanceof ExpressionError) {
    return {
      code: error.code,
      message: error.message,
      retryable: false,
      details: { expression: error.expression },
    };
  }
  return toStepError(error);
}

function fail(code: string, message: string): Extract<StepResult, { kind: 'failed' }> {
  return { kind: 'failed', error: { code, message, retryable: false } };
}

/** A logger that masks secrets in messages and data; the logger itself when there is no credential. */
function maskedLogger(logger: ConnectorLogger, mask: SecretMask | undefined): ConnectorLogger {
  if (!mask) return logger;
  const masked =
    (write: ConnectorLogger['info']): ConnectorLogger['info'] =>
    (message, data) =>
      write(mask.text(message), data === undefined ? undefined : mask.value(data));
  return {
    debug: masked((m, d) => logger.debug(m, d)),
    info: masked((m, d) => logger.info(m, d)),
    warn: masked((m, d) => logger.warn(m, d)),
    error: masked((m, d) => logger.error(m, d)),
  };
}

/** The result with every secret masked in what it carries. */
function maskResult(result: StepResult, mask: SecretMask): StepResult {
  if (mask.empty) return result;
  switch (result.kind) {
    case 'succeeded':
    case 'waiting':
      return { ...result, output: mask.value(result.output) };
    case 'forEach':
      return { ...result, items: mask.value(result.items) };
    case 'failed':
      return { ...result, error: mask.value(result.error) };
    case 'waitingForEvent':
      return result;
    case 'startChild':
      return { ...result, input: mask.value(result.input) };
  }
}
