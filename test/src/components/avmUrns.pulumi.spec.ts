import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { installPulumiMocks, settle } from "../../support/pulumiMocks";
import type { UrnEntry } from "../../support/urnCapture";
import { captureAvm } from "./avmUrns";

/** URNs of the AccountVendingMachine's resources before it was split into sub-components (every option on). */
const BEFORE_SPLIT: string[] = JSON.parse(
  fs.readFileSync(path.join(__dirname, "fixtures", "avmUrnsBeforeSplit.json"), "utf8"),
) as string[];

describe("AccountVendingMachine URNs across the split into sub-components", () => {
  let entries: UrnEntry[];
  before(async () => {
    await installPulumiMocks({ stack: "dev" });
    const capture = captureAvm();
    await settle();
    entries = capture.entries();
  });

  it("answers to every URN an existing platform stack holds, so `pulumi up` updates in place", () => {
    const reachable = new Set(entries.flatMap((e) => [e.urn, ...e.aliases]));
    expect(BEFORE_SPLIT.filter((urn) => !reachable.has(urn))).to.deep.equal([]);
  });

  it("claims each old URN for exactly one resource", () => {
    const claims = new Map<string, string[]>();
    for (const entry of entries) {
      for (const urn of [entry.urn, ...entry.aliases]) claims.set(urn, [...(claims.get(urn) ?? []), entry.urn]);
    }
    expect(BEFORE_SPLIT.filter((urn) => (claims.get(urn) ?? []).length !== 1)).to.deep.equal([]);
  });

  it("adds only the sub-components as new resources", () => {
    const old = new Set(BEFORE_SPLIT);
    const added = entries.filter((e) => !old.has(e.urn) && !e.aliases.some((a) => old.has(a))).map((e) => e.urn);
    const prefix = "urn:pulumi:dev::meshstack-avm::avm:vending:AccountVendingMachine$";
    expect(added.sort()).to.deep.equal(
      [
        `${prefix}avm:vending:Function::avm-entry-point`,
        `${prefix}avm:vending:Function::avm-webhook`,
        `${prefix}avm:vending:Function::avm-worker`,
        `${prefix}avm:vending:LedgerTable::avm-ledger`,
        `${prefix}avm:vending:StoredSecret::avm-external-id`,
        `${prefix}avm:vending:StoredSecret::avm-pulumi-token`,
        `${prefix}avm:vending:StoredSecret::avm-webhook-secret`,
        `${prefix}avm:vending:WebhookEndpoint::avm-webhook`,
        `${prefix}avm:vending:WorkQueue::avm`,
      ].sort(),
    );
  });

  it("resolves the moved children's aliases to their URNs from before the split", () => {
    const table = entries.find((e) => e.urn.endsWith("$aws:dynamodb/table:Table::avm-ledger"));
    expect(table).to.deep.equal({
      urn: "urn:pulumi:dev::meshstack-avm::avm:vending:AccountVendingMachine$avm:vending:LedgerTable$aws:dynamodb/table:Table::avm-ledger",
      aliases: [
        "urn:pulumi:dev::meshstack-avm::avm:vending:AccountVendingMachine$aws:dynamodb/table:Table::avm-ledger",
      ],
    });
  });
});
