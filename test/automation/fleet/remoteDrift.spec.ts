/**
 * `avm fleet drift --remote` (and `avm fleet rollout --remote --webhook-wait`) against the fake Pulumi Cloud and a real webhook receiver on 127.0.0.1: one
 * `detect-drift` deployment per stack; the fake delivers each run's signed `drift_detection` event to the registered
 * webhook, the receiver records it on the account's ledger record, and the command reads the result from there.
 * Exit 3 with the drifted account named, 0 without drift, 1 when the event never arrives or the run fails. A remote
 * rollout whose deployments outlast the polling budget is finished by their `deployment` webhook events the same way.
 */
import type { Timing } from "../../../src/shared/timing";
import type { AccountStackSettings } from "../../../src/stacks/accountStackConfig";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import type { CliDeps } from "../../../automation/cli/main";
import { startWebhookServer, type WebhookServer } from "../../../automation/serve";
import { AccountStacks } from "../../../automation/stacks/accountStacks";
import { DEFAULT_WEBHOOK_EVENTS, webhookDisplayName } from "../../../automation/webhooks/ensureWebhook";
import { MemoryDeliveryStore } from "../../../src/adapters/local/memoryDeliveryStore";
import type { Ledger } from "../../../src/core/ports";
import { WebhookReceiver } from "../../../src/core/webhooks/receiver";
import { LedgerStackOutcomeRecorder } from "../../../src/core/webhooks/stackOutcomeRecorder";
import { DeploymentsAccountStackRunner } from "../../../src/stacks/deploymentsRunner";
import { pulumiCloudClientFromEnv } from "../../../src/stacks/pulumiCloudClient";
import { FakePulumiCloud } from "../../support/fakePulumiCloud";
import { HANG_GUARD_MS } from "../../support/hangGuard";
import { MemoryLedger } from "../../support/memoryLedger";
import { RecordingEngine } from "../../support/recordingEngine";
import { RecordingTiming } from "../../support/recordingTiming";
import { AUTOMATION, MANAGEMENT, STACK_FLAGS, accountIds, fakeOrganizations, runAvm } from "./fleetFixture";

const TOKEN = "pul-remote-drift-0123456789abcdef0123456789";
const SECRET = "remote-drift-webhook-secret-0123456789";
const ids = accountIds(4);
const stackKey = (id: string) => `acme/meshstack-avm/account-${id}`;

describe("avm fleet drift --remote (fake Pulumi Cloud, webhook receiver, ledger)", function () {
  this.timeout(HANG_GUARD_MS);
  let dir: string;
  let cloud: FakePulumiCloud;
  let apiUrl: string;
  let receiver: WebhookServer;
  let ledger: MemoryLedger;
  let deps: Partial<CliDeps>;
  let timing: RecordingTiming;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "avm-remote-drift-"));
    cloud = new FakePulumiCloud(TOKEN);
    apiUrl = await cloud.start();
    ledger = new MemoryLedger();
    timing = new RecordingTiming();
    receiver = await startWebhookServer({
      receiver: new WebhookReceiver({
        secret: SECRET,
        recorder: new LedgerStackOutcomeRecorder({
          ledger,
          queue: { enqueue: async () => undefined },
          timing: new RecordingTiming(),
        }),
        deliveries: new MemoryDeliveryStore(),
        timing: new RecordingTiming(),
        logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      }),
    });
    cloud.addWebhook("acme", {
      displayName: webhookDisplayName(SECRET),
      payloadUrl: receiver.url,
      active: true,
      format: "raw",
      filters: [...DEFAULT_WEBHOOK_EVENTS],
      groups: [],
      secret: SECRET,
    });
    const now = new Date("2026-01-01T00:00:00Z");
    for (const id of ids) {
      const { record } = await ledger.claim(
        { email: `aws+${id}@example.com`, requestId: `req-${id}`, kind: "vend", request: {}, accountId: id },
        now,
      );
      await ledger.update(record.email, record.version, { state: "SUCCEEDED" }, now);
    }
    const engine = new RecordingEngine();
    engine.outputLines = [];
    const settings = { managementAccountId: MANAGEMENT, automationAccountId: AUTOMATION, region: "us-east-1" };
    const stacks = new AccountStacks({ engine, settings, timing: new RecordingTiming() });
    for (const id of ids) await stacks.deploy({ accountId: id });
    const shared: Ledger = {
      claim: (r, n) => ledger.claim(r, n),
      get: (e) => ledger.get(e),
      getByRequestId: (id) => ledger.getByRequestId(id),
      getByAccountId: (id) => ledger.getByAccountId(id),
      list: (o) => ledger.list(o),
      update: (e, v, p, n) => ledger.update(e, v, p, n),
      close: async () => undefined,
    };
    deps = {
      organizationsClient: () => fakeOrganizations(ids),
      pulumiEngine: async () => engine,
      hasPulumiCli: () => true,
      timing,
      openLedger: async () => shared,
      remoteDriftRunner: async (stackSettings) => deploymentsRunner(stackSettings),
    };
  });
  afterEach(async () => {
    await receiver.stop();
    await cloud.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The real Deployments runner against the fake, instant polls; `waitTimeoutMs` 0 stops polling at once. */
  const deploymentsRunner = (settings: AccountStackSettings, waitTimeoutMs?: number) =>
    new DeploymentsAccountStackRunner({
      client: pulumiCloudClientFromEnv({ PULUMI_ACCESS_TOKEN: TOKEN, PULUMI_API_URL: apiUrl }, new RecordingTiming()),
      organization: "acme",
      source: { repoUrl: "https://github.com/acme/meshstack-avm.git", branch: "main" },
      settings,
      timing: new RecordingTiming(),
      pollIntervalMs: 1,
      ...(waitTimeoutMs === undefined ? {} : { waitTimeoutMs }),
    });

  const drift = (...args: string[]) =>
    runAvm(["--ledger", ":memory:", "fleet", "drift", "--remote", ...STACK_FLAGS, ...args], deps, { cwd: dir });
  const byAccount = (json: { accounts: { accountId: string }[] }, id: string) =>
    json.accounts.find((a) => a.accountId === id);

  it("finds the drifted account through its detect-drift run's webhook event (exit 3), one run per stack", async () => {
    cloud.driftOf.set(stackKey(ids[1]!), { update: 1, same: 2 });
    const result = await drift("--json");
    expect(result.code, result.stderr).to.equal(3);
    const json = JSON.parse(result.stdout);
    expect(json.counts).to.deep.equal({ checked: 4, drifted: 1, errors: 0 });
    const run = cloud.deployments.find((d) => d.stack === stackKey(ids[1]!))!;
    const url = `https://app.pulumi.com/${stackKey(ids[1]!)}/deployments/${run.version}`;
    expect(byAccount(json, ids[1]!)).to.deep.equal({
      accountId: ids[1],
      stackName: `account-${ids[1]}`,
      drift: "drift",
      resources: [],
      detail: `drift: detected (update 1, same 2), run run-${run.id}, ${url}`,
      error: null,
    });
    expect(byAccount(json, ids[0]!)).to.deep.include({ drift: "none", error: null });
    expect(cloud.deployments.map((d) => [d.stack, d.operation]).sort()).to.deep.equal(
      ids.map((id) => [stackKey(id), "detect-drift"]),
    );
    const created = cloud.requests.filter((r) => r.method === "POST" && /\/deployments$/.test(r.path));
    expect(created.map((r) => r.body)).to.deep.equal(
      ids.map(() => ({ operation: "detect-drift", inheritSettings: true })),
    );
    expect(cloud.driftDeliveries.map((d) => [d.kind, d.event, d.status])).to.deep.equal(
      ids.map(() => ["drift_detection", "drift_detection_succeeded", 200]),
    );
    // The ledger keeps the run in the account's history; the state stays SUCCEEDED.
    const record = (await ledger.getByAccountId(ids[1]!))!;
    expect(record.state).to.equal("SUCCEEDED");
    expect(record.history.at(-1)?.note).to.match(
      new RegExp(
        `^drift: detected \\(update 1, same 2\\), run run-${run.id}, .*/deployments/${run.version} \\(webhook [0-9a-f-]+\\)$`,
      ),
    );
    const text = await drift();
    const again = cloud.deployments.filter((d) => d.stack === stackKey(ids[1]!)).at(-1)!;
    expect(text.stdout.split("\n")).to.include(
      `account-${ids[1]}: drift: detected (update 1, same 2), run run-${again.id}, ` +
        `https://app.pulumi.com/${stackKey(ids[1]!)}/deployments/${again.version}`,
    );
  });

  it("exits 0 when no run found drift", async () => {
    const result = await drift("--json", "--accounts", `${ids[0]},${ids[2]}`);
    expect(result.code, result.stderr).to.equal(0);
    expect(JSON.parse(result.stdout).counts).to.deep.equal({ checked: 2, drifted: 0, errors: 0 });
  });

  it("exits 1 when no drift event reaches the ledger within --webhook-wait, or the run fails", async () => {
    cloud.webhooks.clear();
    const silent = await drift("--json", "--accounts", ids[0]!, "--webhook-wait", "30");
    expect(silent.code).to.equal(1);
    const run = cloud.deployments.at(-1)!;
    expect(byAccount(JSON.parse(silent.stdout), ids[0]!)).to.deep.include({
      drift: "error",
      error:
        `detect-drift deployment #${run.version} (https://app.pulumi.com/${stackKey(ids[0]!)}/deployments/${run.version}) ` +
        "succeeded, but no drift_detection webhook event reached the ledger within 30 s (check the webhook with avm " +
        "doctor; the ledger must be the platform's, --ledger-table)",
    });
    // It read the ledger every 5 s of the injected clock until the budget was spent.
    expect(timing.sleeps).to.deep.equal([5000, 5000, 5000, 5000, 5000, 5000]);
    cloud.nextStatuses = ["running", "failed"];
    const failed = await drift("--json", "--accounts", ids[0]!);
    expect(failed.code).to.equal(1);
    const failedRun = cloud.deployments.at(-1)!;
    expect(byAccount(JSON.parse(failed.stdout), ids[0]!)).to.deep.include({
      drift: "error",
      error: `detect-drift deployment #${failedRun.version} of account-${ids[0]} failed (https://app.pulumi.com/${stackKey(ids[0]!)}/deployments/${failedRun.version})`,
    });
  });

  it("--remediate: remediate-drift deployments of exactly the drifted stacks as a rollout; then no drift", async () => {
    cloud.driftOf.set(stackKey(ids[2]!), { update: 1 });
    cloud.driftOf.set(stackKey(ids[3]!), { delete: 1 });
    const result = await drift("--json", "--remediate", "--rollout-dir", path.join(dir, "rollouts"));
    expect(result.code, result.stderr).to.equal(0);
    const json = JSON.parse(result.stdout);
    expect(json.counts).to.deep.equal({ checked: 4, drifted: 2, errors: 0 });
    expect(json.remediation).to.deep.include({ status: "completed", counts: { done: 2, failed: 0, pending: 0 } });
    const remediations = cloud.deployments.filter((d) => d.operation === "remediate-drift");
    expect(remediations.map((d) => d.stack).sort()).to.deep.equal([stackKey(ids[2]!), stackKey(ids[3]!)]);
    expect(json.remediation.accounts.map((a: { summary: string }) => a.summary).sort()).to.deep.equal(
      remediations
        .map(
          (d) =>
            `remediate-drift deployment #${d.version} succeeded (https://app.pulumi.com/${d.stack}/deployments/${d.version})`,
        )
        .sort(),
    );
    // Pulumi Cloud's drift_remediation event is recorded too.
    expect((await ledger.getByAccountId(ids[3]!))!.history.at(-1)?.note).to.match(
      /^drift: remediation succeeded \(delete 1\), https:\/\/app\.pulumi\.com\/.*\(webhook [0-9a-f-]+\)$/,
    );
    const after = await drift("--json");
    expect([after.code, JSON.parse(after.stdout).counts]).to.deep.equal([0, { checked: 4, drifted: 0, errors: 0 }]);
  });

  it("refuses --webhook-wait without --remote (exit 2)", async () => {
    const wait = await runAvm(
      ["--ledger", ":memory:", "fleet", "drift", "--webhook-wait", "10", ...STACK_FLAGS],
      deps,
      { cwd: dir },
    );
    expect([wait.code, wait.stderr]).to.deep.equal([2, "avm: error: --webhook-wait needs --remote\n"]);
  });

  describe("fleet rollout --remote --webhook-wait: results by webhook when polling stops early", () => {
    /** Injected clock that advances by the slept time, each sleep a short real wait so the fake's deliveries land. */
    class YieldingTiming implements Timing {
      readonly sleeps: number[] = [];
      private at = Date.parse("2026-01-01T00:00:00Z");
      now(): Date {
        return new Date(this.at);
      }
      async sleep(ms: number): Promise<void> {
        this.sleeps.push(ms);
        this.at += ms;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      random(): number {
        return 0.5;
      }
    }

    let clock: YieldingTiming;
    beforeEach(() => {
      cloud.runInBackground = true;
      clock = new YieldingTiming();
      // Polling stops right after the deployment is created: the result can only come by webhook.
      deps = { ...deps, timing: clock };
      deps.remoteStackRunner = async (stackSettings) => deploymentsRunner(stackSettings, 0);
    });
    const rollout = (...args: string[]) =>
      runAvm(
        [
          "--ledger",
          ":memory:",
          "--json",
          "fleet",
          "rollout",
          "--remote",
          "--accounts",
          `${ids[0]},${ids[1]}`,
          "--rollout-dir",
          path.join(dir, "rollouts"),
          ...STACK_FLAGS,
          ...args,
        ],
        deps,
        { cwd: dir },
      );

    it("finishes each update by its deployment webhook event recorded in the ledger", async () => {
      const result = await rollout("--webhook-wait", "600");
      expect(result.code, result.stderr).to.equal(0);
      const json = JSON.parse(result.stdout);
      expect(json.counts).to.deep.equal({ done: 2, failed: 0, pending: 0 });
      const ups = cloud.deployments.filter((d) => d.operation === "update");
      expect(ups.map((d) => [d.stack, d.status]).sort()).to.deep.equal([
        [stackKey(ids[0]!), "succeeded"],
        [stackKey(ids[1]!), "succeeded"],
      ]);
      expect(json.accounts.map((a: { accountId: string; summary: string }) => [a.accountId, a.summary])).to.deep.equal(
        [ids[0], ids[1]].map((id) => {
          const d = ups.find((u) => u.stack === stackKey(id!))!;
          return [
            id,
            `deployment: deployment update succeeded (#${d.version}) https://app.pulumi.com/${d.stack}/deployments/${d.version}`,
          ];
        }),
      );
      // Bounded by the injected clock: at most 600 s of 5 s reads, far fewer here.
      expect(clock.sleeps.every((ms) => ms === 5000)).to.equal(true);
      expect(clock.sleeps.length).to.be.lessThan(120);
    });

    it("a failed deployment's event fails the account (the canary halts); without --webhook-wait it fails unfinished", async () => {
      cloud.nextStatuses = ["running", "failed"];
      const failed = await rollout("--webhook-wait", "600");
      expect(failed.code).to.equal(1);
      const json = JSON.parse(failed.stdout);
      const d = cloud.deployments.find((x) => x.operation === "update")!;
      expect(json).to.deep.include({ status: "halted", counts: { done: 0, failed: 1, pending: 1 } });
      expect(json.accounts[0].error).to.equal(
        `deployment: deployment update failed (#${d.version}) https://app.pulumi.com/${d.stack}/deployments/${d.version}`,
      );
      cloud.nextStatuses = ["not-started", "running", "succeeded"];
      const unwaited = await rollout();
      expect(unwaited.code).to.equal(1);
      expect(JSON.parse(unwaited.stdout).accounts[0].error).to.match(
        /^deployment not finished within the wait budget \(deployment #\d+ not-started; the outcome arrives by webhook, https:/,
      );
    });
  });
});
