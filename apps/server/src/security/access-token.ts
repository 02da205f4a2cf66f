import { jwtVerify, SignJWT } from 'jose';

/** Claims of an access token: the user, their session family, and whether they are a platform admin. */
export interface AccessClaims {
  userId: string;
  sessionId: string;
  platformAdmin: boolean;
}

/**
 * Keys that sign and verify access tokens, named by id (the JWT `kid`): new tokens are signed with the
 * current key; a token is verified with the key its `kid` names, so tokens survive a master key rotation.
 */
export interface SigningKeys {
  current(): { id: string; key: Uint8Array };
  /** The key named `id`, or undefined when there is none. */
  find(id: string): Promise<Uint8Array | undefined>;
}

/**
 * Short-lived JWT access tokens (HS256, keyed by a key derived from the master key, see
 * `MasterKeyRing.signingKeys`). Default life: 15 min.
 */
export class AccessTokens {
  readonly ttlSeconds: number;
  private readonly keys: SigningKeys;

  constructor(args: { key: Uint8Array | SigningKeys; ttlSeconds?: number }) {
    const { key } = args;
    this.keys = key instanceof Uint8Array ? { current: () => ({ id: 'default', key }), find: async () => key } : key;
    this.ttlSeconds = args.ttlSeconds ?? 900;
  }

  sign(claims: AccessClaims): Promise<string> {
    const { id, key } = this.keys.current();
    return new SignJWT({ sid: claims.sessionId, pa: claims.platformAdmin })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: id })
      .setSubject(claims.userId)
      .setIssuer('automateiq')
      .setAudience('automateiq-api')
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(key);
  }

  /** The claims, or undefined when the token is malformed, forged, expired or signed by an unknown key. */
  async verify(token: string): Promise<AccessClaims | undefined> {
    try {
      const { payload } = await jwtVerify(
        token,
        async (header) => {
          const key = header.kid === undefined ? this.keys.current().key : await this.keys.find(header.kid);
          if (!key) throw new Error(`no signing key ${header.kid}`);
          return key;
        },
        { algorithms: ['HS256'], issuer: 'automateiq', audience: 'automateiq-api' },
      );
      if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string') return undefined;
      return { userId: payload.sub, sessionId: payload.sid, platformAdmin: payload.pa === true };
    } catch {
      // Any failure to verify (bad signature, unknown key, expiry, garbage) means: not authenticated.
      return undefined;
    }
  }
}
