/** Where a URL carries a password: `scheme://user:password@`. */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^@\s/]*@/gi;

/**
 * `error` (or any thrown value) as an Error whose message is safe to log: every one of `secrets`
 * and any password in a URL is replaced by `***`, and `context` leads the message. A redacted error
 * does not keep the original as its cause, since the cause would carry the secret.
 */
export function redactError(error: unknown, args: { context: string; secrets: readonly string[] }): Error {
  const original = error instanceof Error ? error.message : String(error);
  let message = original.replace(URL_PASSWORD, '$1***@');
  for (const secret of args.secrets) if (secret.length >= 3) message = message.split(secret).join('***');
  const text = `${args.context}: ${message}`;
  return message === original && error instanceof Error ? new Error(text, { cause: error }) : new Error(text);
}

/** The secrets of a credential: its secret-looking string fields and any URL password in them. */
export function credentialSecrets(credential: Readonly<Record<string, unknown>>): string[] {
  const secrets: string[] = [];
  for (const key of ['password', 'token', 'url']) {
    const value = credential[key];
    if (typeof value !== 'string' || value === '') continue;
    if (key !== 'url') secrets.push(value);
    else secrets.push(...urlSecrets(value));
  }
  const servers = credential.servers;
  for (const server of Array.isArray(servers) ? servers : [servers])
    if (typeof server === 'string') secrets.push(...urlSecrets(server));
  return secrets;
}

function urlSecrets(text: string): string[] {
  try {
    const password = decodeURIComponent(new URL(text).password);
    return password === '' ? [] : [password, text];
  } catch {
    // Not a URL: nothing of it is known to be secret.
    return [];
  }
}
