import { expect } from "chai";
import { createHmac } from "node:crypto";
import { request } from "node:http";
import { run } from "../../../automation/cli/main";
import { waitUntil } from "../../support/hangGuard";
import { VEND, exitedOf, useCliHarness } from "./commandsFixture";
import type { CliHarness } from "./harness";

describe("avm CLI commands (in-process, fake Organizations)", function () {
  let h: CliHarness;
  useCliHarness((harness) => (h = harness));

  describe("serve", () => {
    it("listens on 127.0.0.1, answers a ping, and stops on the interrupt signal", async () => {
      let stop!: (signal: string) => void;
      const interrupted = new Promise<string>((resolve) => (stop = resolve));
      let claimed = false;
      let stdout = "";
      let stderr = "";
      const running = run(
        ["serve", "--port", "0", "--json"],
        {
          stdout: { write: (s: string) => (stdout += s) },
          stderr: { write: (s: string) => (stderr += s) },
          stdin: "",
          env: {},
          cwd: "/tmp",
          interrupted,
          claimInterrupt: () => (claimed = true),
        },
        h.deps(),
      );
      await waitUntil("avm serve to print its listening line", () => stdout.includes("\n"), {
        stopped: exitedOf(running),
        describe: () => `stdout ${JSON.stringify(stdout)}, stderr ${JSON.stringify(stderr)}`,
      });
      const listening = JSON.parse(stdout);
      expect(listening.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/webhooks\/pulumi$/);
      expect(listening.signed).to.equal(false);
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          listening.url,
          {
            method: "POST",
            headers: { "pulumi-webhook-kind": "ping", "pulumi-webhook-id": "d-1", "content-type": "application/json" },
          },
          (res) => {
            let body = "";
            res.on("data", (c) => (body += c));
            res.on("end", () => resolve({ status: res.statusCode!, body }));
          },
        );
        req.on("error", reject);
        req.end("{}");
      });
      expect(answer.status).to.equal(200);
      stop("SIGINT");
      expect(await running).to.equal(0);
      expect(claimed).to.equal(true);
      expect(stderr).to.include(
        "avm: warning: AVM_WEBHOOK_SECRET is not set: deliveries are accepted unsigned (local testing only)\n",
      );
      expect(stderr).to.include("stopping (SIGINT)\n");
    });

    it("never prints the webhook secret", async () => {
      let stop!: (signal: string) => void;
      const interrupted = new Promise<string>((resolve) => (stop = resolve));
      let out = "";
      const running = run(
        ["serve", "--port", "0"],
        {
          stdout: { write: (s: string) => (out += s) },
          stderr: { write: (s: string) => (out += s) },
          stdin: "",
          env: { AVM_WEBHOOK_SECRET: "s3cr3t-value" },
          cwd: "/tmp",
          interrupted,
        },
        h.deps(),
      );
      await waitUntil("avm serve to print its listening line", () => out.includes("listening"), {
        stopped: exitedOf(running),
        describe: () => `output ${JSON.stringify(out)}`,
      });
      stop("SIGTERM");
      expect(await running).to.equal(0);
      expect(out).to.match(
        /^listening on http:\/\/127\.0\.0\.1:\d+\/webhooks\/pulumi \(signed deliveries only; Ctrl-C to stop\)\n/,
      );
      expect(out).to.not.include("s3cr3t-value");
    });

    it("with --process, finishes a request whose queued remote deployment a signed webhook reports", async () => {
      const vend = await h.run([...VEND, "--runner", "remote", "--json", "-q"]);
      expect(vend.code, vend.stderr).to.equal(0);
      expect(JSON.parse(vend.stdout)).to.deep.include({ outcome: "waiting", reason: "account-100000000000 queued" });
      expect((await h.ledger.get("team-a@example.com"))!.state).to.equal("BOOTSTRAPPING");

      let stop!: (signal: string) => void;
      const interrupted = new Promise<string>((resolve) => (stop = resolve));
      let stdout = "";
      let stderr = "";
      const secret = "whsec-test";
      const running = run(
        ["serve", "--port", "0", "--json", "--process"],
        {
          stdout: { write: (s: string) => (stdout += s) },
          stderr: { write: (s: string) => (stderr += s) },
          stdin: "",
          env: { AVM_WEBHOOK_SECRET: secret },
          cwd: "/tmp",
          interrupted,
        },
        h.deps(),
      );
      const exited = exitedOf(running);
      await waitUntil("avm serve to print its listening line", () => stdout.includes("\n"), {
        stopped: exited,
        describe: () => `stdout ${JSON.stringify(stdout)}, stderr ${JSON.stringify(stderr)}`,
      });
      const { url, signed } = JSON.parse(stdout);
      expect(signed).to.equal(true);
      const body = JSON.stringify({
        projectName: "meshstack-avm",
        stackName: "acme/meshstack-avm/account-100000000000",
        kind: "update",
        result: "succeeded",
        updateUrl: "https://app.pulumi.com/acme/meshstack-avm/account-100000000000/updates/1",
      });
      const post = (signature: string) =>
        new Promise<number>((resolve, reject) => {
          const req = request(
            url,
            {
              method: "POST",
              headers: {
                "pulumi-webhook-kind": "stack_update",
                "pulumi-webhook-id": "delivery-1",
                "pulumi-webhook-signature": signature,
                "content-type": "application/json",
              },
            },
            (res) => {
              res.resume();
              res.on("end", () => resolve(res.statusCode!));
            },
          );
          req.on("error", reject);
          req.end(body);
        });
      expect(await post("0".repeat(64))).to.equal(401);
      expect(await post(createHmac("sha256", secret).update(body).digest("hex"))).to.equal(200);
      await waitUntil(
        "the signed webhook to finish the request",
        async () => (await h.ledger.get("team-a@example.com"))!.state === "SUCCEEDED",
        {
          stopped: exited,
          describe: async () =>
            `state ${(await h.ledger.get("team-a@example.com"))!.state}, stderr ${JSON.stringify(stderr)}`,
        },
      );
      stop("SIGINT");
      expect(await running).to.equal(0);
      const record = (await h.ledger.get("team-a@example.com"))!;
      expect(record.history.slice(-2).map((e) => e.state)).to.deep.equal(["COMPLETING", "SUCCEEDED"]);
      expect(h.org.accounts.get("100000000000")!.tags).to.deep.equal({
        CostCenter: "1234",
        ProductName: "ws-a",
        Stage: "dev",
      });
      expect(stderr).to.not.include(secret);
    });

    it("rejects a malformed port", async () => {
      expect((await h.run(["serve", "--port", "99999"])).stderr).to.equal(
        "avm: error: option '--port <port>' argument '99999' is invalid. must be a port number 0-65535.\n",
      );
    });
  });
});
