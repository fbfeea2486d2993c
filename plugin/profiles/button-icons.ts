/**
 * The icons a home button may show: one fixed set, kept here so that the privileges editor and
 * the portal's home page draw the same pictures. Each icon is the path data of a 24×24 outline
 * drawn with a 2px round stroke (no fill), so it takes the button's text colour. Trusted
 * constants: pages put them in an SVG sprite (`<symbol id="bp-icon-NAME">`) and refer to them
 * with `<use href="#bp-icon-NAME">`. A stored name outside the set is drawn as `FALLBACK_ICON`.
 */
export const BUTTON_ICONS = {
  ticket: 'M3 8a2 2 0 0 0 2-2h14a2 2 0 0 0 2 2v2a2 2 0 0 0 0 4v2a2 2 0 0 0-2 2H5a2 2 0 0 0-2-2v-2a2 2 0 0 0 0-4zM9 6v12',
  plus: 'M12 5v14M5 12h14',
  list: 'M9 6h11M9 12h11M9 18h11M4 6h.01M4 12h.01M4 18h.01',
  document: 'M14 3H6v18h12V7zM14 3v4h4M9 13h6M9 17h6',
  invoice: 'M6 3h12v18l-3-2-3 2-3-2-3 2zM9 8h6M9 12h6M9 16h3',
  question: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM9.5 9a2.5 2.5 0 1 1 3.5 2.3c-.6.3-1 .9-1 1.6v.6M12 17h.01',
  user: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21a8 8 0 0 1 16 0',
  building: 'M4 21V5l8-2v18M12 8h8v13M8 8h.01M8 12h.01M8 16h.01M16 12h.01M16 16h.01M2 21h20',
  box: 'M3 7l9-4 9 4-9 4zM3 7v10l9 4 9-4V7M12 11v10',
  calendar: 'M4 6h16v15H4zM4 10h16M8 3v4M16 3v4',
  chart: 'M4 20V10M10 20V4M16 20v-7M22 20H2',
  mail: 'M3 5h18v14H3zM3 6l9 7 9-7',
  search: 'M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14zM21 21l-5-5',
  star: 'M12 3l2.8 5.7 6.2.9-4.5 4.4 1 6.2-5.5-2.9-5.5 2.9 1-6.2L3 9.6l6.2-.9z',
  wrench: 'M14.7 6.3a4 4 0 0 0 5 5L21 13l-8 8-3-3 8-8-1.3-1.3a4 4 0 0 1-5-5L10 5l2-2z',
  chat: 'M4 5h16v11H9l-5 4z',
} as const satisfies Readonly<Record<string, string>>;

export type ButtonIcon = keyof typeof BUTTON_ICONS;

export const BUTTON_ICON_NAMES = Object.keys(BUTTON_ICONS) as ButtonIcon[];

export const FALLBACK_ICON: ButtonIcon = 'star';

/** The icon to draw for a stored name: itself when it is in the set, else the fallback. */
export function buttonIcon(name: string): ButtonIcon {
  return Object.hasOwn(BUTTON_ICONS, name) ? (name as ButtonIcon) : FALLBACK_ICON;
}
