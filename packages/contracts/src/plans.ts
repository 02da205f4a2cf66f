import { z } from 'zod';

/** A tenant's limits. `null`: unlimited. */
export const quotasSchema = z.strictObject({
  /** API requests per minute, per tenant. */
  apiRequestsPerMinute: z.int().min(1).max(10_000_000).nullable(),
  /** Runs started per UTC day. */
  runsPerDay: z.int().min(0).max(1_000_000_000).nullable(),
  /** Runs in progress at once (more wait, queued). */
  concurrentRuns: z.int().min(1).max(1_000_000).nullable(),
  /** Workflows the tenant may keep. */
  maxWorkflows: z.int().min(0).max(1_000_000).nullable(),
  /** Largest run input, webhook body or step output, in bytes. */
  maxPayloadBytes: z.int().min(1_024).max(64 * 1024 * 1024).nullable(),
});
export type Quotas = z.infer<typeof quotasSchema>;

export const Plan = { free: 'free', standard: 'standard', enterprise: 'enterprise', unlimited: 'unlimited' } as const;
export type Plan = (typeof Plan)[keyof typeof Plan];
export const planSchema = z.enum(['free', 'standard', 'enterprise', 'unlimited']);

/** Each plan's quotas; a platform admin may override any of them per tenant. */
export const PLAN_QUOTAS: Readonly<Record<Plan, Quotas>> = {
  free: {
    apiRequestsPerMinute: 600,
    runsPerDay: 1_000,
    concurrentRuns: 5,
    maxWorkflows: 20,
    maxPayloadBytes: 256 * 1024,
  },
  standard: {
    apiRequestsPerMinute: 6_000,
    runsPerDay: 100_000,
    concurrentRuns: 50,
    maxWorkflows: 500,
    maxPayloadBytes: 1024 * 1024,
  },
  enterprise: {
    apiRequestsPerMinute: 60_000,
    runsPerDay: 5_000_000,
    concurrentRuns: 1_000,
    maxWorkflows: 10_000,
    maxPayloadBytes: 10 * 1024 * 1024,
  },
  unlimited: {
    apiRequestsPerMinute: null,
    runsPerDay: null,
    concurrentRuns: null,
    maxWorkflows: null,
    maxPayloadBytes: 64 * 1024 * 1024,
  },
};

/** A tenant's quotas: its plan's, with what was stored for it on top (older tenants stored none). */
export function effectiveQuotas(plan: string, stored: Partial<Quotas> | null | undefined): Quotas {
  const base = plan in PLAN_QUOTAS ? PLAN_QUOTAS[plan as Plan] : PLAN_QUOTAS.standard;
  return { ...base, ...stored };
}
