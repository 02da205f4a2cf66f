import type { Tx } from '../database';
import { USER_COLUMNS, type UserRecord } from './find-user-by-email';

/** A user by id. System path: users span tenants. */
export async function getUser(system: Tx, userId: string): Promise<UserRecord | undefined> {
  const { rows } = await system.query<UserRecord>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [userId]);
  return rows[0];
}
