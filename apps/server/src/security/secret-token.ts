import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Random bearer secrets (API keys, refresh tokens, invite tokens): 256 bits, base64url, behind a
 * readable prefix. They are stored only as SHA-256 hashes: with 256 bits of entropy a slow hash adds
 * nothing, and a fast one keeps authentication cheap.
 */
export function newSecretToken(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

export function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** API keys: `aiq_` and 43 base64url characters. */
export const API_KEY_PREFIX = 'aiq_';
export const API_KEY_PATTERN = /^aiq_[A-Za-z0-9_-]{43}$/;
/** Refresh tokens: `aiqr_` …; invite tokens: `aiqi_` … */
export const REFRESH_TOKEN_PREFIX = 'aiqr_';
export const INVITE_TOKEN_PREFIX = 'aiqi_';

/** The part of an API key shown in lists: enough to tell keys apart, too little to use. */
export function apiKeyDisplayPrefix(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + 6);
}
