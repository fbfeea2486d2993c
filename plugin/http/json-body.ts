/** The JSON body parser of the portal: small bodies only; malformed JSON becomes a 400 in the error handler. */
import express, { type RequestHandler } from 'express';

export const JSON_BODY_LIMIT = '64kb';
export const FORM_BODY_LIMIT = '64kb';

export function jsonBody(): RequestHandler {
  return express.json({ limit: JSON_BODY_LIMIT, strict: true });
}

/** Admin forms (`application/x-www-form-urlencoded`), flat fields only. */
export function formBody(): RequestHandler {
  return express.urlencoded({ extended: false, limit: FORM_BODY_LIMIT, parameterLimit: 200 });
}
