import { jwtVerify, SignJWT } from 'jose';

/** Claims of an access token: the user, their session family, and whether they are a platform admin. */
export interface AccessClaims {
  userId: string;
  sessionId: string;
  platformAdmin: boolean;
}

/** Short-lived JWT access tokens (HS256, keyed by a key derived from the master key). Default life: 15 min. */
export class AccessTokens {
  readonly ttlSeconds: number;
  private readonly key: Uint8Array;

  constructor(args: { key: Uint8Array; ttlSeconds?: number }) {
    this.key = args.key;
    this.ttlSeconds = args.ttlSeconds ?? 900;
  }

  sign(claims: AccessClaims): Promise<string> {
    return new SignJWT({ sid: claims.sessionId, pa: claims.platformAdmin })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(claims.userId)
      .setIssuer('automateiq')
      .setAudience('automateiq-api')
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.key);
  }

  /** The claims, or undefined when the token is malformed, forged or expired. */
  async verify(token: string): Promise<AccessClaims | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: 'automateiq',
        audience: 'automateiq-api',
      });
      if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string') return undefined;
      return { userId: payload.sub, sessionId: payload.sid, platformAdmin: payload.pa === true };
    } catch {
      // Any failure to verify (bad signature, expiry, garbage) means: not authenticated.
      return undefined;
    }
  }
}
