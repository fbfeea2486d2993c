/**
 * The one-time passwords an admin's action gives a new portal user (sent by email, to be changed
 * at the first sign-in): 20 characters drawn uniformly (`randomInt`, no modulo bias) from an
 * alphabet without look-alikes (no 0/O, 1/l/I), about 114 bits of entropy, grouped by dashes so
 * that it can be read out and typed.
 */
import { randomInt } from 'node:crypto';

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
const GROUPS = 4;
const GROUP_LENGTH = 5;

export function generatePortalPassword(): string {
  const groups: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    let group = '';
    for (let i = 0; i < GROUP_LENGTH; i++) group += ALPHABET[randomInt(ALPHABET.length)];
    groups.push(group);
  }
  return groups.join('-');
}
