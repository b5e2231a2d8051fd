/**
 * Least authority at `AVMEntryPoint`: its resource policy admits every principal of the organization, so a
 * member-account admin can invoke it with any payload. These specs drive the real handler, gate, ledger and
 * workflow (over an in-memory AWS Organizations) and prove what such a caller can and cannot do:
 * - the hook acts only on an account whose id and email match the organization's record, and never moves one;
 * - creating, adopting and moving accounts are refused unless an operator enabled them, and moves stay inside
 *   the allow-list;
 * - a fuzz corpus of hostile payloads never moves, adopts or re-tags another account.
 */
import { expect } from "chai";
import fc from "fast-check";
import { mockClient } from "aws-sdk-client-mock";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { Logger } from "@aws-lambda-powertools/logger";
import { createEntryPointHandler, type EntryPointResponse } from "../../src/lambda/entryPoint/handler";
import { MemoryLedger } from "../support/memoryLedger";
import { InProcessCreateSlots } from "../../src/adapters/local/inProcessCreateSlots";
import { OrganizationsGateway } from "../../src/adapters/aws/organizationsGateway";
import { createWorkflow } from "../../src/core/vending/workflow";
import {
  authorityProblems,
  createEntryPointGate,
  HOOK_ONLY_AUTHORITY,
  RequestRefusedError,
  type EntryPointAuthority,
} from "../../src/core/vending/entryPointGate";
import { RecordingQueue } from "../support/recordingQueue";
import { directoryOf } from "../support/entryPointGates";
import {
  FakeOrganizations,
  InstantTiming,
  RecordingStackRunner,
  type FakeAccount,
} from "../src/core/vending/workflowFixtures";

const ORG_ID = "o-exampleorg1";

/** A meshStack hook payload for `account` (or any id and email). */
function hook(accountId: string, email: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    AccountName: "team-account",
    AccountEmail: email,
    AccountId: accountId,
    AccountArn: `arn:aws:organizations::999999999999:account/${ORG_ID}/${accountId}`,
    ProductName: "workspace-a",
    Stage: "project-a",
    tagCostCenter: "666",
    ...extra,
  };
}

/** The AVM as deployed: handler behind the gate, memory ledger, queue, and the worker's workflow. */
class System {
  readonly org = new FakeOrganizations();
  readonly ledger = new MemoryLedger();
  readonly queue = new RecordingQueue();
  readonly timing = new InstantTiming();
  readonly runner = new RecordingStackRunner();
  private readonly client = new OrganizationsClient({ region: "us-east-1" });
  private readonly mock = mockClient(this.client);
  readonly gateway: OrganizationsGateway;
  readonly prodOu: string;
  readonly sandboxOu: string;
  /** The attacker's own account (managed by the AVM through meshStack). */
  readonly attacker: FakeAccount;
  /** Another team's account, managed by the AVM (its hook went through), tagged and in the Prod OU. */
  readonly victim: FakeAccount;
  /** An account the AVM does not manage (created outside it), in the Prod OU. */
  readonly unmanaged: FakeAccount;
  readonly handler: (event: unknown) => Promise<EntryPointResponse>;
  private processed = 0;

  constructor(authority: EntryPointAuthority = HOOK_ONLY_AUTHORITY, defaultTargetOu?: string) {
    this.org.install(this.mock);
    this.prodOu = this.org.addOu("Prod");
    this.sandboxOu = this.org.addOu("Sandbox");
    this.attacker = this.org.addAccount("attacker@example.com", "attacker");
    this.victim = this.org.addAccount("victim@example.com", "victim");
    this.unmanaged = this.org.addAccount("legacy-7f3a9c@example.com", "legacy");
    for (const account of [this.victim, this.unmanaged]) account.parentId = this.prodOu;
    this.gateway = new OrganizationsGateway(this.client, {
      timing: this.timing,
      retry: { baseDelayMs: 1, maxDelayMs: 1, maxAttempts: 2 },
    });
    this.handler = createEntryPointHandler({
      ledger: this.ledger,
      queue: this.queue,
      now: () => this.timing.now(),
      logger: new Logger({ serviceName: "AVMEntryPoint", logLevel: "SILENT" }),
      gate: createEntryPointGate({
        authority,
        directory: this.gateway,
        managementAccountId: this.org.managementAccountId,
        ...(defaultTargetOu !== undefined ? { defaultTargetOu } : {}),
      }),
    });
  }

  /** Runs the worker's workflow for every work item enqueued so far. */
  async drain(): Promise<void> {
    const workflow = createWorkflow({
      ledger: this.ledger,
      organizations: this.gateway,
      stackRunner: this.runner,
      createSlots: new InProcessCreateSlots({ now: () => this.timing.now() }),
      timing: this.timing,
    });
    for (; this.processed < this.queue.items.length; this.processed += 1) {
      await workflow.processRequest(this.queue.items[this.processed]!.email);
    }
  }

  /** Parent and tags of every account, to compare before and after. */
  snapshot(): Record<string, { parentId: string; tags: Record<string, string> }> {
    return Object.fromEntries(
      [...this.org.accounts.values()].map((a) => [a.id, { parentId: a.parentId, tags: { ...a.tags } }]),
    );
  }

  /** meshStack's own hooks for the attacker's and the victim's accounts, processed to SUCCEEDED. */
  async managedByMeshstack(): Promise<void> {
    for (const [account, product] of [
      [this.attacker, "attacker-ws"],
      [this.victim, "victim-ws"],
    ] as const) {
      const response = await this.handler(
        hook(account.id, account.email, { ProductName: product, Stage: "p1", tagCostCenter: "1000" }),
      );
      expect(response, JSON.stringify(response)).to.have.property("state", "RECEIVED");
    }
    await this.drain();
    expect((await this.ledger.get(this.victim.email))?.state).to.equal("SUCCEEDED");
  }

  dispose(): void {
    this.mock.restore();
  }
}

describe("AVMEntryPoint trust boundary", () => {
  let sys: System;
  afterEach(() => sys?.dispose());

  describe("the meshStack hook", () => {
    beforeEach(() => {
      sys = new System();
    });

    it("acts on an account whose id and email match the organization's record (letter case aside)", async () => {
      const response = await sys.handler(hook(sys.victim.id, "Victim@Example.COM"));
      expect(response).to.have.property("state", "RECEIVED");
      expect(sys.org.count("DescribeAccount")).to.equal(1);
    });

    it("refuses an id whose email differs, naming both values and writing nothing", async () => {
      const response = await sys.handler(hook(sys.victim.id, sys.attacker.email));
      const message =
        `AccountId ${sys.victim.id} and AccountEmail attacker@example.com do not match the organization's ` +
        `record of account ${sys.victim.id}`;
      expect(response).to.deep.equal({
        error: {
          message: `refused meshStack hook payload: AccountEmail: ${message}`,
          issues: [{ field: "AccountEmail", message }],
        },
      });
      // The organization's email of the account is not disclosed to the caller.
      expect(JSON.stringify(response)).not.to.contain("victim@");
      expect(await sys.ledger.list({})).to.deep.equal([]);
      expect(sys.queue.items).to.deep.equal([]);
    });

    it("refuses an account the organization does not have, naming both values and writing nothing", async () => {
      const response = await sys.handler(hook("123412341234", "ghost@example.com"));
      const message =
        "AccountId 123412341234 and AccountEmail ghost@example.com: the organization has no account 123412341234";
      expect(response).to.deep.equal({
        error: {
          message: `refused meshStack hook payload: AccountId: ${message}`,
          issues: [{ field: "AccountId", message }],
        },
      });
      expect(await sys.ledger.list({})).to.deep.equal([]);
      expect(sys.queue.items).to.deep.equal([]);
    });

    it("refuses the management account and accounts that are not ACTIVE", async () => {
      const management = await sys.handler(hook(sys.org.managementAccountId, "management@example.com"));
      expect(management).to.deep.equal({
        error: {
          message:
            "refused meshStack hook payload: AccountId: 999999999999 is the organization's management account; the AVM never manages it",
          issues: [
            {
              field: "AccountId",
              message: "999999999999 is the organization's management account; the AVM never manages it",
            },
          ],
        },
      });
      const suspended = sys.org.addAccount("gone@example.com", "gone", "SUSPENDED");
      const response = await sys.handler(hook(suspended.id, "gone@example.com"));
      expect(response).to.have.nested.property(
        "error.issues[0].message",
        `AccountId ${suspended.id} and AccountEmail gone@example.com: the account is SUSPENDED, not ACTIVE`,
      );
      expect(await sys.ledger.list({})).to.deep.equal([]);
    });

    it("never moves an account, even when the stored request names a target OU", async () => {
      await sys.managedByMeshstack();
      // A record written by an older version or by hand with a target OU: the workflow still does not move it.
      const account = sys.org.addAccount("new-team@example.com", "new-team");
      await sys.ledger.claim(
        {
          email: account.email,
          requestId: "hand-written",
          kind: "meshstack-hook",
          accountId: account.id,
          request: { accountName: "new-team", email: account.email, targetOu: sys.org.rootId, tags: {} },
        },
        sys.timing.now(),
      );
      sys.queue.items.push({ email: account.email, requestId: "hand-written" });
      await sys.drain();
      expect(sys.org.count("MoveAccount")).to.equal(0);
      expect((await sys.ledger.get(account.email))?.state).to.equal("SUCCEEDED");
    });
  });

  describe("operator-only operations", () => {
    it("refuses vend requests unless the operator enabled them, writing nothing", async () => {
      sys = new System();
      const response = await sys.handler({ accountName: "x", email: "new@example.com" });
      const message =
        "vend requests (creating, adopting or moving accounts) are disabled at AVMEntryPoint; an operator enables them with the platform stack setting entryPointVending, or vends with the avm CLI";
      expect(response).to.deep.equal({
        error: { message: `refused vend request: payload: ${message}`, issues: [{ field: "payload", message }] },
      });
      expect(await sys.ledger.list({})).to.deep.equal([]);
      expect(sys.queue.items).to.deep.equal([]);
      expect(sys.org.count("DescribeAccount")).to.equal(0);
    });

    it("when enabled, moves only to allow-listed OUs: never the root unless listed", async () => {
      sys = new System({ vend: true, adopt: false, moveTargets: ["ou-root-00000002", "/Sandbox"] });
      for (const target of ["r-root", "/", "ou-root-00000001", "/Prod"]) {
        expect(await sys.handler({ accountName: "x", email: "new@example.com", targetOu: target })).to.deep.equal({
          error: {
            message: `refused vend request: targetOu: target OU ${target} is not on the allow-list of the platform stack setting entryPointTargetOus`,
            issues: [
              {
                field: "targetOu",
                message: `target OU ${target} is not on the allow-list of the platform stack setting entryPointTargetOus`,
              },
            ],
          },
        });
      }
      expect(await sys.ledger.list({})).to.deep.equal([]);
      const accepted = await sys.handler({ accountName: "x", email: "new@example.com", targetOu: "/Sandbox" });
      expect(accepted).to.have.property("state", "RECEIVED");
      await sys.drain();
      const record = (await sys.ledger.get("new@example.com"))!;
      expect(record.state).to.equal("SUCCEEDED");
      expect(sys.org.accounts.get(record.accountId!)!.parentId).to.equal(sys.sandboxOu);
    });

    it("does not adopt an account it did not create unless entryPointAdoption is on", async () => {
      sys = new System({ vend: true, adopt: false, moveTargets: ["/Sandbox"] });
      const before = sys.snapshot();
      expect(
        await sys.handler({ accountName: "x", email: sys.unmanaged.email, targetOu: "/Sandbox" }),
      ).to.have.property("state", "RECEIVED");
      await sys.drain();
      const record = (await sys.ledger.get(sys.unmanaged.email))!;
      expect(record.state).to.equal("FAILED");
      expect(record.failureReason).to.equal(
        `EMAIL_ALREADY_EXISTS: account ${sys.unmanaged.id} has this email and was not created by this request; adopting existing accounts through AVMEntryPoint is disabled (entryPointAdoption)`,
      );
      expect(record.accountId).to.equal(undefined);
      expect(sys.snapshot()).to.deep.equal(before);

      sys.dispose();
      sys = new System({ vend: true, adopt: true, moveTargets: ["/Sandbox"] });
      await sys.handler({ accountName: "x", email: sys.unmanaged.email, targetOu: "/Sandbox" });
      await sys.drain();
      expect((await sys.ledger.get(sys.unmanaged.email))!).to.include({
        state: "SUCCEEDED",
        accountId: sys.unmanaged.id,
      });
      expect(sys.unmanaged.parentId).to.equal(sys.sandboxOu);
    });

    it("a payload cannot grant itself adoption or a target", async () => {
      sys = new System({ vend: true, adopt: false, moveTargets: ["/Sandbox"] });
      const response = await sys.handler({
        accountName: "x",
        email: sys.unmanaged.email,
        adoptExisting: true,
        entryPointTargetOus: ["r-root"],
      });
      expect(response).to.deep.equal({
        error: {
          message:
            "invalid vend request: adoptExisting: is not a known field; entryPointTargetOus: is not a known field",
          issues: [
            { field: "adoptExisting", message: "is not a known field" },
            { field: "entryPointTargetOus", message: "is not a known field" },
          ],
        },
      });
    });

    it("reports contradictory settings, naming them", () => {
      expect(authorityProblems({ vend: false, adopt: true, moveTargets: ["/A"] }, undefined)).to.deep.equal([
        "entryPointAdoption needs entryPointVending: adoption happens only through a vend",
        "entryPointTargetOus needs entryPointVending: only vend requests move accounts",
      ]);
      expect(authorityProblems({ vend: true, adopt: false, moveTargets: ["/A"] }, "ou-ab12-abcdefgh")).to.deep.equal([
        "entryPointTargetOus must list the default OU ou-ab12-abcdefgh when entryPointVending is on",
      ]);
    });

    it("refuses a vend that would go to a default OU missing from the allow-list", async () => {
      const gate = createEntryPointGate({
        authority: { vend: true, adopt: false, moveTargets: ["/Sandbox"] },
        directory: directoryOf({}),
        managementAccountId: "999999999999",
        defaultTargetOu: "r-root",
      });
      const refused = await gate.check({ kind: "vend", accountName: "x", email: "new@example.com", tags: {} }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).to.be.instanceOf(RequestRefusedError);
      expect((refused as RequestRefusedError).issues).to.deep.equal([
        {
          field: "payload",
          message: "target OU r-root is not on the allow-list of the platform stack setting entryPointTargetOus",
        },
      ]);
    });
  });

  describe("a member-account admin with any payload", () => {
    const EMAIL_GUESSES = [
      "victim@example.org",
      "victim+1@example.com",
      "victim@example.com.",
      "vіctim@example.com", // Cyrillic i
      "legacy@example.com",
      "legacy-7f3a9c@example.net",
      "attacker@example.com",
      "management@example.com",
    ];

    /** Hostile payloads from a caller who knows every account id but not the unmanaged account's email. */
    function hostilePayload(s: System): fc.Arbitrary<unknown> {
      const ids = fc.constantFrom(
        s.victim.id,
        s.unmanaged.id,
        s.org.managementAccountId,
        s.attacker.id,
        "000000000000",
        "123456789012",
      );
      const victimEmail = fc.constantFrom("victim@example.com", "VICTIM@example.com", "Victim@Example.Com ");
      const emails = fc.oneof(fc.constantFrom(...EMAIL_GUESSES), victimEmail);
      const targets = fc.constantFrom(
        s.org.rootId,
        "/",
        s.prodOu,
        s.sandboxOu,
        "/Prod",
        "/Sandbox",
        "//",
        "/Sandbox/../",
        "ou-zzzz-zzzzzzzz",
      );
      const extras = fc.dictionary(
        fc.constantFrom("targetOu", "TargetOu", "adoptExisting", "kind", "__proto__", "requestId", "tagProductName"),
        fc.oneof(targets, fc.boolean(), fc.constant("meshstack-hook")),
        { maxKeys: 2 },
      );
      const hookPayload = fc
        .tuple(ids, emails, extras, fc.constantFrom("666", "attacker-owned"))
        .map(([id, email, extra, cost]) => hook(id, email, { tagCostCenter: cost, ...extra }));
      const vendPayload = fc
        .tuple(
          fc.oneof(emails, fc.constantFrom("fresh-1@example.com", "fresh-2@example.com")),
          fc.option(targets, { nil: undefined }),
          extras,
        )
        .map(([email, targetOu, extra]) => ({
          accountName: "hostile",
          email,
          ...(targetOu !== undefined ? { targetOu } : {}),
          tags: { CostCenter: "666" },
          ...extra,
        }));
      return fc.oneof(
        hookPayload,
        vendPayload,
        hookPayload.map((p) => JSON.stringify(p)),
      );
    }

    async function corpusRun(
      authority: EntryPointAuthority,
      check: (s: System, before: ReturnType<System["snapshot"]>) => Promise<void>,
    ): Promise<{ payloads: number; refused: number }> {
      let payloads = 0;
      let refused = 0;
      // Every run gets a fresh organization whose ids are assigned in the same order as this template's.
      const template = new System(authority);
      template.dispose();
      await fc.assert(
        fc.asyncProperty(fc.array(hostilePayload(template), { minLength: 1, maxLength: 6 }), async (events) => {
          const s = new System(authority);
          try {
            await s.managedByMeshstack();
            const before = s.snapshot();
            for (const event of events) {
              payloads += 1;
              const response = await s.handler(event);
              if ("error" in response && response.error.message.startsWith("refused ")) refused += 1;
              expect(response).to.satisfy((r: EntryPointResponse) => "error" in r || typeof r.requestId === "string");
            }
            await s.drain();
            await check(s, before);
          } finally {
            s.dispose();
          }
        }),
        { numRuns: 150, seed: 10_2026 },
      );
      return { payloads, refused };
    }

    it("cannot move, adopt, create or re-tag another account (hook-only entry point, the default)", async () => {
      const { payloads, refused } = await corpusRun(HOOK_ONLY_AUTHORITY, async (s, before) => {
        const after = s.snapshot();
        // The only account a hostile hook may touch is the attacker's own, and only with its recorded request.
        expect(after).to.deep.equal(before);
        expect(s.org.count("CreateAccount")).to.equal(0);
        expect(s.org.count("MoveAccount")).to.equal(0);
        expect(s.org.count("TagResource")).to.equal(2 * 2); // meshStack's own two hooks: tags and completion tags
        const records = await s.ledger.list({});
        expect(records.map((r) => r.email).sort()).to.deep.equal(["attacker@example.com", "victim@example.com"]);
      });
      expect(payloads).to.be.greaterThan(300);
      expect(refused, "payloads the gate itself refused").to.be.greaterThan(100);
    });

    it("with vending enabled, still cannot move, adopt or re-tag an existing account", async () => {
      const authority: EntryPointAuthority = { vend: true, adopt: false, moveTargets: ["/Sandbox"] };
      const { payloads, refused } = await corpusRun(authority, async (s, before) => {
        const after = s.snapshot();
        for (const [id, state] of Object.entries(before)) expect(after[id], id).to.deep.equal(state);
        // New accounts (fresh emails) were moved only where the allow-list permits (the Sandbox OU), or stayed
        // at the root where CreateAccount puts them when the request named no target.
        for (const [id, state] of Object.entries(after)) {
          if (!(id in before)) expect(state.parentId, id).to.be.oneOf([s.sandboxOu, s.org.rootId]);
        }
        for (const record of await s.ledger.list({})) {
          if (record.accountId !== undefined && record.kind === "vend") {
            expect(record.accountId in before, record.email).to.equal(false);
          }
        }
      });
      expect(payloads).to.be.greaterThan(300);
      expect(refused, "payloads the gate itself refused").to.be.greaterThan(50);
    });
  });
});
