import { expect } from "chai";
import { RotatingSecret, type SecretVersion } from "../../../../src/core/webhooks/rotatingSecret";

/** A secret store with AWSCURRENT/AWSPREVIOUS stages and a controllable clock; counts reads per stage. */
class Store {
  now = new Date("2026-12-01T10:00:00Z");
  current: SecretVersion = { value: "old-secret-0123456789", createdAt: new Date("2026-11-01T00:00:00Z") };
  previous: SecretVersion | undefined;
  readonly reads: string[] = [];
  rotate(value: string): void {
    this.previous = this.current;
    this.current = { value, createdAt: new Date(this.now) };
  }
  advance(ms: number): void {
    this.now = new Date(this.now.getTime() + ms);
  }
  secret(): RotatingSecret {
    return new RotatingSecret({
      read: async (stage) => {
        this.reads.push(stage);
        return stage === "AWSCURRENT" ? this.current : this.previous;
      },
      now: () => this.now,
      ttlMs: 300_000,
      minRefreshIntervalMs: 30_000,
      rotationWindowMs: 3_600_000,
    });
  }
}

describe("RotatingSecret", () => {
  it("reads AWSCURRENT once per TTL and again after it", async () => {
    const store = new Store();
    const secret = store.secret();
    expect(await secret.candidates()).to.deep.equal(["old-secret-0123456789"]);
    store.rotate("new-secret-0123456789");
    store.advance(299_999);
    expect(await secret.candidates()).to.deep.equal(["old-secret-0123456789"]);
    store.advance(1);
    // After the TTL the new value is read; the previous is not read on a TTL refresh (only after a mismatch).
    expect(await secret.candidates()).to.deep.equal(["new-secret-0123456789"]);
    expect(store.reads).to.deep.equal(["AWSCURRENT", "AWSCURRENT"]);
  });

  it("on refresh reads both stages; the previous value verifies during the rotation window, then not", async () => {
    const store = new Store();
    const secret = store.secret();
    await secret.candidates();
    store.rotate("new-secret-0123456789");
    expect(await secret.refresh()).to.deep.equal(["new-secret-0123456789", "old-secret-0123456789"]);
    expect(store.reads).to.deep.equal(["AWSCURRENT", "AWSCURRENT", "AWSPREVIOUS"]);
    store.advance(3_599_999);
    expect(await secret.refresh()).to.deep.equal(["new-secret-0123456789", "old-secret-0123456789"]);
    store.advance(1);
    expect(await secret.refresh()).to.deep.equal(["new-secret-0123456789"]);
    expect(await secret.candidates()).to.deep.equal(["new-secret-0123456789"]);
  });

  it("re-reads at most once per minRefreshInterval after mismatches (forged deliveries cannot flood it)", async () => {
    const store = new Store();
    const secret = store.secret();
    await secret.candidates();
    for (let i = 0; i < 50; i++) await secret.refresh();
    expect(store.reads.filter((stage) => stage === "AWSPREVIOUS")).to.have.length(1);
    store.advance(30_000);
    await secret.refresh();
    expect(store.reads.filter((stage) => stage === "AWSPREVIOUS")).to.have.length(2);
  });

  it("never lets the previous value verify when the current version's creation date is unknown", async () => {
    const store = new Store();
    const secret = store.secret();
    store.rotate("new-secret-0123456789");
    store.current = { value: "new-secret-0123456789" };
    expect(await secret.refresh()).to.deep.equal(["new-secret-0123456789"]);
  });
});
