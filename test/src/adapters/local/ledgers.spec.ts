import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { DatabaseSync } from "node:sqlite";
import { listPage } from "../../../../src/core/ledgerPages";
import { createRecord, encodeListCursor } from "../../../../src/core/ledgerRecords";
import { MemoryLedger } from "../../../support/memoryLedger";
import { SqliteLedger, SqliteLedgerError } from "../../../../src/adapters/local/sqliteLedger";
import { ledgerContract } from "../../../support/contracts/ledgerContract";
import { HANG_GUARD_MS } from "../../../support/hangGuard";

ledgerContract("MemoryLedger", async () => new MemoryLedger());
ledgerContract("SqliteLedger (in memory)", async () => new SqliteLedger({ path: ":memory:" }));

describe("SqliteLedger (file)", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "avm-ledger-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  ledgerContract(
    "SqliteLedger (WAL file)",
    async () => new SqliteLedger({ path: path.join(dir, `l-${Math.random()}.sqlite`) }),
  );

  it("creates its folder and keeps records across reopen", async () => {
    const file = path.join(dir, "nested", ".avm", "ledger.sqlite");
    const first = new SqliteLedger({ path: file });
    await first.claim({ email: "a@example.com", requestId: "r1", kind: "vend", request: {} }, new Date(0));
    await first.close();
    const second = new SqliteLedger({ path: file });
    expect((await second.get("a@example.com"))?.requestId).to.equal("r1");
    await second.close();
  });

  it("upgrades a ledger file of schema 1 in place: its records kept, the paging and lookup indexes replaced", async () => {
    const file = path.join(dir, "v1.sqlite");
    // The schema as version 1 wrote it, with two records in it.
    const old = new DatabaseSync(file);
    old.exec(`
      PRAGMA journal_mode = WAL;
      CREATE TABLE ledger (email TEXT PRIMARY KEY, request_id TEXT NOT NULL, account_id TEXT, state TEXT NOT NULL,
        created_at TEXT NOT NULL, version INTEGER NOT NULL, record TEXT NOT NULL);
      CREATE INDEX ledger_by_request_id ON ledger (request_id);
      CREATE INDEX ledger_by_account_id ON ledger (account_id);
      CREATE INDEX ledger_by_state ON ledger (state, created_at);
      PRAGMA user_version = 1;
    `);
    const written = [0, 1].map((i) =>
      createRecord({ email: `v${i}@example.com`, requestId: `r${i}`, kind: "vend", request: {} }, new Date(i * 1000)),
    );
    for (const record of written) {
      old
        .prepare("INSERT INTO ledger VALUES (?, ?, NULL, ?, ?, 1, ?)")
        .run(record.email, record.requestId, record.state, record.createdAt, JSON.stringify(record));
    }
    old.close();
    const ledger = new SqliteLedger({ path: file });
    const first = await listPage(ledger, { limit: 1 });
    expect(first).to.deep.equal({ records: [written[0]], next: encodeListCursor(written[0]!) });
    expect(await listPage(ledger, { limit: 1, after: first.next! })).to.deep.equal({
      records: [written[1]],
      next: null,
    });
    await ledger.close();
    const check = new DatabaseSync(file);
    try {
      expect(check.prepare("PRAGMA user_version").get()).to.deep.equal({ user_version: 3 });
      const indexes = check.prepare("SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name").all();
      expect(indexes.map((row) => row["name"])).to.deep.equal([
        "ledger_by_account_id_created",
        "ledger_by_created",
        "ledger_by_request_id_created",
        "ledger_by_state_created",
        "sqlite_autoindex_ledger_1",
      ]);
      // A lookup by account id or request id is one index search, no sort.
      for (const [column, index] of [
        ["account_id", "ledger_by_account_id_created"],
        ["request_id", "ledger_by_request_id_created"],
      ]) {
        const lookup = check
          .prepare(
            `EXPLAIN QUERY PLAN SELECT record FROM ledger WHERE ${column} = ? ORDER BY created_at, email LIMIT 1`,
          )
          .all("x");
        expect(lookup.map((row) => row["detail"])).to.deep.equal([`SEARCH ledger USING INDEX ${index} (${column}=?)`]);
      }
      // A page is a search of the keyset index, not a scan and sort of the table.
      const plan = check
        .prepare(
          "EXPLAIN QUERY PLAN SELECT record FROM ledger WHERE (created_at, email) > (?, ?) ORDER BY created_at, email LIMIT 3",
        )
        .all("a", "b");
      expect(plan.map((row) => row["detail"])).to.deep.equal([
        "SEARCH ledger USING INDEX ledger_by_created ((created_at,email)>(?,?))",
      ]);
    } finally {
      check.close();
    }
  });

  it("defaults to .avm/ledger.sqlite under the working directory", async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const ledger = new SqliteLedger();
      expect(ledger.path).to.equal(path.join(dir, ".avm", "ledger.sqlite"));
      await ledger.close();
    } finally {
      process.chdir(cwd);
    }
  });

  describe("group commit", () => {
    const T = new Date("2026-01-02T03:04:05.000Z");
    const claimAll = (ledger: SqliteLedger, n: number) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          ledger.claim(
            { email: `g${i}@example.com`, requestId: `req-g${i}`, kind: "vend", request: {}, state: "BOOTSTRAPPING" },
            T,
          ),
        ),
      );

    it("stores every write of one turn, each resolved only once a second connection sees it", async () => {
      const file = path.join(dir, "group.sqlite");
      const ledger = new SqliteLedger({ path: file });
      const other = new SqliteLedger({ path: file });
      const claimed = await claimAll(ledger, 20);
      expect(claimed.map((r) => r.created)).to.deep.equal(Array(20).fill(true));
      expect((await other.list()).map((r) => r.email)).to.have.length(20);
      // 20 updates in one turn: one transaction after it; until then the other connection sees none of them.
      const pending = claimed.map(({ record }) =>
        ledger.update(record.email, 1, { state: "COMPLETING", note: `applied ${record.requestId}` }, T),
      );
      expect((await other.list({ states: ["COMPLETING"] })).length).to.equal(0);
      const updated = await Promise.all(pending);
      expect(updated.map((r) => [r.email, r.state, r.version])).to.deep.equal(
        claimed.map(({ record }) => [record.email, "COMPLETING", 2]),
      );
      // Oldest first, then by email (all were created at T).
      const seen = await other.list();
      expect(seen.map((r) => [r.email, r.state, r.version, r.history.at(-1)?.note])).to.deep.equal(
        claimed
          .map(({ record }) => [record.email, "COMPLETING", 2, `applied ${record.requestId}`])
          .sort((x, y) => (x[0]! < y[0]! ? -1 : 1)),
      );
      await other.close();
      await ledger.close();
    });

    it("runs a turn's writes after it: reads meanwhile see the committed record, the write's result once awaited", async () => {
      const file = path.join(dir, "read.sqlite");
      const ledger = new SqliteLedger({ path: file });
      const other = new SqliteLedger({ path: file });
      await claimAll(ledger, 1);
      const update = ledger.update("g0@example.com", 1, { state: "COMPLETING" }, T);
      const [mine, theirs] = await Promise.all([ledger.get("g0@example.com"), other.get("g0@example.com")]);
      expect([mine?.version, theirs?.version]).to.deep.equal([1, 1]);
      expect((await update).version).to.equal(2);
      const [after, byRequest, seen] = await Promise.all([
        ledger.get("g0@example.com"),
        ledger.getByRequestId("req-g0"),
        other.get("g0@example.com"),
      ]);
      expect([after?.version, byRequest?.version, seen?.version]).to.deep.equal([2, 2, 2]);
      await other.close();
      await ledger.close();
    });

    it("holds the write lock only while it writes: two connections of one process write in the same turn", async () => {
      const file = path.join(dir, "two.sqlite");
      const first = new SqliteLedger({ path: file, busyTimeoutMs: 100 });
      const second = new SqliteLedger({ path: file, busyTimeoutMs: 100 });
      await claimAll(first, 2);
      const written = await Promise.all([
        first.update("g0@example.com", 1, { note: "first" }, T),
        second.update("g1@example.com", 1, { note: "second" }, T),
        first.claim({ email: "n@example.com", requestId: "req-n", kind: "vend", request: {} }, T),
      ]);
      expect([written[0].version, written[1].version, written[2].created]).to.deep.equal([2, 2, true]);
      expect((await second.list()).map((r) => [r.email, r.version])).to.deep.equal([
        ["g0@example.com", 2],
        ["g1@example.com", 2],
        ["n@example.com", 1],
      ]);
      await second.close();
      await first.close();
    });

    it("keeps exactly-once in one transaction: of updates with one expected version one wins, the rest conflict", async () => {
      const ledger = new SqliteLedger({ path: path.join(dir, "cas.sqlite") });
      await claimAll(ledger, 1);
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => ledger.update("g0@example.com", 1, { note: `writer ${i}` }, T)),
      );
      expect(results.map((r) => r.status)).to.deep.equal(["fulfilled", ...Array(9).fill("rejected")]);
      expect(results.slice(1).map((r) => (r as PromiseRejectedResult).reason.message as string)).to.deep.equal(
        Array(9).fill("ledger record for g0@example.com changed concurrently (expected version 1)"),
      );
      const stored = await ledger.get("g0@example.com");
      expect([stored?.version, stored?.history.at(-1)?.note]).to.deep.equal([2, "writer 0"]);
      await ledger.close();
    });

    it("updates a version it read or wrote without reading the row again; another connection's write still conflicts", async () => {
      const file = path.join(dir, "known.sqlite");
      const ledger = new SqliteLedger({ path: file });
      const other = new SqliteLedger({ path: file });
      await claimAll(ledger, 1);
      const reads: string[] = [];
      const spied = ledger as unknown as { one: (sql: string, ...params: unknown[]) => unknown };
      const one = spied.one.bind(ledger);
      spied.one = (sql, ...params) => {
        reads.push(sql);
        return one(sql, ...params);
      };
      // The claim's record (version 1), then the update's own result (version 2): patched without a SELECT.
      expect((await ledger.update("g0@example.com", 1, { note: "first" }, T)).version).to.equal(2);
      expect((await ledger.update("g0@example.com", 2, { state: "BOOTSTRAPPING" }, T)).version).to.equal(3);
      expect(reads).to.deep.equal([]);
      // Another connection moves the record on: the remembered version 3 is stale, the compare-and-set refuses it.
      await other.update("g0@example.com", 3, { note: "elsewhere" }, T);
      const stale = await ledger.update("g0@example.com", 3, { note: "late" }, T).catch((error: Error) => error);
      expect((stale as Error).message).to.equal(
        "ledger record for g0@example.com changed concurrently (expected version 3)",
      );
      // After the conflict the row is read again, and the next update of the version read goes through.
      const current = await ledger.get("g0@example.com");
      expect([current?.version, current?.history.at(-1)?.note]).to.deep.equal([4, "elsewhere"]);
      const next = await ledger.update("g0@example.com", 4, { note: "after" }, T);
      expect(next.history.map((entry) => entry.note)).to.deep.equal([
        "request recorded",
        "first",
        undefined,
        "elsewhere",
        "after",
      ]);
      expect(reads).to.deep.equal(["SELECT record FROM ledger WHERE email = ?"]);
      await Promise.all([ledger.close(), other.close()]);
    });

    it("fails every write of a transaction when one fails in SQLite, storing none of them", async () => {
      const file = path.join(dir, "full.sqlite");
      const ledger = new SqliteLedger({ path: file });
      await claimAll(ledger, 1);
      // The database may not grow: a large record cannot be stored (SQLITE_FULL inside the transaction).
      const db = (ledger as unknown as { db: import("node:sqlite").DatabaseSync }).db;
      const pages = (db.prepare("PRAGMA page_count").get() as { page_count: number }).page_count;
      db.exec(`PRAGMA max_page_count = ${pages}`);
      const small = ledger.update("g0@example.com", 1, { note: "small" }, T);
      const large = ledger.claim(
        { email: "big@example.com", requestId: "req-big", kind: "vend", request: { blob: "x".repeat(200_000) } },
        T,
      );
      const [first, second] = await Promise.allSettled([small, large]);
      expect(first.status).to.equal("rejected");
      expect(second.status).to.equal("rejected");
      const reason = (second as PromiseRejectedResult).reason as Error;
      expect(reason).to.be.instanceOf(SqliteLedgerError);
      expect((first as PromiseRejectedResult).reason).to.equal(reason);
      expect(reason.message).to.equal(`SQLite ledger ${file}: database or disk is full`);
      db.exec("PRAGMA max_page_count = 1073741823");
      expect((await ledger.get("g0@example.com"))?.version).to.equal(1);
      expect(await ledger.get("big@example.com")).to.equal(undefined);
      // The next turn opens a new transaction and writes again.
      expect((await ledger.update("g0@example.com", 1, { note: "again" }, T)).version).to.equal(2);
      await ledger.close();
    });

    it("answers index lookups consistently with get (consistentLookups): a write is seen at once", async () => {
      const ledger = new SqliteLedger({ path: path.join(dir, "lookups.sqlite") });
      expect(ledger.consistentLookups).to.equal(true);
      await ledger.claim(
        { email: "l@example.com", requestId: "req-l", kind: "vend", request: {}, accountId: "111122223333" },
        T,
      );
      await ledger.update("l@example.com", 1, { state: "BOOTSTRAPPING" }, T);
      const [byAccount, byRequest, byEmail] = await Promise.all([
        ledger.getByAccountId("111122223333"),
        ledger.getByRequestId("req-l"),
        ledger.get("l@example.com"),
      ]);
      expect(byAccount).to.deep.equal(byEmail);
      expect(byRequest).to.deep.equal(byEmail);
      expect([byEmail?.state, byEmail?.version]).to.deep.equal(["BOOTSTRAPPING", 2]);
      await ledger.close();
    });

    it("commits the open transaction on close, so the writes waiting for it are stored", async () => {
      const file = path.join(dir, "close.sqlite");
      const ledger = new SqliteLedger({ path: file });
      const claimed = ledger.claim({ email: "c@example.com", requestId: "req-c", kind: "vend", request: {} }, T);
      await ledger.close();
      expect((await claimed).created).to.equal(true);
      const reopened = new SqliteLedger({ path: file });
      expect((await reopened.get("c@example.com"))?.requestId).to.equal("req-c");
      await reopened.close();
    });
  });

  it("reports a file it cannot open with SqliteLedgerError naming the path", () => {
    const file = path.join(dir, "missing-dir-is-a-file");
    writeFileSync(file, "x");
    const target = path.join(file, "ledger.sqlite");
    expect(() => new SqliteLedger({ path: target }))
      .to.throw(SqliteLedgerError)
      .with.property("message")
      .that.matches(new RegExp(`^cannot open the SQLite ledger at ${target.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: `));
  });

  it("gives exactly one winner when separate processes claim the same emails", async function () {
    this.timeout(HANG_GUARD_MS);
    const file = path.join(dir, "shared.sqlite");
    new SqliteLedger({ path: file }).close(); // create the schema once
    const script = `
      const { SqliteLedger } = require(${JSON.stringify(path.resolve(__dirname, "../../../../src/adapters/local/sqliteLedger.ts"))});
      (async () => {
        const ledger = new SqliteLedger({ path: ${JSON.stringify(file)} });
        let created = 0;
        for (let i = 0; i < 30; i++) {
          const r = await ledger.claim({ email: "p" + i + "@example.com", requestId: process.argv[1] + "-" + i, kind: "vend", request: {} }, new Date());
          if (r.created) created++;
        }
        await ledger.close();
        process.stdout.write(String(created));
      })();`;
    const run = (tag: string) =>
      new Promise<number>((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", "--no-warnings", "-e", script, tag], {
          stdio: ["ignore", "pipe", "inherit"],
        });
        let out = "";
        child.stdout.on("data", (chunk) => (out += chunk));
        child.on("error", reject);
        // "close", not "exit": under load "exit" can come before the child's stdout has been read to its end.
        child.on("close", (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`exit ${code}`))));
      });
    const counts = await Promise.all([run("a"), run("b"), run("c"), run("d")]);
    expect(counts.reduce((sum, n) => sum + n, 0)).to.equal(30);
    const ledger = new SqliteLedger({ path: file });
    expect(await ledger.list()).to.have.length(30);
    await ledger.close();
  });

  it("gives each account id to exactly one email when separate processes claim hooks for the same accounts", async function () {
    this.timeout(HANG_GUARD_MS);
    const file = path.join(dir, "accounts.sqlite");
    new SqliteLedger({ path: file }).close(); // create the schema once
    // Each process claims the same 20 account ids, each under an email of its own: a conflicting hook per account.
    const script = `
      const { SqliteLedger } = require(${JSON.stringify(path.resolve(__dirname, "../../../../src/adapters/local/sqliteLedger.ts"))});
      const { LedgerIdentityConflictError } = require(${JSON.stringify(path.resolve(__dirname, "../../../../src/core/ledger.ts"))});
      (async () => {
        const ledger = new SqliteLedger({ path: ${JSON.stringify(file)} });
        let created = 0, refused = 0;
        for (let i = 0; i < 20; i++) {
          const accountId = String(100000000000 + i);
          try {
            const r = await ledger.claim({ email: process.argv[1] + "-" + i + "@example.com", requestId: process.argv[1] + "-" + i, kind: "meshstack-hook", request: {}, accountId }, new Date());
            if (r.created) created++;
          } catch (error) {
            if (!(error instanceof LedgerIdentityConflictError)) throw error;
            refused++;
          }
        }
        await ledger.close();
        process.stdout.write(created + " " + refused);
      })();`;
    const run = (tag: string) =>
      new Promise<[number, number]>((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", "--no-warnings", "-e", script, tag], {
          stdio: ["ignore", "pipe", "inherit"],
        });
        let out = "";
        child.stdout.on("data", (chunk) => (out += chunk));
        child.on("error", reject);
        child.on("close", (code) =>
          code === 0 ? resolve(out.split(" ").map(Number) as [number, number]) : reject(new Error(`exit ${code}`)),
        );
      });
    const results = await Promise.all([run("a"), run("b"), run("c"), run("d")]);
    expect(results.reduce((sum, [created]) => sum + created, 0)).to.equal(20);
    expect(results.reduce((sum, [, refused]) => sum + refused, 0)).to.equal(60);
    const ledger = new SqliteLedger({ path: file });
    const records = await ledger.list();
    expect(records).to.have.length(20);
    expect(new Set(records.map((r) => r.accountId)).size).to.equal(20);
    await ledger.close();
  });
});
