import { Secret, TOTP } from 'otpauth';

/** TOTP as authenticator apps expect it (RFC 6238): SHA-1, 6 digits, 30-second steps. */
const PERIOD_SECONDS = 30;
/** Steps accepted either side of the current one, for clock drift. */
const WINDOW = 1;
const ISSUER = 'AutomateIQ';

function totpOf(secret: Buffer, label = ''): TOTP {
  return new TOTP({
    issuer: ISSUER,
    label,
    algorithm: 'SHA1',
    digits: 6,
    period: PERIOD_SECONDS,
    secret: new Secret({ buffer: Uint8Array.from(secret).buffer }),
  });
}

/** A new random TOTP secret (160 bits, as RFC 4226 recommends). */
export function newTotpSecret(): Buffer {
  return Buffer.from(new Secret({ size: 20 }).bytes);
}

/** The secret in base32 and the `otpauth://` URI that authenticator apps scan, labelled with the account. */
export function totpEnrolment(secret: Buffer, account: string): { secret: string; uri: string } {
  const totp = totpOf(secret, account);
  return { secret: totp.secret.base32, uri: totp.toString() };
}

/**
 * The time step (Unix seconds / 30) of `code` when it is valid at `now` (ms; default: the clock),
 * one step either side allowed; undefined when it is not. Callers refuse a step used before.
 */
export function matchTotp(args: { secret: Buffer; code: string; now?: number }): number | undefined {
  const now = args.now ?? Date.now();
  const delta = totpOf(args.secret).validate({ token: args.code, timestamp: now, window: WINDOW });
  if (delta === null) return undefined;
  return TOTP.counter({ period: PERIOD_SECONDS, timestamp: now }) + delta;
}

/** The code of `secret` at `now` (ms; default: the clock). */
export function totpCode(args: { secret: Buffer; now?: number }): string {
  return totpOf(args.secret).generate({ timestamp: args.now ?? Date.now() });
}
