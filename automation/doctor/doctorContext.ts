/**
 * What `avm doctor`'s checks read: the operator's settings, the platform stack outputs, AWS and Pulumi Cloud
 * clients, and a few facts earlier checks learned (caller account, organization) that later ones use.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { LambdaClient } from "@aws-sdk/client-lambda";
import type { OrganizationsClient } from "@aws-sdk/client-organizations";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { STSClient } from "@aws-sdk/client-sts";
import type { PulumiCloudClient } from "../../src/stacks/pulumiCloudClient";
import type { RunnerKind } from "../cli/settings";

/** Platform stack outputs the checks use (`pulumi stack output --json` of the platform stack). */
export interface PlatformOutputs {
  readonly entryPointArn?: string;
  readonly webhookUrl?: string;
  readonly ledgerTableName?: string;
  readonly queueUrl?: string;
  readonly deadLetterQueueUrl?: string;
  readonly [key: string]: unknown;
}

/** Where the outputs came from, or why there are none. */
export type OutputsSource =
  | { readonly kind: "none" }
  | { readonly kind: "loaded"; readonly source: string; readonly outputs: PlatformOutputs }
  | { readonly kind: "error"; readonly source: string; readonly message: string };

/** Temporary credentials from AssumeRole. */
export interface AssumedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

/** AWS clients of one doctor run (created lazily; {@link DoctorAws.destroy} releases them). */
export interface DoctorAws {
  sts(): STSClient;
  /** An STS client signing with `credentials` (the assumed bootstrap role). */
  stsWith(credentials: AssumedCredentials): STSClient;
  organizations(): OrganizationsClient;
  lambda(): LambdaClient;
  dynamodb(): DynamoDBClient;
  sqs(): SQSClient;
  destroy(): void;
}

/** Facts learned by earlier checks. */
export interface DoctorFacts {
  callerAccount?: string;
  callerArn?: string;
  partition?: string;
  organizationId?: string;
  managementAccountId?: string;
}

/** Everything the checks read. */
export interface DoctorContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Working directory (where the default state backend `.avm/state` lives). */
  readonly repoRoot: string;
  /** `--management-account-id` / `AVM_MANAGEMENT_ACCOUNT_ID`, when set. */
  readonly managementAccountId?: string;
  /** `--bootstrap-role` / `AVM_BOOTSTRAP_ROLE_NAME`, default `OrganizationAccountAccessRole`. */
  readonly bootstrapRoleName: string;
  /** `--runner` / `AVM_STACK_RUNNER`. */
  readonly runner: RunnerKind;
  readonly hasPulumiCli: boolean;
  readonly outputs: OutputsSource;
  /** `--stack` / `AVM_PLATFORM_STACK`, when the outputs were read from a stack (named in fixes). */
  readonly platformStack?: string;
  readonly aws: DoctorAws;
  /** The Pulumi Cloud client, or why there is none (e.g. `PULUMI_ACCESS_TOKEN is not set`). */
  readonly pulumi: { readonly client: PulumiCloudClient } | { readonly missing: string };
  /** `AVM_PULUMI_ORGANIZATION`, when set. */
  readonly pulumiOrganization?: string;
  /** `AVM_WEBHOOK_SECRET`, when set. Never printed. */
  readonly webhookSecret?: string;
  /** Runs `pulumi version`; undefined when no pulumi CLI can be run. */
  pulumiVersion(): Promise<string | undefined>;
  /** HTTP for the signed ping to the receiver (tests may swap it). */
  readonly fetch: typeof fetch;
  readonly facts: DoctorFacts;
}
