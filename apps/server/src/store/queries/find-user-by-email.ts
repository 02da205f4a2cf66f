import type { Tx } from '../database';

export interface UserRecord {
  id: string;
  email: string;
  name: string | null;
  passwordHash: string | null;
  platformAdmin: boolean;
  totpSecret: Buffer | null;
  totpEnabled: boolean;
  failedLogins: number;
  lockedUntil: Date | null;
  createdAt: Date;
}

export const USER_COLUMNS = `id, email, name, password_hash AS "passwordHash", platform_admin AS "platformAdmin",
  totp_secret AS "totpSecret", totp_enabled AS "totpEnabled", failed_logins AS "failedLogins",
  locked_until AS "lockedUntil", created_at AS "createdAt"`;

/** The user with that e-mail (case-insensitive). System path: users span tenants. */
export async function findUserByEmail(system: Tx, email: string): Promise<UserRecord | undefined> {
  const { rows } = await system.query<UserRecord>(`SELECT ${USER_COLUMNS} FROM users WHERE lower(email) = lower($1)`, [email]);
  return rows[0];
}
