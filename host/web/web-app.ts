/**
 * The host's Express application: security headers and `Cache-Control: no-store` on every
 * response (set before routing, so a request whose URL the router cannot read has them too),
 * `/healthz` and `/readyz`, the CRM's stylesheet and icon, sign-in, the CRM pages, then the routers plugins
 * mounted, and error pages that never show a stack trace.
 */
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler, type Response, type Router } from 'express';
import helmet from 'helmet';
import type { HostLogger } from '../../plugin/host-contract/index.js';
import type { WebHostHttp } from './host-http.js';
import type { InFlightRequests } from './in-flight.js';

const ONE_YEAR_SECONDS = 365 * 24 * 60 * 60;
const stylesheet = fileURLToPath(new URL('./host.css', import.meta.url));
/** The CRM pages' icon (a browser asks for /favicon.ico on a page that names none). */
const icon = fileURLToPath(new URL('./icon.svg', import.meta.url));

export interface WebAppParts {
  readonly http: WebHostHttp;
  readonly logger: HostLogger;
  readonly routers: readonly Router[];
  /** Whether the host has finished starting (`/healthz` answers 503 until then). */
  readonly started: () => boolean;
  /** Counts the requests being answered (a shutdown waits for them). */
  readonly inFlight: InFlightRequests;
  /** Whether the database answers now (`/readyz`; `DatabaseReadiness`). */
  readonly databaseReady: () => Promise<boolean>;
}

export function createWebApp({ http, logger, routers, started, inFlight, databaseReady }: WebAppParts): Express {
  const app = express();
  app.disable('x-powered-by');
  // A reverse proxy on the same machine may terminate TLS: trust its X-Forwarded-* headers only.
  app.set('trust proxy', 'loopback');
  Object.defineProperty(app.request, 'ip', { configurable: true, enumerable: true, get: forwardedAddress });
  const headers = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
    },
    strictTransportSecurity: { maxAge: ONE_YEAR_SECONDS, includeSubDomains: true },
    referrerPolicy: { policy: 'no-referrer' },
    xFrameOptions: { action: 'deny' },
  });
  const noStore: RequestHandler = (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  };
  // What every response carries runs before the router, not as its first middleware: a request
  // line whose URL the router cannot read (`GET http://[/portal HTTP/1.1`) runs none of its
  // middleware and ended at Express's final handler, a 404 "Cannot GET" without HSTS, CSP
  // frame-ancestors or Referrer-Policy. Such a request is answered 400 here instead.
  const everyResponse: readonly RequestHandler[] = [inFlight.track, headers, noStore];
  const route = (app as unknown as { handle: AppHandle }).handle.bind(app);
  (app as unknown as { handle: AppHandle }).handle = (req, res, done) => {
    const run = (index: number): void => {
      const handler = everyResponse[index];
      if (!handler) {
        route(req, res, done ?? unreadable(res));
        return;
      }
      void handler(req as Request, res as Response, () => run(index + 1));
    };
    run(0);
  };

  app.get('/healthz', (_req, res) => {
    if (started()) res.json({ status: 'ok' });
    else res.status(503).json({ status: 'starting' });
  });
  // A load balancer's readiness probe: /healthz stays 200 while the database is down (the process is up).
  app.get('/readyz', async (_req, res) => {
    if (!started()) res.status(503).json({ status: 'starting' });
    else if (await databaseReady()) res.json({ status: 'ready' });
    else res.status(503).json({ status: 'database unavailable' });
  });
  for (const [path, file] of [['/crm-assets/host.css', stylesheet], ['/crm-assets/icon.svg', icon]] as const) {
    app.get(path, (_req, res) => {
      res.setHeader('Cache-Control', 'public, max-age=3600');
      res.sendFile(file);
    });
  }
  for (const router of routers) app.use(router);
  app.use(http.pluginRoutes());

  app.use(async (req, res) => {
    await http.sendMessage(req, res, 404, 'Not found', 'There is no such page.');
  });
  const errors: ErrorRequestHandler = async (error: unknown, req, res, _next) => {
    const status = (error as { status?: unknown; statusCode?: unknown }).status ?? (error as { statusCode?: unknown }).statusCode;
    const clientError = typeof status === 'number' && status >= 400 && status < 500;
    if (!clientError) logger.error('Request failed', { method: req.method, path: req.path, error: error instanceof Error ? error.message : String(error) });
    if (res.headersSent) {
      res.end();
      return;
    }
    try {
      if (clientError) await http.sendMessage(req, res, status, 'Bad request', 'The request could not be understood.');
      else await http.sendMessage(req, res, 500, 'Something went wrong', 'The CRM could not answer this request. Please try again later.');
    } catch {
      res.status(clientError ? status : 500).type('text').send(clientError ? 'Bad request' : 'Internal error');
    }
  };
  app.use(errors);
  return app;
}

type AppHandle = (req: IncomingMessage, res: ServerResponse, done?: (error?: unknown) => void) => void;

/**
 * The router's last resort, reached only when it routes nothing: no route of the app is left
 * unmatched (the 404 page and the error page take the rest), so it answers a request whose URL
 * the router could not read. The URL is not read here either (`req.path` would throw).
 */
function unreadable(res: ServerResponse): (error?: unknown) => void {
  return () => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.statusCode = 400;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(res.req.method === 'HEAD' ? undefined : 'Bad request');
  };
}

/** Express's own `req.ip`: the first address of the forwarded chain the host does not trust. */
const expressIp = Object.getOwnPropertyDescriptor(express.request, 'ip')!.get! as (this: Request) => string | undefined;

/**
 * `req.ip`, but never text that is no IP address. Behind a trusted proxy Express takes the first
 * `X-Forwarded-For` entry it does not trust as the client, whatever it says (`<b>1.2.3.4</b>`,
 * `unknown`, `1.2.3.4:5678`); the lockout counters and the login history stored it as an address.
 * Such an entry names no client the host can count, so the client is the nearest hop that can be
 * vouched for: the trusted proxy that passed it on (`req.ips`' next entry, else the socket's peer).
 */
function forwardedAddress(this: Request): string | undefined {
  const address = expressIp.call(this);
  if (address === undefined || isIP(address) !== 0) return address;
  const [, passedOnBy] = this.ips;
  return passedOnBy ?? this.socket.remoteAddress;
}
