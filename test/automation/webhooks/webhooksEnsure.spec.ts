import { expect } from "chai";
import { CliHarness } from "../cli/harness";
import { FakePulumiCloud } from "../../support/fakePulumiCloud";
import { secretFingerprint, webhookDisplayName } from "../../../automation/webhooks/ensureWebhook";

const TOKEN = "pul-0123456789abcdef0123456789abcdef01234567";
const SECRET = "s3cret-0123456789abcdef-webhook";
const NEW_SECRET = "another-secret-fedcba9876543210";
const URL_A = "https://abc123.lambda-url.eu-central-1.on.aws/";
const URL_B = "https://def456.lambda-url.eu-central-1.on.aws/";
const EVENTS = [
  "deployment_failed",
  "deployment_succeeded",
  "drift_detection_failed",
  "drift_detection_succeeded",
  "drift_remediation_failed",
  "drift_remediation_succeeded",
  "update_failed",
  "update_succeeded",
];

describe("avm webhooks ensure (fake Pulumi Cloud)", () => {
  let cloud: FakePulumiCloud;
  let cli: CliHarness;

  beforeEach(async () => {
    cloud = new FakePulumiCloud(TOKEN);
    const base = await cloud.start();
    cli = new CliHarness();
    cli.env = { PULUMI_ACCESS_TOKEN: TOKEN, PULUMI_API_URL: base, AVM_WEBHOOK_SECRET: SECRET };
  });
  afterEach(async () => {
    cli.dispose();
    await cloud.stop();
  });

  const ensure = (...extra: string[]) => cli.run(["webhooks", "ensure", "--org", "acme", "--url", URL_A, ...extra]);
  const writes = () => cloud.requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`);
  const noSecret = (r: { stdout: string; stderr: string }) => {
    for (const secret of [SECRET, NEW_SECRET, TOKEN]) {
      expect(r.stdout).not.to.include(secret);
      expect(r.stderr).not.to.include(secret);
    }
  };

  it("creates one organization webhook with the URL, the four final events, raw format and the secret", async () => {
    const r = await ensure("--json");
    expect(r.code).to.equal(0);
    noSecret(r);
    expect(JSON.parse(r.stdout)).to.deep.equal({
      scope: { kind: "organization", organization: "acme" },
      payloadUrl: URL_A,
      events: EVENTS,
      action: "create",
      webhookName: "hook000001",
      changes: [
        { field: "payloadUrl", from: "(none)", to: URL_A },
        { field: "filters", from: "(none)", to: EVENTS.join(",") },
        { field: "secret", from: "(none)", to: "(set)" },
      ],
      deleted: [],
      dryRun: false,
    });
    expect(cloud.webhooks.get("acme")).to.deep.equal([
      {
        name: "hook000001",
        displayName: `meshstack-avm webhook [secret ${secretFingerprint(SECRET)}]`,
        payloadUrl: URL_A,
        active: true,
        format: "raw",
        filters: EVENTS,
        groups: [],
        secret: SECRET,
      },
    ]);
    expect(writes()).to.deep.equal(["POST /api/orgs/acme/hooks"]);
    expect(cloud.requests.every((q) => q.authorization === `token ${TOKEN}`)).to.equal(true);
  });

  it("changes nothing when the webhook is already as wanted (no-op)", async () => {
    expect((await ensure()).code).to.equal(0);
    cloud.requests.length = 0;
    const r = await ensure();
    expect(r).to.deep.equal({
      code: 0,
      stdout: `webhook hook000001 of organization acme is up to date (${URL_A}; ${EVENTS.join(",")})\n`,
      stderr: "",
    });
    expect(cloud.requests.map((q) => `${q.method} ${q.path}`)).to.deep.equal(["GET /api/orgs/acme/hooks"]);
  });

  it("updates the URL in place, keeping the same webhook", async () => {
    await ensure();
    cloud.requests.length = 0;
    const r = await cli.run(["webhooks", "ensure", "--org", "acme", "--url", URL_B]);
    expect(r).to.deep.equal({
      code: 0,
      stdout: `updated webhook hook000001 of organization acme:\n  payloadUrl: ${URL_A} -> ${URL_B}\n`,
      stderr: "",
    });
    expect(writes()).to.deep.equal(["PATCH /api/orgs/acme/hooks/hook000001"]);
    expect(cloud.webhooks.get("acme")?.map((h) => [h.name, h.payloadUrl, h.secret])).to.deep.equal([
      ["hook000001", URL_B, SECRET],
    ]);
  });

  it("updates the secret when it changed, detected by the fingerprint in the display name, without printing it", async () => {
    await ensure();
    cli.env = { ...cli.env, AVM_WEBHOOK_SECRET: NEW_SECRET };
    const r = await ensure();
    noSecret(r);
    expect(r.stdout).to.equal(
      "updated webhook hook000001 of organization acme:\n" +
        "  secret: (unknown or different) -> (set)\n" +
        `  displayName: ${webhookDisplayName(SECRET)} -> ${webhookDisplayName(NEW_SECRET)}\n`,
    );
    expect(cloud.webhooks.get("acme")?.map((h) => h.secret)).to.deep.equal([NEW_SECRET]);
    expect((await ensure()).stdout).to.include("is up to date");
  });

  it("updates the events, and clears event groups that would subscribe to more", async () => {
    await ensure();
    cloud.webhooks.get("acme")![0]!.groups = ["stacks"];
    const r = await ensure("--event", "deployment_succeeded", "--event", "deployment_failed");
    expect(r.stdout).to.equal(
      "updated webhook hook000001 of organization acme:\n" +
        `  filters: ${EVENTS.join(",")} -> deployment_failed,deployment_succeeded\n` +
        "  groups: stacks -> (none)\n",
    );
    expect(cloud.webhooks.get("acme")?.map((h) => [h.filters, h.groups])).to.deep.equal([
      [["deployment_failed", "deployment_succeeded"], []],
    ]);
  });

  it("adopts a console-made webhook at our URL, sets the secret, and deletes other duplicates", async () => {
    cloud.addWebhook("acme", {
      name: "console1",
      displayName: "AVM",
      payloadUrl: URL_A,
      active: false,
      format: "raw",
      filters: [],
      groups: ["stacks", "deployments"],
    });
    cloud.addWebhook("acme", {
      name: "old-ours",
      displayName: webhookDisplayName(SECRET),
      payloadUrl: URL_B,
      active: true,
      format: "raw",
      filters: EVENTS,
      groups: [],
      secret: SECRET,
    });
    cloud.addWebhook("acme", {
      name: "slack",
      displayName: "team chat",
      payloadUrl: "https://hooks.slack.com/x",
      active: true,
      format: "slack",
      filters: [],
      groups: [],
    });
    const r = await ensure("--json");
    const json = JSON.parse(r.stdout) as { action: string; webhookName: string; deleted: string[] };
    expect([json.action, json.webhookName, json.deleted]).to.deep.equal(["update", "old-ours", ["console1"]]);
    expect(cloud.webhooks.get("acme")?.map((h) => [h.name, h.payloadUrl])).to.deep.equal([
      ["old-ours", URL_A],
      ["slack", "https://hooks.slack.com/x"],
    ]);
  });

  it("--dry-run shows the change and changes nothing", async () => {
    const create = await ensure("--dry-run");
    expect(create).to.deep.equal({
      code: 0,
      stdout:
        "would create the webhook of organization acme:\n" +
        `  payloadUrl: (none) -> ${URL_A}\n` +
        `  filters: (none) -> ${EVENTS.join(",")}\n` +
        "  secret: (none) -> (set)\n" +
        "dry run: nothing changed\n",
      stderr: "",
    });
    expect(writes()).to.deep.equal([]);
    await ensure();
    cloud.requests.length = 0;
    const update = await cli.run(["webhooks", "ensure", "--org", "acme", "--url", URL_B, "--dry-run", "--json"]);
    const json = JSON.parse(update.stdout) as { action: string; dryRun: boolean };
    expect([json.action, json.dryRun]).to.deep.equal(["update", true]);
    expect(writes()).to.deep.equal([]);
    expect(cloud.webhooks.get("acme")?.[0]?.payloadUrl).to.equal(URL_A);
  });

  it("manages a stack webhook with --stack", async () => {
    cloud.stacks.add("acme/meshstack-avm/dev");
    const r = await ensure("--stack", "meshstack-avm/dev");
    expect(r.stdout).to.match(/^created webhook hook000001 of stack acme\/meshstack-avm\/dev:\n/);
    expect(writes()).to.deep.equal(["POST /api/stacks/acme/meshstack-avm/dev/hooks"]);
    expect(cloud.requests.at(-1)?.body).to.include({
      organizationName: "acme",
      projectName: "meshstack-avm",
      stackName: "dev",
    });
  });

  describe("error paths", () => {
    it("401: an invalid token names PULUMI_ACCESS_TOKEN (exit 1) and never echoes the token", async () => {
      cli.env = { ...cli.env, PULUMI_ACCESS_TOKEN: "pul-wrong-token-1234567890" };
      const r = await ensure();
      expect(r).to.deep.equal({
        code: 1,
        stdout: "",
        stderr:
          "avm: error: listing webhooks: the Pulumi access token is invalid or expired; set PULUMI_ACCESS_TOKEN (HTTP 401)\n",
      });
    });

    it("403: a token without admin rights says what permission is missing (exit 1)", async () => {
      cloud.inject.push({ method: "GET", pathIncludes: "/hooks", status: 403, times: 1 });
      const r = await ensure("--json");
      expect(r.code).to.equal(1);
      expect(JSON.parse(r.stdout)).to.deep.equal({
        error: {
          code: "runtime",
          exitCode: 1,
          message:
            'listing webhooks: the token lacks permission to manage webhooks of organization "acme" (organization ' +
            "webhooks need an organization admin's token); set PULUMI_ACCESS_TOKEN (HTTP 403)",
        },
      });
    });

    it("404: an unknown organization names --org (exit 1)", async () => {
      const r = await cli.run(["webhooks", "ensure", "--org", "nobody", "--url", URL_A]);
      expect(r).to.deep.equal({
        code: 1,
        stdout: "",
        stderr:
          'avm: error: listing webhooks: organization "nobody" not found in Pulumi Cloud, or the token cannot see it; ' +
          "check --org / AVM_PULUMI_ORGANIZATION (HTTP 404)\n",
      });
    });

    it("409 on create (another run created it meanwhile): re-reads and ends with exactly one webhook", async () => {
      cloud.inject.push({
        method: "POST",
        pathIncludes: "/api/orgs/acme/hooks",
        status: 409,
        times: 1,
        then: () =>
          cloud.addWebhook("acme", {
            displayName: webhookDisplayName(SECRET),
            payloadUrl: URL_A,
            active: true,
            format: "raw",
            filters: EVENTS,
            groups: [],
            secret: SECRET,
          }),
      });
      const r = await ensure("--json");
      expect(r.code).to.equal(0);
      expect((JSON.parse(r.stdout) as { action: string }).action).to.equal("none");
      expect(cloud.webhooks.get("acme")).to.have.length(1);
    });

    it("409 on create twice with nothing to adopt: exit 1, asks to run again, creates nothing", async () => {
      cloud.inject.push({ method: "POST", pathIncludes: "/api/orgs/acme/hooks", status: 409, times: 2 });
      const r = await ensure();
      expect(r).to.deep.equal({
        code: 1,
        stdout: "",
        stderr:
          "avm: error: creating the webhook: Pulumi Cloud reports a conflict (POST /api/orgs/acme/hooks: HTTP 409: injected 409); " +
          "another run may be changing the webhooks: run again\n",
      });
      expect(cloud.webhooks.get("acme")).to.deep.equal([]);
    });

    it("5xx with Retry-After: retries after the server's delay (injected sleep) and succeeds", async () => {
      cloud.inject.push({ method: "GET", pathIncludes: "/hooks", status: 503, times: 2, retryAfter: "7" });
      const r = await ensure();
      expect(r.code).to.equal(0);
      expect(cli.timing.sleeps).to.deep.equal([7000, 7000]);
      expect(cloud.webhooks.get("acme")).to.have.length(1);
    });

    it("5xx that persists: gives up after 4 attempts (exit 1)", async () => {
      cloud.inject.push({ method: "POST", pathIncludes: "/hooks", status: 502, times: 9, retryAfter: "2" });
      const r = await ensure();
      expect(r).to.deep.equal({
        code: 1,
        stdout: "",
        stderr:
          "avm: error: creating the webhook: POST /api/orgs/acme/hooks: HTTP 502 after 4 attempts: injected 502\n",
      });
      // Retry-After is the least wait; the client's own backoff (750, 1500, 3000 ms here) wins when longer.
      expect(cli.timing.sleeps).to.deep.equal([2000, 2000, 3000]);
      expect(cloud.webhooks.get("acme")).to.deep.equal([]);
    });

    it("usage errors (exit 2) name the setting and never show the secret", async () => {
      const cases: [string[], Record<string, string | undefined>, string][] = [
        [
          ["--org", "acme", "--url", URL_A],
          { AVM_WEBHOOK_SECRET: undefined },
          "AVM_WEBHOOK_SECRET is not set: export the platform stack's secret (pulumi config get webhookSecret)",
        ],
        [
          ["--org", "acme", "--url", URL_A],
          { AVM_WEBHOOK_SECRET: "short" },
          "AVM_WEBHOOK_SECRET must be 16-4096 characters (the value is not shown)",
        ],
        [
          ["--org", "acme", "--url", "http://example.com/hook"],
          {},
          '--url must be an https URL (the platform stack output webhookUrl; flag --url or AVM_WEBHOOK_URL), got "http://example.com/hook"',
        ],
        [["--url", URL_A], {}, "the Pulumi Cloud organization is not set: --org or AVM_PULUMI_ORGANIZATION"],
        [
          ["--org", "acme"],
          {},
          "webhooks ensure needs the receiver URL (the platform stack output webhookUrl; flag --url or AVM_WEBHOOK_URL)",
        ],
        [["--org", "acme", "--url", URL_A, "--stack", "dev"], {}, '--stack must be <project>/<stack>, got "dev"'],
        [
          ["--org", "acme", "--url", URL_A, "--event", "update_done"],
          {},
          `--event "update_done" is not a Pulumi Cloud webhook filter; one of stack_created, stack_deleted, preview_succeeded, ` +
            "preview_failed, update_succeeded, update_failed, destroy_succeeded, destroy_failed, refresh_succeeded, " +
            "refresh_failed, deployment_queued, deployment_started, deployment_succeeded, deployment_failed, drift_detected, " +
            "drift_detection_succeeded, drift_detection_failed, drift_remediation_succeeded, drift_remediation_failed, " +
            "policy_violation_mandatory, policy_violation_advisory",
        ],
        [
          ["--org", "acme", "--url", URL_A],
          { PULUMI_ACCESS_TOKEN: undefined },
          "PULUMI_ACCESS_TOKEN is not set: webhook registration needs a Pulumi access token",
        ],
      ];
      const base = { ...cli.env };
      for (const [args, env, message] of cases) {
        cli.env = { ...base, ...env };
        const r = await cli.run(["webhooks", "ensure", ...args]);
        expect(r, message).to.deep.equal({ code: 2, stdout: "", stderr: `avm: error: ${message}\n` });
      }
      expect(cloud.requests).to.deep.equal([]);
    });

    it("reads the organization and URL from AVM_PULUMI_ORGANIZATION and AVM_WEBHOOK_URL", async () => {
      cli.env = { ...cli.env, AVM_PULUMI_ORGANIZATION: "acme", AVM_WEBHOOK_URL: URL_A };
      const r = await cli.run(["webhooks", "ensure"]);
      expect(r.code).to.equal(0);
      expect(cloud.webhooks.get("acme")?.map((h) => h.payloadUrl)).to.deep.equal([URL_A]);
    });
  });
});
