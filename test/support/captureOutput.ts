/** Captures what code under test writes to the process's stdout and stderr (Powertools and Pulumi write there). */

/** Runs `fn` while capturing every write to stdout and stderr; the streams are restored afterwards. */
export async function captureOutput<T>(fn: () => Promise<T>): Promise<{ result: T; text: string }> {
  let text = "";
  const out = process.stdout.write;
  const err = process.stderr.write;
  const capture = (chunk: unknown): boolean => {
    text += typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8");
    return true;
  };
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
  try {
    return { result: await fn(), text };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}
