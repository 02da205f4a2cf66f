/** A node's credential for one step attempt: what the connector gets, and the strings to mask. */
export interface StepCredential {
  /** `{ type, ...fields }`, decrypted. */
  value: Readonly<Record<string, unknown>>;
  /** Secret values (and values derived from them) that must not surface from the step. */
  secrets: readonly string[];
}

/** Where the engine gets credentials (the vault, security/vault.ts). */
export interface CredentialSource {
  /** The tenant's credential named `name`, its read audited for the run and node; undefined when there is none. */
  forStep(args: { tenantId: string; name: string; runId: string; nodeId: string }): Promise<StepCredential | undefined>;
}
