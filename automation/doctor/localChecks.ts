/**
 * `avm doctor`'s local checks: Node.js, the pulumi CLI, the state backend and the secrets provider (passphrase)
 * that local account stacks use. The pulumi CLI and the passphrase are required only when account stacks run
 * locally (runner `local`, or `auto` with a pulumi CLI on PATH); otherwise their absence is reported as `!`.
 */
import path from "node:path";
import { resolveWorkspaceSettings } from "../stacks/workspaceSettings";
import type { DoctorContext } from "./doctorContext";
import { errorText, result, type CheckResult } from "./doctorCheck";

/** The minimum Node.js major version (the Lambda runtime and `@pulumi/pulumi` need 22). */
export const MIN_NODE_MAJOR = 22;

/** True when account stacks run through the local Automation API. */
export function runsLocally(ctx: DoctorContext): boolean {
  return ctx.runner === "local" || (ctx.runner === "auto" && ctx.hasPulumiCli);
}

/** Node.js is recent enough. */
export function checkNode(version: string = process.versions.node): CheckResult {
  const major = Number(version.split(".")[0]);
  if (major >= MIN_NODE_MAJOR) return result.pass("node", "Node.js", `v${version}`);
  return result.fail(
    "node",
    "Node.js",
    `v${version} is older than ${MIN_NODE_MAJOR}`,
    "source scripts/node22.sh (or install Node.js 22)",
  );
}

/** The pulumi CLI runs (required for local account stacks and `--stack`). */
export async function checkPulumiCli(ctx: DoctorContext): Promise<CheckResult> {
  const id = "pulumi-cli";
  const title = "pulumi CLI";
  const version = ctx.hasPulumiCli ? await ctx.pulumiVersion() : undefined;
  if (version !== undefined) return result.pass(id, title, version);
  const install = "install it (https://www.pulumi.com/docs/install/, or bash scripts/pulumi-cli.sh) and put it on PATH";
  if (ctx.runner === "local")
    return result.fail(id, title, "not found on PATH, but AVM_STACK_RUNNER is local", install);
  return result.warn(id, title, `not found on PATH (the ${ctx.runner} runner does not need it)`, install);
}

/** The state backend and secrets provider of local account stacks resolve (passphrase present when needed). */
export function checkStateBackend(ctx: DoctorContext): CheckResult {
  const id = "state-backend";
  const title = "state backend and passphrase";
  try {
    // The default backend is named explicitly so that checking it does not create its directory.
    const backend = ctx.env.PULUMI_BACKEND_URL?.trim() || `file://${path.join(ctx.repoRoot, ".avm", "state")}`;
    const settings = resolveWorkspaceSettings({ ...ctx.env, PULUMI_BACKEND_URL: backend }, ctx.repoRoot);
    const provider = settings.secretsProvider ?? "the backend's default";
    const passphrase =
      settings.secretsProvider === "passphrase"
        ? ctx.env.PULUMI_CONFIG_PASSPHRASE
          ? " (PULUMI_CONFIG_PASSPHRASE set)"
          : " (PULUMI_CONFIG_PASSPHRASE_FILE set)"
        : "";
    return result.pass(id, title, `${settings.backendUrl}, secrets provider ${provider}${passphrase}`);
  } catch (error) {
    const message = error instanceof Error ? error.message : errorText(error);
    const fix =
      "export PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE), or AVM_SECRETS_PROVIDER=awskms://<key>; PULUMI_BACKEND_URL must be file://, s3://, azblob://, gs:// or https://";
    if (!runsLocally(ctx)) return result.warn(id, title, `${message} (not needed by the ${ctx.runner} runner)`, fix);
    return result.fail(id, title, message, fix);
  }
}
