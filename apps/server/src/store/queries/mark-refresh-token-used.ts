import type { Tx } from '../database';

/** Uses a refresh token up: presenting it again is a reuse. System path. */
export async function markRefreshTokenUsed(system: Tx, tokenId: string): Promise<void> {
  await system.query('UPDATE refresh_tokens SET used_at = now() WHERE id = $1', [tokenId]);
}
