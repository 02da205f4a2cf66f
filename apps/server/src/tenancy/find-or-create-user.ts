import { newId } from '../lib/ids';
import { hashPassword } from '../security/password';
import { hashToken, INVITE_TOKEN_PREFIX, newSecretToken } from '../security/secret-token';
import type { Tx } from '../store/database';
import { findUserByEmail, type UserRecord } from '../store/queries/find-user-by-email';
import { insertUser } from '../store/queries/insert-user';
import { renewInvite } from '../store/queries/renew-invite';

/** How long an invite token may be used. */
export const INVITE_TTL_MS = 7 * 24 * 3600_000;

/**
 * The user with this e-mail, or a new one: with the password given, or else with an invite token
 * (returned once) that sets the password through POST /v1/auth/accept-invite. An existing user
 * keeps their password; with `renewInvite`, one who was invited but has not accepted gets a new invite
 * token (the old one stops working). System path: users span tenants.
 */
export async function findOrCreateUser(
  system: Tx,
  args: {
    email: string;
    password?: string | undefined;
    platformAdmin?: boolean;
    /**
     * Give a user who was invited and has not accepted yet a new invite token. Only for a platform
     * admin's onboarding: a tenant's admin must not get a token that sets the password of a user whom
     * another tenant invited.
     */
    renewInvite?: boolean;
  },
): Promise<{ user: UserRecord; created: boolean; inviteToken?: string }> {
  const existing = await findUserByEmail(system, args.email);
  if (existing) {
    if (existing.passwordHash !== null || !args.renewInvite) return { user: existing, created: false };
    // Invited before and not accepted yet: a new invite, so that this caller can pass one on.
    const inviteToken = newSecretToken(INVITE_TOKEN_PREFIX);
    const renewed = await renewInvite(system, {
      userId: existing.id,
      inviteTokenHash: hashToken(inviteToken),
      inviteExpiresAt: new Date(Date.now() + INVITE_TTL_MS),
    });
    return renewed ? { user: existing, created: false, inviteToken } : { user: existing, created: false };
  }
  if (args.password !== undefined) {
    const user = await insertUser(system, {
      id: newId(),
      email: args.email,
      passwordHash: await hashPassword(args.password),
      platformAdmin: args.platformAdmin ?? false,
    });
    return user ? { user, created: true } : existingUser(system, args.email);
  }
  const inviteToken = newSecretToken(INVITE_TOKEN_PREFIX);
  const user = await insertUser(system, {
    id: newId(),
    email: args.email,
    passwordHash: null,
    platformAdmin: args.platformAdmin ?? false,
    inviteTokenHash: hashToken(inviteToken),
    inviteExpiresAt: new Date(Date.now() + INVITE_TTL_MS),
  });
  return user ? { user, created: true, inviteToken } : existingUser(system, args.email);
}

/** The user another request created concurrently. */
async function existingUser(system: Tx, email: string): Promise<{ user: UserRecord; created: boolean }> {
  const user = await findUserByEmail(system, email);
  if (!user) throw new Error(`user ${email} was neither created nor found`);
  return { user, created: false };
}
