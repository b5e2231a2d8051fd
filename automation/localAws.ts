/**
 * A local stand-in for AWS: starts a moto server (https://github.com/getmoto/moto) on a free loopback port.
 * Used by the integration tests (through `test/support/moto.ts`), the demo and the benchmarks, which start
 * and stop their own server.
 *
 * The server is started through a tiny Python bootstrap that exits as soon as its stdin closes, so the
 * server dies with its parent even when the parent is killed with SIGKILL and cannot run exit hooks.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import {
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  ListRootsCommand,
  OrganizationsClient,
} from "@aws-sdk/client-organizations";

/** Region every local client uses. */
export const LOCAL_REGION = "us-east-1";

/** The account moto answers as by default (the organization's management account). */
export const MOTO_DEFAULT_ACCOUNT_ID = "123456789012";

/** A running moto server. */
export interface MotoServer {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly endpoint: string;
  /** The Python interpreter that runs the server. */
  readonly python: string;
  /** `moto.__version__` as reported by that interpreter. */
  readonly version: string;
  /** Clears all emulated AWS state (`POST /moto-api/reset`). */
  reset(): Promise<void>;
  /** Stops the server and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startMoto}. */
export interface StartMotoOptions {
  /**
   * Python interpreter. Default: `<repoRoot>/.venv/bin/python` when it exists (installed by
   * `scripts/setup-moto.sh`), else `python3` from PATH.
   */
  readonly python?: string;
  /** Repository root used to find `.venv`. Default: the parent folder of `automation/`. */
  readonly repoRoot?: string;
  /** How long to wait for the server to listen before giving up. Default 30000 ms. */
  readonly startupTimeoutMs?: number;
  /**
   * Starts the startup timer: calls `fire` after `ms` and returns a function that cancels it. Default
   * `setTimeout`; tests inject a timer they fire at a chosen point instead of racing the clock.
   */
  readonly startupTimer?: (fire: () => void, ms: number) => () => void;
}

/** The moto server could not be started or reset. */
export class LocalAwsError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

// Exits when stdin closes (the parent died or stopped us), then runs moto's own server entry point like
// `python -m moto.server -H 127.0.0.1 -p 0`, but handling one request at a time (a lock around the application;
// connections stay threaded and keep-alive). moto is not concurrency-safe (its backends take no locks): under load
// its threaded server evaluated a DynamoDB condition and wrote the item in two steps, so two racing conditional
// writes could both win (seen: 6 holders of 5 CreateAccount slots, and two records for one email, with both cores
// busy), and concurrent SQS calls crashed a handler (an HTML 500). AWS makes each call atomic and the product's
// exactly-once guards rely on that, so every request runs under one lock here, whatever the machine's speed.
const BOOTSTRAP = [
  "import os, sys, threading",
  "def _watch():",
  "    try:",
  "        sys.stdin.buffer.read()",
  "    finally:",
  "        os._exit(0)",
  "threading.Thread(target=_watch, daemon=True).start()",
  "import moto",
  "print('moto-version ' + moto.__version__, flush=True)",
  "import moto.server",
  "_run_simple = moto.server.run_simple",
  "_lock = threading.Lock()",
  "def _serialised(hostname, port, app, **kwargs):",
  "    def one_at_a_time(environ, start_response):",
  "        with _lock:",
  "            return list(app(environ, start_response))",
  "    return _run_simple(hostname, port, one_at_a_time, **kwargs)",
  "moto.server.run_simple = _serialised",
  "moto.server.main(['-H', '127.0.0.1', '-p', '0'])",
].join("\n");

const RUNNING_ON = /Running on http:\/\/127\.0\.0\.1:(\d+)/;
const VERSION_LINE = /^moto-version (\S+)/m;

/** The interpreter {@link startMoto} uses when none is given. */
export function defaultMotoPython(repoRoot: string = path.resolve(__dirname, "..")): string {
  const venv = path.join(repoRoot, ".venv", "bin", "python");
  return existsSync(venv) ? venv : "python3";
}

/**
 * Starts a moto server bound to 127.0.0.1 on a free port.
 * @throws LocalAwsError when the interpreter is missing, moto is not importable, or the server does not
 * listen within `startupTimeoutMs`.
 */
export async function startMoto(options: StartMotoOptions = {}): Promise<MotoServer> {
  const python = options.python ?? defaultMotoPython(options.repoRoot);
  const timeoutMs = options.startupTimeoutMs ?? 30_000;
  const startupTimer = options.startupTimer ?? wallClockTimer;
  const child = spawn(python, ["-u", "-c", BOOTSTRAP], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, PYTHONUNBUFFERED: "1" },
  });
  const killOnExit = (): void => {
    child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);

  let output = "";
  const started = await new Promise<{ port: number; version: string }>((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | undefined, value?: { port: number; version: string }): void => {
      if (settled) return;
      settled = true;
      cancelTimer();
      if (error) reject(error);
      else resolve(value!);
    };
    const onData = (chunk: Buffer): void => {
      // Keep only a bounded tail for error messages; moto logs every request.
      output = (output + chunk.toString("utf8")).slice(-8_000);
      const port = RUNNING_ON.exec(output)?.[1];
      if (port !== undefined) {
        finish(undefined, { port: Number(port), version: VERSION_LINE.exec(output)?.[1] ?? "unknown" });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("error", (error) =>
      finish(new LocalAwsError(`cannot start moto with ${python}: ${error.message}`, { cause: error })),
    );
    // At the limit the server is killed and the error waits for its pipes to close, so it carries everything the
    // server printed before (a timer firing first must not race output that is already written).
    let timedOut = false;
    const ended = (code: number | null, signal: NodeJS.Signals | null): void =>
      finish(
        new LocalAwsError(
          timedOut
            ? `moto server (${python}) did not report its port within ${timeoutMs} ms. Output: ${output.trim().slice(-1_000)}`
            : `moto server (${python}) exited during startup (code ${code ?? "none"}, signal ${signal ?? "none"}); ` +
                `run scripts/setup-moto.sh. Output: ${output.trim().slice(-1_000)}`,
        ),
      );
    child.once("close", ended);
    // A grandchild holding the pipes open must not keep startup waiting after the server itself exited.
    child.once("exit", (code, signal) => setTimeout(() => ended(code, signal), 5_000).unref());
    const cancelTimer = startupTimer(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
  }).catch((error: unknown) => {
    process.removeListener("exit", killOnExit);
    child.kill("SIGKILL");
    throw error;
  });

  // After startup the output is drained and dropped so moto never blocks on a full pipe.
  output = "";
  child.stdout!.removeAllListeners("data");
  child.stderr!.removeAllListeners("data");
  child.stdout!.resume();
  child.stderr!.resume();

  const endpoint = `http://127.0.0.1:${started.port}`;
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    python,
    version: started.version,
    reset: () => resetMoto(endpoint),
    stop: () => {
      stopped ??= stopChild(child).finally(() => process.removeListener("exit", killOnExit));
      return stopped;
    },
  };
}

function wallClockTimer(fire: () => void, ms: number): () => void {
  const timer = setTimeout(fire, ms);
  return () => clearTimeout(timer);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin!.end(); // the bootstrap exits when stdin closes
    child.kill("SIGTERM");
  });
}

/**
 * Clears all state of the moto server at `endpoint`.
 * @throws LocalAwsError when the server does not answer 200.
 */
export async function resetMoto(endpoint: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
  } catch (error) {
    throw new LocalAwsError(`moto reset at ${endpoint} failed: ${(error as Error).message}`, { cause: error });
  }
  await response.arrayBuffer();
  if (response.status !== 200) {
    throw new LocalAwsError(`moto reset at ${endpoint} answered HTTP ${response.status}`);
  }
}

/** SDK v3 client configuration for a local endpoint. */
export interface LocalClientConfig {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly maxAttempts: number;
}

/**
 * Client configuration for talking to moto: the endpoint, region `us-east-1`, static dummy credentials
 * and `maxAttempts: 1` (an unimplemented moto operation answers HTML 500, which the SDK would otherwise
 * retry and then report as a parse error).
 */
export function localClientConfig(endpoint: string): LocalClientConfig {
  return {
    endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    maxAttempts: 1,
  };
}

/** What {@link createOrganizationWithOu} created. */
export interface LocalOrganization {
  readonly organizationId: string;
  readonly managementAccountId: string;
  readonly rootId: string;
  readonly ouId: string;
  readonly ouName: string;
}

/**
 * Creates an organization (all features) and one OU under its root in the emulator at `endpoint`.
 * @param ouName name of the OU (default `Workloads`).
 */
export async function createOrganizationWithOu(endpoint: string, ouName = "Workloads"): Promise<LocalOrganization> {
  const client = new OrganizationsClient(localClientConfig(endpoint));
  try {
    const org = await client.send(new CreateOrganizationCommand({ FeatureSet: "ALL" }));
    const roots = await client.send(new ListRootsCommand({}));
    const rootId = roots.Roots?.[0]?.Id;
    const ou = await client.send(new CreateOrganizationalUnitCommand({ ParentId: rootId, Name: ouName }));
    const organizationId = org.Organization?.Id;
    const managementAccountId = org.Organization?.MasterAccountId;
    const ouId = ou.OrganizationalUnit?.Id;
    if (!organizationId || !managementAccountId || !rootId || !ouId) {
      throw new LocalAwsError("moto returned an incomplete organization");
    }
    return { organizationId, managementAccountId, rootId, ouId, ouName };
  } finally {
    client.destroy();
  }
}
