/**
 * The HTML part of every mail the plugin sends, host template or its own: the rendered fragment
 * (`<p>…</p>`) put in a document that says its language (`<html lang>`: a screen reader reads
 * Italian as Italian), fits a phone's screen (`viewport`), and wraps what has no space to wrap at
 * — the reset or unlock link every customer gets is one word of about 90 characters, and a ticket's
 * title, description or reply may hold a longer URL —, which a phone's mail app would otherwise
 * show wider than the screen. A template that is a whole document already (an admin's own, with
 * its `<html>` or `<body>`) is sent as written: its look is the admin's; one of plain text only
 * (a blank HTML part) is sent without an HTML part, as before.
 */
import type { LanguageCode } from '../host-contract/index.js';

/** A rendered part that is a document of its own, not a fragment. */
const WHOLE_DOCUMENT = /<!doctype\b|<html[\s>]|<body[\s>]/i;

/** A language tag as `lang` takes it; anything else (never expected) is left out. */
const LANGUAGE_TAG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;

/** Inline, as mail clients drop a `<style>` block or keep only inline styles. */
const BODY_STYLE = [
  'margin:0',
  'padding:16px',
  'font-family:Arial,Helvetica,sans-serif',
  'font-size:16px',
  'line-height:1.5',
  'color:#1f2328',
  'background:#ffffff',
  // A word longer than the line (a link, a pasted token) breaks where it must, a table cell too.
  'overflow-wrap:anywhere',
  'word-wrap:break-word',
  'word-break:break-word',
].join(';');

export function mailDocument(html: string, language: LanguageCode): string {
  // No HTML part (a template of plain text only) stays none: a blank document would be shown instead of the text.
  if (html.trim() === '' || WHOLE_DOCUMENT.test(html)) return html;
  const lang = LANGUAGE_TAG.test(language) ? ` lang="${language}"` : '';
  return [
    '<!DOCTYPE html>',
    `<html${lang}>`,
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '</head>',
    `<body style="${BODY_STYLE}">`,
    html.trim(),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
