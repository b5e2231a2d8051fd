/**
 * What an account stack was deployed with: the program version and a digest of the stack's effective
 * configuration. The account stack program exports it as the stack output {@link DEPLOYMENT_STAMP_OUTPUT};
 * `avm fleet status` computes the same stamp for the current checkout and settings and compares, so an account
 * whose stack was deployed by an older program or with other settings shows as outdated.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { repoRoot } from "./repoRoot";

/** Name of the account stack output holding the {@link DeploymentStamp}. */
export const DEPLOYMENT_STAMP_OUTPUT = "avmDeployment";

/** Environment variable that names the program revision (e.g. a CI build's git sha) instead of `git rev-parse`. */
export const PROGRAM_REVISION_ENV = "AVM_PROGRAM_REVISION";

/** The account stack output {@link DEPLOYMENT_STAMP_OUTPUT}. */
export interface DeploymentStamp {
  /** `<package version>+<git sha, 12 hex>`, or the package version alone when no revision is known. */
  readonly programVersion: string;
  /** `sha256:<hex>` of the effective configuration ({@link accountConfigDigest}). */
  readonly configDigest: string;
}

/**
 * The effective (validated, defaults applied) configuration of an account stack as plain values: what
 * `src/config.ts` returns for an account stack, with the secret external id as a string.
 */
export interface PlainAccountConfig {
  readonly accountId: string;
  readonly region: string;
  readonly managementAccountId: string;
  readonly automationAccountId: string;
  readonly meshfedServicePrincipalArn: string | undefined;
  readonly externalId: string | undefined;
  readonly accessRoleName: string;
  readonly samlProviderName: string;
  readonly bootstrapRoleName: string;
  readonly accountAlias: string | undefined;
  readonly alternateContacts: unknown;
  readonly tags: Readonly<Record<string, string>>;
}

/** JSON with object keys sorted at every level and `undefined` members dropped: equal values, equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/**
 * `sha256:<hex>` of the canonical JSON of `config`. The external id takes part (a new one must make every stack
 * outdated), which is why the program marks the output secret whenever an external id is configured.
 */
export function accountConfigDigest(config: PlainAccountConfig): string {
  const plain: Record<string, unknown> = {
    accountId: config.accountId,
    region: config.region,
    managementAccountId: config.managementAccountId,
    automationAccountId: config.automationAccountId,
    meshfedServicePrincipalArn: config.meshfedServicePrincipalArn,
    externalId: config.externalId,
    accessRoleName: config.accessRoleName,
    samlProviderName: config.samlProviderName,
    bootstrapRoleName: config.bootstrapRoleName,
    accountAlias: config.accountAlias,
    alternateContacts: config.alternateContacts,
    tags: config.tags,
  };
  return `sha256:${createHash("sha256").update(canonicalJson(plain)).digest("hex")}`;
}

/** Options of {@link programVersion}. */
export interface ProgramVersionOptions {
  /** Environment; default `process.env`. {@link PROGRAM_REVISION_ENV} wins over git. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Reads the checkout's git revision; default `git rev-parse HEAD` in the repository root. */
  readonly gitRevision?: () => string | undefined;
  /** Package version; default `version` of the repository's package.json. */
  readonly packageVersion?: string;
}

let cachedRevision: { value: string | undefined } | undefined;

/** `git rev-parse HEAD` of the repository root, or undefined without git or outside a checkout (cached). */
export function gitRevisionOfCheckout(): string | undefined {
  if (cachedRevision === undefined) {
    let value: string | undefined;
    const cwd = repoRoot();
    try {
      if (cwd === undefined) throw new Error("no Pulumi.yaml above this module");
      value = execFileSync("git", ["rev-parse", "HEAD"], {
        cwd,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
        timeout: 10_000,
      }).trim();
    } catch {
      value = undefined;
    }
    cachedRevision = { value: value && /^[0-9a-f]{7,64}$/.test(value) ? value : undefined };
  }
  return cachedRevision.value;
}

/** The program version a deployment from this checkout records: `<package version>+<sha 12>` or the version. */
export function programVersion(options: ProgramVersionOptions = {}): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const version = options.packageVersion ?? (require("../../package.json") as { version: string }).version;
  const fromEnv = (options.env ?? process.env)[PROGRAM_REVISION_ENV]?.trim();
  const revision = fromEnv ? fromEnv : (options.gitRevision ?? gitRevisionOfCheckout)();
  return revision ? `${version}+${revision.slice(0, 12)}` : version;
}

/** The stamp in a stack output value, or undefined when it is missing or malformed. */
export function parseDeploymentStamp(value: unknown): DeploymentStamp | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const { programVersion: version, configDigest } = value as Record<string, unknown>;
  if (typeof version !== "string" || typeof configDigest !== "string") return undefined;
  return { programVersion: version, configDigest };
}

/** True when both stamps name the same program version and configuration. */
export function sameStamp(a: DeploymentStamp, b: DeploymentStamp): boolean {
  return a.programVersion === b.programVersion && a.configDigest === b.configDigest;
}
