/**
 * Mocha glue for integration tests against moto (`*.moto.spec.ts`). All moto specs run in one mocha
 * process and share ONE server, started lazily by the first `useMoto()` suite and stopped after the
 * last test of the process (and, failing that, when the process exits).
 *
 * Usage:
 * ```ts
 * describe("thing against moto", function () {
 *   const moto = useMoto();               // reset before each test
 *   it("...", async () => { const client = new SQSClient(moto.clientConfig()); ... });
 * });
 * ```
 */
import {
  createOrganizationWithOu,
  localClientConfig,
  startMoto,
  type LocalClientConfig,
  type LocalOrganization,
  type MotoServer,
} from "../../automation/localAws";
import { HANG_GUARD_MS } from "./hangGuard";

export { localClientConfig, type LocalClientConfig, type LocalOrganization } from "../../automation/localAws";

let server: Promise<MotoServer> | undefined;

/** Starts the shared server once per process; later calls return the same server. */
export function sharedMoto(): Promise<MotoServer> {
  if (server === undefined) {
    // The startup limit is a hang guard only: a busy machine may take far longer than the product default.
    server = startMoto({ startupTimeoutMs: HANG_GUARD_MS - 60_000 }).then((started) => {
      console.log(`    [moto ${started.version} via ${started.python} at ${started.endpoint}]`);
      return started;
    });
    // Do not cache a failed start: the next suite gets a fresh attempt and its own clear error.
    server.catch(() => {
      server = undefined;
    });
  }
  return server;
}

/** Stops the shared server if it was started. */
export async function stopSharedMoto(): Promise<void> {
  const running = server;
  server = undefined;
  if (running) await (await running.catch(() => undefined))?.stop();
}

// Registered at module load, outside any describe: a root hook that runs once after every suite of the
// process. (startMoto also kills the server when the process exits, and the server exits when its stdin
// closes, so nothing survives a crashed mocha either.)
if (typeof after === "function") after(stopSharedMoto);

/** Handle returned by {@link useMoto}; valid inside tests and hooks of the suite. */
export interface MotoHandle {
  /** Base URL of the server. Throws when read before the suite's `before` hook ran. */
  readonly endpoint: string;
  /** SDK client configuration for the server (see `localClientConfig`). */
  clientConfig(): LocalClientConfig;
  /** Creates an organization and one OU in the (freshly reset) emulator. */
  createOrganization(ouName?: string): Promise<LocalOrganization>;
}

/**
 * Registers hooks on the current `describe`: start the shared server (once per process), reset it
 * before each test, and stop it after the whole run (a root hook).
 */
export function useMoto(): MotoHandle {
  let current: MotoServer | undefined;
  before(async function () {
    this.timeout(HANG_GUARD_MS);
    current = await sharedMoto();
  });
  beforeEach(async () => {
    await current!.reset();
  });
  const endpoint = (): string => {
    if (!current) throw new Error("moto is not started yet: use the endpoint inside tests or hooks");
    return current.endpoint;
  };
  return {
    get endpoint() {
      return endpoint();
    },
    clientConfig: () => localClientConfig(endpoint()),
    createOrganization: (ouName?: string) => createOrganizationWithOu(endpoint(), ouName),
  };
}
