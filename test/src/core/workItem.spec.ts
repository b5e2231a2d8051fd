import { expect } from "chai";
import { InProcessWorkQueue } from "../../../src/adapters/local/inProcessWorkQueue";
import { parseWorkItem, serializeWorkItem, WorkItemFormatError } from "../../../src/core/workItem";
import type { WorkItem } from "../../../src/core/ports";

const item = (n: number): WorkItem => ({ email: `u${n}@example.com`, requestId: `req-${n}` });

describe("work items", () => {
  it("round-trips through the JSON message body", () => {
    const body = serializeWorkItem({ ...item(1), extra: "dropped" } as WorkItem);
    expect(body).to.equal('{"email":"u1@example.com","requestId":"req-1"}');
    expect(parseWorkItem(body)).to.deep.equal(item(1));
  });

  for (const [body, message] of [
    ["not json", "work item body is not valid JSON"],
    ["[1]", "work item body must be a JSON object"],
    ["null", "work item body must be a JSON object"],
    ['{"requestId":"r"}', "work item field email must be a non-empty string"],
    ['{"email":"a@b.co","requestId":5}', "work item field requestId must be a non-empty string"],
    ['{"email":" ","requestId":"r"}', "work item field email must be a non-empty string"],
  ] as const) {
    it(`rejects ${body} with WorkItemFormatError`, () => {
      expect(() => parseWorkItem(body)).to.throw(WorkItemFormatError, message);
    });
  }
});

describe("InProcessWorkQueue", () => {
  it("processes every item, including items enqueued while draining, at most `concurrency` at a time", async () => {
    const queue = new InProcessWorkQueue();
    for (let i = 0; i < 3; i += 1) await queue.enqueue(item(i));
    let active = 0;
    let peak = 0;
    const seen: string[] = [];
    const result = await queue.drain(
      async (work) => {
        active += 1;
        peak = Math.max(peak, active);
        seen.push(work.requestId);
        const n = Number(work.requestId.slice(4));
        if (n < 3) for (let k = 1; k <= 4; k += 1) await queue.enqueue(item(n * 10 + 100 + k));
        await new Promise((resolve) => setImmediate(resolve));
        active -= 1;
      },
      { concurrency: 4 },
    );
    expect(result).to.deep.equal({ processed: 15, deadLettered: 0 });
    expect(seen).to.have.length(15);
    expect(peak).to.equal(4);
    expect(queue.size).to.equal(0);
  });

  it("retries a failing item and dead-letters it after maxAttempts", async () => {
    const queue = new InProcessWorkQueue();
    await queue.enqueue(item(1));
    await queue.enqueue(item(2));
    const attempts = new Map<string, number>();
    const dead: [WorkItem, string][] = [];
    const result = await queue.drain(
      async (work) => {
        attempts.set(work.requestId, (attempts.get(work.requestId) ?? 0) + 1);
        if (work.requestId === "req-2") throw new Error("boom");
        if (attempts.get(work.requestId) === 1) throw new Error("transient");
      },
      { maxAttempts: 3, onDeadLetter: (work, error) => void dead.push([work, (error as Error).message]) },
    );
    expect(result).to.deep.equal({ processed: 1, deadLettered: 1 });
    expect(Object.fromEntries(attempts)).to.deep.equal({ "req-1": 2, "req-2": 3 });
    expect(dead).to.deep.equal([[item(2), "boom"]]);
  });

  it("lists pending items as copies and drains an empty queue at once", async () => {
    const queue = new InProcessWorkQueue();
    expect(await queue.drain(async () => undefined)).to.deep.equal({ processed: 0, deadLettered: 0 });
    await queue.enqueue(item(7));
    const pending = queue.pending();
    (pending[0] as { email: string }).email = "changed";
    expect(queue.pending()).to.deep.equal([item(7)]);
  });
});
