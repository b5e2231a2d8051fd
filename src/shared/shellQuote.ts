/** Quoting for POSIX shells: commands the AVM prints for a person to run, or hands to a shell to run. */

/** Quotes `value` for a POSIX shell (always single-quoted; a `'` inside becomes `'\''`). */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `value` as one shell word: as it is when it holds only characters no shell treats specially, else quoted. */
export function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : shellQuote(value);
}
