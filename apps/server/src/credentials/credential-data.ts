import {
  CREDENTIAL_TYPES,
  type CredentialFieldSpec,
  type CredentialType,
  type FieldError,
} from '@automateiq/contracts';

/** A credential's fields split for storage: non-secret ones in the clear, secret ones to seal. */
export interface CredentialData {
  publicData: Record<string, unknown>;
  secrets: Record<string, unknown>;
}

/** Longest value of a text field, in characters. */
const MAX_TEXT = 16_384;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The fields of a credential type. */
export function fieldsOf(type: CredentialType): Readonly<Record<string, CredentialFieldSpec>> {
  return CREDENTIAL_TYPES[type].fields;
}

/**
 * Checks `data` against the type's fields and splits it. Problems name `body.data.<field>`: an unknown
 * field, a required field missing (or null), a value of the wrong kind. A secret field left out keeps
 * its value from `stored` (the credential's current secrets, on a PUT of the same type); `null` clears
 * an optional field. Pure.
 */
export function checkCredentialData(args: {
  type: CredentialType;
  data: Readonly<Record<string, unknown>>;
  stored?: Readonly<Record<string, unknown>> | undefined;
}): { ok: true; value: CredentialData } | { ok: false; errors: FieldError[] } {
  const fields = fieldsOf(args.type);
  const errors: FieldError[] = [];
  const value: CredentialData = { publicData: {}, secrets: {} };
  for (const name of Object.keys(args.data)) {
    if (!Object.hasOwn(fields, name)) {
      errors.push({
        path: `body.data.${name}`,
        message: `is not a field of a ${args.type} credential (its fields: ${Object.keys(fields).join(', ')})`,
      });
    }
  }
  for (const [name, spec] of Object.entries(fields)) {
    const given = Object.hasOwn(args.data, name) ? args.data[name] : undefined;
    const kept = given === undefined && spec.secret ? args.stored?.[name] : undefined;
    const field = given ?? kept;
    if (field === undefined || field === null) {
      if (spec.required) errors.push({ path: `body.data.${name}`, message: 'is required' });
      continue;
    }
    const problem = given === undefined ? undefined : problemOf(given, spec);
    if (problem !== undefined) {
      errors.push({ path: `body.data.${name}`, message: problem });
      continue;
    }
    (spec.secret ? value.secrets : value.publicData)[name] = field;
  }
  errors.push(...(TYPE_RULES[args.type]?.({ ...value.publicData, ...value.secrets }) ?? []));
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value };
}

/** What is wrong with a field's value, or undefined. Messages never repeat the value. */
function problemOf(value: unknown, spec: CredentialFieldSpec): string | undefined {
  switch (spec.kind) {
    case 'text':
      return isText(value) ? undefined : `must be a non-empty string of at most ${MAX_TEXT} characters`;
    case 'url':
      return isText(value) && isUrl(value) ? undefined : 'must be an absolute URL (scheme://host…)';
    case 'port':
      return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65_535
        ? undefined
        : 'must be a port number from 1 to 65535';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
    case 'textList':
      return isText(value) || (Array.isArray(value) && value.length > 0 && value.every(isText))
        ? undefined
        : 'must be a non-empty string or a non-empty list of them';
    case 'choice': {
      const choices = spec.choices ?? [];
      return typeof value === 'string' && choices.includes(value) ? undefined : `must be one of ${choices.join(', ')}`;
    }
  }
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && value.length <= MAX_TEXT;
}

function isUrl(value: string): boolean {
  try {
    return new URL(value).protocol.length > 1 && /^[a-z][a-z0-9+.-]*:\/\//i.test(value);
  } catch {
    return false;
  }
}

/** Rules across a type's fields. */
const TYPE_RULES: Partial<Record<CredentialType, (fields: Record<string, unknown>) => FieldError[]>> = {
  apiKey: (fields) => {
    const errors: FieldError[] = [];
    if (fields.header !== undefined && fields.query !== undefined)
      errors.push({ path: 'body.data.query', message: 'set header or query, not both' });
    if (typeof fields.header === 'string' && !HEADER_NAME.test(fields.header))
      errors.push({ path: 'body.data.header', message: 'is not a valid HTTP header name' });
    return errors;
  },
  oauth2ClientCredentials: (fields) =>
    typeof fields.tokenUrl === 'string' && !/^https?:/i.test(fields.tokenUrl)
      ? [{ path: 'body.data.tokenUrl', message: 'must be an http or https URL' }]
      : [],
};
