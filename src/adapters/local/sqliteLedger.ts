/**
 * The embedded {@link Ledger}: one SQLite file (default `.avm/ledger.sqlite`) through Node's built-in
 * `node:sqlite` (no native addon). WAL journal and a busy timeout let several processes (CLI, `avm serve`,
 * a demo) share one file; `claim` is `INSERT ... ON CONFLICT DO NOTHING` and `update` is a
 * compare-and-set `UPDATE ... WHERE version = ?`, so exactly-once holds across processes too.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import {
  LedgerError,
  LedgerIdentityConflictError,
  type LedgerPatch,
  type LedgerRecord,
  type NewLedgerRecord,
} from "../../core/ledger";
import { type ClaimResult, type Ledger, type ListOptions } from "../../core/ports";
import {
  applyPatch,
  checkListOptions,
  conflictError,
  createRecord,
  decodeListCursor,
  ledgerKey,
  LedgerClosedError,
  notFoundError,
} from "../../core/ledgerRecords";

/** Default ledger file, relative to the working directory. */
export const DEFAULT_SQLITE_LEDGER_PATH = path.join(".avm", "ledger.sqlite");

/** Options of {@link SqliteLedger}. */
export interface SqliteLedgerOptions {
  /** Database file; its folder is created. `:memory:` for a private in-memory database. Default {@link DEFAULT_SQLITE_LEDGER_PATH}. */
  readonly path?: string;
  /** How long a writer waits for another process's lock before failing. Default 5000 ms. */
  readonly busyTimeoutMs?: number;
}

/** The SQLite file could not be opened or used. */
export class SqliteLedgerError extends LedgerError {}

/**
 * Schema version in `PRAGMA user_version`. 2 added the keyset indexes of `list` paging (`ledger_by_created`,
 * `ledger_by_state_created`); every open creates what is missing (`IF NOT EXISTS`), so a version-1 file is
 * upgraded in place the first time this version opens it.
 */
const SCHEMA_VERSION = 2;

interface Row {
  record: string;
}

/** A {@link Ledger} stored in a SQLite file. */
export class SqliteLedger implements Ledger {
  /** Absolute path of the database file (or `:memory:`). */
  readonly path: string;
  private db: DatabaseSync | undefined;

  constructor(options: SqliteLedgerOptions = {}) {
    const file = options.path ?? DEFAULT_SQLITE_LEDGER_PATH;
    this.path = file === ":memory:" ? file : path.resolve(file);
    try {
      if (this.path !== ":memory:") mkdirSync(path.dirname(this.path), { recursive: true });
      this.db = new DatabaseSync(this.path);
      this.db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5_000))}`);
      if (this.path !== ":memory:") this.db.exec("PRAGMA journal_mode = WAL");
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS ledger (
          email      TEXT PRIMARY KEY,
          request_id TEXT NOT NULL,
          account_id TEXT,
          state      TEXT NOT NULL,
          created_at TEXT NOT NULL,
          version    INTEGER NOT NULL,
          record     TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS ledger_by_request_id ON ledger (request_id);
        CREATE INDEX IF NOT EXISTS ledger_by_account_id ON ledger (account_id);
        CREATE INDEX IF NOT EXISTS ledger_by_state ON ledger (state, created_at);
        CREATE INDEX IF NOT EXISTS ledger_by_created ON ledger (created_at, email);
        CREATE INDEX IF NOT EXISTS ledger_by_state_created ON ledger (state, created_at, email);
        PRAGMA user_version = ${SCHEMA_VERSION};
      `);
    } catch (error) {
      this.db?.close();
      this.db = undefined;
      throw new SqliteLedgerError(`cannot open the SQLite ledger at ${this.path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async claim(input: NewLedgerRecord, now: Date): Promise<ClaimResult> {
    const record = createRecord(input, now);
    const inserted =
      record.accountId === undefined ? this.insert(record) : this.insertUnlessAccountHeld(record, record.accountId);
    if (inserted === 1) return { created: true, record };
    const existing = this.one("SELECT record FROM ledger WHERE email = ?", record.email);
    if (!existing) throw new SqliteLedgerError(`claim for ${record.email} neither inserted nor found a record`);
    return { created: false, record: existing };
  }

  private insert(record: LedgerRecord): number {
    return this.run(
      `INSERT INTO ledger (email, request_id, account_id, state, created_at, version, record)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (email) DO NOTHING`,
      ...columns(record),
    );
  }

  /**
   * The insert of a record with an account id, under the database's write lock (`BEGIN IMMEDIATE`, across
   * processes): refused when another email's record holds the account id, so two concurrent claims for one account
   * id never both succeed.
   */
  private insertUnlessAccountHeld(record: LedgerRecord, accountId: string): number {
    const db = this.open();
    try {
      db.exec("BEGIN IMMEDIATE");
    } catch (error) {
      throw new SqliteLedgerError(`SQLite ledger at ${this.path} is busy: ${(error as Error).message}`, {
        cause: error,
      });
    }
    try {
      const holder = this.one(
        "SELECT record FROM ledger WHERE account_id = ? AND email <> ? ORDER BY created_at, email LIMIT 1",
        accountId,
        record.email,
      );
      if (holder !== undefined) throw new LedgerIdentityConflictError(accountId, record.email, holder);
      const inserted = this.insert(record);
      db.exec("COMMIT");
      return inserted;
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  }

  async get(email: string): Promise<LedgerRecord | undefined> {
    return this.one("SELECT record FROM ledger WHERE email = ?", ledgerKey(email));
  }

  async getByRequestId(requestId: string): Promise<LedgerRecord | undefined> {
    return this.one("SELECT record FROM ledger WHERE request_id = ? ORDER BY created_at, email LIMIT 1", requestId);
  }

  async getByAccountId(accountId: string): Promise<LedgerRecord | undefined> {
    return this.one("SELECT record FROM ledger WHERE account_id = ? ORDER BY created_at, email LIMIT 1", accountId);
  }

  /**
   * One keyset query on the `(created_at, email)` indexes: `WHERE (created_at, email) > (?, ?) ORDER BY created_at,
   * email LIMIT ?`, so a page reads only its own rows. With a limit and several states, one such query per state
   * (`UNION ALL`, each on `ledger_by_state_created`) keeps the rows read bounded by the page, not by the ledger.
   */
  async list(options: ListOptions = {}): Promise<LedgerRecord[]> {
    checkListOptions(options);
    const states = options.states === undefined ? undefined : [...new Set(options.states)];
    if (states?.length === 0) return [];
    const after = options.after === undefined ? undefined : decodeListCursor(options.after);
    const order = " ORDER BY created_at, email" + (options.limit === undefined ? "" : " LIMIT ?");
    const window = (...conditions: string[]): { sql: string; params: SQLInputValue[] } => {
      const where = [...conditions, ...(after === undefined ? [] : ["(created_at, email) > (?, ?)"])];
      const params: SQLInputValue[] = after === undefined ? [] : [after.createdAt, after.email];
      return { sql: where.length === 0 ? "" : ` WHERE ${where.join(" AND ")}`, params };
    };
    const limit: SQLInputValue[] = options.limit === undefined ? [] : [options.limit];
    if (states === undefined || states.length === 1 || options.limit === undefined) {
      const condition =
        states === undefined
          ? []
          : [states.length === 1 ? "state = ?" : `state IN (${states.map(() => "?").join(", ")})`];
      const { sql, params } = window(...condition);
      return this.all(`SELECT record FROM ledger${sql}${order}`, ...(states ?? []), ...params, ...limit);
    }
    const parts = states.map((state) => {
      const { sql, params } = window("state = ?");
      return {
        sql: `SELECT * FROM (SELECT record, created_at, email FROM ledger${sql}${order})`,
        params: [state, ...params, ...limit],
      };
    });
    return this.all(
      `SELECT record FROM (${parts.map((part) => part.sql).join(" UNION ALL ")})${order}`,
      ...parts.flatMap((part) => part.params),
      ...limit,
    );
  }

  async update(email: string, expectedVersion: number, patch: LedgerPatch, now: Date): Promise<LedgerRecord> {
    const key = ledgerKey(email);
    const current = this.one("SELECT record FROM ledger WHERE email = ?", key);
    if (!current) throw notFoundError(key);
    if (current.version !== expectedVersion) throw conflictError(key, expectedVersion);
    const next = applyPatch(current, patch, now);
    const [, requestId, accountId, state, createdAt, version, json] = columns(next);
    const changed = this.run(
      `UPDATE ledger SET request_id = ?, account_id = ?, state = ?, created_at = ?, version = ?, record = ?
       WHERE email = ? AND version = ?`,
      requestId,
      accountId,
      state,
      createdAt,
      version,
      json,
      key,
      expectedVersion,
    );
    if (changed !== 1) throw conflictError(key, expectedVersion);
    return next;
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
  }

  private open(): DatabaseSync {
    if (!this.db) throw new LedgerClosedError();
    return this.db;
  }

  private run(sql: string, ...params: SQLInputValue[]): number {
    return Number(
      this.wrap(() =>
        this.open()
          .prepare(sql)
          .run(...params),
      ).changes,
    );
  }

  private one(sql: string, ...params: SQLInputValue[]): LedgerRecord | undefined {
    const row = this.wrap(() =>
      this.open()
        .prepare(sql)
        .get(...params),
    ) as Row | undefined;
    return row && (JSON.parse(row.record) as LedgerRecord);
  }

  private all(sql: string, ...params: SQLInputValue[]): LedgerRecord[] {
    const rows = this.wrap(() =>
      this.open()
        .prepare(sql)
        .all(...params),
    ) as unknown as Row[];
    return rows.map((row) => JSON.parse(row.record) as LedgerRecord);
  }

  private wrap<T>(action: () => T): T {
    try {
      return action();
    } catch (error) {
      if (error instanceof LedgerError) throw error;
      throw new SqliteLedgerError(`SQLite ledger ${this.path}: ${(error as Error).message}`, { cause: error });
    }
  }
}

function columns(record: LedgerRecord): [string, string, string | null, string, string, number, string] {
  return [
    record.email,
    record.requestId,
    record.accountId ?? null,
    record.state,
    record.createdAt,
    record.version,
    JSON.stringify(record),
  ];
}
