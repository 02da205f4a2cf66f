import { ErrorCode, type FieldError, PROBLEM_TYPE_BASE, type Problem } from '@automateiq/contracts';

/**
 * An error the API answers with: a code from the registry (its status and title), a detail for
 * people, the fields at fault, extension members (e.g. `quota`, `limit`) and headers (`Retry-After`).
 */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extra: {
      errors?: FieldError[];
      extensions?: Record<string, unknown>;
      headers?: Record<string, string>;
      cause?: unknown;
    } = {},
  ) {
    super(detail, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.status = ErrorCode[code].status;
  }

  toProblem(): Problem {
    return problem(this.code, this.detail, this.extra);
  }
}

export function problem(
  code: ErrorCode,
  detail: string,
  extra: { errors?: FieldError[]; extensions?: Record<string, unknown> } = {},
): Problem {
  const { status, title } = ErrorCode[code];
  // Extensions first: they can never replace a member the RFC defines.
  return {
    ...extra.extensions,
    type: `${PROBLEM_TYPE_BASE}${code}`,
    title,
    status,
    detail,
    code,
    ...(extra.errors ? { errors: extra.errors } : {}),
  };
}

/** `404` for a resource of another tenant or none at all: existence never leaks. */
export function notFound(code: ErrorCode, what: string, id: string): ApiError {
  return new ApiError(code, `${what} ${id} does not exist`);
}
