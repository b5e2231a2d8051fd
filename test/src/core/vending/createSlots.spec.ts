import { expect } from "chai";
import { CreateSlotsError } from "../../../../src/core/vending/createSlots";
import { InProcessCreateSlots } from "../../../../src/adapters/local/inProcessCreateSlots";
import { createSlotsContract } from "../../../support/contracts/createSlotsContract";

createSlotsContract("InProcessCreateSlots", async (options) => new InProcessCreateSlots(options));

describe("InProcessCreateSlots", () => {
  it("defaults to 5 slots", async () => {
    const slots = new InProcessCreateSlots();
    const results = await Promise.all(Array.from({ length: 7 }, (_, i) => slots.acquire(`o${i}`)));
    expect(results.filter(Boolean)).to.have.length(5);
  });

  it("rejects a slot count outside 1..100", () => {
    expect(() => new InProcessCreateSlots({ slots: 0 })).to.throw(
      CreateSlotsError,
      "maxConcurrentCreates must be an integer from 1 to 100, got 0",
    );
    expect(() => new InProcessCreateSlots({ slots: 2.5 })).to.throw(
      CreateSlotsError,
      "maxConcurrentCreates must be an integer from 1 to 100, got 2.5",
    );
  });
});
