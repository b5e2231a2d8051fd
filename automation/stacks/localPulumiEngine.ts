/**
 * {@link PulumiEngine} on the Pulumi Automation API. Every stack runs the program as an INLINE program in this
 * process (`LocalWorkspace.createOrSelectStack({ stackName, projectName, program }, { workDir: repoRoot })`): by
 * default {@link avmInlineProgram}, the same `avmProgram()` that `src/index.ts` runs for `pulumi up` and Pulumi
 * Deployments, with the project settings of the repo's own `Pulumi.yaml` (so the engine validates stack config against
 * the same declarations). An inline program needs only the `pulumi` CLI, not the Node.js language host, and loads
 * the program's modules once per process instead of once per stack.
 *
 * Isolation for parallel stacks: `createOrSelectStack` writes the workspace's "current stack" file under
 * `$PULUMI_HOME/workspaces` (pulumi/pulumi#8186: concurrent selects corrupt it), so every stack gets its own
 * PULUMI_HOME under `.avm/pulumi-home/<stack>`; its `plugins` directory (and `credentials.json`, when present)
 * are symlinks into the shared home, and {@link LocalPulumiEngine.prepare} installs the provider plugins once,
 * up front, so parallel operations never download the same plugin concurrently. Each stack's config lives in
 * its own `Pulumi.<stack>.yaml`.
 */
import {
  LocalWorkspace,
  type ConfigMap,
  type EngineEvent,
  type OutputMap,
  type PulumiFn,
  type Stack,
  type UpdateSummary,
} from "@pulumi/pulumi/automation";
import { existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import * as path from "node:path";
import { PROJECT_NAME } from "../../src/shared/naming";
import type { EngineConfig } from "../../src/stacks/stackConfigTypes";
import { avmInlineProgram } from "./avmInlineProgram";
import type {
  EngineCallOptions,
  EngineDriftResult,
  EngineOutputs,
  EngineStackSummary,
  EngineUpdateResult,
  PulumiEngine,
  ResourceChanges,
} from "./engine";
import { driftedResources } from "./resourceDrift";
import type { WorkspaceSettings } from "./workspaceSettings";

/** Converts the SDK's output map to the engine's. */
function toOutputs(outputs: OutputMap): EngineOutputs {
  return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, { value: v.value, secret: v.secret }]));
}

function changes(summary: UpdateSummary): ResourceChanges {
  return { ...(summary.resourceChanges ?? {}) };
}

/** A resource provider plugin and its version (`v7.48.0`). */
export interface PluginSpec {
  readonly name: string;
  readonly version: string;
}

/** Provider plugins the program needs: every `@pulumi/<name>` dependency except the SDK itself. */
export function requiredPlugins(repoRoot: string): PluginSpec[] {
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

/** Options of {@link LocalPulumiEngine}. */
export interface LocalPulumiEngineOptions {
  /** The inline program every stack runs; default {@link avmInlineProgram} (the product's program). */
  readonly program?: PulumiFn;
  /** Plugins {@link LocalPulumiEngine.prepare} installs; default {@link requiredPlugins} of the repo root. */
  readonly plugins?: readonly PluginSpec[];
}

/** The real engine. One instance per process; safe for concurrent calls on different stacks. */
export class LocalPulumiEngine implements PulumiEngine {
  private readonly stacks = new Map<string, Promise<Stack>>();
  private readonly program: PulumiFn;

  /**
   * @param settings resolved with `resolveWorkspaceSettings()`
   * @param options the program and plugins (defaults: the product's)
   */
  constructor(
    private readonly settings: WorkspaceSettings,
    private readonly options: LocalPulumiEngineOptions = {},
  ) {
    this.program = options.program ?? avmInlineProgram;
  }

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
        { stackName, projectName: PROJECT_NAME, program: this.program },
        {
          workDir: this.settings.repoRoot,
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
      { stackName, projectName: PROJECT_NAME, program: this.program },
      { workDir: this.settings.repoRoot, pulumiHome: this.stackHome(stackName), envVars: this.envVars() },
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
    // Pulumi's own switch for air-gapped installations (plugins provided on PATH or pre-installed): honour it here too.
    if (/^(1|true)$/i.test(process.env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION ?? "")) return;
    const ws = await this.sharedWorkspace();
    for (const plugin of this.options.plugins ?? requiredPlugins(this.settings.repoRoot)) {
      await ws.installPlugin(plugin.name, plugin.version);
    }
  }

  async ensureStack(stackName: string): Promise<void> {
    await this.stack(stackName);
  }

  async setConfig(stackName: string, config: EngineConfig): Promise<void> {
    const stack = await this.stack(stackName);
    const values: ConfigMap = {};
    for (const [key, entry] of Object.entries(config)) {
      // Objects (tags) are written as one JSON string, never member by member in path mode: `config set --path`
      // stores a value that looks like a number or boolean as a number or boolean ("2" would come back as 2), while
      // a JSON string keeps every member's type; src/config/schemas.ts reads objects and JSON strings alike.
      const value = typeof entry.value === "string" ? entry.value : JSON.stringify(entry.value);
      values[key] = { value, secret: entry.secret ?? false };
    }
    if (Object.keys(values).length > 0) await stack.setAllConfig(values);
  }

  async replaceConfig(stackName: string, config: EngineConfig): Promise<void> {
    // Set first, then remove: an interruption in between leaves a stale key, never a missing required one.
    await this.setConfig(stackName, config);
    const stack = await this.stack(stackName);
    const stale = Object.keys(await stack.getAllConfig()).filter((key) => !(key in config));
    if (stale.length > 0) await stack.removeAllConfig(stale);
  }

  async up(stackName: string, options: EngineCallOptions = {}): Promise<EngineUpdateResult> {
    const stack = await this.stack(stackName);
    const result = await stack.up({
      color: "never",
      ...(options.refresh ? { refresh: true } : {}),
      ...(options.onOutput ? { onOutput: options.onOutput } : {}),
    });
    return {
      result: result.summary.result,
      resourceChanges: changes(result.summary),
      outputs: toOutputs(result.outputs),
    };
  }

  async previewRefresh(stackName: string, options: EngineCallOptions = {}): Promise<EngineDriftResult> {
    const stack = await this.existing(stackName);
    const events: EngineEvent[] = [];
    const result = await stack.previewRefresh({
      color: "never",
      onEvent: (event) => events.push(event),
      ...(options.onOutput ? { onOutput: options.onOutput } : {}),
    });
    return { changeSummary: { ...result.changeSummary }, resources: driftedResources(events) };
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

  async outputs(stackName: string): Promise<EngineOutputs> {
    const stack = await this.existing(stackName);
    return toOutputs(await stack.outputs());
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
