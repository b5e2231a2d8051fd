/**
 * Awaits `promise` and returns what it rejected with, for exact assertions on the error (class, message, fields).
 * @throws Error when the promise resolves instead, so a test that expects a failure fails without one
 */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection, but the promise resolved");
}
