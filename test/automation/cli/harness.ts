/**
 * In-process harness for the `avm` CLI: captured streams, a memory ledger that survives between runs,
 * a fake AWS Organizations behind an `aws-sdk-client-mock` stub, instant timing and recording stack runners.
 */
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { mockClient } from "aws-sdk-client-mock";
import { run } from "../../../automation/cli/main";
import type { CliDeps, StackSettings } from "../../../automation/cli/deps";
import type { CliIo } from "../../../automation/cli/io";
import type { LedgerSpec } from "../../../automation/cli/settings";
import type { AccountStackTarget } from "../../../automation/stacks/stackConfig";
import type { OfflinePlan } from "../../../automation/plan/offlinePlan";
import type { Ledger } from "../../../src/core/ports";
import { MemoryLedger } from "../../support/memoryLedger";
import { AccountStacks } from "../../../automation/stacks/accountStacks";
import { RecordingEngine } from "../../support/recordingEngine";
import { FakeOrganizations, InstantTiming, RecordingStackRunner } from "../../src/core/vending/workflowFixtures";

/** Output of one run. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A reusable in-process CLI environment. */
export class CliHarness {
  readonly ledger = new MemoryLedger();
  readonly org = new FakeOrganizations();
  readonly timing = new InstantTiming();
  readonly runners = {
    local: new RecordingStackRunner(),
    offline: new RecordingStackRunner(),
    remote: new RecordingStackRunner(),
  };
  /** The engine behind `avm outputs` and the other account-stack verbs. */
  readonly engine = new RecordingEngine();
  /** Settings each runner was created with. */
  readonly runnerSettings: { kind: string; settings: StackSettings }[] = [];
  /** Offline plans requested. */
  readonly plans: { target: AccountStackTarget; settings: StackSettings }[] = [];
  /** Ledger specs opened. */
  readonly opened: LedgerSpec[] = [];
  /** Times an Organizations client was requested. */
  organizationsClients = 0;
  /** True by default: `--runner auto` needs a way to deploy (it never falls back to the offline plan). */
  pulumiOnPath = true;
  env: Record<string, string | undefined> = {};
  private readonly client = new OrganizationsClient({ region: "us-east-1" });
  private readonly mock = mockClient(this.client);

  constructor(readonly overrides: Partial<CliDeps> = {}) {
    this.org.install(this.mock);
    this.runners.offline.status = "planned";
    this.runners.remote.status = "queued";
  }

  /** The dependencies handed to `run`. */
  deps(): Partial<CliDeps> {
    const shared = this.ledger;
    const view: Ledger = {
      claim: (r, now) => shared.claim(r, now),
      get: (e) => shared.get(e),
      getByRequestId: (id) => shared.getByRequestId(id),
      getByAccountId: (id) => shared.getByAccountId(id),
      list: (o) => shared.list(o),
      update: (e, v, p, now) => shared.update(e, v, p, now),
      close: async () => undefined, // keep state across runs
    };
    return {
      openLedger: async (spec) => {
        this.opened.push(spec);
        return view;
      },
      organizationsClient: () => {
        this.organizationsClients += 1;
        return this.client;
      },
      timing: this.timing,
      hasPulumiCli: () => this.pulumiOnPath,
      accountStacks: async (settings) => {
        this.runnerSettings.push({ kind: "stacks", settings });
        return new AccountStacks({ engine: this.engine, settings, busyBaseDelayMs: 0, busyMaxDelayMs: 0 });
      },
      localStackRunner: async (settings) => {
        this.runnerSettings.push({ kind: "local", settings });
        return this.runners.local;
      },
      offlineStackRunner: async (settings) => {
        this.runnerSettings.push({ kind: "offline", settings });
        return this.runners.offline;
      },
      planAccountStack: async (target, settings) => {
        this.plans.push({ target, settings });
        return fakePlan(target.accountId);
      },
      remoteStackRunner: async (settings) => {
        this.runnerSettings.push({ kind: "remote", settings });
        return this.runners.remote;
      },
      ...this.overrides,
    };
  }

  /** Runs `avm <argv>` in-process. */
  async run(argv: readonly string[], io: Partial<CliIo> = {}): Promise<RunResult> {
    let stdout = "";
    let stderr = "";
    const code = await run(
      argv,
      {
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: (s: string) => (stderr += s) },
        stdin: "",
        env: this.env,
        cwd: "/tmp/avm-cli-test",
        ...io,
      },
      this.deps(),
    );
    return { code, stdout, stderr };
  }

  /** Restores the mocked client. */
  dispose(): void {
    this.mock.restore();
  }
}

/** A small fixed offline plan for `accountId`. */
export function fakePlan(accountId: string): OfflinePlan {
  return {
    accountId,
    stackName: `account-${accountId}`,
    resources: [
      { type: "pulumi:providers:aws", name: "managed-account", inputs: {}, secretInputs: [] },
      {
        type: "aws:iam/role:Role",
        name: "access-role-role",
        inputs: { name: "MeshstackAccountAccessRole" },
        secretInputs: [],
      },
    ],
    policies: [
      {
        name: "MeshstackAccountAccessRole/trust",
        resource: "access-role-role",
        document: {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { AWS: "arn:aws:iam::111122223333:user/meshfed-service" },
              Action: "sts:AssumeRole",
            },
          ],
        },
      },
    ],
    catalogCheck: { policies: 1, actions: 1 },
  };
}
