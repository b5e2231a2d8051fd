import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { HOOK_ONLY_AUTHORITY, type EntryPointAuthority } from "../core/vending/entryPointGate";
import { HANDLER_ENTRIES } from "../lambda/bundle";
import { ENV } from "../lambda/env";
import { entryPointPolicy, webhookPolicy, workerPolicy } from "../policies/avmRoles";
import { DEPLOYMENTS_ROLE_NAME } from "../policies/deploymentsRole";
import { AVM_RESOURCE_NAMES } from "../policies/platformNames";
import { roleArn } from "../policies/stackPolicies";
import { AvmFunction } from "./avmFunction";
import { LedgerTable } from "./ledgerTable";
import { StoredSecret } from "./storedSecret";
import { WebhookEndpoint } from "./webhookEndpoint";
import { WorkQueue } from "./workQueue";

/** Timeouts (seconds) and memory (MB) of the AVM's functions. */
export const LAMBDA_SETTINGS = {
  /** meshStack invokes the entry point synchronously during replication: it must answer within seconds. */
  entryPoint: { timeout: 15, memorySize: 256 },
  /** One worker invocation drives each record of a batch one step further; long polls are re-enqueued. */
  worker: { timeout: 120, memorySize: 512 },
  webhook: { timeout: 10, memorySize: 256 },
} as const;

/** Messages delivered this often without success move to the dead-letter queue. */
export const MAX_RECEIVE_COUNT = 5;

/** Work-queue visibility timeout: 6x the worker timeout, as AWS recommends for SQS event sources. */
export const QUEUE_VISIBILITY_TIMEOUT_SECONDS = 6 * LAMBDA_SETTINGS.worker.timeout;

/** Arguments of {@link AccountVendingMachine}. */
export interface AccountVendingMachineArgs {
  /** AWS partition of the automation account (from `aws.getPartitionOutput`). */
  readonly partition: pulumi.Input<string>;
  /** Region of the automation account's resources. */
  readonly region: string;
  /** 12-digit id of the automation account (where this component is deployed). */
  readonly accountId: string;
  /** Organization id (`o-...`): principals of the organization may invoke `AVMEntryPoint`. */
  readonly organizationId: string;
  /** 12-digit id of the management account (home of the vending role). */
  readonly managementAccountId: string;
  /** Name of the vending role in the management account the worker assumes. */
  readonly vendingRoleName: string;
  /** Role AWS Organizations creates in new accounts, passed to the worker for account stacks. */
  readonly bootstrapRoleName: string;
  /** Default target OU for vend requests that name none. */
  readonly defaultOuId?: string | undefined;
  /** Retention of the log groups, in days (a CloudWatch Logs allowed value). */
  readonly logRetentionDays: number;
  /** Maximum CreateAccount requests in flight (1..5). */
  readonly maxConcurrentCreates: number;
  /** Pulumi Cloud webhook HMAC secret; stored in Secrets Manager when set. */
  readonly webhookSecret?: pulumi.Input<string> | undefined;
  /** Pulumi access token for Pulumi Deployments; stored in Secrets Manager when set. */
  readonly pulumiAccessToken?: pulumi.Input<string> | undefined;
  /** Pulumi Cloud organization of the account stacks. */
  readonly pulumiOrganization?: string | undefined;
  /** HTTPS clone URL, branch and directory of this repository for Pulumi Deployments of account stacks. */
  readonly pulumiRepoUrl?: string | undefined;
  readonly pulumiRepoBranch?: string | undefined;
  readonly pulumiRepoDir?: string | undefined;
  /** Access role name the worker writes into account stacks (default `MeshstackAccountAccessRole`). */
  readonly accessRoleName?: string | undefined;
  /** SAML provider name the access roles may update, written into account stacks (default `meshstack-saml-idp`). */
  readonly samlProviderName?: string | undefined;
  /** Principal the access roles trust, written into account stacks (the program's default when unset). */
  readonly meshfedServicePrincipalArn?: string | undefined;
  /** The access roles' `sts:ExternalId`; stored in Secrets Manager for the worker when set. */
  readonly externalId?: pulumi.Input<string> | undefined;
  /**
   * What `AVMEntryPoint` accepts beyond the meshStack hook (vend, adopt, move targets). Default
   * {@link HOOK_ONLY_AUTHORITY}: the hook only.
   */
  readonly entryPointAuthority?: EntryPointAuthority;
  /**
   * Pulumi Deployments of account stacks get AWS credentials through OIDC: the worker configures each stack's
   * deployment settings with the deploy role `AVMDeploymentsRole` of the management account (platform setting
   * `deploymentsOidc`). Default `false`: the settings leave cloud credentials to the operator.
   */
  readonly deploymentsOidc?: boolean;
  /** Bundle handlers with `@aws-sdk/*` left to the Lambda runtime (default `false`: SDK bundled, pinned). */
  readonly externalAwsSdk?: boolean;
}

/**
 * The worker's SQS event source `scalingConfig.maximumConcurrency`: the CreateAccount slots, at least 2 (the
 * smallest value AWS accepts: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-lambda-eventsourcemapping-scalingconfig.html).
 * @param maxConcurrentCreates CreateAccount requests in flight (1..5)
 */
export function workerMaximumConcurrency(maxConcurrentCreates: number): number {
  return Math.max(2, maxConcurrentCreates);
}

/**
 * The Account Vending Machine in the automation account: the `AVMEntryPoint` Lambda meshStack invokes after every
 * project replication, the SQS work queue (with dead-letter queue and a CloudWatch alarm on its depth) feeding the
 * worker Lambda, the DynamoDB request ledger, the webhook Lambda behind a Function URL for Pulumi Cloud, their log
 * groups and least-privilege roles, and Secrets Manager secrets for the webhook secret and the Pulumi token when
 * configured.
 *
 * Invoked by: meshStack through the access role of a managed account (`lambda:InvokeFunction` on `AVMEntryPoint`,
 * allowed by a resource policy for principals of the organization), by SQS (worker), and by Pulumi Cloud over the
 * public Function URL (the webhook verifies the HMAC signature; Pulumi Cloud cannot sign AWS requests, hence
 * `authorizationType: NONE`).
 */
export class AccountVendingMachine extends pulumi.ComponentResource {
  /** Pulumi type token. */
  static readonly TYPE = "avm:vending:AccountVendingMachine";
  /** ARN of `AVMEntryPoint` (configure it in meshStack). */
  readonly entryPointArn: pulumi.Output<string>;
  /** ARN of the worker function. */
  readonly workerFunctionArn: pulumi.Output<string>;
  /** Function URL to register as Pulumi Cloud webhook. */
  readonly webhookUrl: pulumi.Output<string>;
  /** Name of the DynamoDB ledger table. */
  readonly ledgerTableName: pulumi.Output<string>;
  /** URL of the work queue. */
  readonly queueUrl: pulumi.Output<string>;
  /** URL of the dead-letter queue. */
  readonly deadLetterQueueUrl: pulumi.Output<string>;
  /** ARN of the entry point's execution role. */
  readonly entryPointRoleArn: pulumi.Output<string>;
  /** ARN of the worker's execution role (the vending role trusts it). */
  readonly workerRoleArn: pulumi.Output<string>;
  /** ARN of the webhook's execution role. */
  readonly webhookRoleArn: pulumi.Output<string>;
  /** ARN of the management account's vending role the worker assumes. */
  readonly vendingRoleArn: pulumi.Output<string>;

  constructor(name: string, args: AccountVendingMachineArgs, opts?: pulumi.ComponentResourceOptions) {
    super(AccountVendingMachine.TYPE, name, {}, opts);
    const parent = { parent: this };
    const names = AVM_RESOURCE_NAMES;
    const partition = pulumi.output(args.partition);
    const location = partition.apply((p) => ({ partition: p, region: args.region, accountId: args.accountId }));
    const vendingRoleArn = partition.apply((p) => roleArn(p, args.managementAccountId, args.vendingRoleName));

    const ledger = new LedgerTable(`${name}-ledger`, { tableName: names.ledgerTable }, parent).table;
    const work = new WorkQueue(
      name,
      {
        queueName: names.workQueue,
        deadLetterQueueName: names.deadLetterQueue,
        alarmName: names.deadLetterAlarm,
        visibilityTimeoutSeconds: QUEUE_VISIBILITY_TIMEOUT_SECONDS,
        maxReceiveCount: MAX_RECEIVE_COUNT,
      },
      parent,
    );
    const { queue, deadLetterQueue } = work;

    const secret = (
      suffix: string,
      secretName: string,
      value: pulumi.Input<string> | undefined,
      description: string,
    ) =>
      value === undefined
        ? undefined
        : new StoredSecret(`${name}-${suffix}`, { secretName, value, description }, parent);
    const webhookSecret = secret(
      "webhook-secret",
      names.webhookSecret,
      args.webhookSecret,
      "Pulumi Cloud webhook HMAC secret of the AVM",
    );
    const externalId = secret(
      "external-id",
      names.externalIdSecret,
      args.externalId,
      "sts:ExternalId of the meshStack access roles, for the account stacks the AVM starts",
    );
    const pulumiToken = secret(
      "pulumi-token",
      names.pulumiTokenSecret,
      args.pulumiAccessToken,
      "Pulumi access token the AVM uses for Pulumi Deployments",
    );

    const common: Record<string, pulumi.Input<string>> = {
      [ENV.ledgerTable]: ledger.name,
      [ENV.queueUrl]: queue.url,
    };
    const shared = { retentionDays: args.logRetentionDays, externalAwsSdk: args.externalAwsSdk ?? false };
    const entryPoint = new AvmFunction(
      `${name}-entry-point`,
      {
        ...shared,
        functionName: names.entryPointFunction,
        entry: HANDLER_ENTRIES.entryPoint,
        roleName: names.entryPointRole,
        roleDescription: "Execution role of AVMEntryPoint",
        permissionsPolicy: pulumi
          .all([location, vendingRoleArn])
          .apply(([loc, vending]) => entryPointPolicy({ ...loc, vendingRoleArn: vending })),
        settings: LAMBDA_SETTINGS.entryPoint,
        environment: {
          ...common,
          [ENV.serviceName]: names.entryPointFunction,
          [ENV.maxConcurrentCreates]: String(args.maxConcurrentCreates),
          ...(args.defaultOuId === undefined ? {} : { [ENV.defaultOuId]: args.defaultOuId }),
          // Hook identity checks: DescribeAccount through the vending role, in a session limited to that call.
          [ENV.managementRoleArn]: vendingRoleArn,
          [ENV.managementAccountId]: args.managementAccountId,
          ...entryPointAuthorityEnv(args.entryPointAuthority ?? HOOK_ONLY_AUTHORITY),
        },
      },
      parent,
    );
    const worker = new AvmFunction(
      `${name}-worker`,
      {
        ...shared,
        functionName: names.workerFunction,
        entry: HANDLER_ENTRIES.worker,
        roleName: names.workerRole,
        roleDescription: "Execution role of the AVM worker",
        permissionsPolicy: pulumi.all([location, vendingRoleArn]).apply(([loc, vending]) =>
          workerPolicy({
            ...loc,
            vendingRoleArn: vending,
            pulumiTokenSecret: pulumiToken !== undefined,
            externalIdSecret: externalId !== undefined,
          }),
        ),
        settings: LAMBDA_SETTINGS.worker,
        environment: {
          ...common,
          ...workerEnvironment(args, {
            vendingRoleArn,
            pulumiTokenArn: pulumiToken?.arn,
            externalIdArn: externalId?.arn,
            deploymentsRoleArn: partition.apply((p) => roleArn(p, args.managementAccountId, DEPLOYMENTS_ROLE_NAME)),
          }),
        },
      },
      parent,
    );
    const webhook = new AvmFunction(
      `${name}-webhook`,
      {
        ...shared,
        functionName: names.webhookFunction,
        entry: HANDLER_ENTRIES.webhook,
        roleName: names.webhookRole,
        roleDescription: "Execution role of the AVM's Pulumi Cloud webhook",
        permissionsPolicy: location.apply((loc) =>
          webhookPolicy({ ...loc, webhookSecret: webhookSecret !== undefined }),
        ),
        settings: LAMBDA_SETTINGS.webhook,
        environment: {
          ...common,
          [ENV.serviceName]: names.webhookFunction,
          ...(webhookSecret === undefined ? {} : { [ENV.webhookSecretArn]: webhookSecret.arn }),
        },
      },
      parent,
    );

    // meshStack calls AVMEntryPoint from the access role of a managed account (another account of the organization).
    new aws.lambda.Permission(
      `${name}-entry-point-organization-invoke`,
      {
        function: entryPoint.function.name,
        action: "lambda:InvokeFunction",
        principal: "*",
        principalOrgId: args.organizationId,
      },
      parent,
    );

    new aws.lambda.EventSourceMapping(
      `${name}-worker-events`,
      {
        eventSourceArn: queue.arn,
        functionName: worker.function.arn,
        batchSize: 10,
        functionResponseTypes: ["ReportBatchItemFailures"],
        // No more worker invocations than CreateAccount slots (AWS's minimum for this setting is 2).
        scalingConfig: { maximumConcurrency: workerMaximumConcurrency(args.maxConcurrentCreates) },
      },
      // Lambda checks the role's SQS permissions when the mapping is created.
      { parent: this, dependsOn: [worker.role.permissions] },
    );

    const webhookEndpoint = new WebhookEndpoint(`${name}-webhook`, { functionName: webhook.function.name }, parent);

    this.entryPointArn = entryPoint.function.arn;
    this.workerFunctionArn = worker.function.arn;
    this.webhookUrl = webhookEndpoint.url;
    this.ledgerTableName = ledger.name;
    this.queueUrl = queue.url;
    this.deadLetterQueueUrl = deadLetterQueue.url;
    this.entryPointRoleArn = entryPoint.role.roleArn;
    this.workerRoleArn = worker.role.roleArn;
    this.webhookRoleArn = webhook.role.roleArn;
    this.vendingRoleArn = vendingRoleArn;
    this.registerOutputs({
      entryPointArn: this.entryPointArn,
      workerFunctionArn: this.workerFunctionArn,
      webhookUrl: this.webhookUrl,
      ledgerTableName: this.ledgerTableName,
      queueUrl: this.queueUrl,
      deadLetterQueueUrl: this.deadLetterQueueUrl,
      entryPointRoleArn: this.entryPointRoleArn,
      workerRoleArn: this.workerRoleArn,
      webhookRoleArn: this.webhookRoleArn,
      vendingRoleArn: this.vendingRoleArn,
    });
  }
}

/** The entry point's authority as environment variables; nothing for what is off (the handler's default). */
export function entryPointAuthorityEnv(authority: EntryPointAuthority): Record<string, string> {
  return {
    ...(authority.vend ? { [ENV.entryPointVending]: "true" } : {}),
    ...(authority.adopt ? { [ENV.entryPointAdoption]: "true" } : {}),
    ...(authority.moveTargets.length > 0 ? { [ENV.entryPointTargetOus]: JSON.stringify(authority.moveTargets) } : {}),
  };
}

/** `{ [name]: value }` when `value` is set, else nothing. */
function optionalEnv(name: string, value: string | undefined): Record<string, string> {
  return value === undefined ? {} : { [name]: value };
}

/**
 * The worker's own environment: the vending role it assumes, the CreateAccount slots, the account-stack settings
 * it writes into account stacks, and the ARNs (never the values) of the secrets it reads.
 */
function workerEnvironment(
  args: AccountVendingMachineArgs,
  refs: {
    readonly vendingRoleArn: pulumi.Input<string>;
    readonly pulumiTokenArn: pulumi.Input<string> | undefined;
    readonly externalIdArn: pulumi.Input<string> | undefined;
    readonly deploymentsRoleArn: pulumi.Input<string>;
  },
): Record<string, pulumi.Input<string>> {
  return {
    [ENV.serviceName]: AVM_RESOURCE_NAMES.workerFunction,
    [ENV.managementRoleArn]: refs.vendingRoleArn,
    [ENV.maxConcurrentCreates]: String(args.maxConcurrentCreates),
    [ENV.bootstrapRoleName]: args.bootstrapRoleName,
    [ENV.queueMaxReceiveCount]: String(MAX_RECEIVE_COUNT),
    ...optionalEnv(ENV.defaultOuId, args.defaultOuId),
    ...(refs.pulumiTokenArn === undefined ? {} : { [ENV.pulumiTokenSecretArn]: refs.pulumiTokenArn }),
    ...optionalEnv(ENV.pulumiOrganization, args.pulumiOrganization),
    ...optionalEnv(ENV.pulumiRepoUrl, args.pulumiRepoUrl),
    ...optionalEnv(ENV.pulumiRepoBranch, args.pulumiRepoBranch),
    ...optionalEnv(ENV.pulumiRepoDir, args.pulumiRepoDir),
    ...optionalEnv(ENV.accessRoleName, args.accessRoleName),
    ...optionalEnv(ENV.samlProviderName, args.samlProviderName),
    ...optionalEnv(ENV.meshfedServicePrincipalArn, args.meshfedServicePrincipalArn),
    ...(refs.externalIdArn === undefined ? {} : { [ENV.externalIdSecretArn]: refs.externalIdArn }),
    ...(args.deploymentsOidc === true ? { [ENV.deploymentsRoleArn]: refs.deploymentsRoleArn } : {}),
  };
}
