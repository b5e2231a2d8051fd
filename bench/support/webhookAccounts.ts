/** The accounts of `bench/webhook.ts`, shared by the load generator and the server process. */

/** The account id of the bench's i-th `BOOTSTRAPPING` record (12 digits). */
export function benchAccountId(i: number): string {
  return String(200_000_000_000 + i);
}
