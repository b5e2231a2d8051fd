import { expect } from "chai";
import { type LedgerRecord, type RequestState } from "../../../../src/core/ledger";
import { createRecord, decodeListCursor, encodeListCursor, selectRecords } from "../../../../src/core/ledgerRecords";
import { mergeStatePages, type ReadStateChunk } from "../../../../src/adapters/aws/mergeStatePages";

const T0 = Date.parse("2026-05-01T00:00:00.000Z");

function record(email: string, ms: number, state: RequestState): LedgerRecord {
  return createRecord({ email, requestId: `req-${email}`, kind: "vend", request: {}, state }, new Date(T0 + ms));
}

/**
 * A fake index: each state's records sorted by createdAt only, ties in REVERSE email order (DynamoDB does not
 * specify the order of equal sort keys, and moto happens to use the email's), read `limit` at a time from the first
 * record at or after the cursor's createdAt, continuing by position.
 */
function fakeIndex(records: readonly LedgerRecord[], limit: number, afterCreatedAt: string | undefined) {
  const reads: string[] = [];
  const read: ReadStateChunk<number> = async (state, start) => {
    reads.push(state);
    const partition = records
      .filter((r) => r.state === state && (afterCreatedAt === undefined || r.createdAt >= afterCreatedAt))
      .sort((a, b) =>
        a.createdAt !== b.createdAt ? (a.createdAt < b.createdAt ? -1 : 1) : a.email < b.email ? 1 : -1,
      );
    const from = start ?? 0;
    const chunk = partition.slice(from, from + limit);
    const more = from + limit < partition.length;
    return {
      records: chunk,
      ...(chunk.length > 0 ? { lastCreatedAt: chunk[chunk.length - 1]!.createdAt } : {}),
      ...(more ? { next: from + limit } : {}),
    };
  };
  return { read, reads };
}

/** A small deterministic generator (no Math.random: failures must be repeatable). */
function lcg(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

describe("mergeStatePages", () => {
  const STATES: RequestState[] = ["RECEIVED", "CREATING", "FAILED", "SUCCEEDED"];

  it("reads each state once for a page when createdAt values are distinct", async () => {
    const records = Array.from({ length: 40 }, (_, i) => record(`u${i}@example.com`, i * 7, STATES[i % 4]!));
    for (const limit of [1, 5, 10, 39, 40, 100]) {
      const { read, reads } = fakeIndex(records, limit + 1, undefined);
      const page = await mergeStatePages(STATES, undefined, limit, read);
      expect(page, `limit ${limit}`).to.deep.equal(selectRecords(records, { limit }));
      expect(reads.sort(), `limit ${limit}`).to.deep.equal([...STATES].sort());
    }
  });

  it("places records that share a createdAt in email order whatever order the index returns them in", async () => {
    const random = lcg(7);
    for (let round = 0; round < 30; round += 1) {
      const records = Array.from({ length: 60 }, (_, i) =>
        record(
          `t${Math.floor(random() * 1000)}-${i}@example.com`,
          Math.floor(random() * 6) * 1000,
          STATES[Math.floor(random() * 4)]!,
        ),
      );
      const limit = 1 + Math.floor(random() * 12);
      const states = STATES.filter(() => random() < 0.7);
      // Walk every page: the concatenation is the whole ordered selection, each record once.
      const seen: LedgerRecord[] = [];
      let after: string | undefined;
      for (let guard = 0; guard < 100; guard += 1) {
        const position = after === undefined ? undefined : decodeListCursor(after);
        const { read } = fakeIndex(records, limit + 1, position?.createdAt);
        const page = await mergeStatePages(states, position, limit + 1, read);
        seen.push(...page.slice(0, limit));
        if (page.length <= limit) break;
        after = encodeListCursor(page[limit - 1]!);
      }
      expect(seen, `round ${round}`).to.deep.equal(selectRecords(records, { states }));
    }
  });

  it("returns nothing for no states or a zero limit without reading", async () => {
    const { read, reads } = fakeIndex([record("a@example.com", 0, "FAILED")], 2, undefined);
    expect(await mergeStatePages([], undefined, 5, read)).to.deep.equal([]);
    expect(await mergeStatePages(["FAILED"], undefined, 0, read)).to.deep.equal([]);
    expect(reads).to.deep.equal([]);
  });
});
