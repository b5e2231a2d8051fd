/**
 * {@link PulumiEngine} on the Pulumi Automation API: the repo root as a local program
 * (`LocalWorkspace.createOrSelectStack({ stackName, workDir: repoRoot })`), so `pulumi up`, this engine and
 * Pulumi Deployments all run the same code.
 *
 * Isolation for parallel stacks: `createOrSelectStack` writes the workspace's "current stack" file under
 * `$PULUMI_HOME/workspaces` (pulumi/pulumi#8186: concurrent selects corrupt it), so every stack gets its own
 * PULUMI_HOME under `.avm/pulumi-home/<stack>`; its `plugins` directory (and `credentials.json`, when present)
 * are symlinks into the shared home, and {@link LocalPulumiEngine.prepare} installs the provider plugins once,
 * up front, so parallel operations never download the same plugin concurrently. Each stack's config lives in
 * its own `Pulumi.<stack>.yaml`.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import * as path from "node:path";
import {
  LocalWorkspace,
  type ConfigMap,
  type OutputMap,
  type Stack,
  type UpdateSummary,
} from "@pulumi/pulumi/automation";
import type {
  EngineCallOptions,
  EngineConfig,
  EngineOutputs,
  EnginePreviewResult,
  EngineStackSummary,
  EngineUpdateResult,
  PulumiEngine,
  ResourceChanges,
} from "./engine";
import type { WorkspaceSettings } from "./workspaceSettings";

/** Converts the SDK's output map to the engine's. */
function toOutputs(outputs: OutputMap): EngineOutputs {
  return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, { value: v.value, secret: v.secret }]));
}

function changes(summary: UpdateSummary): ResourceChanges {
  return { ...(summary.resourceChanges ?? {}) };
}

/** Provider plugins the program needs: every `@pulumi/<name>` dependency except the SDK itself. */
export function requiredPlugins(repoRoot: string): Array<{ name: string; version: string }> {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  return Object.keys(pkg.dependencies ?? {})
    .filter((dep) => dep.startsWith("@pulumi/") && dep !== "@pulumi/pulumi")
    .map((dep) => {
      const installed = JSON.parse(readFileSync(path.join(repoRoot, "node_modules", dep, "package.json"), "utf8")) as {
        version: string;
      };
      return { name: dep.slice("@pulumi/".length), version: `v${installed.version}` };
    });
}

/** The real engine. One instance per process; safe for concurrent calls on different stacks. */
export class LocalPulumiEngine implements PulumiEngine {
  private readonly stacks = new Map<string, Promise<Stack>>();

  /** @param settings resolved with `resolveWorkspaceSettings()` */
  constructor(private readonly settings: WorkspaceSettings) {}

  private envVars(): Record<string, string> {
    // Only non-secret settings are passed explicitly; the passphrase is inherited from the process environment.
    return { PULUMI_BACKEND_URL: this.settings.backendUrl, PULUMI_SKIP_UPDATE_CHECK: "true" };
  }

  private stackHome(stackName: string): string {
    const home = path.join(this.settings.stackHomesDir, stackName);
    mkdirSync(home, { recursive: true });
    const sharedPlugins = path.join(this.settings.sharedPulumiHome, "plugins");
    mkdirSync(sharedPlugins, { recursive: true });
    const link = (name: string, target: string): void => {
      const at = path.join(home, name);
      if (existsSync(at) || !existsSync(target)) return;
      try {
        symlinkSync(target, at);
      } catch (error) {
        // Another operation on the same stack linked it first.
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
    };
    link("plugins", sharedPlugins);
    link("credentials.json", path.join(this.settings.sharedPulumiHome, "credentials.json"));
    return home;
  }

  private stack(stackName: string): Promise<Stack> {
    let stack = this.stacks.get(stackName);
    if (!stack) {
      stack = LocalWorkspace.createOrSelectStack(
        { stackName, workDir: this.settings.repoRoot },
        {
          pulumiHome: this.stackHome(stackName),
          envVars: this.envVars(),
          ...(this.settings.secretsProvider ? { secretsProvider: this.settings.secretsProvider } : {}),
        },
      );
      // A failed select must not poison later attempts.
      stack.catch(() => this.stacks.delete(stackName));
      this.stacks.set(stackName, stack);
    }
    return stack;
  }

  private async existing(stackName: string): Promise<Stack> {
    const cached = this.stacks.get(stackName);
    if (cached) return cached;
    const selected = LocalWorkspace.selectStack(
      { stackName, workDir: this.settings.repoRoot },
      { pulumiHome: this.stackHome(stackName), envVars: this.envVars() },
    );
    selected.catch(() => this.stacks.delete(stackName));
    this.stacks.set(stackName, selected);
    return selected;
  }

  private sharedWorkspace(): Promise<LocalWorkspace> {
    return LocalWorkspace.create({
      workDir: this.settings.repoRoot,
      pulumiHome: this.settings.sharedPulumiHome,
      envVars: this.envVars(),
    });
  }

  async prepare(): Promise<void> {
    const ws = await this.sharedWorkspace();
    for (const plugin of requiredPlugins(this.settings.repoRoot)) {
      await ws.installPlugin(plugin.name, plugin.version);
    }
  }

  async ensureStack(stackName: string): Promise<void> {
    await this.stack(stackName);
  }

  async setConfig(stackName: string, config: EngineConfig): Promise<void> {
    const stack = await this.stack(stackName);
    const scalars: ConfigMap = {};
    for (const [key, entry] of Object.entries(config)) {
      if (typeof entry.value === "string") {
        scalars[key] = { value: entry.value, secret: entry.secret ?? false };
        continue;
      }
      // Objects are written key by key in path mode (`avm:tags["CostCenter"]`) so the stack file holds a real
      // YAML map, matching a config key declared with `type: object`; stale keys are removed first.
      await stack.removeConfig(key).catch(() => undefined);
      const members: ConfigMap = {};
      for (const [member, value] of Object.entries(entry.value)) {
        members[`${key}[${JSON.stringify(member)}]`] = { value, secret: entry.secret ?? false };
      }
      if (Object.keys(members).length > 0) await stack.setAllConfig(members, true);
    }
    if (Object.keys(scalars).length > 0) await stack.setAllConfig(scalars);
  }

  async up(stackName: string, options: EngineCallOptions = {}): Promise<EngineUpdateResult> {
    const stack = await this.stack(stackName);
    const result = await stack.up({ color: "never", ...(options.onOutput ? { onOutput: options.onOutput } : {}) });
    return {
      result: result.summary.result,
      resourceChanges: changes(result.summary),
      outputs: toOutputs(result.outputs),
    };
  }

  async preview(stackName: string, options: EngineCallOptions = {}): Promise<EnginePreviewResult> {
    const stack = await this.stack(stackName);
    const result = await stack.preview({ color: "never", ...(options.onOutput ? { onOutput: options.onOutput } : {}) });
    return { changeSummary: { ...result.changeSummary } };
  }

  async refresh(stackName: string, options: EngineCallOptions = {}): Promise<EngineUpdateResult> {
    const stack = await this.existing(stackName);
    const result = await stack.refresh({ color: "never", ...(options.onOutput ? { onOutput: options.onOutput } : {}) });
    return {
      result: result.summary.result,
      resourceChanges: changes(result.summary),
      outputs: toOutputs(await stack.outputs()),
    };
  }

  async destroy(stackName: string, options: EngineCallOptions = {}): Promise<EngineUpdateResult> {
    const stack = await this.existing(stackName);
    const result = await stack.destroy({ color: "never", ...(options.onOutput ? { onOutput: options.onOutput } : {}) });
    return { result: result.summary.result, resourceChanges: changes(result.summary), outputs: {} };
  }

  async outputs(stackName: string): Promise<EngineOutputs> {
    const stack = await this.existing(stackName);
    return toOutputs(await stack.outputs());
  }

  async removeStack(stackName: string): Promise<void> {
    const stack = await this.existing(stackName);
    await stack.workspace.removeStack(stackName);
    this.stacks.delete(stackName);
    // The stack's private Pulumi home (workspace file, plugin symlink) is no longer needed.
    rmSync(path.join(this.settings.stackHomesDir, stackName), { recursive: true, force: true });
  }

  async listStacks(): Promise<EngineStackSummary[]> {
    const ws = await this.sharedWorkspace();
    const stacks = await ws.listStacks();
    return stacks.map((s) => ({
      name: s.name,
      updateInProgress: s.updateInProgress ?? false,
      ...(s.lastUpdate === undefined ? {} : { lastUpdate: s.lastUpdate }),
      ...(s.resourceCount === undefined ? {} : { resourceCount: s.resourceCount }),
      ...(s.url === undefined ? {} : { url: s.url }),
    }));
  }
}
