/**
 * A portal form sent twice does its work once. Every signed-in form carries a one-time value
 * (`_once`, 128 random bits, made when the page is rendered: nothing stored, no statement on a
 * GET). A post that carries one claims a row of `bp_form_submissions` under a unique key before
 * its work: an HMAC of the customer (their contact), the value, the address posted to and what the form
 * sent (its fields but the CSRF token, and an uploaded file's digest). So:
 *
 * - the same form sent again (a double tap, a reload that resends) finds the row
 *   and goes where the first went (`outcome`), the work not done again; sent at the same moment,
 *   the second waits for the first's outcome (`REPEAT_WAIT_MS`);
 * - the same value with other contents is new work (Back to a sent form fetches it anew, with a
 *   new value: that post is new work too, see README "Notes on decisions");
 * - another customer's request never meets the row: the customer is in the key;
 * - a post without a value, or with one that is not one, is served as before (the CSRF check,
 *   before this, is unchanged);
 * - work that is refused (a form shown again with its problems) or fails gives its row back, so
 *   the corrected form can be sent.
 *
 * Rows are purged a day after (`RetentionPurge`, `FORM_SUBMISSIONS_PURGE_STATEMENT`).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Request } from 'express';
import { inject, injectable } from 'inversify';
import { QueryTypes } from 'sequelize';
import { isInsertCollision } from '../lifecycle/insert-collision.js';
import { HostDatabase } from '../host-contract/index.js';
import { PluginKeys } from '../http/plugin-keys.js';
import { toNumber } from '../lifecycle/sql-values.js';

export const FORM_ONCE_FIELD = '_once';
export const FORM_SUBMISSIONS_TABLE = 'bp_form_submissions';
/** How long a form's repeat is recognised. */
export const FORM_SUBMISSION_KEPT_MS = 24 * 60 * 60 * 1000;
/** How long a repeat sent while the first is still at work waits for its outcome. */
export const REPEAT_WAIT_MS = 20_000;
const REPEAT_POLL_MS = 100;

/** The background purge (one indexed DELETE; its plan is read by test/scale/query-plans.test.ts). */
export const FORM_SUBMISSIONS_PURGE_STATEMENT = `DELETE FROM ${FORM_SUBMISSIONS_TABLE} WHERE created_at <= :forgotten`;

const ONCE_FORMAT = /^[A-Za-z0-9_-]{22}$/;
/** Form controls that are not what the customer sent: the CSRF token changes with the session. */
const NOT_CONTENTS = new Set(['_csrf', FORM_ONCE_FIELD]);

/**
 * What a post's claim found:
 * - `untracked`: the post carries no one-time value; served as before.
 * - `first`: this post does the work; `finish` records where a repeat goes, `release` gives the row back.
 * - `repeat`: the form was sent before; `outcome` is where its first answer led, or the API's first answer (the work is done).
 * - `pending`: the first is still at work after the wait.
 */
export type FormClaim =
  | { readonly kind: 'untracked' }
  | { readonly kind: 'first'; finish(outcome: string): Promise<void>; release(): Promise<void> }
  | { readonly kind: 'repeat'; readonly outcome: string }
  | { readonly kind: 'pending' };

/** A claim by a client's key (the API's `Idempotency-Key`): `repeat`'s `outcome` is the first answer; `other-contents`, the key was sent with another body. */
export type KeyClaim = FormClaim | { readonly kind: 'other-contents' };

export const FormSubmissions = Symbol.for('business-portal.auth.FormSubmissions');
export interface FormSubmissions {
  /** A new one-time value for a page's forms. */
  issue(): string;
  /** Claims the work of this form post for the signed-in customer. */
  claim(req: Request, contactId: number): Promise<FormClaim>;
  /** Claims the work of a request by a key its client chose (`scope` keeps uses apart), `contents` a digest of what it sent. */
  claimKey(scope: string, contactId: number, idempotencyKey: string, contents: string): Promise<KeyClaim>;
  purge(now?: Date): Promise<number>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A digest of what the form sent: its fields (sorted, the CSRF token and the one-time value left out) and an uploaded file. */
export function contentsDigest(req: Request): string {
  const hash = createHash('sha256');
  const path = req.originalUrl.split('?')[0] ?? '';
  hash.update(`${req.method} ${path}\n`);
  const body = req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {};
  for (const name of Object.keys(body).sort()) {
    if (NOT_CONTENTS.has(name)) continue;
    hash.update(`${JSON.stringify(name)}=${JSON.stringify(body[name])}\n`);
  }
  const file = (req as Request & { file?: { originalname?: string; buffer?: Buffer } }).file;
  if (file?.buffer) hash.update(`file ${JSON.stringify(file.originalname ?? '')} `).update(file.buffer);
  return hash.digest('base64url');
}

@injectable()
export class DatabaseFormSubmissions implements FormSubmissions {
  constructor(
    @inject(HostDatabase) private readonly database: HostDatabase,
    @inject(PluginKeys) private readonly keys: PluginKeys,
  ) {}

  issue(): string {
    return randomBytes(16).toString('base64url');
  }

  async claim(req: Request, contactId: number): Promise<FormClaim> {
    const body = req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {};
    const once = body[FORM_ONCE_FIELD];
    if (typeof once !== 'string' || !ONCE_FORMAT.test(once)) return { kind: 'untracked' };
    const key = this.mac(`page\n${contactId}\n${once}\n${contentsDigest(req)}`);
    const claim = await this.claimRow(key, contactId, null);
    return claim.kind === 'other-contents' ? { kind: 'untracked' } : claim;
  }

  async claimKey(scope: string, contactId: number, idempotencyKey: string, contents: string): Promise<KeyClaim> {
    return this.claimRow(this.mac(`${scope}\n${contactId}\n${idempotencyKey}`), contactId, contents);
  }

  private mac(text: string): string {
    return createHmac('sha256', this.keys.key('business-portal:form-once:v1')).update(text).digest('base64url');
  }

  private async claimRow(key: string, contactId: number, contents: string | null): Promise<KeyClaim> {
    const deadline = Date.now() + REPEAT_WAIT_MS;
    for (;;) {
      if (await this.insert(key, contactId, contents)) return this.first(key);
      // Sent before: its outcome, once the first has one. A row given back (refused, failed) is claimed again.
      const rows = await this.database.sequelize.query<{ outcome: string | null; contents: string | null }>(`SELECT outcome, contents FROM ${FORM_SUBMISSIONS_TABLE} WHERE submission_key = :key`, {
        type: QueryTypes.SELECT,
        replacements: { key },
      });
      const row = rows[0];
      if (!row) continue;
      if ((row.contents ?? null) !== contents) return { kind: 'other-contents' };
      if (typeof row.outcome === 'string') return { kind: 'repeat', outcome: row.outcome };
      if (Date.now() >= deadline) return { kind: 'pending' };
      await sleep(REPEAT_POLL_MS);
    }
  }

  private first(key: string): FormClaim {
    const replacements = { key };
    return {
      kind: 'first',
      finish: async (outcome: string) => {
        await this.database.sequelize.query(`UPDATE ${FORM_SUBMISSIONS_TABLE} SET outcome = :outcome WHERE submission_key = :key`, {
          type: QueryTypes.UPDATE,
          replacements: { ...replacements, outcome },
        });
      },
      release: async () => {
        await this.database.sequelize.query(`DELETE FROM ${FORM_SUBMISSIONS_TABLE} WHERE submission_key = :key`, { type: QueryTypes.BULKDELETE, replacements });
      },
    };
  }

  /** Inserts the claim's row; false when the key is there already. */
  private async insert(key: string, contactId: number, contents: string | null): Promise<boolean> {
    try {
      await this.database.sequelize.query(`INSERT INTO ${FORM_SUBMISSIONS_TABLE} (submission_key, contact_id, contents, outcome, created_at) VALUES (:key, :contactId, :contents, NULL, :now)`, {
        type: QueryTypes.INSERT,
        replacements: { key, contactId, contents, now: new Date() },
      });
      return true;
    } catch (error) {
      if (isInsertCollision(error)) return false;
      throw error;
    }
  }

  async purge(now: Date = new Date()): Promise<number> {
    return toNumber(
      await this.database.sequelize.query(FORM_SUBMISSIONS_PURGE_STATEMENT, {
        type: QueryTypes.BULKDELETE,
        replacements: { forgotten: new Date(now.getTime() - FORM_SUBMISSION_KEPT_MS) },
      }),
    );
  }
}
