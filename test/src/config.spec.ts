import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import {
  CONFIG_KEYS,
  CONFIG_NAMESPACE,
  type ConfigKey,
  LOG_RETENTION_DAYS_ALLOWED,
  qualifiedKey,
} from "../../src/config/keys";
import { ConfigError } from "../../src/config/configError";
import type { ConfigInput } from "../../src/config/types";
import { parseConfig } from "../../src/config/parseConfig";

// js-yaml ships with @pulumi/pulumi; typings are not installed, so it is loaded untyped.
const yaml = require("js-yaml") as { load(text: string): unknown };

const ACCOUNT = "222233334444";
const accountInput = (values: ConfigInput["values"] = {}, stackName = `account-${ACCOUNT}`): ConfigInput => ({
  stackName,
  region: "eu-central-1",
  values: { managementAccountId: "111122223333", automationAccountId: "444455556666", accountId: ACCOUNT, ...values },
});
const platformInput = (values: ConfigInput["values"] = {}, stackName = "dev"): ConfigInput => ({
  stackName,
  region: "eu-central-1",
  values: {
    managementAccountId: "111122223333",
    automationAccountId: "444455556666",
    organizationId: "o-exampleorg1",
    ...values,
  },
});

/** The error message parseConfig throws for `input`. */
function errorOf(input: ConfigInput): string {
  try {
    parseConfig(input);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("parseConfig did not throw");
}

describe("config", () => {
  describe("parseConfig for account stacks", () => {
    it("applies the documented defaults", () => {
      const cfg = parseConfig(accountInput());
      expect(cfg).to.deep.equal({
        kind: "account",
        stackName: `account-${ACCOUNT}`,
        region: "eu-central-1",
        managementAccountId: "111122223333",
        automationAccountId: "444455556666",
        meshfedServicePrincipalArn: undefined,
        externalId: undefined,
        accessRoleName: "MeshstackAccountAccessRole",
        samlProviderName: "meshstack-saml-idp",
        bootstrapRoleName: "OrganizationAccountAccessRole",
        accountId: ACCOUNT,
        accountAlias: undefined,
        alternateContacts: undefined,
        tags: {},
      });
      expect(Object.isFrozen(cfg)).to.equal(true);
      expect(Object.isFrozen((cfg as { tags: object }).tags)).to.equal(true);
    });

    it("reads custom values, JSON objects and keeps the external id a secret", async () => {
      const contacts = {
        security: { name: "Sec Team", title: "CISO", emailAddress: "sec@example.com", phoneNumber: "+49 30 123456" },
      };
      const cfg = parseConfig(
        accountInput({
          meshfedServicePrincipalArn: "arn:aws:iam::111122223333:role/meshfed-service-role",
          externalId: "meshstack-external-id",
          accessRoleName: "CustomAccessRole",
          samlProviderName: "custom-idp",
          bootstrapRoleName: "CustomBootstrap",
          accountAlias: "acme-dev",
          alternateContacts: JSON.stringify(contacts),
          tags: { CostCenter: "1234", Environment: "dev" },
        }),
      );
      if (cfg.kind !== "account") throw new Error("expected an account stack");
      expect(cfg.meshfedServicePrincipalArn).to.equal("arn:aws:iam::111122223333:role/meshfed-service-role");
      expect(cfg.accessRoleName).to.equal("CustomAccessRole");
      expect(cfg.samlProviderName).to.equal("custom-idp");
      expect(cfg.bootstrapRoleName).to.equal("CustomBootstrap");
      expect(cfg.accountAlias).to.equal("acme-dev");
      expect(cfg.alternateContacts).to.deep.equal(contacts);
      expect(cfg.tags).to.deep.equal({ CostCenter: "1234", Environment: "dev" });
      expect(pulumi.Output.isInstance(cfg.externalId)).to.equal(true);
      expect(await pulumi.isSecret(cfg.externalId!)).to.equal(true);
    });

    it("accepts stackKind account on an account stack name", () => {
      expect(parseConfig(accountInput({ stackKind: "account" })).kind).to.equal("account");
    });
  });

  describe("parseConfig for the platform stack", () => {
    it("applies the documented defaults", () => {
      const cfg = parseConfig(platformInput());
      expect(cfg).to.deep.equal({
        kind: "platform",
        stackName: "dev",
        region: "eu-central-1",
        managementAccountId: "111122223333",
        automationAccountId: "444455556666",
        meshfedServicePrincipalArn: undefined,
        externalId: undefined,
        accessRoleName: "MeshstackAccountAccessRole",
        samlProviderName: "meshstack-saml-idp",
        bootstrapRoleName: "OrganizationAccountAccessRole",
        organizationId: "o-exampleorg1",
        vendingRoleName: "AVMVendingRole",
        managementDeployRoleArn: undefined,
        defaultOuId: undefined,
        logRetentionDays: 90,
        maxConcurrentCreates: 5,
        webhookSecret: undefined,
        pulumiOrganization: undefined,
        pulumiAccessToken: undefined,
        pulumiRepoUrl: undefined,
        pulumiRepoBranch: undefined,
        pulumiRepoDir: undefined,
        meshfedServicePolicy: "none",
        entryPointAuthority: { vend: false, adopt: false, moveTargets: [] },
        guardrailTargets: [],
        deploymentsOidc: undefined,
      });
    });

    it("reads deploymentsOidc (needs pulumiOrganization) and an existing provider of the management account, naming the key", () => {
      const read = (values: Record<string, string>) => {
        const cfg = parseConfig(platformInput(values));
        return cfg.kind === "platform" ? cfg.deploymentsOidc : "not a platform stack";
      };
      const existing = "arn:aws:iam::111122223333:oidc-provider/api.pulumi.com/oidc";
      expect([
        read({ deploymentsOidc: "false" }),
        read({ deploymentsOidc: "true", pulumiOrganization: "acme" }),
        read({ deploymentsOidc: "true", pulumiOrganization: "acme", deploymentsOidcProviderArn: existing }),
      ]).to.deep.equal([undefined, { providerArn: undefined }, { providerArn: existing }]);
      const refusals: [Record<string, string>, string][] = [
        [
          { deploymentsOidc: "true" },
          "meshstack-avm:deploymentsOidc needs meshstack-avm:pulumiOrganization: the deploy role trusts Pulumi " +
            "Deployments runs of that organization's account stacks only",
        ],
        [
          { deploymentsOidc: "yes", pulumiOrganization: "acme" },
          'meshstack-avm:deploymentsOidc must be true or false, got "yes"',
        ],
        [
          { deploymentsOidcProviderArn: existing },
          "meshstack-avm:deploymentsOidcProviderArn needs meshstack-avm:deploymentsOidc set to true",
        ],
        [
          {
            deploymentsOidc: "true",
            pulumiOrganization: "acme",
            deploymentsOidcProviderArn: "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com",
          },
          "meshstack-avm:deploymentsOidcProviderArn must be the ARN of an IAM OIDC provider for api.pulumi.com/oidc " +
            "(arn:<partition>:iam::<12 digits>:oidc-provider/api.pulumi.com/oidc), got " +
            '"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"',
        ],
        [
          {
            deploymentsOidc: "true",
            pulumiOrganization: "acme",
            deploymentsOidcProviderArn: "arn:aws:iam::999988887777:oidc-provider/api.pulumi.com/oidc",
          },
          "meshstack-avm:deploymentsOidcProviderArn must be a provider in the management account 111122223333 " +
            '(meshstack-avm:managementAccountId), got "arn:aws:iam::999988887777:oidc-provider/api.pulumi.com/oidc"',
        ],
      ];
      for (const [values, message] of refusals) {
        expect(() => parseConfig(platformInput(values)), message).to.throw(ConfigError, message);
      }
      expect(() => parseConfig(accountInput({ deploymentsOidc: "true" }))).to.throw(
        ConfigError,
        "meshstack-avm:deploymentsOidc applies only to the platform stack",
      );
    });

    it("reads meshfedServicePolicy create and attach (attach to a principal of the management account)", () => {
      const modes = [
        platformInput({ meshfedServicePolicy: "create" }),
        platformInput({ meshfedServicePolicy: "attach" }),
        platformInput({
          meshfedServicePolicy: "attach",
          meshfedServicePrincipalArn: "arn:aws:iam::111122223333:role/meshstack/replicator",
        }),
        platformInput({
          meshfedServicePolicy: "create",
          meshfedServicePrincipalArn: "arn:aws:iam::999988887777:user/meshfed-service",
        }),
      ].map((input) => {
        const cfg = parseConfig(input);
        return cfg.kind === "platform" ? cfg.meshfedServicePolicy : "not a platform stack";
      });
      expect(modes).to.deep.equal(["create", "attach", "attach", "create"]);
    });

    it("reads guardrailTargets (OU or root ids) and refuses anything else, naming the key", () => {
      const cfg = parseConfig(platformInput({ guardrailTargets: '["ou-ab12-cd34ef56", "r-ab12"]' }));
      if (cfg.kind !== "platform") throw new Error("expected the platform stack");
      expect(cfg.guardrailTargets).to.deep.equal(["ou-ab12-cd34ef56", "r-ab12"]);
      expect(() => parseConfig(platformInput({ guardrailTargets: '["/Workloads"]' }))).to.throw(
        ConfigError,
        'meshstack-avm:guardrailTargets entries must be OU ids (ou-...) or root ids (r-...), got "/Workloads"',
      );
      expect(() => parseConfig(platformInput({ guardrailTargets: '["r-ab12", "r-ab12"]' }))).to.throw(
        ConfigError,
        "meshstack-avm:guardrailTargets must not list a target twice",
      );
    });

    it("reads the entry point's operator-only settings and refuses contradictions, naming the key", () => {
      const cfg = parseConfig(
        platformInput({
          entryPointVending: "true",
          entryPointAdoption: "false",
          entryPointTargetOus: '["ou-ab12-cd34ef56", "/Workloads/Sandbox", "r-ab12"]',
          defaultOuId: "ou-ab12-cd34ef56",
        }),
      );
      if (cfg.kind !== "platform") throw new Error("expected the platform stack");
      expect(cfg.entryPointAuthority).to.deep.equal({
        vend: true,
        adopt: false,
        moveTargets: ["ou-ab12-cd34ef56", "/Workloads/Sandbox", "r-ab12"],
      });
      const cases: [Record<string, unknown>, string][] = [
        [{ entryPointVending: "yes" }, 'meshstack-avm:entryPointVending must be true or false, got "yes"'],
        [
          { entryPointAdoption: "true" },
          "meshstack-avm:entryPointAdoption needs meshstack-avm:entryPointVending: adoption happens only through a vend request",
        ],
        [
          { entryPointTargetOus: '["ou-ab12-cd34ef56"]' },
          "meshstack-avm:entryPointTargetOus needs meshstack-avm:entryPointVending: only vend requests move accounts, the meshStack hook never does",
        ],
        [
          { entryPointVending: "true", entryPointTargetOus: '["Sandbox"]' },
          'meshstack-avm:entryPointTargetOus entries must be OU ids (ou-...), root ids (r-...) or OU paths (/A/B), got "Sandbox"',
        ],
        [
          { entryPointVending: "true", entryPointTargetOus: "ou-ab12-cd34ef56" },
          "meshstack-avm:entryPointTargetOus must be a JSON array of OU ids, root ids or OU paths, got invalid JSON",
        ],
        [
          { entryPointVending: "true", defaultOuId: "ou-ab12-cd34ef56" },
          "meshstack-avm:entryPointTargetOus must list meshstack-avm:defaultOuId ou-ab12-cd34ef56 when meshstack-avm:entryPointVending is true (vend requests naming no OU go there)",
        ],
      ];
      for (const [values, message] of cases) {
        expect(() => parseConfig(platformInput(values)), message).to.throw(ConfigError, message);
      }
      expect(() => parseConfig(accountInput({ entryPointVending: "true" }))).to.throw(
        ConfigError,
        'meshstack-avm:entryPointVending applies only to the platform stack; remove it from account stack "account-222233334444"',
      );
    });

    it("reads numbers from strings, custom values and secrets", async () => {
      const cfg = parseConfig(
        platformInput({
          vendingRoleName: "CustomVending",
          managementDeployRoleArn: "arn:aws:iam::111122223333:role/deploy/PulumiDeploy",
          defaultOuId: "ou-ab12-cd34ef56",
          logRetentionDays: "365",
          maxConcurrentCreates: 2,
          webhookSecret: "0123456789abcdef",
          pulumiOrganization: "example-org",
          pulumiAccessToken: "pul-0123456789",
          pulumiRepoUrl: "https://github.com/example/meshstack-avm.git",
          pulumiRepoBranch: "release/1.x",
          pulumiRepoDir: "infra/avm",
        }),
      );
      if (cfg.kind !== "platform") throw new Error("expected the platform stack");
      expect([
        cfg.vendingRoleName,
        cfg.managementDeployRoleArn,
        cfg.defaultOuId,
        cfg.logRetentionDays,
        cfg.maxConcurrentCreates,
        cfg.pulumiOrganization,
        cfg.pulumiRepoUrl,
        cfg.pulumiRepoBranch,
        cfg.pulumiRepoDir,
      ]).to.deep.equal([
        "CustomVending",
        "arn:aws:iam::111122223333:role/deploy/PulumiDeploy",
        "ou-ab12-cd34ef56",
        365,
        2,
        "example-org",
        "https://github.com/example/meshstack-avm.git",
        "release/1.x",
        "infra/avm",
      ]);
      expect(await pulumi.isSecret(cfg.webhookSecret!)).to.equal(true);
      expect(await pulumi.isSecret(cfg.pulumiAccessToken!)).to.equal(true);
    });

    it("accepts a root id as default OU and stackKind platform on any non-account name", () => {
      const cfg = parseConfig(platformInput({ defaultOuId: "r-ab12", stackKind: "platform" }, "prod"));
      expect(cfg.kind).to.equal("platform");
    });
  });

  describe("validation errors", () => {
    const ns = CONFIG_NAMESPACE;
    const cases: [string, ConfigInput, string][] = [
      [
        "a short management account id",
        platformInput({ managementAccountId: "123" }),
        `${ns}:managementAccountId must be a 12-digit AWS account id, got "123"`,
      ],
      [
        "a missing automation account id",
        platformInput({ automationAccountId: undefined }),
        `${ns}:automationAccountId is required and must be a 12-digit AWS account id`,
      ],
      [
        "a missing region",
        { ...platformInput(), region: undefined },
        "aws:region is required and must be an AWS region name such as eu-central-1",
      ],
      [
        "a malformed region",
        { ...platformInput(), region: "Frankfurt" },
        'aws:region must be an AWS region name such as eu-central-1, got "Frankfurt"',
      ],
      [
        "a principal ARN without user/ or role/ (the tutorial's defect)",
        platformInput({ meshfedServicePrincipalArn: "arn:aws:iam::111122223333:meshfed-service" }),
        `${ns}:meshfedServicePrincipalArn must be an IAM user or role ARN (arn:<partition>:iam::<12 digits>:user/<name> or :role/<name>), got "arn:aws:iam::111122223333:meshfed-service"`,
      ],
      [
        "an invalid external id, without echoing it",
        platformInput({ externalId: "x" }),
        `${ns}:externalId must be 2-1224 characters of letters, digits and +=,.@:/-_ (value not shown: secret)`,
      ],
      [
        "an invalid role name",
        platformInput({ accessRoleName: "bad name" }),
        `${ns}:accessRoleName must be an IAM role name (1-64 characters of letters, digits and +=,.@-_), got "bad name"`,
      ],
      [
        "the Organizations bootstrap role as access role name",
        platformInput({ accessRoleName: "OrganizationAccountAccessRole" }),
        `${ns}:accessRoleName must not be OrganizationAccountAccessRole: AWS Organizations creates that admin role in every new account; choose another name (default MeshstackAccountAccessRole)`,
      ],
      [
        "a 65-character bootstrap role name",
        platformInput({ bootstrapRoleName: "r".repeat(65) }),
        `${ns}:bootstrapRoleName must be an IAM role name (1-64 characters of letters, digits and +=,.@-_), got "${"r".repeat(65)}"`,
      ],
      [
        "an invalid SAML provider name",
        platformInput({ samlProviderName: "a b" }),
        `${ns}:samlProviderName must be 1-128 characters of letters, digits and ._-, got "a b"`,
      ],
      [
        "an unknown stack kind",
        platformInput({ stackKind: "shared" }),
        `${ns}:stackKind must be "platform" or "account", got "shared"`,
      ],
      [
        "stackKind platform on an account stack name",
        accountInput({ stackKind: "platform" }),
        `${ns}:stackKind is "platform" but stack "account-${ACCOUNT}" is named like an account stack (account-<12-digit id>); use another stack name for the platform stack or set stackKind to "account"`,
      ],
      [
        "stackKind account on a platform stack name",
        platformInput({ stackKind: "account" }),
        `${ns}:stackKind is "account" but stack "dev" is not named account-<12-digit id>`,
      ],
      [
        "an account stack without accountId",
        accountInput({ accountId: undefined }),
        `${ns}:accountId is required on account stack "account-${ACCOUNT}" and must be "${ACCOUNT}"`,
      ],
      [
        "an accountId that differs from the stack name",
        accountInput({ accountId: "999988887777" }),
        `${ns}:accountId must equal the account id in the stack name "account-${ACCOUNT}" ("${ACCOUNT}"), got "999988887777"`,
      ],
      [
        "an accountId on the platform stack",
        platformInput({ accountId: ACCOUNT }),
        `${ns}:accountId is set but stack "dev" is the platform stack; account stacks are named account-<12-digit id>`,
      ],
      [
        "a platform key on an account stack",
        accountInput({ organizationId: "o-exampleorg1" }),
        `${ns}:organizationId applies only to the platform stack; remove it from account stack "account-${ACCOUNT}"`,
      ],
      [
        "an account key on the platform stack",
        platformInput({ tags: { a: "b" } }),
        `${ns}:tags applies only to account stacks; remove it from platform stack "dev"`,
      ],
      [
        "a missing organization id",
        platformInput({ organizationId: undefined }),
        `${ns}:organizationId is required and must be an AWS Organizations id (o- followed by 10-32 lower-case letters or digits)`,
      ],
      [
        "a malformed organization id",
        platformInput({ organizationId: "o-short" }),
        `${ns}:organizationId must be an AWS Organizations id (o- followed by 10-32 lower-case letters or digits), got "o-short"`,
      ],
      [
        "a management deploy role in another account",
        platformInput({ managementDeployRoleArn: "arn:aws:iam::999988887777:role/Deploy" }),
        `${ns}:managementDeployRoleArn must be a role in the management account 111122223333 (${ns}:managementAccountId), got "arn:aws:iam::999988887777:role/Deploy"`,
      ],
      [
        "a user ARN as management deploy role",
        platformInput({ managementDeployRoleArn: "arn:aws:iam::111122223333:user/Deploy" }),
        `${ns}:managementDeployRoleArn must be an IAM role ARN (arn:<partition>:iam::<12 digits>:role/<name>), got "arn:aws:iam::111122223333:user/Deploy"`,
      ],
      [
        "an account id as default OU",
        platformInput({ defaultOuId: "222233334444" }),
        `${ns}:defaultOuId must be an organizational unit id (ou-...) or a root id (r-...), got "222233334444"`,
      ],
      [
        "a retention CloudWatch Logs does not offer",
        platformInput({ logRetentionDays: 100 }),
        `${ns}:logRetentionDays must be one of the CloudWatch Logs retention periods (${LOG_RETENTION_DAYS_ALLOWED.join(", ")}), got 100`,
      ],
      [
        "a non-integer retention",
        platformInput({ logRetentionDays: "ninety" }),
        `${ns}:logRetentionDays must be an integer, got "ninety"`,
      ],
      [
        "more than 5 concurrent creates",
        platformInput({ maxConcurrentCreates: 6 }),
        `${ns}:maxConcurrentCreates must be between 1 and 5 (AWS allows 5 CreateAccount requests in flight), got 6`,
      ],
      [
        "zero concurrent creates",
        platformInput({ maxConcurrentCreates: "0" }),
        `${ns}:maxConcurrentCreates must be between 1 and 5 (AWS allows 5 CreateAccount requests in flight), got 0`,
      ],
      [
        "a short webhook secret, without echoing it",
        platformInput({ webhookSecret: "short" }),
        `${ns}:webhookSecret must be 16-4096 characters (value not shown: secret)`,
      ],
      [
        "an invalid Pulumi organization",
        platformInput({ pulumiOrganization: "-bad org" }),
        `${ns}:pulumiOrganization must be a Pulumi Cloud organization name (letters, digits, ._-, at most 100 characters), got "-bad org"`,
      ],
      [
        "a repository URL that is not https",
        platformInput({ pulumiRepoUrl: "git@github.com:example/avm.git" }),
        `${ns}:pulumiRepoUrl must be an https:// git clone URL, got "git@github.com:example/avm.git"`,
      ],
      [
        "a branch with ..",
        platformInput({ pulumiRepoBranch: "main/../x" }),
        `${ns}:pulumiRepoBranch must be a git branch name (letters, digits and ._/-, no ".."), got "main/../x"`,
      ],
      [
        "an absolute repository directory",
        platformInput({ pulumiRepoDir: "/etc" }),
        `${ns}:pulumiRepoDir must be a relative directory inside the repository (letters, digits and ._/-, no ".."), got "/etc"`,
      ],
      [
        "an unknown meshfedServicePolicy mode",
        platformInput({ meshfedServicePolicy: "boundary" }),
        `${ns}:meshfedServicePolicy must be one of none, create, attach, got "boundary"`,
      ],
      [
        "meshfedServicePolicy attach for a principal outside the management account",
        platformInput({
          meshfedServicePolicy: "attach",
          meshfedServicePrincipalArn: "arn:aws:iam::999988887777:user/meshfed-service",
        }),
        `${ns}:meshfedServicePolicy "attach" needs ${ns}:meshfedServicePrincipalArn in the management account 111122223333, got "arn:aws:iam::999988887777:user/meshfed-service"; use "create" and attach the policy where that principal is managed`,
      ],
      [
        "meshfedServicePolicy on an account stack",
        accountInput({ meshfedServicePolicy: "create" }),
        `${ns}:meshfedServicePolicy applies only to the platform stack; remove it from account stack "account-${ACCOUNT}"`,
      ],
      [
        "an upper-case account alias",
        accountInput({ accountAlias: "Acme" }),
        `${ns}:accountAlias must be 3-63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit, got "Acme"`,
      ],
      [
        "tags that are not JSON",
        accountInput({ tags: "{CostCenter" }),
        `${ns}:tags must be a JSON object, got invalid JSON`,
      ],
      ["tags that are a list", accountInput({ tags: "[]" }), `${ns}:tags must be a JSON object`],
      [
        "a tag with a non-string value",
        accountInput({ tags: { CostCenter: ["1234"] } }),
        `${ns}:tags: value of tag "CostCenter" must be a string of 0-256 letters, digits, spaces or _.:/=+-@`,
      ],
      [
        "a tag value that config set --path stored as a number",
        accountInput({ tags: { CostCenter: 1234 } }),
        `${ns}:tags: value of tag "CostCenter" must be a string, got the number 1234; write tag values with \`pulumi config set --type string --path\` or set ${ns}:tags as one JSON object`,
      ],
      [
        "a tag value that config set --path stored as a boolean",
        accountInput({ tags: '{"Critical":true}' }),
        `${ns}:tags: value of tag "Critical" must be a string, got the boolean true; write tag values with \`pulumi config set --type string --path\` or set ${ns}:tags as one JSON object`,
      ],
      [
        "a tag key in the aws: namespace",
        accountInput({ tags: { "aws:owner": "x" } }),
        `${ns}:tags: tag key "aws:owner" must be 1-128 letters, digits, spaces or _.:/=+-@ and must not start with aws:`,
      ],
      [
        "51 tags",
        accountInput({ tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"])) }),
        `${ns}:tags must have at most 50 tags, got 51`,
      ],
      [
        "an unknown alternate contact type",
        accountInput({ alternateContacts: { legal: {} } }),
        `${ns}:alternateContacts: unknown contact type "legal" (allowed: operations, billing, security)`,
      ],
      [
        "an alternate contact without phone number",
        accountInput({ alternateContacts: { billing: { name: "A", title: "B", emailAddress: "a@example.com" } } }),
        `${ns}:alternateContacts.billing.phoneNumber is required and must be 1-25 digits, spaces and ()+-`,
      ],
      [
        "an alternate contact with an invalid email",
        accountInput({
          alternateContacts: { operations: { name: "A", title: "B", emailAddress: "nope", phoneNumber: "1" } },
        }),
        `${ns}:alternateContacts.operations.emailAddress is required and must be an email address of at most 254 characters`,
      ],
      [
        "an alternate contact with an unknown field",
        accountInput({ alternateContacts: { operations: { fax: "1" } } }),
        `${ns}:alternateContacts.operations: unknown field "fax" (allowed: name, title, emailAddress, phoneNumber)`,
      ],
      [
        "a number where a string is expected",
        platformInput({ organizationId: 42 }),
        `${ns}:organizationId must be a string, got number`,
      ],
      [
        "a secret of another type, without echoing it",
        accountInput({ externalId: 12345678 }),
        `${ns}:externalId must be a string, got number`,
      ],
      [
        "a boolean written in capitals",
        platformInput({ entryPointVending: "TRUE" }),
        `${ns}:entryPointVending must be true or false, got "TRUE"`,
      ],
      [
        "a number as boolean",
        platformInput({ deploymentsOidc: 1 }),
        `${ns}:deploymentsOidc must be true or false, got 1`,
      ],
      [
        "a fractional number",
        platformInput({ logRetentionDays: 1.5 }),
        `${ns}:logRetentionDays must be an integer, got 1.5`,
      ],
      [
        "a fraction written as text",
        platformInput({ maxConcurrentCreates: "1.5" }),
        `${ns}:maxConcurrentCreates must be an integer, got "1.5"`,
      ],
      [
        "an integer beyond the safe range",
        platformInput({ logRetentionDays: "99999999999999999999" }),
        `${ns}:logRetentionDays must be an integer, got "99999999999999999999"`,
      ],
      [
        "entry point targets that are not a list",
        platformInput({ entryPointVending: "true", entryPointTargetOus: "{}" }),
        `${ns}:entryPointTargetOus must be a list of OU ids (ou-...), root ids (r-...) or OU paths (/A/B)`,
      ],
      [
        "a guardrail target that is not a string",
        platformInput({ guardrailTargets: [null] }),
        `${ns}:guardrailTargets entries must be OU ids (ou-...) or root ids (r-...), got null`,
      ],
      [
        "a tag value with a character AWS does not allow",
        accountInput({ tags: { Owner: "a!b" } }),
        `${ns}:tags: value of tag "Owner" must be a string of 0-256 letters, digits, spaces or _.:/=+-@`,
      ],
      [
        "an alternate contact that is not an object",
        accountInput({ alternateContacts: { security: "sec@example.com" } }),
        `${ns}:alternateContacts.security must be an object {name, title, emailAddress, phoneNumber}`,
      ],
      [
        "an alternate contact name of 65 characters",
        accountInput({
          alternateContacts: {
            security: { name: "n".repeat(65), title: "T", emailAddress: "a@example.com", phoneNumber: "1" },
          },
        }),
        `${ns}:alternateContacts.security.name is required and must be 1-64 characters`,
      ],
    ];
    for (const [what, input, message] of cases) {
      it(`rejects ${what}`, () => {
        expect(errorOf(input)).to.equal(message);
      });
    }

    it("keeps the JSON parser's error as the cause of an invalid JSON value", () => {
      try {
        parseConfig(accountInput({ alternateContacts: "{security" }));
        expect.fail("parseConfig did not throw");
      } catch (error) {
        expect([(error as ConfigError).key, (error as Error).message]).to.deep.equal([
          qualifiedKey("alternateContacts"),
          `${ns}:alternateContacts must be a JSON object, got invalid JSON`,
        ]);
        expect((error as Error).cause).to.be.instanceOf(SyntaxError);
      }
    });

    it("treats null as an unset value and accepts booleans as booleans", () => {
      const cfg = parseConfig(
        platformInput({ logRetentionDays: null, entryPointVending: true, entryPointAdoption: false, tags: undefined }),
      );
      if (cfg.kind !== "platform") throw new Error("expected the platform stack");
      expect([cfg.logRetentionDays, cfg.entryPointAuthority]).to.deep.equal([
        90,
        { vend: true, adopt: false, moveTargets: [] },
      ]);
    });

    it("names the key on the error object", () => {
      try {
        parseConfig(platformInput({ managementAccountId: "123" }));
        expect.fail("parseConfig did not throw");
      } catch (error) {
        expect((error as ConfigError).key).to.equal(qualifiedKey("managementAccountId"));
      }
    });
  });

  describe("Pulumi.yaml and Pulumi.dev.yaml", () => {
    const root = path.resolve(__dirname, "..", "..");
    const project = yaml.load(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as {
      name: string;
      runtime: { name: string; options: Record<string, unknown> };
      config: Record<string, { type: string; description: string; secret?: boolean; default?: unknown }>;
    };

    it("names the project as the shared contract and the config namespace do, run by Node.js through tsx", () => {
      expect([project.name, project.runtime, CONFIG_NAMESPACE]).to.deep.equal([
        "meshstack-avm",
        { name: "nodejs", options: { typescript: false, nodeargs: "--import tsx" } },
        "meshstack-avm",
      ]);
    });

    const projectText = fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8");
    /** Keys listed in Pulumi.yaml's comment of keys the engine's rule does not let it declare. */
    const undeclared = [...projectText.matchAll(/^#   (\w+) \(([^)]*)\): .+$/gm)].map((m) => ({
      key: m[1] as string,
      facets: (m[2] as string).split(", "),
    }));

    it("declares only keys every stack kind requires or defaults, typed and described", () => {
      expect(Object.keys(project.config).sort()).to.deep.equal(
        [
          "accessRoleName",
          "automationAccountId",
          "bootstrapRoleName",
          "managementAccountId",
          "samlProviderName",
        ].sort(),
      );
      for (const [key, declaration] of Object.entries(project.config)) {
        expect(declaration.type, key).to.equal("string");
        expect(declaration.description.length, key).to.be.greaterThan(10);
        expect(declaration.secret, key).to.equal(undefined);
      }
    });

    it("declares without a default only keys that both stack kinds require (the engine requires them everywhere)", () => {
      const required = Object.entries(project.config)
        .filter(([, declaration]) => declaration.default === undefined)
        .map(([key]) => key as ConfigKey);
      for (const key of required) {
        expect(() => parseConfig(platformInput({ [key]: undefined })), key).to.throw(ConfigError, "is required");
        expect(() => parseConfig(accountInput({ [key]: undefined })), key).to.throw(ConfigError, "is required");
      }
      expect(required.sort()).to.deep.equal(["automationAccountId", "managementAccountId"]);
    });

    it("documents every other key the program reads in the comment, with its kind and secrecy", () => {
      const all = [...CONFIG_KEYS.common, ...CONFIG_KEYS.account, ...CONFIG_KEYS.platform];
      expect(undeclared.map((u) => u.key).sort()).to.deep.equal(all.filter((key) => !(key in project.config)).sort());
      const kindOf = (key: ConfigKey): string =>
        (CONFIG_KEYS.common as readonly string[]).includes(key)
          ? "both"
          : (CONFIG_KEYS.account as readonly string[]).includes(key)
            ? "account stacks"
            : "platform stack";
      for (const { key, facets } of undeclared) {
        expect(facets[0], key).to.equal(kindOf(key as ConfigKey));
        expect(facets.includes("secret"), key).to.equal((CONFIG_KEYS.secret as readonly string[]).includes(key));
      }
    });

    it("gives defaults only to keys both stack kinds read, equal to the program's defaults", () => {
      const defaults = Object.fromEntries(
        Object.entries(project.config)
          .filter(([, declaration]) => declaration.default !== undefined)
          .map(([key, declaration]) => [key, declaration.default]),
      );
      const cfg = parseConfig(platformInput());
      expect(defaults).to.deep.equal({
        accessRoleName: cfg.accessRoleName,
        samlProviderName: cfg.samlProviderName,
        bootstrapRoleName: cfg.bootstrapRoleName,
      });
    });

    it("holds an example platform stack that validates", () => {
      const stack = yaml.load(fs.readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8")) as {
        config: Record<string, unknown>;
      };
      const prefix = `${CONFIG_NAMESPACE}:`;
      const values = Object.fromEntries(
        Object.entries(stack.config)
          .filter(([key]) => key.startsWith(prefix))
          .map(([key, value]) => [key.slice(prefix.length), value]),
      );
      const cfg = parseConfig({ stackName: "dev", region: stack.config["aws:region"] as string, values });
      expect(cfg.kind).to.equal("platform");
    });
  });
});
