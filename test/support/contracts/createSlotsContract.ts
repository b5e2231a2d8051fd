/** The contract every {@link CreateSlots} implementation keeps; each implementation's spec runs it. */
import { expect } from "chai";
import { CreateSlotsError } from "../../../src/core/vending/createSlots";
import { type CreateSlots } from "../../../src/core/ports";

/** Makes fresh slots: `slots` of them, leases of `leaseMs`, reading the time from `now`. */
export type CreateSlotsFactory = (options: { slots: number; leaseMs: number; now: () => Date }) => Promise<CreateSlots>;

/** Registers the CreateSlots contract tests under `describe(name)`. */
export function createSlotsContract(name: string, factory: CreateSlotsFactory): void {
  describe(`${name} (CreateSlots contract)`, () => {
    let clock: number;
    const now = () => new Date(clock);
    beforeEach(() => {
      clock = Date.parse("2026-01-01T00:00:00Z");
    });

    it("hands out at most N slots and frees one on release", async () => {
      const slots = await factory({ slots: 3, leaseMs: 60_000, now });
      expect(await slots.acquire("a")).to.equal(true);
      expect(await slots.acquire("b")).to.equal(true);
      expect(await slots.acquire("c")).to.equal(true);
      expect(await slots.acquire("d")).to.equal(false);
      expect((await slots.holders()).sort()).to.deep.equal(["a", "b", "c"]);
      await slots.release("b");
      expect(await slots.acquire("d")).to.equal(true);
      expect((await slots.holders()).sort()).to.deep.equal(["a", "c", "d"]);
    });

    it("is idempotent for a holder: acquiring again renews instead of taking a second slot", async () => {
      const slots = await factory({ slots: 2, leaseMs: 60_000, now });
      expect(await slots.acquire("a")).to.equal(true);
      clock += 50_000;
      expect(await slots.acquire("a")).to.equal(true);
      expect(await slots.acquire("b")).to.equal(true);
      expect(await slots.acquire("c")).to.equal(false);
      clock += 50_000; // a's first lease would have expired; the renewal keeps it
      expect(await slots.acquire("c")).to.equal(false);
      expect((await slots.holders()).sort()).to.deep.equal(["a", "b"]);
    });

    it("frees the slot of a crashed holder when its lease expires", async () => {
      const slots = await factory({ slots: 1, leaseMs: 60_000, now });
      expect(await slots.acquire("crashed")).to.equal(true);
      clock += 59_999;
      expect(await slots.acquire("next")).to.equal(false);
      clock += 1;
      expect(await slots.holders()).to.deep.equal([]);
      expect(await slots.acquire("next")).to.equal(true);
      expect(await slots.holders()).to.deep.equal(["next"]);
      // The crashed owner's late release must not free the slot someone else now holds.
      await slots.release("crashed");
      expect(await slots.holders()).to.deep.equal(["next"]);
    });

    it("treats releasing a slot that is not held as a no-op", async () => {
      const slots = await factory({ slots: 1, leaseMs: 60_000, now });
      await slots.release("nobody");
      expect(await slots.acquire("a")).to.equal(true);
      await slots.release("a");
      await slots.release("a");
      expect(await slots.holders()).to.deep.equal([]);
    });

    it("lets at most 5 of 20 concurrent acquirers hold a slot", async () => {
      const slots = await factory({ slots: 5, leaseMs: 60_000, now });
      const owners = Array.from({ length: 20 }, (_, i) => `owner-${i}`);
      const results = await Promise.all(owners.map((owner) => slots.acquire(owner)));
      const winners = owners.filter((_, i) => results[i]);
      expect(winners).to.have.length(5);
      expect((await slots.holders()).sort()).to.deep.equal([...winners].sort());
    });

    it("rejects an empty owner", async () => {
      const slots = await factory({ slots: 1, leaseMs: 60_000, now });
      let error: unknown;
      try {
        await slots.acquire(" ");
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(CreateSlotsError);
      expect((error as Error).message).to.equal("owner must not be empty");
    });
  });
}
