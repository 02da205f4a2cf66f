import { newId } from '../lib/ids';
import type { Tx } from '../store/database';
import { findRefreshToken } from '../store/queries/find-refresh-token';
import { insertRefreshToken } from '../store/queries/insert-refresh-token';
import { markRefreshTokenUsed } from '../store/queries/mark-refresh-token-used';
import { revokeRefreshFamily } from '../store/queries/revoke-refresh-family';
import { hashToken, newSecretToken, REFRESH_TOKEN_PREFIX } from './secret-token';

/** How long a refresh token may be used. */
export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 3600_000;

/**
 * Sessions as families of refresh tokens. Login opens a family; each refresh uses its token up and
 * issues the next of the same family. A token presented again after its use means that two parties
 * hold the family (one stole it): the whole family is revoked.
 */
export type Rotation =
  | { kind: 'rotated'; userId: string; familyId: string; refreshToken: string }
  /** A used token came back: its family is now revoked. */
  | { kind: 'reused'; userId: string; familyId: string }
  /** Unknown, expired or revoked. */
  | { kind: 'invalid' };

/** Issues a refresh token: of a new family (login), or the next of `familyId` (refresh). System path. */
export async function issueRefreshToken(
  system: Tx,
  args: { userId: string; familyId?: string | undefined },
): Promise<{ refreshToken: string; familyId: string }> {
  const refreshToken = newSecretToken(REFRESH_TOKEN_PREFIX);
  const familyId = args.familyId ?? newId();
  await insertRefreshToken(system, {
    id: newId(),
    familyId,
    userId: args.userId,
    tokenHash: hashToken(refreshToken),
    expiresAt: new Date(Date.now() + REFRESH_TOKEN_TTL_MS),
  });
  return { refreshToken, familyId };
}

/** Uses a refresh token up and issues the next of its family; a reuse revokes the family. In the caller's transaction. */
export async function rotateRefreshToken(system: Tx, refreshToken: string): Promise<Rotation> {
  const found = refreshToken.startsWith(REFRESH_TOKEN_PREFIX) ? await findRefreshToken(system, hashToken(refreshToken)) : undefined;
  if (!found || found.revokedAt !== null) return { kind: 'invalid' };
  if (found.usedAt !== null) {
    await revokeRefreshFamily(system, found.familyId);
    return { kind: 'reused', userId: found.userId, familyId: found.familyId };
  }
  if (found.expiresAt.getTime() <= Date.now()) return { kind: 'invalid' };
  await markRefreshTokenUsed(system, found.id);
  const next = await issueRefreshToken(system, { userId: found.userId, familyId: found.familyId });
  return { kind: 'rotated', userId: found.userId, ...next };
}

/** Revokes the family of a refresh token (logout). The family, or undefined when the token is unknown. */
export async function revokeSessionOf(system: Tx, refreshToken: string): Promise<{ userId: string; familyId: string } | undefined> {
  const found = refreshToken.startsWith(REFRESH_TOKEN_PREFIX) ? await findRefreshToken(system, hashToken(refreshToken)) : undefined;
  if (!found) return undefined;
  await revokeRefreshFamily(system, found.familyId);
  return { userId: found.userId, familyId: found.familyId };
}
