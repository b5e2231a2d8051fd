/**
 * An in-memory {@link Ledger}: for unit and property tests, and any caller that needs no durability.
 * Same semantics as the durable ledgers (they share `ledgerRecords.ts` and one contract test suite).
 */
import { type ClaimResult, type Ledger, type ListOptions } from "../../src/core/ports";
import {
  LedgerIdentityConflictError,
  type LedgerPatch,
  type LedgerRecord,
  type NewLedgerRecord,
} from "../../src/core/ledger";
import {
  applyPatch,
  conflictError,
  copyRecord,
  createRecord,
  ledgerKey,
  LedgerClosedError,
  notFoundError,
  selectRecords,
} from "../../src/core/ledgerRecords";

/** A ledger held in a `Map`, with indexes by request id and account id; lost when the process ends. */
export class MemoryLedger implements Ledger {
  /** Index lookups read the same map as `get`. */
  readonly consistentLookups = true;
  private readonly records = new Map<string, LedgerRecord>();
  /** Emails by request id and by account id (the lookups of a populated ledger stay cheap, as in SQLite/DynamoDB). */
  private readonly byRequestId = new Map<string, Set<string>>();
  private readonly byAccountId = new Map<string, Set<string>>();
  private closed = false;

  async claim(record: NewLedgerRecord, now: Date): Promise<ClaimResult> {
    this.checkOpen();
    const created = createRecord(record, now);
    const existing = this.records.get(created.email);
    if (existing) return { created: false, record: copyRecord(existing) };
    const accountId = record.accountId;
    const holder =
      accountId === undefined
        ? undefined
        : this.find(this.byAccountId.get(accountId), (other) => other.accountId === accountId);
    if (holder !== undefined && record.accountId !== undefined) {
      throw new LedgerIdentityConflictError(record.accountId, created.email, holder);
    }
    this.records.set(created.email, created);
    this.index(created);
    return { created: true, record: copyRecord(created) };
  }

  async get(email: string): Promise<LedgerRecord | undefined> {
    this.checkOpen();
    const record = this.records.get(ledgerKey(email));
    return record && copyRecord(record);
  }

  async getByRequestId(requestId: string): Promise<LedgerRecord | undefined> {
    this.checkOpen();
    return this.find(this.byRequestId.get(requestId), (record) => record.requestId === requestId);
  }

  async getByAccountId(accountId: string): Promise<LedgerRecord | undefined> {
    this.checkOpen();
    return this.find(this.byAccountId.get(accountId), (record) => record.accountId === accountId);
  }

  async list(options: ListOptions = {}): Promise<LedgerRecord[]> {
    this.checkOpen();
    return selectRecords(this.records.values(), options).map(copyRecord);
  }

  async update(email: string, expectedVersion: number, patch: LedgerPatch, now: Date): Promise<LedgerRecord> {
    this.checkOpen();
    const key = ledgerKey(email);
    const current = this.records.get(key);
    if (!current) throw notFoundError(key);
    if (current.version !== expectedVersion) throw conflictError(key, expectedVersion);
    const next = applyPatch(current, patch, now);
    this.records.set(key, next);
    this.index(next);
    return copyRecord(next);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private index(record: LedgerRecord): void {
    const add = (index: Map<string, Set<string>>, id: string | undefined) => {
      if (id === undefined) return;
      const emails = index.get(id) ?? new Set<string>();
      emails.add(record.email);
      index.set(id, emails);
    };
    add(this.byRequestId, record.requestId);
    add(this.byAccountId, record.accountId);
  }

  private find(emails: Set<string> | undefined, match: (record: LedgerRecord) => boolean): LedgerRecord | undefined {
    // Oldest first, so a lookup is deterministic if two records ever share an id; an index entry left by a changed
    // account id no longer matches.
    const candidates = [...(emails ?? [])].map((email) => this.records.get(email)!).filter(match);
    const found = selectRecords(candidates)[0];
    return found && copyRecord(found);
  }

  private checkOpen(): void {
    if (this.closed) throw new LedgerClosedError();
  }
}
