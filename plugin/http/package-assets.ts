/**
 * A folder of the package's static files (stylesheets, scripts, the icon), served under one
 * address of a plugin router and linked with a content version, so that a phone downloads each
 * once: `portal.css?v=<the first 12 hex digits of its SHA-256>`.
 *
 * - Asked with its current version, a file is kept a year (`public, max-age=31536000, immutable`):
 *   the next page reuses it without asking. Without a version, or with another one (a page
 *   rendered before an upgrade), it is `no-cache`: the browser revalidates it with the ETag and
 *   Last-Modified that `express.static` sends. A version is worked out once per process, when a
 *   page first links the file or it is first served: the files ship with the package and do not
 *   change while it runs.
 * - css, js and svg are compressed (gzip or brotli, as the browser accepts). Nothing else is, and
 *   nothing but these folders goes through the compression: pages and API answers reflect a form
 *   token and a customer's search text, and compressing them would open them to BREACH.
 * - What is not here falls through to the router's 404, which stays `no-store` like every page
 *   (the router's front sets it; only a file that is sent replaces it).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import compression from 'compression';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';

export const CACHED_A_YEAR = 'public, max-age=31536000, immutable';
export const REVALIDATED = 'no-cache';

/** The answers that may be compressed: the text files of these folders, whole (no range, no error page). */
const COMPRESSIBLE_TYPE = /^(?:text\/css|text\/javascript|application\/javascript|image\/svg\+xml)\s*(?:;|$)/i;

/** By absolute file name. */
const versions = new Map<string, string>();

/** The first 12 hex digits of the file's SHA-256, read once per process. */
export function contentVersion(file: string): string {
  let version = versions.get(file);
  if (version === undefined) {
    version = createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 12);
    versions.set(file, version);
  }
  return version;
}

/** Requests already given to the compression: the portal's folder and the contact block's are nested. */
const compressing = new WeakSet<Request>();
const compress = compression({
  filter: (_req, res) => res.statusCode === 200 && COMPRESSIBLE_TYPE.test(String(res.getHeader('Content-Type') ?? '')),
});
const compressText: RequestHandler = (req, res, next) => {
  if (compressing.has(req)) {
    next();
    return;
  }
  compressing.add(req);
  compress(req, res, next);
};

/** The one `v` of the address, read from it (not from `req.query`, whose parser the host may set otherwise). */
function versionAsked(req: Request): string | undefined {
  const at = req.url.indexOf('?');
  const asked = at < 0 ? [] : new URLSearchParams(req.url.slice(at + 1)).getAll('v');
  return asked.length === 1 ? asked[0] : undefined;
}

function cacheControl(req: Request, file: string): string {
  return versionAsked(req) === contentVersion(file) ? CACHED_A_YEAR : REVALIDATED;
}

export class PackageAssets {
  /**
   * `dir`: the folder (absolute); `files`: files from elsewhere served under the same address, by
   * the name they are linked with (a vendor's build, e.g. `vendor/sortable.min.js`).
   */
  constructor(
    private readonly dir: string,
    private readonly files: Readonly<Record<string, string>> = {},
  ) {}

  /** The address of `name` under `base` (where `routes()` is mounted), with its version. */
  href(base: string, name: string): string {
    return `${base}/${name}?v=${contentVersion(this.fileOf(name))}`;
  }

  /** For `router.use(base, assets.routes())`. */
  routes(): Router {
    const router = express.Router();
    router.use(compressText);
    for (const [name, file] of Object.entries(this.files)) {
      router.get(`/${name}`, (req: Request, res: Response, next) => {
        res.sendFile(file, { cacheControl: false, headers: { 'Cache-Control': cacheControl(req, file) } }, (error) => {
          if (error) next(error);
        });
      });
    }
    router.use(
      express.static(this.dir, {
        index: false,
        redirect: false,
        dotfiles: 'ignore',
        fallthrough: true,
        cacheControl: false,
        setHeaders: (res, path) => res.setHeader('Cache-Control', cacheControl(res.req, path)),
      }),
    );
    return router;
  }

  private fileOf(name: string): string {
    return this.files[name] ?? join(this.dir, name);
  }
}
