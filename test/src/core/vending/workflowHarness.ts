/** Shared set-up of the workflow specs (split per step/command from one file). */
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { mockClient } from "aws-sdk-client-mock";
import { OrganizationsGateway } from "../../../../src/adapters/aws/organizationsGateway";
import { InProcessCreateSlots } from "../../../../src/adapters/local/inProcessCreateSlots";
import type { LedgerRecord, RequestKind } from "../../../../src/core/ledger";
import { createWorkflow, type Workflow, type WorkflowOptions } from "../../../../src/core/vending/workflow";
import { MemoryLedger } from "../../../support/memoryLedger";
import { CrashingLedger, FakeOrganizations, InstantTiming, RecordingStackRunner } from "./workflowFixtures";

export const meta = { $metadata: {} };
/** A connection that was refused: the request never left, so its outcome is known (nothing happened). */
export const REFUSED = "connect ECONNREFUSED 127.0.0.1:443";
export const refused = () => Object.assign(new Error(REFUSED), { code: "ECONNREFUSED" });

export interface Harness {
  org: FakeOrganizations;
  timing: InstantTiming;
  ledger: CrashingLedger;
  runner: RecordingStackRunner;
  slots: InProcessCreateSlots;
  workflow: Workflow;
  /** Records a vend request for `email`. */
  vend(email: string, extra?: Record<string, unknown>): Promise<LedgerRecord>;
  /** Records a meshStack hook request for an existing account. */
  hook(email: string, accountId: string, extra?: Record<string, unknown>): Promise<LedgerRecord>;
  record(email: string): Promise<LedgerRecord>;
  dispose(): void;
}

export function harness(options: WorkflowOptions = {}): Harness {
  const client = new OrganizationsClient({ region: "us-east-1" });
  const mock = mockClient(client);
  const org = new FakeOrganizations();
  org.install(mock);
  const timing = new InstantTiming();
  const ledger = new CrashingLedger(new MemoryLedger());
  const runner = new RecordingStackRunner();
  const slots = new InProcessCreateSlots({ now: () => timing.now() });
  const organizations = new OrganizationsGateway(client, {
    timing,
    retry: { baseDelayMs: 100, maxDelayMs: 1_000, maxAttempts: 4 },
  });
  const workflow = createWorkflow({
    ledger,
    organizations,
    stackRunner: runner,
    createSlots: slots,
    timing,
    options,
  });
  let n = 0;
  const claim = async (email: string, kind: RequestKind, request: Record<string, unknown>, accountId?: string) => {
    n += 1;
    const { record } = await ledger.claim(
      { email, requestId: `req-${n}`, kind, request, ...(accountId ? { accountId } : {}) },
      timing.now(),
    );
    return record;
  };
  return {
    org,
    timing,
    ledger,
    runner,
    slots,
    workflow,
    vend: (email, extra = {}) =>
      claim(email, "vend", {
        kind: "vend",
        accountName: `acct ${email}`,
        email,
        tags: { CostCenter: "1234" },
        ...extra,
      }),
    hook: (email, accountId, extra = {}) =>
      claim(
        email,
        "meshstack-hook",
        {
          kind: "meshstack-hook",
          accountName: "meshcloud.test",
          email,
          accountId,
          productName: "meshcloud",
          stage: "test-aws-integration",
          tags: { Environment: "dev" },
          ...extra,
        },
        accountId,
      ),
    record: async (email) => (await ledger.get(email))!,
    dispose: () => mock.restore(),
  };
}

export const states = (record: LedgerRecord) => record.history.map((h) => h.state);
