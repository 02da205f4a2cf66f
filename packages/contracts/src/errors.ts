/**
 * The registry of error codes. Every error the API answers with comes from here: a stable code, its
 * HTTP status and a title. The server turns them into RFC 9457 problem details
 * (`application/problem+json`) whose `type` is `PROBLEM_TYPE_BASE + code`.
 */
export const ErrorCode = {
  AIQ_VALIDATION: { status: 400, title: 'The request is not valid' },
  AIQ_WORKFLOW_INVALID: { status: 400, title: 'The workflow definition is not valid' },
  AIQ_TENANT_REQUIRED: { status: 400, title: 'Name a tenant with X-Tenant-ID' },
  AIQ_UNAUTHENTICATED: { status: 401, title: 'Authentication is required' },
  AIQ_INVALID_LOGIN: { status: 401, title: 'E-mail or password is wrong' },
  AIQ_MFA_REQUIRED: { status: 401, title: 'A TOTP code is required' },
  AIQ_MFA_INVALID: { status: 401, title: 'The TOTP code is wrong' },
  AIQ_SIGNATURE_INVALID: { status: 401, title: 'The webhook signature is missing, wrong or too old' },
  AIQ_TOKEN_INVALID: { status: 401, title: 'The token is invalid, expired or revoked' },
  AIQ_FORBIDDEN: { status: 403, title: 'Your role does not allow this' },
  AIQ_MFA_ENROLMENT_REQUIRED: { status: 403, title: 'This tenant requires a second factor: enrol in TOTP first' },
  AIQ_TENANT_SUSPENDED: { status: 403, title: 'The tenant is suspended' },
  AIQ_PLAN_LIMIT_REACHED: { status: 403, title: "A limit of the tenant's plan is reached" },
  AIQ_NOT_FOUND: { status: 404, title: 'No such route' },
  AIQ_TENANT_NOT_FOUND: { status: 404, title: 'Tenant not found' },
  AIQ_WORKFLOW_NOT_FOUND: { status: 404, title: 'Workflow not found' },
  AIQ_VERSION_NOT_FOUND: { status: 404, title: 'Workflow version not found' },
  AIQ_RUN_NOT_FOUND: { status: 404, title: 'Run not found' },
  AIQ_CREDENTIAL_NOT_FOUND: { status: 404, title: 'Credential not found' },
  AIQ_MEMBER_NOT_FOUND: { status: 404, title: 'Member not found' },
  AIQ_API_KEY_NOT_FOUND: { status: 404, title: 'API key not found' },
  AIQ_WEBHOOK_NOT_FOUND: { status: 404, title: 'No webhook at this address' },
  AIQ_APPROVAL_NOT_FOUND: { status: 404, title: 'The run has no such approval step' },
  AIQ_METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  AIQ_NOT_ACCEPTABLE: { status: 406, title: 'Not acceptable' },
  AIQ_SLUG_TAKEN: { status: 409, title: 'The slug is taken' },
  AIQ_NAME_TAKEN: { status: 409, title: 'The name is taken' },
  AIQ_ALREADY_MEMBER: { status: 409, title: 'The user is already a member' },
  AIQ_LAST_OWNER: { status: 409, title: 'A tenant keeps at least one owner' },
  AIQ_RUN_FINISHED: { status: 409, title: 'The run has finished' },
  AIQ_RUN_NOT_RETRYABLE: { status: 409, title: 'Only a failed or cancelled run can be retried' },
  AIQ_MFA_ALREADY_ENABLED: { status: 409, title: 'TOTP is already enabled' },
  AIQ_APPROVAL_CLOSED: { status: 409, title: 'The approval step is not waiting for a decision' },
  AIQ_WEBHOOK_PATH_TAKEN: { status: 409, title: 'Another active workflow answers this webhook path' },
  AIQ_PAYLOAD_TOO_LARGE: { status: 413, title: 'The payload is too large' },
  AIQ_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  AIQ_RATE_LIMITED: { status: 429, title: 'Too many requests' },
  AIQ_QUOTA_EXCEEDED: { status: 429, title: 'A quota of the tenant is exhausted' },
  AIQ_LOGIN_LOCKED: { status: 429, title: 'Too many failed logins: try again later' },
  AIQ_INTERNAL: { status: 500, title: 'Internal error' },
  AIQ_RUN_FAILED: { status: 502, title: 'The run did not succeed' },
  AIQ_UNAVAILABLE: { status: 503, title: 'Service unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;
export type ErrorCode = keyof typeof ErrorCode;

export const PROBLEM_TYPE_BASE = 'https://automateiq.dev/problems/';

/** One problem with one field: `path` names it (`body.definition.nodes[0].id`, `query.limit`). */
export interface FieldError {
  path: string;
  message: string;
}

/** RFC 9457 problem details, with the code and, for bad input, the fields at fault. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  errors?: FieldError[];
  [extension: string]: unknown;
}
