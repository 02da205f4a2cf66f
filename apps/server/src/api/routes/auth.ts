import { auth as contract, type ErrorCode } from '@automateiq/contracts';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { writePlatformAudit } from '../../security/audit';
import { decoyPasswordHash, hashPassword, verifyPassword } from '../../security/password';
import { auditActorOf, type AuditActor } from '../../security/principal';
import { issueRefreshToken, revokeSessionOf, rotateRefreshToken } from '../../security/refresh-tokens';
import { hashToken, INVITE_TOKEN_PREFIX } from '../../security/secret-token';
import { matchTotp, newTotpSecret, totpEnrolment } from '../../security/totp';
import { writeUserAudit } from '../../security/user-audit';
import type { Tx } from '../../store/database';
import { acceptInvite } from '../../store/queries/accept-invite';
import { beginLoginAttempt } from '../../store/queries/begin-login-attempt';
import { findUserByEmail, type UserRecord } from '../../store/queries/find-user-by-email';
import { getUser } from '../../store/queries/get-user';
import { resetLoginFailures } from '../../store/queries/reset-login-failures';
import { undoLoginAttempt } from '../../store/queries/undo-login-attempt';
import { updateUserTotp } from '../../store/queries/update-user-totp';
import { useTotpStep } from '../../store/queries/use-totp-step';
import type { ApiDeps } from '../api-deps';
import { ApiError } from '../api-error';
import { actorOf, principalOf } from '../request-context';
import { userJson } from '../resource-json';
import { routeOptions } from '../route-options';

/** Why a login (or a TOTP check) failed, as the audit trail records it. */
type FailureReason = 'password' | 'no-password' | 'mfa-invalid';

const ANONYMOUS: AuditActor = auditActorOf(undefined);

/**
 * Sessions and second factors: login (password, then TOTP when enrolled) with a per-account lock
 * that backs off, rotating refresh tokens whose reuse revokes their family, logout, accepting an
 * invite, and TOTP enrolment. Every security event goes to the audit trail.
 */
export function authRoutes(deps: ApiDeps): FastifyPluginAsync {
  return async (root) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const { db } = deps;

    /** A new session of `user` (a new refresh token family), or the next token of `familyId`. */
    async function session(tx: Tx, user: UserRecord, familyId?: string) {
      const refresh = await issueRefreshToken(tx, { userId: user.id, familyId });
      const accessToken = await deps.tokens.sign({
        userId: user.id,
        sessionId: refresh.familyId,
        platformAdmin: user.platformAdmin,
      });
      return { accessToken, refreshToken: refresh.refreshToken, expiresIn: deps.tokens.ttlSeconds, user: userJson(user) };
    }

    /**
     * Records a failed attempt counted by `beginLoginAttempt` (and the lock it set, if any) in the
     * platform log and the user's tenants' trails, then answers with `code`.
     */
    async function failed(args: {
      request: FastifyRequest;
      user: UserRecord;
      reason: FailureReason;
      code: ErrorCode;
      detail: string;
      actor?: AuditActor;
    }): Promise<never> {
      const { user } = args;
      const base = { actor: args.actor ?? ANONYMOUS, ip: args.request.auth.ip };
      await db.withSystem('audit a failed login', async (tx) => {
        await writeUserAudit(tx, {
          userId: user.id,
          tenants: true,
          entry: { ...base, action: 'auth.login.failed', details: { reason: args.reason, failedLogins: user.failedLogins } },
        });
        if (user.lockedUntil !== null)
          await writeUserAudit(tx, {
            userId: user.id,
            tenants: true,
            entry: {
              ...base,
              action: 'auth.locked',
              details: { failedLogins: user.failedLogins, lockedUntil: user.lockedUntil.toISOString() },
            },
          });
      });
      throw new ApiError(args.code, args.detail);
    }

    /** True when `code` is valid now for the user's secret and its time step was not used before. */
    async function totpAccepted(user: UserRecord, code: string): Promise<boolean> {
      if (user.totpSecret === null) return false;
      const secret = deps.masterKey.open(user.totpSecret, `totp:${user.id}`);
      const step = matchTotp({ secret, code });
      return step !== undefined && (await useTotpStep(db.system, { userId: user.id, step }));
    }

    /**
     * A TOTP check of a logged-in user (confirming or turning off TOTP): it counts towards the lock
     * like a login, so a stolen access token cannot try every code.
     */
    async function checkTotpCode(request: FastifyRequest, userId: string, code: string): Promise<UserRecord> {
      const counted = await beginLoginAttempt(db.system, { userId });
      if (!counted) throw locked((await getUser(db.system, userId))?.lockedUntil ?? null);
      if (!(await totpAccepted(counted, code)))
        return failed({
          request,
          user: counted,
          reason: 'mfa-invalid',
          code: 'AIQ_MFA_INVALID',
          detail: 'the TOTP code is wrong, expired or used',
          actor: actorOf(request).actor,
        });
      await resetLoginFailures(db.system, userId);
      return counted;
    }

    function sessionUser(request: FastifyRequest): string {
      const principal = principalOf(request);
      if (principal.kind !== 'user') throw new ApiError('AIQ_FORBIDDEN', 'only a user (not an API key) has a second factor');
      return principal.userId;
    }

    app.route({
      ...routeOptions(contract.login),
      handler: async (request) => {
        const { email, password, totp } = request.body;
        const ip = request.auth.ip;
        const user = await beginLoginAttempt(db.system, { email });
        if (!user) {
          const existing = await findUserByEmail(db.system, email);
          if (existing?.lockedUntil && existing.lockedUntil.getTime() > Date.now()) {
            await writePlatformAudit(db.system, {
              actor: ANONYMOUS,
              ip,
              action: 'auth.login.failed',
              target: { type: 'user', id: existing.id },
              details: { reason: 'locked' },
            });
            throw locked(existing.lockedUntil);
          }
          // Unknown e-mail: as slow as a wrong password, and the same answer.
          await verifyPassword(await decoyPasswordHash(), password);
          await writePlatformAudit(db.system, {
            actor: ANONYMOUS,
            ip,
            action: 'auth.login.failed',
            details: { reason: 'unknown-email', email },
          });
          throw invalidLogin();
        }
        if (user.passwordHash === null) {
          // Invited, not yet accepted: no password can match.
          await verifyPassword(await decoyPasswordHash(), password);
          return failed({ request, user, reason: 'no-password', code: 'AIQ_INVALID_LOGIN', detail: invalidLogin().detail });
        }
        if (!(await verifyPassword(user.passwordHash, password)))
          return failed({ request, user, reason: 'password', code: 'AIQ_INVALID_LOGIN', detail: invalidLogin().detail });
        if (user.totpEnabled) {
          if (totp === undefined) {
            // The right password: the client asks for the code next. No failure.
            await undoLoginAttempt(db.system, { userId: user.id, lockedUntil: user.lockedUntil });
            throw new ApiError('AIQ_MFA_REQUIRED', 'send the current code of your authenticator app as totp');
          }
          if (!(await totpAccepted(user, totp)))
            return failed({ request, user, reason: 'mfa-invalid', code: 'AIQ_MFA_INVALID', detail: 'the TOTP code is wrong, expired or used' });
        }
        return db.withSystem('log a user in', async (tx) => {
          await resetLoginFailures(tx, user.id);
          const opened = await session(tx, { ...user, failedLogins: 0, lockedUntil: null });
          await writeUserAudit(tx, {
            userId: user.id,
            tenants: true,
            entry: { actor: userActor(user), ip, action: 'auth.login', details: { mfa: user.totpEnabled } },
          });
          return opened;
        });
      },
    });

    app.route({
      ...routeOptions(contract.refresh),
      handler: async (request) => {
        const outcome = await db.withSystem('rotate a refresh token', async (tx) => {
          const rotation = await rotateRefreshToken(tx, request.body.refreshToken);
          switch (rotation.kind) {
            case 'invalid':
              return undefined;
            case 'reused':
              await writeUserAudit(tx, {
                userId: rotation.userId,
                tenants: true,
                entry: {
                  actor: ANONYMOUS,
                  ip: request.auth.ip,
                  action: 'auth.refresh.reuse',
                  details: { sessionId: rotation.familyId },
                },
              });
              return undefined;
            case 'rotated': {
              const user = await getUser(tx, rotation.userId);
              if (!user) return undefined;
              const accessToken = await deps.tokens.sign({
                userId: user.id,
                sessionId: rotation.familyId,
                platformAdmin: user.platformAdmin,
              });
              return { accessToken, refreshToken: rotation.refreshToken, expiresIn: deps.tokens.ttlSeconds, user: userJson(user) };
            }
          }
        });
        // A reuse revoked the family above; that commits before the refusal.
        if (!outcome) throw new ApiError('AIQ_TOKEN_INVALID', 'the refresh token is invalid, expired, used or revoked: log in again');
        return outcome;
      },
    });

    app.route({
      ...routeOptions(contract.logout),
      handler: async (request, reply) => {
        const revoked = await db.withSystem('log a session out', async (tx) => {
          const family = await revokeSessionOf(tx, request.body.refreshToken);
          if (family)
            await writePlatformAudit(tx, {
              actor: ANONYMOUS,
              ip: request.auth.ip,
              action: 'auth.logout',
              target: { type: 'user', id: family.userId },
              details: { sessionId: family.familyId },
            });
          return family;
        });
        if (!revoked) throw new ApiError('AIQ_TOKEN_INVALID', 'the refresh token is unknown');
        deps.authenticator.forgetSession(revoked.familyId);
        return reply.code(204).send(null);
      },
    });

    app.route({
      ...routeOptions(contract.acceptInvite),
      handler: async (request) => {
        const { token, password } = request.body;
        const passwordHash = await hashPassword(password);
        const opened = token.startsWith(INVITE_TOKEN_PREFIX)
          ? await db.withSystem('accept an invite', async (tx) => {
              const user = await acceptInvite(tx, { inviteTokenHash: hashToken(token), passwordHash });
              if (!user) return undefined;
              await writeUserAudit(tx, {
                userId: user.id,
                tenants: true,
                entry: { actor: userActor(user), ip: request.auth.ip, action: 'auth.invite.accept' },
              });
              return { userId: user.id, session: await session(tx, user) };
            })
          : undefined;
        if (!opened) throw new ApiError('AIQ_TOKEN_INVALID', 'the invite token is invalid, expired or used');
        deps.authenticator.forgetUser(opened.userId);
        return opened.session;
      },
    });

    app.route({
      ...routeOptions(contract.totpEnrol),
      handler: async (request) => {
        const userId = sessionUser(request);
        const user = await getUser(db.system, userId);
        if (!user) throw new ApiError('AIQ_UNAUTHENTICATED', 'the user no longer exists');
        if (user.totpEnabled)
          throw new ApiError('AIQ_MFA_ALREADY_ENABLED', 'TOTP is enabled: turn it off (DELETE /v1/me/totp) before enrolling again');
        const secret = newTotpSecret();
        await db.withSystem('start TOTP enrolment', async (tx) => {
          await updateUserTotp(tx, { userId, change: { kind: 'enrol', sealedSecret: deps.masterKey.seal(secret, `totp:${userId}`) } });
          await writeUserAudit(tx, { userId, tenants: true, entry: { ...actorOf(request), action: 'mfa.enrol' } });
        });
        return totpEnrolment(secret, user.email);
      },
    });

    app.route({
      ...routeOptions(contract.totpConfirm),
      handler: async (request) => {
        const userId = sessionUser(request);
        const user = await getUser(db.system, userId);
        if (!user) throw new ApiError('AIQ_UNAUTHENTICATED', 'the user no longer exists');
        if (user.totpEnabled) throw new ApiError('AIQ_MFA_ALREADY_ENABLED', 'TOTP is enabled already');
        if (user.totpSecret === null) throw noEnrolment();
        await checkTotpCode(request, userId, request.body.code);
        const enabled = await db.withSystem('enable TOTP', async (tx) => {
          const updated = await updateUserTotp(tx, { userId, change: { kind: 'enable' } });
          await writeUserAudit(tx, { userId, tenants: true, entry: { ...actorOf(request), action: 'mfa.enable' } });
          return updated;
        });
        if (!enabled) throw new ApiError('AIQ_UNAUTHENTICATED', 'the user no longer exists');
        deps.authenticator.forgetUser(userId);
        return userJson(enabled);
      },
    });

    app.route({
      ...routeOptions(contract.totpDisable),
      handler: async (request) => {
        const userId = sessionUser(request);
        const user = await getUser(db.system, userId);
        if (!user) throw new ApiError('AIQ_UNAUTHENTICATED', 'the user no longer exists');
        if (user.totpSecret === null) throw noEnrolment();
        await checkTotpCode(request, userId, request.body.code);
        const disabled = await db.withSystem('disable TOTP', async (tx) => {
          const updated = await updateUserTotp(tx, { userId, change: { kind: 'disable' } });
          await writeUserAudit(tx, { userId, tenants: true, entry: { ...actorOf(request), action: 'mfa.disable' } });
          return updated;
        });
        if (!disabled) throw new ApiError('AIQ_UNAUTHENTICATED', 'the user no longer exists');
        deps.authenticator.forgetUser(userId);
        return userJson(disabled);
      },
    });
  };
}

function userActor(user: UserRecord): AuditActor {
  return { type: 'user', id: user.id, label: user.email };
}

function invalidLogin(): ApiError {
  return new ApiError('AIQ_INVALID_LOGIN', 'the e-mail or the password is wrong');
}

function noEnrolment(): ApiError {
  return new ApiError('AIQ_VALIDATION', 'TOTP is not set up: start with POST /v1/me/totp', {
    errors: [{ path: 'body.code', message: 'no TOTP enrolment to check it against' }],
  });
}

/** The answer while an account is locked: when it may try again. */
function locked(until: Date | null): ApiError {
  const seconds = Math.max(1, Math.ceil(((until?.getTime() ?? Date.now()) - Date.now()) / 1000));
  return new ApiError('AIQ_LOGIN_LOCKED', `too many failed logins: the account is locked for ${seconds} s`, {
    headers: { 'retry-after': String(seconds) },
    extensions: { retryAfter: seconds },
  });
}
