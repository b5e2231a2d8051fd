/**
 * {@link parseConfig}: validates a plain object of raw configuration values (pure, testable without Pulumi mocks)
 * and returns the typed, frozen configuration of the stack. The order: what decides the stack kind, the keys both
 * kinds read, keys foreign to the kind, the kind's own keys, then the rules between keys. The first broken rule is
 * raised as a {@link ConfigError} naming the key.
 */
import type * as pulumi from "@pulumi/pulumi";
import type * as z from "zod";
import { ConfigError } from "./configError";
import { checkPlatformRules, rejectForeignKeys, stackKindOf } from "./crossFieldRules";
import { type ConfigKey, REGION_KEY, qualifiedKey } from "./keys";
import { ACCOUNT_SCHEMA, COMMON_SCHEMA, PLATFORM_SCHEMA, STACK_IDENTITY_SCHEMA } from "./schemas";
import type { AccountStackConfig, AvmConfig, CommonConfig, ConfigInput, PlatformStackConfig } from "./types";

/**
 * Validates raw configuration values and returns the typed, frozen configuration of the stack.
 * Pure apart from wrapping secret values with `pulumi.secret`; a configuration without secret values (the account
 * stack config the CLI checks before every account stack) does not load the Pulumi SDK.
 * @throws ConfigError naming the key and the rule for every invalid, missing or contradictory value.
 */
export function parseConfig(input: ConfigInput): AvmConfig {
  const { stackName } = input;
  // A key set to null is as good as absent (it is still foreign to the other stack kind, see rejectForeignKeys).
  const values = Object.fromEntries(Object.entries(input.values).map(([key, value]) => [key, value ?? undefined]));
  const identity = validate(STACK_IDENTITY_SCHEMA, values);
  const kind = stackKindOf(stackName, identity.stackKind, identity.accountId);
  const shared = validate(COMMON_SCHEMA, { ...values, region: input.region });
  const common: CommonConfig = {
    stackName,
    region: shared.region,
    managementAccountId: shared.managementAccountId,
    automationAccountId: shared.automationAccountId,
    meshfedServicePrincipalArn: shared.meshfedServicePrincipalArn,
    externalId: secret(shared.externalId),
    accessRoleName: shared.accessRoleName,
    samlProviderName: shared.samlProviderName,
    bootstrapRoleName: shared.bootstrapRoleName,
  };
  rejectForeignKeys(stackName, kind, input.values);
  if (kind === "account") {
    const account = validate(ACCOUNT_SCHEMA, values);
    return deepFreeze<AccountStackConfig>({
      ...common,
      kind,
      accountId: account.accountId,
      accountAlias: account.accountAlias,
      alternateContacts: account.alternateContacts,
      tags: account.tags,
    });
  }
  const platform = validate(PLATFORM_SCHEMA, values);
  checkPlatformRules(common.managementAccountId, common.meshfedServicePrincipalArn, platform);
  return deepFreeze<PlatformStackConfig>({
    ...common,
    kind,
    organizationId: platform.organizationId,
    vendingRoleName: platform.vendingRoleName,
    managementDeployRoleArn: platform.managementDeployRoleArn,
    defaultOuId: platform.defaultOuId,
    logRetentionDays: platform.logRetentionDays,
    maxConcurrentCreates: platform.maxConcurrentCreates,
    webhookSecret: secret(platform.webhookSecret),
    pulumiOrganization: platform.pulumiOrganization,
    pulumiAccessToken: secret(platform.pulumiAccessToken),
    pulumiRepoUrl: platform.pulumiRepoUrl,
    pulumiRepoBranch: platform.pulumiRepoBranch,
    pulumiRepoDir: platform.pulumiRepoDir,
    meshfedServicePolicy: platform.meshfedServicePolicy,
    entryPointAuthority: {
      vend: platform.entryPointVending,
      adopt: platform.entryPointAdoption,
      moveTargets: platform.entryPointTargetOus,
    },
    guardrailTargets: platform.guardrailTargets,
    deploymentsOidc: platform.deploymentsOidc ? { providerArn: platform.deploymentsOidcProviderArn } : undefined,
  });
}

/** `schema`'s output for `value`, or the {@link ConfigError} of its first issue. */
function validate<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw configError(result.error.issues);
}

/**
 * The first issue as a {@link ConfigError}: its message is already the final one (see `schemas.ts`); the key is the
 * issue's first path element. Within one key, an unknown field is reported before the rules of the known fields.
 */
function configError(issues: readonly z.core.$ZodIssue[]): ConfigError {
  const field = issues[0]?.path[0];
  const issue = issues.find((i) => i.path[0] === field && i.code === "unrecognized_keys") ?? issues[0];
  const key = field === "region" ? REGION_KEY : qualifiedKey(field as ConfigKey);
  const cause: unknown = issue?.code === "custom" ? issue.params?.["cause"] : undefined;
  return new ConfigError(key, issue?.message ?? `${key} is invalid`, cause === undefined ? undefined : { cause });
}

/** The Pulumi SDK, loaded with the first secret value (loading it costs the CLI about half a second). */
let sdk: typeof pulumi | undefined;

function secret(value: string | undefined): pulumi.Output<string> | undefined {
  if (value === undefined) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  sdk ??= require("@pulumi/pulumi") as typeof pulumi;
  return sdk.secret(value);
}

function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value)) {
    // Outputs come only from secret(), so none exist while the SDK is not loaded.
    const output = sdk?.Output.isInstance(inner) ?? false;
    if (typeof inner === "object" && inner !== null && !output && !Object.isFrozen(inner)) {
      deepFreeze(inner as object);
    }
  }
  return Object.freeze(value);
}
