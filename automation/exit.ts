/** Ending a command-line process without losing its output. */

/**
 * Exits with `code` once everything written to stdout and stderr so far is flushed. Writes to a pipe are
 * asynchronous, so `process.exit` at once cuts a large document short (a `--json` result piped into another
 * program); exiting explicitly is still needed, as idle keep-alive sockets of AWS clients would hold the process open.
 */
export function exitWhenFlushed(code: number): void {
  process.exitCode = code;
  let open = 2;
  const flushed = (): void => {
    open -= 1;
    if (open === 0) process.exit(code);
  };
  process.stdout.write("", flushed);
  process.stderr.write("", flushed);
}
