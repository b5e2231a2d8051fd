/**
 * Where account stacks keep their state and how their secrets are encrypted, resolved once from the
 * environment:
 * - `PULUMI_BACKEND_URL`: any Pulumi backend; default `file://<repo>/.avm/state` (created on demand).
 * - `AVM_SECRETS_PROVIDER`: `passphrase` (default on DIY backends), `awskms://...`, or `default`
 *   (Pulumi Cloud's own provider, the default when the backend is Pulumi Cloud).
 * - `PULUMI_CONFIG_PASSPHRASE` / `PULUMI_CONFIG_PASSPHRASE_FILE`: required by the passphrase provider.
 *   Only its presence is checked; the value is never read into this process' data, logged or echoed.
 * - `PULUMI_HOME`: the shared Pulumi home (plugins, credentials); default `~/.pulumi`.
 */
import { mkdirSync } from "node:fs";
import { homedir } from "node:os";
import * as path from "node:path";
import { AutomationConfigError } from "../errors";

/** Resolved workspace settings shared by every account stack. */
export interface WorkspaceSettings {
  /** The Pulumi project (repo root, where `Pulumi.yaml` lives): the local program of every account stack. */
  readonly repoRoot: string;
  /** Backend URL handed to the CLI as `PULUMI_BACKEND_URL`. */
  readonly backendUrl: string;
  /** Secrets provider for new stacks; `undefined` means the backend's default. */
  readonly secretsProvider?: string;
  /** The operator's Pulumi home: plugins are installed here once and shared by every stack. */
  readonly sharedPulumiHome: string;
  /** Parent of the per-stack Pulumi homes (`<repo>/.avm/pulumi-home`), one per stack so that concurrent
   * `createOrSelectStack` calls do not race on the workspace's current-stack file. */
  readonly stackHomesDir: string;
}

/** Repo root derived from this file's location (`automation/stacks/` -> `../..`). */
export function defaultRepoRoot(): string {
  return path.resolve(__dirname, "..", "..");
}

const BACKEND_SCHEMES = /^(file|s3|azblob|gs|https?):\/\//;

/**
 * Resolves and validates the workspace settings; creates the default state directory.
 * @param env environment to read (default `process.env`)
 * @param repoRoot the Pulumi project directory (default: this repository)
 * @throws AutomationConfigError naming the variable when a value is invalid or the passphrase is missing
 */
export function resolveWorkspaceSettings(
  env: NodeJS.ProcessEnv = process.env,
  repoRoot: string = defaultRepoRoot(),
): WorkspaceSettings {
  const avmDir = path.join(repoRoot, ".avm");
  const configuredBackend = env.PULUMI_BACKEND_URL?.trim();
  let backendUrl: string;
  if (configuredBackend) {
    if (!BACKEND_SCHEMES.test(configuredBackend)) {
      throw new AutomationConfigError(
        `PULUMI_BACKEND_URL must start with file://, s3://, azblob://, gs:// or https://, got "${configuredBackend}"`,
      );
    }
    backendUrl = configuredBackend;
  } else {
    const stateDir = path.join(avmDir, "state");
    mkdirSync(stateDir, { recursive: true });
    backendUrl = `file://${stateDir}`;
  }
  const isCloud = /^https?:\/\//.test(backendUrl);

  const requested = env.AVM_SECRETS_PROVIDER?.trim() || (isCloud ? "default" : "passphrase");
  let secretsProvider: string | undefined;
  if (requested === "passphrase") {
    const hasPassphrase =
      (env.PULUMI_CONFIG_PASSPHRASE ?? "") !== "" || (env.PULUMI_CONFIG_PASSPHRASE_FILE ?? "") !== "";
    if (!hasPassphrase) {
      throw new AutomationConfigError(
        "PULUMI_CONFIG_PASSPHRASE is not set: the passphrase secrets provider needs it to encrypt account stack secrets " +
          "(set it, or PULUMI_CONFIG_PASSPHRASE_FILE, or choose AVM_SECRETS_PROVIDER=awskms://<key>)",
      );
    }
    secretsProvider = "passphrase";
  } else if (requested === "default") {
    if (!isCloud) {
      throw new AutomationConfigError(
        `AVM_SECRETS_PROVIDER=default needs a Pulumi Cloud backend, but PULUMI_BACKEND_URL is "${backendUrl}"`,
      );
    }
    secretsProvider = undefined;
  } else if (/^awskms:\/\/.+/.test(requested)) {
    secretsProvider = requested;
  } else {
    throw new AutomationConfigError(
      `AVM_SECRETS_PROVIDER must be "passphrase", "default" or "awskms://<key id or alias>", got "${requested}"`,
    );
  }

  const sharedPulumiHome = env.PULUMI_HOME?.trim() || path.join(homedir(), ".pulumi");
  return Object.freeze({
    repoRoot,
    backendUrl,
    ...(secretsProvider === undefined ? {} : { secretsProvider }),
    sharedPulumiHome,
    stackHomesDir: path.join(avmDir, "pulumi-home"),
  });
}
