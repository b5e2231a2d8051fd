import { expect } from "chai";
import type { LedgerRecord } from "../../../../src/core/ledger";
import type { Ledger, WorkItem } from "../../../../src/core/ports";
import { LedgerStackOutcomeRecorder } from "../../../../src/core/webhooks/stackOutcomeRecorder";
import { MemoryLedger } from "../../../support/memoryLedger";
import { RecordingTiming } from "../../../support/recordingTiming";

const ACCOUNT = "222233334444";
const EMAIL = "team-a@example.com";
const OUTCOME = { succeeded: true, summary: "deployment update succeeded (#7)", deliveryId: "d-1" } as const;

/**
 * The in-memory ledger behind a record of the calls made, whose account-id lookup answers with the record as it was
 * at version 1 (a lagging index, as DynamoDB's may be) unless `consistentLookups` is set.
 */
function ledgerWith(consistentLookups: boolean): { ledger: Ledger; calls: string[] } {
  const real = new MemoryLedger();
  const calls: string[] = [];
  let first: LedgerRecord | undefined;
  const ledger: Ledger = {
    ...(consistentLookups ? { consistentLookups: true } : {}),
    claim: async (record, now) => {
      const result = await real.claim(record, now);
      first ??= result.record;
      return result;
    },
    get: async (email) => (calls.push("get"), real.get(email)),
    getByRequestId: (requestId) => real.getByRequestId(requestId),
    getByAccountId: async (accountId) => {
      calls.push("getByAccountId");
      return consistentLookups ? real.getByAccountId(accountId) : first;
    },
    list: (options) => real.list(options),
    update: async (email, version, patch, now) => (
      calls.push(`update v${version}`),
      real.update(email, version, patch, now)
    ),
    close: () => real.close(),
  };
  return { ledger, calls };
}

async function bootstrapping(ledger: Ledger): Promise<void> {
  const now = new Date("2026-01-01T00:00:00Z");
  await ledger.claim(
    { email: EMAIL, requestId: "req-1", kind: "meshstack-hook", request: {}, accountId: ACCOUNT, state: "RECEIVED" },
    now,
  );
  await ledger.update(EMAIL, 1, { state: "BOOTSTRAPPING", note: "waiting for deployment #7" }, now);
}

/** Records a successful deployment for the bootstrapping account; asserts it completes and returns what it did. */
async function completeOnce(consistent: boolean): Promise<ReturnType<typeof ledgerWith> & { queue: WorkItem[] }> {
  const { ledger, calls } = ledgerWith(consistent);
  await bootstrapping(ledger);
  calls.length = 0;
  const queue: WorkItem[] = [];
  const recorder = new LedgerStackOutcomeRecorder({
    ledger,
    queue: { enqueue: async (item) => void queue.push(item) },
    timing: new RecordingTiming(),
  });
  expect(await recorder.record(ACCOUNT, OUTCOME)).to.deep.equal({
    action: "completing",
    requestId: "req-1",
    state: "COMPLETING",
  });
  return { ledger, calls, queue };
}

describe("LedgerStackOutcomeRecorder", () => {
  it("decides on the record read by email when the ledger's lookups may lag a write", async () => {
    const { calls, queue } = await completeOnce(false);
    // The lookup saw version 1 (RECEIVED); the decision and the compare-and-set use version 2 read by email.
    expect(calls).to.deep.equal(["getByAccountId", "get", "update v2"]);
    expect(queue).to.deep.equal([{ email: EMAIL, requestId: "req-1" }]);
  });

  it("reads once when the ledger's lookups are consistent", async () => {
    const { ledger, calls, queue } = await completeOnce(true);
    expect(calls).to.deep.equal(["getByAccountId", "update v2"]);
    const stored = await ledger.get(EMAIL);
    expect([stored?.state, stored?.version, stored?.history.at(-1)?.note]).to.deep.equal([
      "COMPLETING",
      3,
      "webhook d-1: deployment update succeeded (#7)",
    ]);
    expect(queue).to.deep.equal([{ email: EMAIL, requestId: "req-1" }]);
  });
});
