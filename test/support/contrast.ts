/**
 * Colour contrast as WCAG computes it, from the colours the browser actually uses: the relative
 * luminance of each sRGB colour and (L1 + 0.05) / (L2 + 0.05). The page-side parts are strings
 * evaluated in the page: the tests are compiled without the DOM library.
 */

/** The contrast ratio of two `rgb()`/`rgba()` colours as getComputedStyle gives them (1 to 21). */
export function contrastRatio(a: string, b: string): number {
  const [la, lb] = [luminance(a), luminance(b)];
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

function luminance(colour: string): number {
  const channels = /rgba?\(([^)]+)\)/.exec(colour)?.[1]?.split(/[\s,/]+/).filter(Boolean).map(Number);
  if (!channels || channels.length < 3) throw new Error(`Not an rgb() colour: ${colour}`);
  const [r, g, b] = channels.slice(0, 3).map((c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/**
 * A page-side function `bpBackdrop(el)`: the opaque colour behind `el` (the first ancestor's
 * background that is not transparent, else white), as an `rgb()` string. Evaluate it once per page.
 */
export const BACKDROP_SCRIPT = `window.bpBackdrop = (el) => {
  for (let at = el.parentElement; at; at = at.parentElement) {
    const colour = getComputedStyle(at).backgroundColor;
    const alpha = /rgba\\([^)]*,\\s*([\\d.]+)\\)/.exec(colour);
    if (colour !== 'transparent' && !(alpha && Number(alpha[1]) === 0)) return colour;
  }
  return 'rgb(255, 255, 255)';
}`;
