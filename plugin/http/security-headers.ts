/**
 * Headers on every response of the plugin's routers (errors and assets included): a strict
 * CSP, HSTS for a year, nosniff, no referrer, and no caching of anything the plugin answers but
 * the package's static files, which set their own (`package-assets.ts`).
 */
import type { RequestHandler } from 'express';
import helmet from 'helmet';

export const ONE_YEAR_SECONDS = 365 * 24 * 60 * 60;

export function securityHeaders(): RequestHandler {
  return helmet({
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
    xContentTypeOptions: true,
    xFrameOptions: { action: 'deny' },
  });
}

export const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};
