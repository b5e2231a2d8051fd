/**
 * Model-based property test of the ledger contract: random sequences of claims and compare-and-set
 * updates (with stale versions mixed in) behave exactly like a tiny reference model, on every
 * implementation that runs in the unit process.
 */
import { expect } from "chai";
import * as fc from "fast-check";
import { LedgerConflictError, LedgerNotFoundError, type RequestState } from "../../../src/core/ledger";
import { type Ledger } from "../../../src/core/ports";
import { MemoryLedger } from "../../support/memoryLedger";
import { SqliteLedger } from "../../../src/adapters/local/sqliteLedger";

interface ModelRecord {
  requestId: string;
  state: RequestState;
  version: number;
  history: number;
}
type Model = Map<string, ModelRecord>;
interface Real {
  ledger: Ledger;
  tick: number;
}

const EMAILS = ["a@example.com", "B@example.com", "b@example.com ", "c@example.com"];
const key = (email: string) => email.trim().toLowerCase();
const STATES: RequestState[] = ["RECEIVED", "CREATING", "MOVING", "SUCCEEDED", "FAILED"];

class Claim implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly email: string,
    readonly requestId: string,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const result = await real.ledger.claim(
      { email: this.email, requestId: this.requestId, kind: "vend", request: { n: this.requestId } },
      new Date(++real.tick * 1000),
    );
    const existing = model.get(key(this.email));
    expect(result.created).to.equal(existing === undefined);
    if (!existing) model.set(key(this.email), { requestId: this.requestId, state: "RECEIVED", version: 1, history: 1 });
    const expected = model.get(key(this.email))!;
    expect(result.record.requestId).to.equal(expected.requestId);
    expect(result.record.version).to.equal(expected.version);
  }
  toString = () => `claim(${this.email}, ${this.requestId})`;
}

class Update implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly email: string,
    readonly staleBy: number,
    readonly state: RequestState | undefined,
    readonly note: boolean,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const current = model.get(key(this.email));
    const expectedVersion = (current?.version ?? 1) - this.staleBy;
    const patch = { ...(this.state ? { state: this.state } : {}), ...(this.note ? { note: "n" } : {}) };
    let outcome: unknown;
    try {
      outcome = await real.ledger.update(this.email, expectedVersion, patch, new Date(++real.tick * 1000));
    } catch (error) {
      outcome = error;
    }
    if (!current) {
      expect(outcome).to.be.instanceOf(LedgerNotFoundError);
    } else if (this.staleBy !== 0) {
      expect(outcome).to.be.instanceOf(LedgerConflictError);
    } else {
      current.version += 1;
      if (this.state) current.state = this.state;
      if (this.state || this.note) current.history += 1;
      expect(outcome).to.deep.include({ version: current.version, state: current.state });
    }
    const stored = await real.ledger.get(this.email);
    expect(stored?.version).to.equal(current?.version);
    expect(stored?.history.length).to.equal(current?.history);
  }
  toString = () => `update(${this.email}, stale ${this.staleBy}, ${this.state}, ${this.note})`;
}

const commands = [
  fc.tuple(fc.constantFrom(...EMAILS), fc.constantFrom("r1", "r2", "r3")).map(([e, r]) => new Claim(e, r)),
  fc
    .tuple(
      fc.constantFrom(...EMAILS),
      fc.constantFrom(0, 0, 0, 1, -1),
      fc.option(fc.constantFrom(...STATES), { nil: undefined }),
      fc.boolean(),
    )
    .map(([e, s, st, n]) => new Update(e, s, st, n)),
];

for (const [name, factory] of [
  ["MemoryLedger", () => new MemoryLedger()],
  ["SqliteLedger", () => new SqliteLedger({ path: ":memory:" })],
] as const) {
  describe(`${name} (model-based property)`, () => {
    it("behaves like the reference model for any sequence of claims and updates", async () => {
      await fc.assert(
        fc.asyncProperty(fc.commands(commands, { maxCommands: 40 }), async (cmds) => {
          const ledger = factory();
          try {
            await fc.asyncModelRun(() => ({ model: new Map(), real: { ledger, tick: 0 } }), cmds);
            const listed = await ledger.list();
            expect(new Set(listed.map((record) => record.email)).size).to.equal(listed.length);
          } finally {
            await ledger.close();
          }
        }),
        { numRuns: 150 },
      );
    });
  });
}
