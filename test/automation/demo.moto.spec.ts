/**
 * `npm run demo` end to end, as a subprocess exactly as the README runs it (`node --import tsx
 * automation/demo.ts`). The demo starts and stops its own moto. The offline planner is forced so the result
 * does not depend on a `pulumi` binary being installed.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import path from "node:path";
import { cliEnv } from "./cli/subprocess";
import { HANG_GUARD_MS } from "../support/hangGuard";

const REPO = path.resolve(__dirname, "..", "..");

describe("npm run demo (subprocess, its own moto)", function () {
  this.timeout(HANG_GUARD_MS);

  it("vends 3 accounts through avm vend and 1 through the meshStack hook, plans the stacks offline and exits 0", async () => {
    const env = cliEnv({ AVM_STACK_RUNNER: "offline" });
    for (const key of ["AWS_ENDPOINT_URL", "AWS_PROFILE", "PULUMI_BACKEND_URL"]) delete env[key];
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", "automation/demo.ts"], {
        cwd: REPO,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
    expect(result.code, `${result.stdout}\n${result.stderr}`).to.equal(0);
    const out = result.stdout;
    expect(out).to.match(
      /^avm demo: the main job on embedded defaults\n  local AWS        moto \S+ at http:\/\/127\.0\.0\.1:\d+\n/,
    );
    expect(out).to.include("  account stacks   offline plan (no pulumi CLI on PATH)\n");

    const summary = out.slice(out.indexOf("Summary (ledger)\n"), out.indexOf("\n\nRead back"));
    const rows = summary.split("\n").slice(2);
    expect(rows).to.have.length(4);
    const emails = [
      "aws+demo-team-a-dev@example.com",
      "aws+demo-team-a-prod@example.com",
      "aws+demo-team-b-dev@example.com",
      "awsexample+meshcloud.test-aws-integration@example.com",
    ];
    rows.forEach((row, i) => {
      expect(row).to.match(
        new RegExp(
          `^${i < 3 ? "avm vend" : "meshStack hook"} +${emails[i]!.replace(/[+.]/g, "\\$&")} +\\d{12} +/Workloads +PLANNED +planned \\(offline\\)$`,
        ),
      );
    });

    const readBack = out.slice(
      out.indexOf("Read back from AWS Organizations (moto)\n"),
      out.indexOf("\n\nAccount stacks"),
    );
    const tagLines = readBack.split("\n").slice(2);
    expect(tagLines.map((l) => l.replace(/^\d{12} +/, ""))).to.deep.equal([
      // Planned is not deployed: no completion tags (ProductName, Stage).
      "/Workloads  CostCenter=1001 Environment=dev",
      "/Workloads  CostCenter=1001 Environment=prod",
      "/Workloads  CostCenter=2002 Environment=dev",
      "/Workloads  CostCenter=1234 Environment=dev",
    ]);

    expect(out).to.include("\nAccount stacks: planned (offline, no pulumi CLI), not deployed.\n");
    expect(out).to.include('"Action": "iam:UpdateSAMLProvider"');
    expect(out).to.match(
      /\nAll 4 requests PLANNED in \d+\.\d s\.\nStopped moto and removed the demo's temporary files\.\n$/,
    );
    expect(result.stderr).to.not.match(/ExperimentalWarning|avm: error/);
  });
});
