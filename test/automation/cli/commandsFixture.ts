/** Shared set-up of the commands specs (split per step/command from one file). */
import { CliHarness } from "./harness";
import { waitUntil } from "../../support/hangGuard";

/** For {@link waitUntil}: why waiting is pointless once the command ended (undefined while it runs). */
export function exitedOf(running: Promise<number>): () => string | undefined {
  let exited: string | undefined;
  running.then(
    (code) => (exited = `avm exited with ${code}`),
    (error: unknown) => (exited = `avm failed: ${String(error)}`),
  );
  return () => exited;
}

export const VEND = [
  "vend",
  "--account-name",
  "team-a-dev",
  "--email",
  "Team-A@Example.com",
  "--ou",
  "/Workloads",
  "--tag",
  "CostCenter=1234",
  "--request-id",
  "req-a",
  "--product-name",
  "ws-a",
  "--stage",
  "dev",
];

/**
 * Gives every test of the calling `describe` a fresh {@link CliHarness} (fake Organizations with the OU `/Workloads`),
 * disposed after the test: `set` receives the harness and the OU id before each test.
 */
export function useCliHarness(set: (harness: CliHarness, workloadsOuId: string) => void): void {
  let current: CliHarness | undefined;
  beforeEach(() => {
    current = new CliHarness();
    set(current, current.org.addOu("Workloads"));
  });
  afterEach(() => current?.dispose());
}
