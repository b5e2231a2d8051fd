/**
 * Webhook security end to end over HTTP: `avm serve` (the CLI command, on `automation/serve.ts`, bound to
 * 127.0.0.1 on a free port) with `AVM_WEBHOOK_SECRET` set and a ledger holding one account waiting for its stack.
 * Unsigned, forged, wrongly keyed, truncated, extended and replayed deliveries change nothing; the signed one moves
 * the record once; neither the secret nor any signature appears in the command's output or in any answer.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { request } from "node:http";
import { run } from "../../automation/cli/main";
import { computeSignature } from "../../src/core/webhooks/signature";
import { CliHarness } from "../automation/cli/harness";
import { HANG_GUARD_MS, waitUntil } from "../support/hangGuard";

const SECRET = "whsec-e2e-5f0c1d2e3b4a69788796a5b4c3d2e1f0";
const ACCOUNT = "222233334444";
const EMAIL = "team-a@example.com";

interface Answer {
  readonly status: number;
  readonly body: { ok: boolean; message: string; action?: string };
  readonly raw: string;
}

function post(url: string, body: Buffer, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "POST", headers: { "content-type": "application/json", ...headers, "content-length": body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const raw = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(raw) as Answer["body"], raw });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

function deploymentEvent(status: string, version = 12): Buffer {
  return Buffer.from(
    JSON.stringify({
      projectName: "meshstack-avm",
      stackName: `account-${ACCOUNT}`,
      status,
      operation: "update",
      version,
      deploymentId: `dep-${version}`,
      organization: { githubLogin: "acme" },
    }),
  );
}

describe("webhook security over HTTP (avm serve)", function () {
  this.timeout(HANG_GUARD_MS);
  const harness = new CliHarness();
  let stop!: (signal: string) => void;
  let running: Promise<number>;
  let output = "";
  let url: string;
  const answers: Answer[] = [];
  const signatures: string[] = [];

  const deliver = async (body: Buffer, headers: Record<string, string>): Promise<Answer> => {
    const answer = await post(url, body, headers);
    answers.push(answer);
    return answer;
  };
  const signed = (id: string, body: Buffer, signature = computeSignature(SECRET, body)) => {
    signatures.push(signature);
    return { "pulumi-webhook-id": id, "pulumi-webhook-kind": "deployment", "pulumi-webhook-signature": signature };
  };
  const record = async () => (await harness.ledger.get(EMAIL))!;

  before(async () => {
    const now = new Date("2026-01-01T00:00:00Z");
    const { record: claimed } = await harness.ledger.claim(
      { email: EMAIL, requestId: "req-1", kind: "meshstack-hook", request: {}, accountId: ACCOUNT },
      now,
    );
    await harness.ledger.update(
      claimed.email,
      claimed.version,
      { state: "BOOTSTRAPPING", note: "account stack queued: deployment #12 queued" },
      now,
    );
    const interrupted = new Promise<string>((resolve) => (stop = resolve));
    running = run(
      ["serve", "--port", "0", "--json"],
      {
        stdout: { write: (s: string) => (output += s) },
        stderr: { write: (s: string) => (output += s) },
        stdin: "",
        env: { AVM_WEBHOOK_SECRET: SECRET },
        cwd: "/tmp",
        interrupted,
        claimInterrupt: () => undefined,
      },
      harness.deps(),
    );
    let exited: string | undefined;
    running.then(
      (code) => (exited = `avm serve exited with ${code}`),
      (error: unknown) => (exited = `avm serve failed: ${String(error)}`),
    );
    await waitUntil("avm serve to print its listening line", () => output.includes("\n"), {
      stopped: () => exited,
      describe: () => `output so far: ${JSON.stringify(output)}`,
    });
    const listening = JSON.parse(output.split("\n")[0]!) as { url: string; signed: boolean };
    expect(listening.signed).to.equal(true);
    url = listening.url;
    expect(url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/webhooks\/pulumi$/);
  });

  after(async () => {
    stop("SIGTERM");
    expect(await running).to.equal(0);
    harness.dispose();
  });

  it("rejects an unsigned delivery with 401 and leaves the ledger alone", async () => {
    const answer = await deliver(deploymentEvent("succeeded"), {
      "pulumi-webhook-id": "u-1",
      "pulumi-webhook-kind": "deployment",
    });
    expect([answer.status, answer.body.message]).to.deep.equal([401, "missing Pulumi-Webhook-Signature header"]);
    expect((await record()).state).to.equal("BOOTSTRAPPING");
  });

  it("rejects forged, wrongly keyed, truncated and extended deliveries with 401", async () => {
    const body = deploymentEvent("failed");
    const forgeries: [string, Buffer, string][] = [
      ["random signature", body, randomBytes(32).toString("hex")],
      ["signed with another secret", body, computeSignature(`${SECRET}x`, body)],
      ["truncated body", body.subarray(0, body.length - 1), computeSignature(SECRET, body)],
      ["extended body", Buffer.concat([body, Buffer.from(" ")]), computeSignature(SECRET, body)],
      ["signature of another event", body, computeSignature(SECRET, deploymentEvent("succeeded"))],
      ["sha256= prefixed", body, `sha256=${computeSignature(SECRET, body)}`],
      ["truncated signature", body, computeSignature(SECRET, body).slice(0, 63)],
      ["empty signature", body, ""],
    ];
    for (const [what, payload, signature] of forgeries) {
      const answer = await deliver(payload, signed(`f-${what.replace(/\W/g, "-")}`, payload, signature));
      expect(answer.status, what).to.equal(401);
    }
    expect((await record()).state).to.equal("BOOTSTRAPPING");
  });

  it("applies the signed delivery once, and a replay (same id or a new id) changes nothing more", async () => {
    const body = deploymentEvent("succeeded");
    const headers = signed("d-1", body);
    const first = await deliver(body, headers);
    expect([first.status, first.body.action]).to.deep.equal([200, "completing"]);
    const after = await record();
    expect(after.state).to.equal("COMPLETING");

    const replay = await deliver(body, headers);
    expect([replay.status, replay.body.action]).to.deep.equal([200, "duplicate"]);
    expect(await record()).to.deep.equal(after);

    // A captured delivery re-sent under a fresh id verifies (the signature covers the body only) but cannot
    // move the record backwards: the outcome is already applied.
    const fresh = await deliver(body, { ...headers, "pulumi-webhook-id": "d-2" });
    expect([fresh.status, fresh.body.action]).to.deep.equal([200, "re-enqueued"]);
    expect(await record()).to.deep.equal(after);

    // An old signed failure replayed after the success does not regress the record either.
    const oldFailure = deploymentEvent("failed", 11);
    const regress = await deliver(oldFailure, signed("d-3", oldFailure));
    expect([regress.status, regress.body.action]).to.deep.equal([200, "stale"]);
    expect((await record()).state).to.equal("COMPLETING");
  });

  it("answers 413 to an oversized body without reading it whole", async () => {
    const big = Buffer.alloc(300 * 1024, "a");
    const answer = await deliver(big, signed("big-1", big));
    expect(answer.status).to.equal(413);
  });

  it("never prints the secret or a signature, in logs or answers", () => {
    const everything = [output, ...answers.map((a) => a.raw)].join("\n");
    expect(everything).to.include("webhook warn: webhook rejected: signature mismatch");
    expect(everything).not.to.include(SECRET);
    for (const signature of signatures.filter((s) => s.length >= 16)) {
      expect(everything).not.to.include(signature);
      expect(everything).not.to.include(signature.replace(/^sha256=/, ""));
    }
  });
});
