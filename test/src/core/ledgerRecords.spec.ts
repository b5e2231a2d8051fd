import { expect } from "chai";
import { applyPatch, copyRecord, createRecord } from "../../../src/core/ledgerRecords";
import type { LedgerRecord } from "../../../src/core/ledger";

describe("copyRecord", () => {
  const T = new Date("2026-01-02T03:04:05.000Z");
  const record = applyPatch(
    createRecord(
      {
        email: "a@example.com",
        requestId: "req-1",
        kind: "vend",
        request: { accountName: "acct", tags: { Team: "a" }, list: [1, "two", null, { three: true }] },
        accountId: "111122223333",
        state: "BOOTSTRAPPING",
      },
      T,
    ),
    { state: "COMPLETING", note: "webhook d-1: deployment update succeeded (#7)", awaitedDeployment: undefined },
    T,
  );

  it("returns what a JSON round trip returns", () => {
    expect(copyRecord(record)).to.deep.equal(JSON.parse(JSON.stringify(record)));
  });

  it("copies deeply: changing the copy changes nothing of the original", () => {
    const copy = copyRecord(record) as unknown as {
      request: { tags: Record<string, string>; list: unknown[] };
      history: { note?: string }[];
    };
    copy.request.tags.Team = "changed";
    copy.request.list.push("more");
    copy.history[0]!.note = "changed";
    expect(record.request).to.deep.equal({
      accountName: "acct",
      tags: { Team: "a" },
      list: [1, "two", null, { three: true }],
    });
    expect(record.history[0]!.note).to.equal("request recorded");
  });

  it("treats values that are not JSON as JSON.stringify does: dropped keys, null items, toJSON, no infinities", () => {
    const odd = {
      ...record,
      request: { gone: undefined, fn: () => 1, at: T, items: [undefined, () => 1, Number.NaN, Infinity, 2] },
    } as unknown as LedgerRecord;
    const copy = copyRecord(odd);
    expect(copy).to.deep.equal(JSON.parse(JSON.stringify(odd)));
    expect(copy.request).to.deep.equal({ at: "2026-01-02T03:04:05.000Z", items: [null, null, null, null, 2] });
  });
});
