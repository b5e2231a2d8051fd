/**
 * The embedded {@link Ledger}: one SQLite file (default `.avm/ledger.sqlite`) through Node's built-in
 * `node:sqlite` (no native addon). WAL journal and a busy timeout let several processes (CLI, `avm serve`,
 * a demo) share one file; `claim` is `INSERT ... ON CONFLICT DO NOTHING` and `update` is a
 * compare-and-set `UPDATE ... WHERE version = ?`, so exactly-once holds across processes too.
 *
 * Group commit: the writes (`claim`, `update`) issued in one turn of the event loop are queued and run together
 * right after that turn (`setImmediate`), in one `BEGIN IMMEDIATE` transaction (so the check and the write of each
 * are atomic across processes) committed with `synchronous = FULL`: one fsync for all of them instead of one each.
 * The write lock is held only while that synchronous block runs, never across turns of the event loop. A write's
 * promise settles only after the commit returned, so a caller is never told "written" before its write is on disk;
 * when the transaction fails in SQLite (a full disk, a failed commit), every write of it rejects and nothing of it
 * is stored. Reads run at once and only ever see committed rows.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
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
  KnownRecords,
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
 * `ledger_by_state_created`); 3 made the lookups by request id and account id one index search each, without a
 * sort (`ledger_by_request_id_created`, `ledger_by_account_id_created` on `(id, created_at, email)`), and dropped the
 * indexes those and `ledger_by_state_created` cover (`ledger_by_request_id`, `ledger_by_account_id`,
 * `ledger_by_state`: fewer indexes to keep up on every write). Every open creates what is missing (`IF NOT EXISTS`)
 * and drops what is superseded, so an older file is upgraded in place the first time this version opens it.
 */
const SCHEMA_VERSION = 3;

interface Row {
  record: string;
}

/** A write waiting for the next group commit: it runs inside the transaction and settles after its commit. */
interface PendingWrite {
  readonly action: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** Prepared statements kept per connection (the fixed ones, plus `list`'s few variants). */
const MAX_CACHED_STATEMENTS = 64;

/** A {@link Ledger} stored in a SQLite file. */
export class SqliteLedger implements Ledger {
  /** Absolute path of the database file (or `:memory:`). */
  readonly path: string;
  /** Index lookups read the same committed rows as `get`. */
  readonly consistentLookups = true;
  private db: DatabaseSync | undefined;
  private readonly statements = new Map<string, StatementSync>();
  /**
   * The last version of each record this ledger object read or wrote: an update of that version patches it without
   * reading the row again (the `UPDATE ... WHERE version = ?` still refuses it when another writer moved on).
   */
  private readonly known = new KnownRecords();
  /** Writes issued in the current turn of the event loop, run together by {@link SqliteLedger.flush}. */
  private pending: PendingWrite[] = [];

  constructor(options: SqliteLedgerOptions = {}) {
    const file = options.path ?? DEFAULT_SQLITE_LEDGER_PATH;
    this.path = file === ":memory:" ? file : path.resolve(file);
    try {
      if (this.path !== ":memory:") mkdirSync(path.dirname(this.path), { recursive: true });
      this.db = new DatabaseSync(this.path);
      this.db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5_000))}`);
      if (this.path !== ":memory:") {
        this.db.exec("PRAGMA journal_mode = WAL");
        // Every commit is fsynced (SQLite's compile-time default, stated so it cannot change under us): a write
        // whose promise resolved survives a power loss, not only a crash of this process.
        this.db.exec("PRAGMA synchronous = FULL");
      }
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
        CREATE INDEX IF NOT EXISTS ledger_by_request_id_created ON ledger (request_id, created_at, email);
        CREATE INDEX IF NOT EXISTS ledger_by_account_id_created ON ledger (account_id, created_at, email);
        CREATE INDEX IF NOT EXISTS ledger_by_created ON ledger (created_at, email);
        CREATE INDEX IF NOT EXISTS ledger_by_state_created ON ledger (state, created_at, email);
        DROP INDEX IF EXISTS ledger_by_request_id;
        DROP INDEX IF EXISTS ledger_by_account_id;
        DROP INDEX IF EXISTS ledger_by_state;
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
    const result = await this.write((): ClaimResult => {
      // Inside the transaction (write lock held across processes): a record with an account id is refused when
      // another email's record holds that id, so two concurrent claims for one account id never both succeed.
      if (record.accountId !== undefined) {
        const holder = this.one(
          "SELECT record FROM ledger WHERE account_id = ? AND email <> ? ORDER BY created_at, email LIMIT 1",
          record.accountId,
          record.email,
        );
        if (holder !== undefined) throw new LedgerIdentityConflictError(record.accountId, record.email, holder);
      }
      const inserted = this.run(
        `INSERT INTO ledger (email, request_id, account_id, state, created_at, version, record)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (email) DO NOTHING`,
        ...columns(record),
      );
      if (inserted === 1) return { created: true, record };
      const existing = this.one("SELECT record FROM ledger WHERE email = ?", record.email);
      if (!existing) throw new SqliteLedgerError(`claim for ${record.email} neither inserted nor found a record`);
      return { created: false, record: existing };
    });
    this.known.remember(result.record);
    return result;
  }

  async get(email: string): Promise<LedgerRecord | undefined> {
    const key = ledgerKey(email);
    const record = this.one("SELECT record FROM ledger WHERE email = ?", key);
    if (record === undefined) this.known.forget(key);
    return record && this.known.remember(record);
  }

  async getByRequestId(requestId: string): Promise<LedgerRecord | undefined> {
    const record = this.one(
      "SELECT record FROM ledger WHERE request_id = ? ORDER BY created_at, email LIMIT 1",
      requestId,
    );
    return record && this.known.remember(record);
  }

  async getByAccountId(accountId: string): Promise<LedgerRecord | undefined> {
    const record = this.one(
      "SELECT record FROM ledger WHERE account_id = ? ORDER BY created_at, email LIMIT 1",
      accountId,
    );
    return record && this.known.remember(record);
  }

  /**
   * One keyset query on the `(created_at, email)` indexes: `WHERE (created_at, email) > (?, ?) ORDER BY created_at,
   * email LIMIT ?`, so a page reads only its own rows. With a limit and several states, one such query per state
   * (`UNION ALL`, each on `ledger_by_state_created`) keeps the rows read bounded by the page, not by the ledger.
   */
  async list(options: ListOptions = {}): Promise<LedgerRecord[]> {
    const after = checkListOptions(options);
    const states = options.states === undefined ? undefined : [...new Set(options.states)];
    if (states?.length === 0) return [];
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
    const remembered = this.known.at(key, expectedVersion);
    const written = this.write(() => {
      const current = remembered ?? this.one("SELECT record FROM ledger WHERE email = ?", key);
      if (!current) throw notFoundError(key);
      if (current.version !== expectedVersion) throw conflictError(key, expectedVersion);
      const next = applyPatch(current, patch, now);
      const [, requestId, accountId, state, createdAt, version, json] = columns(next);
      // A patch never changes the request id or the creation time (`applyPatch`) and seldom the account id: a SET
      // list without them spares SQLite the upkeep of the indexes on them.
      const changed =
        requestId === current.requestId && createdAt === current.createdAt && accountId === (current.accountId ?? null)
          ? this.run(
              "UPDATE ledger SET state = ?, version = ?, record = ? WHERE email = ? AND version = ?",
              state,
              version,
              json,
              key,
              expectedVersion,
            )
          : this.run(
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
    });
    try {
      return this.known.remember(await written);
    } catch (error) {
      this.known.forget(key);
      throw error;
    }
  }

  async close(): Promise<void> {
    // Run and commit what the current turn wrote (its callers are waiting for it), then close.
    this.flush();
    this.statements.clear();
    this.db?.close();
    this.db = undefined;
  }

  private open(): DatabaseSync {
    if (!this.db) throw new LedgerClosedError();
    return this.db;
  }

  /**
   * Queues `action` for the next group commit and settles with its result once that committed. A ledger error of
   * `action` (conflict, not found, account id held) wrote nothing and is its own; any other error fails the whole
   * transaction (see {@link SqliteLedger.flush}).
   */
  private write<T>(action: () => T): Promise<T> {
    this.open();
    return new Promise<T>((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ action, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  /** Runs the queued writes in one transaction, commits it, then settles each write. */
  private flush(): void {
    const writes = this.pending;
    if (writes.length === 0) return;
    this.pending = [];
    const outcomes: ({ value: unknown } | { error: unknown })[] = [];
    try {
      const db = this.open();
      try {
        db.exec("BEGIN IMMEDIATE");
      } catch (error) {
        throw new SqliteLedgerError(`SQLite ledger at ${this.path} is busy: ${(error as Error).message}`, {
          cause: error,
        });
      }
      try {
        for (const write of writes) {
          try {
            outcomes.push({ value: write.action() });
          } catch (error) {
            if (!(error instanceof LedgerError) || error instanceof SqliteLedgerError) throw error;
            outcomes.push({ error });
          }
        }
        this.wrap(() => db.exec("COMMIT"));
      } catch (error) {
        this.rollback();
        throw error;
      }
    } catch (error) {
      for (const write of writes) write.reject(error);
      return;
    }
    writes.forEach((write, i) => {
      const outcome = outcomes[i]!;
      if ("error" in outcome) write.reject(outcome.error);
      else write.resolve(outcome.value);
    });
  }

  private rollback(): void {
    try {
      if (this.db?.isTransaction) this.db.exec("ROLLBACK");
    } catch {
      // SQLite already rolled back (it does after some I/O errors); nothing of the transaction is stored.
    }
  }

  private statement(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      if (this.statements.size >= MAX_CACHED_STATEMENTS) this.statements.clear();
      statement = this.open().prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private run(sql: string, ...params: SQLInputValue[]): number {
    return Number(this.wrap(() => this.statement(sql).run(...params)).changes);
  }

  private one(sql: string, ...params: SQLInputValue[]): LedgerRecord | undefined {
    const row = this.wrap(() => this.statement(sql).get(...params)) as Row | undefined;
    return row && (JSON.parse(row.record) as LedgerRecord);
  }

  private all(sql: string, ...params: SQLInputValue[]): LedgerRecord[] {
    const rows = this.wrap(() => this.statement(sql).all(...params)) as unknown as Row[];
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
