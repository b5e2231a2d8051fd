/**
 * Secrets of the Pulumi program (external id, webhook secret, Pulumi access token) under the recording mocks, for
 * both stack kinds: no stack output carries one in plain text (an output that contains one must be a secret
 * Output), every resource input that contains one is marked secret, and nothing the program writes to stdout or
 * stderr while it runs contains one.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { installPulumiMocks, PROGRAM_PATH, runProgram, type PulumiRecorder } from "../support/pulumiMocks";
import { captureOutput } from "../support/captureOutput";
import { HANG_GUARD_MS } from "../support/hangGuard";

const EXTERNAL_ID = "ext-id-9d8c7b6a5f4e3d2c";
const WEBHOOK_SECRET = "whsec-a1b2c3d4e5f60718293a4b5c";
const PULUMI_TOKEN = "pul-f0e1d2c3b4a5968778695a4b3c2d1e0f";
const SECRETS = [EXTERNAL_ID, WEBHOOK_SECRET, PULUMI_TOKEN];

const COMMON = {
  "aws:region": "eu-central-1",
  "meshstack-avm:managementAccountId": "111122223333",
  "meshstack-avm:automationAccountId": "444455556666",
  "meshstack-avm:externalId": EXTERNAL_ID,
};

interface Scenario {
  readonly kind: string;
  readonly stack: string;
  readonly config: Record<string, string>;
  readonly secretKeys: string[];
  /** Resource inputs expected to carry a secret (`type name input`). */
  readonly secretCarriers: string[];
}

const SCENARIOS: Scenario[] = [
  {
    kind: "account",
    stack: "account-222233334444",
    config: { ...COMMON, "meshstack-avm:accountId": "222233334444" },
    secretKeys: ["meshstack-avm:externalId"],
    secretCarriers: ["aws:iam/role:Role access-role-role assumeRolePolicy"],
  },
  {
    kind: "platform",
    stack: "dev",
    config: {
      ...COMMON,
      "meshstack-avm:organizationId": "o-exampleorg1",
      "meshstack-avm:webhookSecret": WEBHOOK_SECRET,
      "meshstack-avm:pulumiAccessToken": PULUMI_TOKEN,
    },
    secretKeys: ["meshstack-avm:externalId", "meshstack-avm:webhookSecret", "meshstack-avm:pulumiAccessToken"],
    secretCarriers: [
      // The worker hands the external id to the account stacks it starts.
      "aws:secretsmanager/secretVersion:SecretVersion avm-external-id-value secretString",
      "aws:secretsmanager/secretVersion:SecretVersion avm-pulumi-token-value secretString",
      "aws:secretsmanager/secretVersion:SecretVersion avm-webhook-secret-value secretString",
    ],
  },
];

function containsSecret(value: unknown): string[] {
  const text = JSON.stringify(value) ?? "";
  return SECRETS.filter((s) => text.includes(s));
}

for (const scenario of SCENARIOS) {
  describe(`secrets of the ${scenario.kind} stack (Pulumi mocks)`, function () {
    let recorder: PulumiRecorder;
    let printed: string;
    let exported: Record<string, unknown>;

    before(async function () {
      this.timeout(HANG_GUARD_MS);
      recorder = await installPulumiMocks({
        stack: scenario.stack,
        config: scenario.config,
        secretKeys: scenario.secretKeys,
      });
      const { text } = await captureOutput(() => runProgram(PROGRAM_PATH));
      printed = text;
      // The module stays cached after runProgram: its raw exports keep their Output secrecy.
      exported = require(PROGRAM_PATH) as Record<string, unknown>;
    });

    it("exports no output that contains a secret in plain text", async () => {
      const leaks: string[] = [];
      for (const [name, value] of Object.entries(exported)) {
        const plain = pulumi.Output.isInstance(value)
          ? await new Promise<unknown>((resolve) => value.apply((v: unknown) => resolve(v)))
          : value;
        const secret = pulumi.Output.isInstance(value) ? await pulumi.isSecret(value) : false;
        if (containsSecret(plain).length > 0 && !secret) leaks.push(name);
      }
      expect(leaks).to.deep.equal([]);
      expect(Object.keys(exported).length).to.be.greaterThan(5);
    });

    it("marks every resource input that carries a secret as secret, and only the expected ones carry one", () => {
      const carriers: string[] = [];
      const unmarked: string[] = [];
      for (const resource of recorder.resources) {
        for (const [input, value] of Object.entries(resource.inputs)) {
          if (containsSecret(value).length === 0) continue;
          const id = `${resource.type} ${resource.name} ${input}`;
          carriers.push(id);
          if (!resource.secretInputs.includes(input)) unmarked.push(id);
        }
      }
      expect(unmarked).to.deep.equal([]);
      expect(carriers.sort()).to.deep.equal([...scenario.secretCarriers].sort());
    });

    it("keeps the secrets out of Lambda environments and everything printed while the program runs", () => {
      for (const fn of recorder.byType("aws:lambda/function:Function")) {
        expect(containsSecret(fn.inputs["environment"]), fn.name).to.deep.equal([]);
      }
      expect(containsSecret(printed)).to.deep.equal([]);
    });
  });
}
