/**
 * The host's side of HTTP for plugins: mounting their routers (and unmounting them, which Express
 * itself cannot do), the CRM session of a request, login and public URLs, and the CRM layout.
 */
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import type { CrmSession, HostHttp, Unsubscribe } from '../../plugin/host-contract/index.js';
import { CRM_SESSION_COOKIE, SESSION_ABSOLUTE_MS, type SqlCrmSessions } from '../auth/crm-sessions.js';
import type { CsrfTokens } from '../auth/csrf-tokens.js';
import type { PageRenderer } from './page-renderer.js';
import { moduleRelationsPath } from './module-pages.js';
import type { FixedRegional } from './regional.js';

const MOUNT_PATH = /^\/[A-Za-z0-9._~/-]*$/;

/** A local path to come back to after the login, or `/` (no other sites, no `//host`, no `/\host`). */
export function safeReturnPath(value: unknown): string {
  if (typeof value !== 'string' || value.length > 2000) return '/';
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\') || /[\u0000-\u001f\u007f\\]/.test(value)) return '/';
  return value;
}

export function cookieValue(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  try {
    return parseCookies(header)[name];
  } catch {
    return undefined;
  }
}

interface Mount {
  readonly path: string;
  readonly router: Router;
}

export class WebHostHttp implements HostHttp {
  private mounts: readonly Mount[] = [];
  private dispatcher: Router = express.Router();
  /** One lookup per request, however many times a request asks for its session. */
  private readonly sessionsOfRequests = new WeakMap<Request, Promise<CrmSession | null>>();
  private boundPort: number | undefined;

  constructor(
    private readonly sessions: SqlCrmSessions,
    private readonly csrf: CsrfTokens,
    private readonly pages: PageRenderer,
    private readonly regional: FixedRegional,
    private readonly options: { readonly baseUrl?: string; readonly port?: number },
  ) {}

  mount(path: string, router: Router): Unsubscribe {
    if (!MOUNT_PATH.test(path) || path.includes('..')) throw new Error(`Cannot mount a router at "${path}": not a local path`);
    const mount: Mount = { path, router };
    this.mounts = [...this.mounts, mount];
    this.rebuild();
    return () => {
      if (!this.mounts.includes(mount)) return;
      this.mounts = this.mounts.filter((m) => m !== mount);
      this.rebuild();
    };
  }

  /** The routers plugins mounted now, with their paths (for tests that walk every route). */
  mounted(): readonly { readonly path: string; readonly router: Router }[] {
    return this.mounts;
  }

  /** The middleware that serves every router plugins mounted, in mounting order. */
  pluginRoutes(): RequestHandler {
    return (req, res, next) => this.dispatcher(req, res, next);
  }

  async crmSession(req: Request): Promise<CrmSession | null> {
    let session = this.sessionsOfRequests.get(req);
    if (!session) {
      session = this.sessions.resolve(cookieValue(req, CRM_SESSION_COOKIE));
      this.sessionsOfRequests.set(req, session);
    }
    return session;
  }

  /** Forgets the cached session of a request (after login or logout in the same request). */
  forgetSession(req: Request): void {
    this.sessionsOfRequests.delete(req);
  }

  loginUrl(returnTo: string): string {
    const path = safeReturnPath(returnTo);
    return path === '/' ? '/login' : `/login?returnTo=${encodeURIComponent(path)}`;
  }

  /** `BASE_URL` followed by the path: a BASE_URL with a path of its own (a proxy's `/crm`) keeps it. */
  publicUrl(path: string): string {
    return new URL(`${this.baseUrl()}${path.startsWith('/') ? path : `/${path}`}`).toString();
  }

  /** The reference CRM's read-only page of a module's fields and relations (contract 1.1.0). */
  moduleRelationsUrl(module: string): string {
    return moduleRelationsPath(module);
  }

  /** `BASE_URL`, or `http://localhost:<port>` (the bound port once listening). */
  baseUrl(): string {
    return (this.options.baseUrl ?? `http://localhost:${this.boundPort ?? this.options.port ?? 3000}`).replace(/\/+$/, '');
  }

  setBoundPort(port: number): void {
    this.boundPort = port;
  }

  /** Cookies get `Secure` behind HTTPS: a TLS request, a trusted proxy's `X-Forwarded-Proto`, or an https BASE_URL. */
  secureCookies(req: Request): boolean {
    return req.secure || this.baseUrl().startsWith('https:');
  }

  setSessionCookie(req: Request, res: Response, token: string): void {
    res.append(
      'Set-Cookie',
      serializeCookie(CRM_SESSION_COOKIE, token, { httpOnly: true, sameSite: 'lax', secure: this.secureCookies(req), path: '/', maxAge: SESSION_ABSOLUTE_MS / 1000 }),
    );
  }

  clearSessionCookie(req: Request, res: Response): void {
    res.append('Set-Cookie', serializeCookie(CRM_SESSION_COOKIE, '', { httpOnly: true, sameSite: 'lax', secure: this.secureCookies(req), path: '/', maxAge: 0 }));
  }

  async sendCrmPage(
    req: Request,
    res: Response,
    page: { readonly title: string; readonly bodyHtml: string; readonly status?: number; readonly headHtml?: string },
  ): Promise<void> {
    const session = await this.crmSession(req);
    const html = this.pages.render('layout', {
      title: page.title,
      bodyHtml: page.bodyHtml,
      headHtml: page.headHtml ?? '',
      language: this.regional.pick(session?.user.language),
      user: session?.user,
      csrfToken: session ? this.csrf.forSession(session.sessionId) : undefined,
    });
    res.status(page.status ?? 200).setHeader('Cache-Control', 'no-store');
    res.type('html').send(html);
  }

  /** Renders one of the host's views inside the layout. */
  async sendView(req: Request, res: Response, page: { readonly title: string; readonly view: string; readonly data?: object; readonly status?: number }): Promise<void> {
    const session = await this.crmSession(req);
    const bodyHtml = this.pages.render(page.view, { ...page.data, title: page.title, user: session?.user });
    await this.sendCrmPage(req, res, { title: page.title, bodyHtml, ...(page.status === undefined ? {} : { status: page.status }) });
  }

  /** A short page with a title and a sentence (errors, refusals). */
  async sendMessage(req: Request, res: Response, status: number, title: string, message: string): Promise<void> {
    await this.sendView(req, res, { title, view: 'message', data: { message }, status });
  }

  private rebuild(): void {
    const dispatcher = express.Router();
    for (const { path, router } of this.mounts) dispatcher.use(path, router);
    this.dispatcher = dispatcher;
  }
}
