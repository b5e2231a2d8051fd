/**
 * Bench-only experiment (not product code): the SQLite ledger in a worker thread, so its statements, JSON and
 * fsyncs run off the event-loop thread that serves HTTP. Answers the question "would moving the ledger off the
 * main thread meet the webhook target?" with a figure instead of an estimate. Calls of one turn of the event loop
 * travel as one message and their answers as one message back; ledger errors come back as plain errors with the
 * original name (enough for the bench, which only applies fresh deliveries).
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import type { LedgerPatch, LedgerRecord, NewLedgerRecord } from "../../src/core/ledger";
import type { ClaimResult, Ledger, ListOptions } from "../../src/core/ports";
import { SqliteLedger } from "../../src/adapters/local/sqliteLedger";

type Method = "claim" | "get" | "getByRequestId" | "getByAccountId" | "list" | "update";
interface Call {
  readonly id: number;
  readonly method: Method;
  readonly args: unknown[];
}
interface Answer {
  readonly id: number;
  readonly value?: unknown;
  readonly error?: { name: string; message: string };
}

/** The main-thread side: a {@link Ledger} whose calls run in the worker. */
export class WorkerSqliteLedger implements Ledger {
  readonly consistentLookups = true;
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private outbox: Call[] = [];
  private nextId = 0;

  constructor(path: string) {
    this.worker = new Worker(__filename, { workerData: { path } });
    this.worker.on("message", (answers: Answer[]) => {
      for (const answer of answers) {
        const waiter = this.waiting.get(answer.id)!;
        this.waiting.delete(answer.id);
        if (answer.error) waiter.reject(Object.assign(new Error(answer.error.message), { name: answer.error.name }));
        else waiter.resolve(answer.value);
      }
    });
    this.worker.on("error", (error) => {
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
    });
  }

  private call<T>(method: Method, ...args: unknown[]): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const id = this.nextId++;
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      if (this.outbox.length === 0) setImmediate(() => this.send());
      this.outbox.push({ id, method, args });
    });
  }

  private send(): void {
    const calls = this.outbox;
    this.outbox = [];
    this.worker.postMessage(calls);
  }

  claim(record: NewLedgerRecord, now: Date): Promise<ClaimResult> {
    return this.call("claim", record, now);
  }
  get(email: string): Promise<LedgerRecord | undefined> {
    return this.call("get", email);
  }
  getByRequestId(requestId: string): Promise<LedgerRecord | undefined> {
    return this.call("getByRequestId", requestId);
  }
  getByAccountId(accountId: string): Promise<LedgerRecord | undefined> {
    return this.call("getByAccountId", accountId);
  }
  list(options?: ListOptions): Promise<LedgerRecord[]> {
    return this.call("list", options);
  }
  update(email: string, expectedVersion: number, patch: LedgerPatch, now: Date): Promise<LedgerRecord> {
    return this.call("update", email, expectedVersion, patch, now);
  }
  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const ledger = new SqliteLedger({ path: (workerData as { path: string }).path });
  let outbox: Answer[] = [];
  const answer = (a: Answer) => {
    if (outbox.length === 0) {
      setImmediate(() => {
        const answers = outbox;
        outbox = [];
        port.postMessage(answers);
      });
    }
    outbox.push(a);
  };
  port.on("message", (calls: Call[]) => {
    for (const call of calls) {
      const method = ledger[call.method] as (...args: unknown[]) => Promise<unknown>;
      method.apply(ledger, call.args).then(
        (value) => answer({ id: call.id, value }),
        (error: unknown) => {
          const e = error as Error;
          answer({ id: call.id, error: { name: e.name, message: e.message } });
        },
      );
    }
  });
}
