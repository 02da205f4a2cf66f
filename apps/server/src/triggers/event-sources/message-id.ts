import { createHash } from 'node:crypto';

/**
 * An id for a message that carries none: `<source>:sha256:<hex>` over `parts` (each length-prefixed,
 * so that no two different lists hash alike). Two messages with the same parts get the same id and
 * so start one run: publishers that may send identical messages must give each an id of its own.
 */
export function contentHashId(source: string, parts: readonly (string | Uint8Array)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    const length = Buffer.alloc(8);
    length.writeBigUInt64BE(BigInt(bytes.length));
    hash.update(length).update(bytes);
  }
  return `${source}:sha256:${hash.digest('hex')}`;
}
