import { expect } from "chai";
import {
  AccessRoleCollisionError,
  AccountStackExistsError,
  AccountStackNotFoundError,
  AutomationConfigError,
  EngineError,
  PulumiCliNotFoundError,
  StackBusyError,
  classifyEngineError,
} from "../../../automation/errors";
import type { AutomationLogger } from "../../../automation/logger";
import type { ProgressReporter } from "../../../automation/progress";
import { AccountStacks, formatChanges } from "../../../automation/stacks/accountStacks";
import { LocalAccountStackRunner } from "../../../automation/stacks/localAccountStackRunner";
import type { AccountStackSettings } from "../../../automation/stacks/stackConfig";
import {
  cliMissing,
  concurrentUpdate,
  diyLockReleased,
  diyLocked,
  pulumiCommandError,
} from "../../support/pulumiCommandErrors";
import { RecordingEngine } from "../../support/recordingEngine";
import { rejection } from "../../support/rejection";
import { RecordingTiming } from "../../support/recordingTiming";

const settings: AccountStackSettings = {
  managementAccountId: "111122223333",
  automationAccountId: "444455556666",
  region: "eu-central-1",
  externalId: "ext-secret-123",
};
const ACCOUNT = "222233334444";
const STACK = "account-222233334444";
const EXPECTED_ROLE_ERROR =
  'meshstack-avm:accessRoleName must be an IAM role name (1-64 characters of letters, digits and +=,.@-_), got "bad name!"';

function logCapture(): {
  logger: AutomationLogger;
  lines: Array<[string, string, Record<string, unknown> | undefined]>;
} {
  const lines: Array<[string, string, Record<string, unknown> | undefined]> = [];
  const at =
    (level: string) =>
    (message: string, extra?: Record<string, unknown>): void => {
      lines.push([level, message, extra]);
    };
  return { logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") }, lines };
}

function make(
  engine = new RecordingEngine(),
  timing = new RecordingTiming(),
  extra: Partial<ConstructorParameters<typeof AccountStacks>[0]> = {},
) {
  const log = logCapture();
  const stacks = new AccountStacks({ engine, settings, timing, logger: log.logger, ...extra });
  return { engine, timing, stacks, log };
}

/** Deploys ACCOUNT with the engine's `up` failing once with `stderr`: what the deploy rejected with, and the sleeps. */
async function deployFailingUp(stderr: string): Promise<{ error: Error; timing: RecordingTiming }> {
  const { engine, timing, stacks } = make();
  engine.failNext("up", () => pulumiCommandError(stderr));
  return { error: await rejection(stacks.deploy({ accountId: ACCOUNT })), timing };
}

describe("AccountStacks", () => {
  describe("ensure", () => {
    it("creates the stack once, prepares the engine once and writes the whole account config", async () => {
      const { engine, stacks } = make();
      const result = await stacks.ensure({ accountId: ACCOUNT, tags: { CostCenter: "1234" } });
      await stacks.ensure({ accountId: ACCOUNT, tags: { CostCenter: "1234" } });
      expect(result).to.deep.equal({ accountId: ACCOUNT, stackName: STACK });
      expect(engine.calls.map((c) => c.method)).to.deep.equal([
        "prepare",
        "ensureStack",
        "replaceConfig",
        "ensureStack",
        "replaceConfig",
      ]);
      expect(engine.calls[2]?.config).to.deep.equal({
        "aws:region": { value: "eu-central-1" },
        "meshstack-avm:stackKind": { value: "account" },
        "meshstack-avm:accountId": { value: ACCOUNT },
        "meshstack-avm:managementAccountId": { value: "111122223333" },
        "meshstack-avm:automationAccountId": { value: "444455556666" },
        "meshstack-avm:tags": { value: { CostCenter: "1234" } },
        "meshstack-avm:externalId": { value: "ext-secret-123", secret: true },
      });
    });

    it("removes config keys dropped from the settings (external id, access role name), keeps the rest", async () => {
      const engine = new RecordingEngine();
      const before = new AccountStacks({ engine, settings: { ...settings, accessRoleName: "CustomAccessRole" } });
      await before.ensure({ accountId: ACCOUNT, tags: { CostCenter: "1234" } });
      expect(Object.keys(engine.stacks.get(STACK)!.config)).to.include.members([
        "meshstack-avm:externalId",
        "meshstack-avm:accessRoleName",
      ]);
      // An operator's own key on the stack is not the AVM's either: the config is exactly what the settings give.
      engine.stacks.get(STACK)!.config["aws:profile"] = { value: "by-hand" };
      const { externalId: _dropped, ...withoutExternalId } = settings;
      const after = new AccountStacks({ engine, settings: withoutExternalId });
      await after.ensure({ accountId: ACCOUNT });
      expect(engine.stacks.get(STACK)!.config).to.deep.equal({
        "aws:region": { value: "eu-central-1" },
        "meshstack-avm:stackKind": { value: "account" },
        "meshstack-avm:accountId": { value: ACCOUNT },
        "meshstack-avm:managementAccountId": { value: "111122223333" },
        "meshstack-avm:automationAccountId": { value: "444455556666" },
        "meshstack-avm:tags": { value: {} },
      });
    });

    it("rejects an account id that is not 12 digits before touching the engine", async () => {
      const { engine, stacks } = make();
      const error = await rejection(stacks.ensure({ accountId: "12345" }));
      expect(error.message).to.equal('accountId must be a 12-digit AWS account id, got "12345"');
      expect(engine.calls).to.deep.equal([]);
    });

    it("rejects invalid settings with an error naming the setting", async () => {
      const engine = new RecordingEngine();
      const stacks = new AccountStacks({ engine, settings: { ...settings, accessRoleName: "bad name!" } });
      const error = await rejection(stacks.ensure({ accountId: ACCOUNT }));
      expect(error).to.be.instanceOf(AutomationConfigError);
      expect(error.message).to.equal(EXPECTED_ROLE_ERROR);
    });
  });

  describe("deploy", () => {
    it("ensures, runs up, streams engine output to the logger and summarises the changes", async () => {
      const { engine, stacks, log } = make();
      const result = await stacks.deploy({ accountId: ACCOUNT });
      expect(engine.calls.map((c) => c.method)).to.deep.equal(["prepare", "ensureStack", "replaceConfig", "up"]);
      expect(result).to.deep.equal({
        accountId: ACCOUNT,
        stackName: STACK,
        resourceChanges: { create: 3 },
        outputs: engine.upOutputs,
        summary: "up: 3 create",
      });
      expect(log.lines.filter(([level]) => level === "debug")).to.deep.equal([
        ["debug", "Updating (account)", { stackName: STACK, operation: "up" }],
        ["debug", "+ aws:iam:Role created", { stackName: STACK, operation: "up" }],
      ]);
    });

    it("never logs the external id", async () => {
      const { stacks, log } = make();
      await stacks.deploy({ accountId: ACCOUNT });
      expect(JSON.stringify(log.lines)).to.not.include("ext-secret-123");
    });

    it("retries ConcurrentUpdateError with jittered exponential backoff, then succeeds", async () => {
      const { engine, timing, stacks, log } = make();
      engine.failNext("up", concurrentUpdate, 2);
      const result = await stacks.deploy({ accountId: ACCOUNT });
      expect(result.summary).to.equal("up: 3 create");
      expect(engine.calls.filter((c) => c.method === "up")).to.have.length(3);
      // cap/2 + cap/2 * random(0.5): 2000 -> 1500, 4000 -> 3000
      expect(timing.sleeps).to.deep.equal([1500, 3000]);
      expect(log.lines.filter(([level]) => level === "warn").map(([, , extra]) => extra)).to.deep.equal([
        { stackName: STACK, operation: "up", attempt: 1, delayMs: 1500 },
        { stackName: STACK, operation: "up", attempt: 2, delayMs: 3000 },
      ]);
    });

    it("treats a DIY backend lock as a busy stack too", async () => {
      const { engine, timing, stacks } = make();
      engine.failNext("up", diyLocked, 1);
      await stacks.deploy({ accountId: ACCOUNT });
      expect(timing.sleeps).to.deep.equal([1500]);
    });

    it("treats a DIY lock released while the CLI read it (the file vanished) as a busy stack", async () => {
      const { engine, timing, stacks } = make();
      engine.failNext("up", diyLockReleased, 1);
      await stacks.deploy({ accountId: ACCOUNT });
      expect(timing.sleeps).to.deep.equal([1500]);
      const busy = classifyEngineError(diyLockReleased(), STACK, "up");
      expect(busy).to.be.instanceOf(StackBusyError);
      expect(busy.message).to.equal(
        `up ${STACK}: another update is in progress on this stack: its lock file was released while the pulumi CLI read it`,
      );
    });

    it("gives up after busyAttempts with StackBusyError carrying the engine message", async () => {
      const { engine, timing, stacks } = make(undefined, undefined, { busyAttempts: 3, busyMaxDelayMs: 3000 });
      engine.failNext("up", concurrentUpdate, 10);
      const error = await rejection(stacks.deploy({ accountId: ACCOUNT }));
      expect(error).to.be.instanceOf(StackBusyError);
      const busy = error as StackBusyError;
      expect(busy.attempts).to.equal(3);
      expect(busy.message).to.equal(
        `up ${STACK}: stack still busy after 3 attempts: up ${STACK}: another update is in progress on this stack: ` +
          "error: [409] Conflict: Another update is currently in progress.",
      );
      expect(busy.engineMessage).to.include("[409] Conflict");
      expect(timing.sleeps).to.deep.equal([1500, 2250]);
      expect(engine.calls.filter((c) => c.method === "up")).to.have.length(3);
    });

    it("maps other engine failures to EngineError without retrying, keeping the engine's message", async () => {
      const stderr =
        "Updating (account-222233334444):\n error: creating IAM Role (avm-role): operation error IAM: CreateRole, AccessDenied: not authorized\n";
      const { error, timing } = await deployFailingUp(stderr);
      expect(error).to.be.instanceOf(EngineError);
      expect(error).not.to.be.instanceOf(AccessRoleCollisionError);
      const engineError = error as EngineError;
      expect(engineError.message).to.equal(
        `up ${STACK} failed: error: creating IAM Role (avm-role): operation error IAM: CreateRole, AccessDenied: not authorized`,
      );
      expect(engineError.stackName).to.equal(STACK);
      expect(engineError.operation).to.equal("up");
      expect(engineError.engineMessage).to.include(stderr.trim());
      expect(engineError.cause).to.be.instanceOf(Error);
      expect(timing.sleeps).to.deep.equal([]);
    });

    it("reports an existing role with the access role's name as a collision, with rename and import as the fixes", async () => {
      const stderr =
        "Updating (account-222233334444):\n error: creating IAM Role (MeshstackAccountAccessRole): EntityAlreadyExists: Role with name MeshstackAccountAccessRole already exists.\n";
      const { error, timing } = await deployFailingUp(stderr);
      expect(error).to.be.instanceOf(AccessRoleCollisionError);
      const collision = error as AccessRoleCollisionError;
      expect(collision.message).to.equal(
        `up ${STACK} failed: account ${ACCOUNT} already has an IAM role named "MeshstackAccountAccessRole" that this ` +
          "stack does not manage; either choose another name (config key accessRoleName) or adopt the existing role " +
          "with `pulumi import aws:iam/role:Role <resource name> MeshstackAccountAccessRole` after checking it grants nothing else",
      );
      expect(collision.engineMessage).to.include(stderr.trim());
      expect(collision.cause).to.be.instanceOf(EngineError);
      expect(timing.sleeps).to.deep.equal([]);
    });

    it("maps a missing pulumi binary to PulumiCliNotFoundError", async () => {
      const { engine, stacks } = make();
      engine.failNext("prepare", cliMissing);
      const error = await rejection(stacks.deploy({ accountId: ACCOUNT }));
      expect(error).to.be.instanceOf(PulumiCliNotFoundError);
      expect(error.message).to.equal(
        "plugin install (workspace): the pulumi CLI is not on PATH (install it from https://www.pulumi.com/docs/install/, or use the offline plan)",
      );
    });
  });

  describe("refresh", () => {
    it("refreshes an existing stack", async () => {
      const { engine, stacks } = make();
      await stacks.deploy({ accountId: ACCOUNT });
      const result = await stacks.refresh(ACCOUNT);
      expect(result.summary).to.equal("refresh: 3 same");
      expect(engine.calls.at(-1)).to.deep.equal({ method: "refresh", stackName: STACK });
    });

    it("raises AccountStackNotFoundError for a stack that does not exist", async () => {
      const { stacks } = make();
      const error = await rejection(stacks.refresh(ACCOUNT));
      expect(error).to.be.instanceOf(AccountStackNotFoundError);
      expect(error.message).to.equal(`refresh ${STACK}: stack not found in the backend`);
    });
  });

  describe("outputs", () => {
    it("returns the stack outputs", async () => {
      const { engine, stacks } = make();
      await stacks.deploy({ accountId: ACCOUNT });
      expect(await stacks.outputs(ACCOUNT)).to.deep.equal(engine.upOutputs);
    });

    it("raises AccountStackNotFoundError for a missing stack", async () => {
      const { stacks } = make();
      const error = await rejection(stacks.outputs(ACCOUNT));
      expect(error).to.be.instanceOf(AccountStackNotFoundError);
    });
  });

  describe("list", () => {
    it("lists only account stacks, sorted, with their account ids", async () => {
      const { engine, stacks } = make();
      engine.stacks.set("dev", { config: {}, resources: 40 });
      engine.stacks.set("account-999988887777", { config: {}, resources: 3 });
      engine.stacks.set("org/meshstack-avm/account-111100002222", { config: {}, resources: 0 });
      expect(await stacks.list()).to.deep.equal([
        { accountId: "111100002222", stackName: "account-111100002222", updateInProgress: false, resourceCount: 0 },
        { accountId: "999988887777", stackName: "account-999988887777", updateInProgress: false, resourceCount: 3 },
      ]);
    });
  });

  describe("deployMany", () => {
    const ids = [
      "100000000001",
      "100000000002",
      "100000000003",
      "100000000004",
      "100000000005",
      "100000000006",
      "100000000007",
    ];

    it("never runs more than the concurrency limit at once and reports per-account outcomes in input order", async () => {
      const engine = new RecordingEngine();
      let open!: () => void;
      engine.gate = new Promise((resolve) => (open = resolve));
      engine.gatedMethods = new Set(["up"]);
      const { stacks } = make(engine);
      const events: string[] = [];
      const progress: ProgressReporter = {
        start: (s, verb) => events.push(`start ${s} ${verb}`),
        update: () => undefined,
        succeed: (s, summary) => events.push(`ok ${s} ${summary}`),
        fail: (s, message) => events.push(`fail ${s} ${message}`),
      };
      engine.failNext("up", () => pulumiCommandError("error: boom\n"), 1, "account-100000000004");
      const running = stacks.deployMany(
        ids.map((accountId) => ({ accountId })),
        { concurrency: 3, progress },
      );
      for (let i = 0; i < 100 && engine.inFlight < 3; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(engine.inFlight).to.equal(3);
      expect(events.filter((e) => e.startsWith("start"))).to.have.length(3);
      open();
      const outcomes = await running;
      expect(engine.maxInFlight).to.equal(3);
      expect(outcomes.map((o) => [o.accountId, o.ok])).to.deep.equal(ids.map((id) => [id, id !== "100000000004"]));
      const failed = outcomes[3];
      expect(failed?.ok).to.equal(false);
      if (failed && !failed.ok) {
        expect(failed.error).to.be.instanceOf(EngineError);
        expect(failed.error.message).to.equal("up account-100000000004 failed: error: boom");
      }
      expect(events.filter((e) => e.startsWith("start"))).to.have.length(7);
      expect(events).to.include("fail account-100000000004 up account-100000000004 failed: error: boom");
      expect(events).to.include("ok account-100000000001 up: 3 create");
      expect(engine.calls.filter((c) => c.method === "prepare")).to.have.length(1);
    });

    it("validates every account id before starting any stack", async () => {
      const { engine, stacks } = make();
      const error = await rejection(stacks.deployMany([{ accountId: "100000000001" }, { accountId: "nope" }]));
      expect(error.message).to.equal('accountId must be a 12-digit AWS account id, got "nope"');
      expect(engine.calls).to.deep.equal([]);
    });
  });

  describe("formatChanges", () => {
    it("sorts operations and drops zero counts", () => {
      expect(formatChanges({ update: 1, create: 2, same: 0 })).to.equal("2 create, 1 update");
      expect(formatChanges({})).to.equal("no changes");
    });
  });
});

describe("LocalAccountStackRunner", () => {
  it("deploys the account stack and returns status deployed with secret outputs masked", async () => {
    const engine = new RecordingEngine();
    engine.upOutputs = {
      roleArn: { value: "arn:aws:iam::222233334444:role/MeshstackAccountAccessRole", secret: false },
      externalId: { value: "ext-secret-123", secret: true },
    };
    const runner = new LocalAccountStackRunner(new AccountStacks({ engine, settings, timing: new RecordingTiming() }));
    const result = await runner.deploy({
      accountId: ACCOUNT,
      accountName: "team-a",
      email: "team-a@example.com",
      requestId: "req-1",
      tags: { CostCenter: "1234" },
    });
    expect(result).to.deep.equal({
      status: "deployed",
      stackName: STACK,
      outputs: { roleArn: "arn:aws:iam::222233334444:role/MeshstackAccountAccessRole", externalId: "[secret]" },
      summary: "up: 3 create",
    });
    expect(engine.calls[2]?.config?.["meshstack-avm:tags"]).to.deep.equal({ value: { CostCenter: "1234" } });
  });
});

describe("LocalAccountStackRunner progress", () => {
  it("reports start, engine lines and the outcome of each deploy", async () => {
    const engine = new RecordingEngine();
    const events: string[] = [];
    const progress: ProgressReporter = {
      start: (s, verb) => events.push(`start ${s} ${verb}`),
      update: (s, line) => events.push(`line ${s} ${line}`),
      succeed: (s, summary) => events.push(`ok ${s} ${summary}`),
      fail: (s, message) => events.push(`fail ${s} ${message}`),
    };
    const runner = new LocalAccountStackRunner(
      new AccountStacks({ engine, settings, timing: new RecordingTiming() }),
      progress,
    );
    const request = { accountId: ACCOUNT, accountName: "a", email: "a@example.com", requestId: "r", tags: {} };
    await runner.deploy(request);
    engine.failNext("up", () => pulumiCommandError("error: boom\n"));
    const error = await rejection(runner.deploy(request));
    expect(error).to.be.instanceOf(EngineError);
    expect(events).to.deep.equal([
      `start ${STACK} up`,
      `line ${STACK} Updating (account)`,
      `line ${STACK} + aws:iam:Role created`,
      `ok ${STACK} up: 3 create`,
      `start ${STACK} up`,
      `fail ${STACK} up ${STACK} failed: error: boom`,
    ]);
  });
});

describe("classifyEngineError", () => {
  it("maps the SDK's classes by operation, keeping the engine message", () => {
    const exists = pulumiCommandError("error: stack 'account-222233334444' already exists\n");
    expect(classifyEngineError(exists, STACK, "ensure")).to.be.instanceOf(AccountStackExistsError);
    // The SDK also calls resource errors mentioning "...stack... already exists" StackAlreadyExistsError.
    const resource = classifyEngineError(exists, STACK, "up");
    expect(resource).to.be.instanceOf(EngineError);
    expect(resource.message).to.equal(`up ${STACK} failed: error: stack 'account-222233334444' already exists`);
    const plain = classifyEngineError(new TypeError("x is undefined"), STACK, "up");
    expect(plain).to.be.instanceOf(EngineError);
    expect(plain.message).to.equal(`up ${STACK} failed: x is undefined`);
    expect(classifyEngineError(plain, STACK, "other")).to.equal(plain);
  });
});
