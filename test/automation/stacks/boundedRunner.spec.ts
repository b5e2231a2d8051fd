import { expect } from "chai";
import { BoundedRunner } from "../../../automation/stacks/boundedRunner";
import type { AccountStackRequest, AccountStackResult, AccountStackRunner } from "../../../src/core/ports";

/** A runner whose deploys end only when the test says so; it records the most that ran at once. */
class GatedRunner implements AccountStackRunner {
  readonly started: string[] = [];
  readonly gates = new Map<string, () => void>();
  running = 0;
  most = 0;
  closed = false;
  async deploy(request: AccountStackRequest): Promise<AccountStackResult> {
    this.started.push(request.accountId);
    this.running += 1;
    this.most = Math.max(this.most, this.running);
    await new Promise<void>((resolve) => this.gates.set(request.accountId, resolve));
    this.running -= 1;
    if (request.accountId === "000000000013") throw new Error("stack failed");
    return { status: "deployed", stackName: `account-${request.accountId}`, summary: "ok" };
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

const request = (i: number): AccountStackRequest => ({
  accountId: String(i).padStart(12, "0"),
  accountName: `a${i}`,
  email: `a${i}@example.com`,
  requestId: `r${i}`,
  tags: {},
});

/** Lets every pending promise chain settle. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("BoundedRunner", () => {
  it("runs at most `limit` deploys at once, the waiting ones in the order they asked, also after a failure", async () => {
    const inner = new GatedRunner();
    const runner = new BoundedRunner(inner, 2);
    const results = [11, 12, 13, 14, 15].map((i) =>
      runner.deploy(request(i)).then(
        (r) => r.status,
        (e: Error) => e.message,
      ),
    );
    await settle();
    expect(inner.started).to.deep.equal(["000000000011", "000000000012"]);
    inner.gates.get("000000000012")!();
    await settle();
    expect(inner.started).to.deep.equal(["000000000011", "000000000012", "000000000013"]);
    inner.gates.get("000000000013")!(); // fails: its place still goes to the next one
    await settle();
    expect(inner.started).to.deep.equal(["000000000011", "000000000012", "000000000013", "000000000014"]);
    // A newcomer queues behind 15 instead of overtaking it.
    const late = runner.deploy(request(16)).then((r) => r.status);
    inner.gates.get("000000000011")!();
    await settle();
    expect(inner.started.slice(-1)).to.deep.equal(["000000000015"]);
    inner.gates.get("000000000014")!();
    await settle();
    inner.gates.get("000000000015")!();
    await settle();
    inner.gates.get("000000000016")!();
    expect(await Promise.all([...results, late])).to.deep.equal([
      "deployed",
      "deployed",
      "stack failed",
      "deployed",
      "deployed",
      "deployed",
    ]);
    expect(inner.most).to.equal(2);
    await runner.close();
    expect(inner.closed).to.equal(true);
  });

  it("refuses a limit that is not a positive integer", () => {
    expect(() => new BoundedRunner(new GatedRunner(), 0)).to.throw(
      RangeError,
      "limit must be a positive integer, got 0",
    );
  });
});
