/**
 * The host's Express application: security headers and `Cache-Control: no-store` on every
 * response, `/healthz`, the CRM's stylesheet, sign-in, the CRM pages, then the routers plugins
 * mounted, and error pages that never show a stack trace.
 */
import { fileURLToPath } from 'node:url';
import express, { type ErrorRequestHandler, type Express, type Router } from 'express';
import helmet from 'helmet';
import type { HostLogger } from '../../plugin/host-contract/index.js';
import type { WebHostHttp } from './host-http.js';
import type { InFlightRequests } from './in-flight.js';

const ONE_YEAR_SECONDS = 365 * 24 * 60 * 60;
const stylesheet = fileURLToPath(new URL('./host.css', import.meta.url));

export interface WebAppParts {
  readonly http: WebHostHttp;
  readonly logger: HostLogger;
  readonly routers: readonly Router[];
  /** Whether the host has finished starting (`/healthz` answers 503 until then). */
  readonly started: () => boolean;
  /** Counts the requests being answered (a shutdown waits for them). */
  readonly inFlight: InFlightRequests;
}

export function createWebApp({ http, logger, routers, started, inFlight }: WebAppParts): Express {
  const app = express();
  app.use(inFlight.track);
  app.disable('x-powered-by');
  // A reverse proxy on the same machine may terminate TLS: trust its X-Forwarded-* headers only.
  app.set('trust proxy', 'loopback');
  app.use(
    helmet({
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
    }),
  );
  app.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  app.get('/healthz', (_req, res) => {
    if (started()) res.json({ status: 'ok' });
    else res.status(503).json({ status: 'starting' });
  });
  app.get('/crm-assets/host.css', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.sendFile(stylesheet);
  });
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
