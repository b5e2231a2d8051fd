import { expect } from "chai";
import { CliHarness } from "./harness";

describe("avm CLI: parsing, help and errors (in-process)", function () {
  let h: CliHarness;
  beforeEach(() => {
    h = new CliHarness();
  });
  afterEach(() => h.dispose());

  it("prints the top-level help with examples and exit codes on --help", async () => {
    const r = await h.run(["--help"]);
    expect(r.code).to.equal(0);
    expect(r.stderr).to.equal("");
    expect(r.stdout).to.match(/^Usage: avm \[options\] \[command\]/);
    expect(r.stdout).to.include("Exit codes: 0 success, 1 runtime error");
    expect(r.stdout).to.include("Example:\n  $ avm vend");
  });

  for (const command of ["vend", "status", "list", "bootstrap", "plan", "close", "serve", "invoke"]) {
    it(`prints help with an example for ${command}`, async () => {
      const r = await h.run([command, "--help"]);
      expect(r.code).to.equal(0);
      expect(r.stderr).to.equal("");
      expect(r.stdout).to.match(new RegExp(`^Usage: avm ${command} `));
      expect(r.stdout).to.match(new RegExp(`Example:\\n  \\$ (\\S+=\\S+ )?avm ${command}`));
    });
  }

  it("prints the version", async () => {
    const r = await h.run(["--version"]);
    expect(r).to.deep.equal({ code: 0, stdout: "0.1.0\n", stderr: "" });
  });

  it("exits 2 with one line for an unknown option", async () => {
    const r = await h.run(["list", "--bogus"]);
    expect(r).to.deep.equal({ code: 2, stdout: "", stderr: "avm: error: unknown option '--bogus'\n" });
  });

  it("exits 2 with one line and a suggestion for an unknown command", async () => {
    const r = await h.run(["stauts"]);
    expect(r).to.deep.equal({
      code: 2,
      stdout: "",
      stderr: "avm: error: unknown command 'stauts' (Did you mean status?)\n",
    });
  });

  it("exits 2 for a missing argument", async () => {
    const r = await h.run(["plan"]);
    expect(r).to.deep.equal({ code: 2, stdout: "", stderr: "avm: error: missing required argument 'accountId'\n" });
  });

  it("exits 2 for a malformed option value", async () => {
    const r = await h.run(["list", "--limit", "abc"]);
    expect(r).to.deep.equal({
      code: 2,
      stdout: "",
      stderr: "avm: error: option '--limit <n>' argument 'abc' is invalid. --limit must be a positive integer.\n",
    });
  });

  it("exits 2 and prints the help on stderr when no command is given", async () => {
    const r = await h.run([]);
    expect(r.code).to.equal(2);
    expect(r.stdout).to.equal("");
    expect(r.stderr).to.match(/^Usage: avm \[options\] \[command\]/);
  });

  it("rejects --ledger together with --ledger-table", async () => {
    const r = await h.run(["list", "--ledger", "a.sqlite", "--ledger-table", "avm-ledger"]);
    expect(r).to.deep.equal({
      code: 2,
      stdout: "",
      stderr: "avm: error: --ledger and --ledger-table are mutually exclusive (SQLite file or DynamoDB table)\n",
    });
  });

  it("rejects a malformed region from the environment, naming the flag", async () => {
    h.env = { AWS_REGION: "Frankfurt" };
    const r = await h.run(["list"]);
    expect(r).to.deep.equal({
      code: 2,
      stdout: "",
      stderr: 'avm: error: --region must look like eu-central-1, got "Frankfurt"\n',
    });
  });

  it("resolves the ledger: default SQLite file under the cwd, --ledger, AVM_LEDGER, --ledger-table with region", async () => {
    await h.run(["list"]);
    await h.run(["list", "--ledger", "x/l.sqlite"]);
    h.env = { AVM_LEDGER: "/var/avm.sqlite" };
    await h.run(["list"]);
    h.env = { AVM_LEDGER_TABLE: "avm-ledger", AWS_REGION: "eu-central-1" };
    await h.run(["list"]);
    expect(h.opened).to.deep.equal([
      { kind: "sqlite", path: "/tmp/avm-cli-test/.avm/ledger.sqlite" },
      { kind: "sqlite", path: "/tmp/avm-cli-test/x/l.sqlite" },
      { kind: "sqlite", path: "/var/avm.sqlite" },
      { kind: "dynamodb", table: "avm-ledger", region: "eu-central-1" },
    ]);
  });

  it("prints the --json error shape on stdout besides the stderr line", async () => {
    const r = await h.run(["status", "--json", "--email", "nobody@example.com"]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal(
      "avm: error: no request found for email nobody@example.com in ledger /tmp/avm-cli-test/.avm/ledger.sqlite\n",
    );
    expect(JSON.parse(r.stdout)).to.deep.equal({
      error: {
        code: "not-found",
        message: "no request found for email nobody@example.com in ledger /tmp/avm-cli-test/.avm/ledger.sqlite",
        exitCode: 1,
      },
    });
  });

  it("reports a usage error in the --json shape too", async () => {
    const r = await h.run(["list", "--json", "--limit", "0"]);
    expect(r.code).to.equal(2);
    expect(JSON.parse(r.stdout)).to.deep.equal({
      error: {
        code: "usage",
        message: "option '--limit <n>' argument '0' is invalid. --limit must be a positive integer.",
        exitCode: 2,
      },
    });
  });

  it("turns an unexpected error into one line without a stack trace, and shows the stack with AVM_DEBUG=1", async () => {
    const broken = new CliHarness({
      openLedger: async () => {
        throw new TypeError("boom");
      },
    });
    try {
      const r = await broken.run(["list"]);
      expect(r).to.deep.equal({ code: 1, stdout: "", stderr: "avm: error: unexpected TypeError: boom\n" });
      broken.env = { AVM_DEBUG: "1" };
      const debug = await broken.run(["list"]);
      expect(debug.code).to.equal(1);
      expect(debug.stderr).to.match(/^TypeError: boom\n {4}at /);
      expect(debug.stderr.trimEnd().split("\n").at(-1)).to.equal("avm: error: unexpected TypeError: boom");
    } finally {
      broken.dispose();
    }
  });

  it("keeps the message of a project error (e.g. a ledger error) as the one line", async () => {
    class SqliteLedgerError extends Error {
      override name = "SqliteLedgerError";
    }
    const broken = new CliHarness({
      openLedger: async () => {
        throw new SqliteLedgerError("cannot open /nope/ledger.sqlite: permission denied");
      },
    });
    try {
      const r = await broken.run(["list"]);
      expect(r).to.deep.equal({
        code: 1,
        stdout: "",
        stderr: "avm: error: cannot open /nope/ledger.sqlite: permission denied\n",
      });
    } finally {
      broken.dispose();
    }
  });
});
