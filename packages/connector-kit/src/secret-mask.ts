/** What a secret is replaced by. */
export const MASK = '***';

/**
 * Replaces secret strings by `***` in text and in JSON-like values (strings of plain objects and arrays,
 * object keys included, error messages), also in the forms they take inside a URL, a form body or a JSON
 * string. Longer secrets are replaced first, so a secret that contains another is masked whole.
 */
export interface SecretMask {
  /** Whether there is anything to mask. */
  readonly empty: boolean;
  /** Adds a secret learnt later (e.g. an OAuth2 access token fetched during the step). */
  add(secret: string): void;
  text(text: string): string;
  /** A copy of `value` with every string masked; other values as they are. */
  value<T>(value: T): T;
}

export function createSecretMask(secrets: readonly string[] = []): SecretMask {
  const needles = new Set<string>();
  let ordered: string[] = [];
  const mask: SecretMask = {
    get empty() {
      return needles.size === 0;
    },
    add(secret) {
      if (secret === '') return;
      const before = needles.size;
      for (const form of formsOf(secret)) if (form !== '') needles.add(form);
      if (needles.size !== before) ordered = [...needles].sort((a, b) => b.length - a.length);
    },
    text(text) {
      let masked = text;
      for (const needle of ordered) if (masked.includes(needle)) masked = masked.split(needle).join(MASK);
      return masked;
    },
    value<T>(value: T): T {
      return needles.size === 0 ? value : (maskValue(value, mask.text, new WeakMap()) as T);
    },
  };
  for (const secret of secrets) mask.add(secret);
  return mask;
}

function formsOf(secret: string): string[] {
  return [
    secret,
    encodeURIComponent(secret),
    new URLSearchParams({ s: secret }).toString().slice(2),
    JSON.stringify(secret).slice(1, -1),
  ];
}

function maskValue(value: unknown, text: (text: string) => string, seen: WeakMap<object, unknown>): unknown {
  if (typeof value === 'string') return text(value);
  if (value === null || typeof value !== 'object') return value;
  const known = seen.get(value);
  if (known !== undefined) return known;
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    seen.set(value, copy);
    for (const item of value) copy.push(maskValue(item, text, seen));
    return copy;
  }
  if (value instanceof Error) {
    const copy = new Error(text(value.message));
    copy.name = value.name;
    seen.set(value, copy);
    return copy;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return value;
  const copy: Record<string, unknown> = {};
  seen.set(value, copy);
  for (const [key, item] of Object.entries(value)) copy[text(key)] = maskValue(item, text, seen);
  return copy;
}
