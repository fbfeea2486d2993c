/**
 * SQLite folds the case of A–Z only (`LOWER()`, `LIKE`) and the node `sqlite3` driver cannot add a
 * function that knows more. A search there is a `GLOB` pattern instead, case-sensitive, in which a
 * cased letter stands as the class of its forms (`[èÈ]`): every letter's case is ignored, with no
 * function around the column, as PostgreSQL's and MariaDB's `LOWER()` do. Accents still count.
 */

let classes: ReadonlyMap<string, string> | undefined;

/** The one lower-case form a letter compares as: `È` → `è`, `ẞ` → `ß`, `İ` → `i` (as `LOWER()` on PostgreSQL and MariaDB). */
function caseKey(character: string): string {
  const lower = character.toLowerCase();
  if ([...lower].length === 1) return lower;
  const turkish = character.toLocaleLowerCase('tr');
  return [...turkish].length === 1 ? turkish : character;
}

/** Each cased letter's key → every letter with that key, built once (about 2,800 letters). */
function caseClasses(): ReadonlyMap<string, string> {
  if (classes) return classes;
  const members = new Map<string, string>();
  for (let code = 0; code <= 0x1ffff; code++) {
    if (code >= 0xd800 && code <= 0xdfff) continue;
    const character = String.fromCodePoint(code);
    if (character.toLowerCase() === character && character.toUpperCase() === character) continue;
    const key = caseKey(character);
    members.set(key, (members.get(key) ?? '') + character);
  }
  classes = members;
  return members;
}

/**
 * A SQLite `GLOB` pattern finding `text` whatever the case of its letters, from the start
 * (`startsWith`) or anywhere (`contains`). `*`, `?` and `[` are themselves (`[*]`); a class holds
 * letters only, so no `]`, `^` or `-` needs placing.
 */
export function caseInsensitiveGlob(text: string, anywhere: boolean): string {
  const known = caseClasses();
  let pattern = anywhere ? '*' : '';
  for (const character of text) {
    const forms = known.get(caseKey(character)) ?? character;
    if ([...forms].length > 1) pattern += `[${forms}]`;
    else pattern += '*?['.includes(character) ? `[${character}]` : character;
  }
  return `${pattern}*`;
}
