import { v7 } from 'uuid';

/** A new time-ordered UUID (v7), the form of every id AutomateIQ makes. */
export function newId(): string {
  return v7();
}
