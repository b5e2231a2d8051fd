/**
 * A platform stack you can tear down and rebuild: every resource with a fixed physical name is replaced
 * delete-first (else the new one collides with the old by name), the ledger table excepted (deletion protection:
 * a replacement fails rather than losing records), and Secrets Manager secrets have no recovery window (else
 * `destroy` then `up` fails with "scheduled for deletion"). The resource options are captured with a
 * transformation on each component, which sees every child's options.
 */
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { AccountVendingMachine } from "../../../src/components/accountVendingMachine";
import { AccountAccessRole } from "../../../src/components/accountAccessRole";
import { ManagementVendingRole } from "../../../src/components/managementVendingRole";
import { MeshfedServicePolicy } from "../../../src/components/meshfedServicePolicy";
import { installPulumiMocks, settle, type PulumiRecorder } from "../../support/pulumiMocks";
import { AVM_BASE_ARGS } from "./avmArgs";

interface Captured {
  readonly type: string;
  readonly name: string;
  readonly props: Record<string, unknown>;
  readonly opts: pulumi.CustomResourceOptions;
}

/** Inputs that give a resource a fixed physical name. */
const NAME_INPUTS = ["name", "roleName", "functionName"];

describe("fixed physical names survive replacement and destroy-then-up (Pulumi mocks)", () => {
  const captured: Captured[] = [];
  const capture: pulumi.ResourceTransformation = (args) => {
    captured.push({
      type: args.type,
      name: args.name,
      props: args.props as Record<string, unknown>,
      opts: args.opts as pulumi.CustomResourceOptions,
    });
    return undefined;
  };
  let recorder: PulumiRecorder;

  before(async () => {
    recorder = await installPulumiMocks({ stack: "dev" });
    new AccountVendingMachine(
      "avm",
      {
        ...AVM_BASE_ARGS,
        webhookSecret: pulumi.secret("0123456789abcdef"),
        pulumiAccessToken: pulumi.secret("pul-123"),
        externalId: pulumi.secret("ext-123"),
      },
      { transformations: [capture] },
    );
    new ManagementVendingRole(
      "vending-role",
      {
        roleName: "AVMVendingRole",
        partition: "aws",
        managementAccountId: "111122223333",
        organizationId: "o-exampleorg1",
        trustedRoleArns: ["arn:aws:iam::444455556666:role/AVMWorkerRole"],
      },
      { transformations: [capture] },
    );
    new MeshfedServicePolicy(
      "meshfed",
      {
        policyName: "MeshfedServicePolicy",
        partition: "aws",
        managementAccountId: "111122223333",
        organizationId: "o-exampleorg1",
        automationAccountId: "444455556666",
        accessRoleName: "MeshstackAccountAccessRole",
        bootstrapRoleName: "OrganizationAccountAccessRole",
      },
      { transformations: [capture] },
    );
    new AccountAccessRole(
      "access-role",
      {
        partition: "aws",
        accountId: "222233334444",
        region: "eu-central-1",
        managementAccountId: "111122223333",
        automationAccountId: "444455556666",
      },
      { transformations: [capture] },
    );
    await settle();
  });

  function named(): Captured[] {
    return captured.filter(
      (c) => !c.type.startsWith("avm:") && NAME_INPUTS.some((key) => typeof c.props[key] === "string"),
    );
  }

  it("replaces every resource with a fixed name delete-first, except the deletion-protected ledger table", () => {
    const rows = named().map((c) => [c.type, c.name, c.opts.deleteBeforeReplace === true]);
    expect(rows).to.deep.equal([
      ["aws:dynamodb/table:Table", "avm-ledger", false],
      ["aws:sqs/queue:Queue", "avm-dlq", true],
      ["aws:sqs/queue:Queue", "avm-queue", true],
      ["aws:cloudwatch/metricAlarm:MetricAlarm", "avm-dlq-alarm", true],
      ["aws:secretsmanager/secret:Secret", "avm-webhook-secret", true],
      ["aws:secretsmanager/secret:Secret", "avm-external-id", true],
      ["aws:secretsmanager/secret:Secret", "avm-pulumi-token", true],
      ["aws:iam/role:Role", "avm-entry-point-role-role", true],
      ["aws:iam/rolePolicy:RolePolicy", "avm-entry-point-role-permissions", true],
      ["aws:cloudwatch/logGroup:LogGroup", "avm-entry-point-logs", true],
      ["aws:lambda/function:Function", "avm-entry-point", true],
      ["aws:iam/role:Role", "avm-worker-role-role", true],
      ["aws:iam/rolePolicy:RolePolicy", "avm-worker-role-permissions", true],
      ["aws:cloudwatch/logGroup:LogGroup", "avm-worker-logs", true],
      ["aws:lambda/function:Function", "avm-worker", true],
      ["aws:iam/role:Role", "avm-webhook-role-role", true],
      ["aws:iam/rolePolicy:RolePolicy", "avm-webhook-role-permissions", true],
      ["aws:cloudwatch/logGroup:LogGroup", "avm-webhook-logs", true],
      ["aws:lambda/function:Function", "avm-webhook", true],
      ["aws:iam/role:Role", "vending-role-role", true],
      ["aws:iam/rolePolicy:RolePolicy", "vending-role-permissions", true],
      ["aws:iam/policy:Policy", "meshfed-policy", true],
      ["aws:iam/role:Role", "access-role-role", true],
      ["aws:iam/rolePolicy:RolePolicy", "access-role-permissions", true],
    ]);
    // One URL per function (its input is the function's name, an output, so the filter above does not see it).
    expect(captured.find((c) => c.name === "avm-webhook-url")?.opts.deleteBeforeReplace).to.equal(true);
    const table = recorder.one("aws:dynamodb/table:Table", "avm-ledger").inputs;
    expect(table["deletionProtectionEnabled"]).to.equal(true);
  });

  it("gives every Secrets Manager secret a recovery window of 0 days", () => {
    const secrets = recorder
      .byType("aws:secretsmanager/secret:Secret")
      .map((r) => [r.inputs["name"], r.inputs["recoveryWindowInDays"]]);
    expect(secrets).to.deep.equal([
      ["avm/webhook-secret", 0],
      ["avm/external-id", 0],
      ["avm/pulumi-access-token", 0],
    ]);
  });
});
