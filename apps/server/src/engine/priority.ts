import type { Priority } from '@automateiq/core';

/** Queue priority of a run: higher numbers are claimed first. */
export const PRIORITY_RANK: Record<Priority, number> = { low: 0, normal: 1, high: 2 };
