import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { bundleHandler, HANDLER_ENTRIES } from "../lambda/bundle";
import { ENV } from "../lambda/env";
import { DEPLOYMENTS_ROLE_NAME } from "../policies/deploymentsRole";
import { entryPointPolicy, lambdaTrustPolicy, webhookPolicy, workerPolicy } from "../policies/avmRoles";
import { AVM_RESOURCE_NAMES, lambdaLogGroupName } from "../policies/platformNames";
import { roleArn } from "../policies/stackPolicies";
import { LEDGER_INDEXES, LEDGER_KEY_ATTRIBUTES, LEDGER_TABLE } from "../adapters/aws/ledgerTable";
import { LeastPrivilegeRole } from "./leastPrivilegeRole";
import { HOOK_ONLY_AUTHORITY, type EntryPointAuthority } from "../core/vending/entryPointGate";

/** Lambda runtime of every AVM function. */
export const LAMBDA_RUNTIME = "nodejs22.x";

/**
 * Options of every child with a fixed physical name (queues, functions, log groups, the alarm, secrets): a
 * replacement deletes the old resource before creating the new one, which would otherwise collide with it by name.
 * The ledger table is the exception: it has deletion protection, so a replacement fails instead of losing records.
 * Renaming a child in code is not a replacement only with an alias (`aliases: [{ name: "<old name>" }]`).
 */
export const FIXED_NAME_OPTIONS = Object.freeze({ deleteBeforeReplace: true });

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
    const fixed = { parent: this, ...FIXED_NAME_OPTIONS };
    const names = AVM_RESOURCE_NAMES;
    const partition = pulumi.output(args.partition);
    const location = partition.apply((p) => ({ partition: p, region: args.region, accountId: args.accountId }));
    const vendingRoleArn = partition.apply((p) => roleArn(p, args.managementAccountId, args.vendingRoleName));

    const ledger = new aws.dynamodb.Table(
      `${name}-ledger`,
      {
        name: names.ledgerTable,
        billingMode: "PAY_PER_REQUEST",
        hashKey: LEDGER_TABLE.hashKey,
        attributes: LEDGER_KEY_ATTRIBUTES.map((attribute) => ({ name: attribute, type: "S" })),
        globalSecondaryIndexes: LEDGER_INDEXES.map((index) => ({ ...index, projectionType: "ALL" })),
        // Webhook delivery-dedupe items carry `expiresAt` (epoch seconds); see src/adapters/aws/dynamoDeliveryStore.ts.
        ttl: { attributeName: LEDGER_TABLE.ttlAttribute, enabled: true },
        pointInTimeRecovery: { enabled: true },
        serverSideEncryption: { enabled: true },
        deletionProtectionEnabled: true,
      },
      parent,
    );

    const deadLetterQueue = new aws.sqs.Queue(
      `${name}-dlq`,
      { name: names.deadLetterQueue, sqsManagedSseEnabled: true, messageRetentionSeconds: 1_209_600 },
      fixed,
    );
    const queue = new aws.sqs.Queue(
      `${name}-queue`,
      {
        name: names.workQueue,
        sqsManagedSseEnabled: true,
        visibilityTimeoutSeconds: QUEUE_VISIBILITY_TIMEOUT_SECONDS,
        messageRetentionSeconds: 1_209_600,
        redrivePolicy: pulumi.jsonStringify({
          deadLetterTargetArn: deadLetterQueue.arn,
          maxReceiveCount: MAX_RECEIVE_COUNT,
        }),
      },
      fixed,
    );

    // Messages only reach the dead-letter queue when the worker died on their last delivery: their requests stay
    // unfinished until `avm reconcile` ends or resumes them. No alarm action is set; route the alarm's state
    // changes (e.g. with an EventBridge rule on "CloudWatch Alarm State Change") to the team's notifications.
    new aws.cloudwatch.MetricAlarm(
      `${name}-dlq-alarm`,
      {
        name: names.deadLetterAlarm,
        alarmDescription: `Work messages are in the dead-letter queue ${names.deadLetterQueue}: their requests are unfinished. Run \`avm reconcile --dlq-url <deadLetterQueueUrl> --queue-url <queueUrl>\`.`,
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: deadLetterQueue.name },
        statistic: "Maximum",
        period: 300,
        evaluationPeriods: 1,
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
      },
      fixed,
    );

    const webhookSecret =
      args.webhookSecret === undefined
        ? undefined
        : storedSecret(
            this,
            `${name}-webhook-secret`,
            names.webhookSecret,
            args.webhookSecret,
            "Pulumi Cloud webhook HMAC secret of the AVM",
          );
    const externalId =
      args.externalId === undefined
        ? undefined
        : storedSecret(
            this,
            `${name}-external-id`,
            names.externalIdSecret,
            args.externalId,
            "sts:ExternalId of the meshStack access roles, for the account stacks the AVM starts",
          );
    const pulumiToken =
      args.pulumiAccessToken === undefined
        ? undefined
        : storedSecret(
            this,
            `${name}-pulumi-token`,
            names.pulumiTokenSecret,
            args.pulumiAccessToken,
            "Pulumi access token the AVM uses for Pulumi Deployments",
          );

    const entryPointRole = new LeastPrivilegeRole(
      `${name}-entry-point-role`,
      {
        roleName: names.entryPointRole,
        description: "Execution role of AVMEntryPoint",
        trustPolicy: lambdaTrustPolicy(),
        permissionsPolicy: pulumi
          .all([location, vendingRoleArn])
          .apply(([loc, vending]) => entryPointPolicy({ ...loc, vendingRoleArn: vending })),
      },
      parent,
    );
    const workerRole = new LeastPrivilegeRole(
      `${name}-worker-role`,
      {
        roleName: names.workerRole,
        description: "Execution role of the AVM worker",
        trustPolicy: lambdaTrustPolicy(),
        permissionsPolicy: pulumi.all([location, vendingRoleArn]).apply(([loc, vending]) =>
          workerPolicy({
            ...loc,
            vendingRoleArn: vending,
            pulumiTokenSecret: pulumiToken !== undefined,
            externalIdSecret: externalId !== undefined,
          }),
        ),
      },
      parent,
    );
    const webhookRole = new LeastPrivilegeRole(
      `${name}-webhook-role`,
      {
        roleName: names.webhookRole,
        description: "Execution role of the AVM's Pulumi Cloud webhook",
        trustPolicy: lambdaTrustPolicy(),
        permissionsPolicy: location.apply((loc) =>
          webhookPolicy({ ...loc, webhookSecret: webhookSecret !== undefined }),
        ),
      },
      parent,
    );

    const common: Record<string, pulumi.Input<string>> = {
      [ENV.ledgerTable]: ledger.name,
      [ENV.queueUrl]: queue.url,
    };
    const external = args.externalAwsSdk ?? false;
    const entryPoint = this.lambda(name, "entry-point", {
      functionName: names.entryPointFunction,
      entry: HANDLER_ENTRIES.entryPoint,
      role: entryPointRole,
      settings: LAMBDA_SETTINGS.entryPoint,
      retentionDays: args.logRetentionDays,
      externalAwsSdk: external,
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
    });
    const worker = this.lambda(name, "worker", {
      functionName: names.workerFunction,
      entry: HANDLER_ENTRIES.worker,
      role: workerRole,
      settings: LAMBDA_SETTINGS.worker,
      retentionDays: args.logRetentionDays,
      externalAwsSdk: external,
      environment: {
        ...common,
        [ENV.serviceName]: names.workerFunction,
        [ENV.managementRoleArn]: vendingRoleArn,
        [ENV.maxConcurrentCreates]: String(args.maxConcurrentCreates),
        [ENV.bootstrapRoleName]: args.bootstrapRoleName,
        [ENV.queueMaxReceiveCount]: String(MAX_RECEIVE_COUNT),
        ...(args.defaultOuId === undefined ? {} : { [ENV.defaultOuId]: args.defaultOuId }),
        ...(pulumiToken === undefined ? {} : { [ENV.pulumiTokenSecretArn]: pulumiToken.arn }),
        ...(args.pulumiOrganization === undefined ? {} : { [ENV.pulumiOrganization]: args.pulumiOrganization }),
        ...optionalEnv(ENV.pulumiRepoUrl, args.pulumiRepoUrl),
        ...optionalEnv(ENV.pulumiRepoBranch, args.pulumiRepoBranch),
        ...optionalEnv(ENV.pulumiRepoDir, args.pulumiRepoDir),
        ...optionalEnv(ENV.accessRoleName, args.accessRoleName),
        ...optionalEnv(ENV.samlProviderName, args.samlProviderName),
        ...optionalEnv(ENV.meshfedServicePrincipalArn, args.meshfedServicePrincipalArn),
        ...(externalId === undefined ? {} : { [ENV.externalIdSecretArn]: externalId.arn }),
        ...(args.deploymentsOidc === true
          ? {
              [ENV.deploymentsRoleArn]: partition.apply((p) =>
                roleArn(p, args.managementAccountId, DEPLOYMENTS_ROLE_NAME),
              ),
            }
          : {}),
      },
    });
    const webhook = this.lambda(name, "webhook", {
      functionName: names.webhookFunction,
      entry: HANDLER_ENTRIES.webhook,
      role: webhookRole,
      settings: LAMBDA_SETTINGS.webhook,
      retentionDays: args.logRetentionDays,
      externalAwsSdk: external,
      environment: {
        ...common,
        [ENV.serviceName]: names.webhookFunction,
        ...(webhookSecret === undefined ? {} : { [ENV.webhookSecretArn]: webhookSecret.arn }),
      },
    });

    // meshStack calls AVMEntryPoint from the access role of a managed account (another account of the organization).
    new aws.lambda.Permission(
      `${name}-entry-point-organization-invoke`,
      {
        function: entryPoint.name,
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
        functionName: worker.arn,
        batchSize: 10,
        functionResponseTypes: ["ReportBatchItemFailures"],
        // No more worker invocations than CreateAccount slots (AWS's minimum for this setting is 2).
        scalingConfig: { maximumConcurrency: workerMaximumConcurrency(args.maxConcurrentCreates) },
      },
      // Lambda checks the role's SQS permissions when the mapping is created.
      { parent: this, dependsOn: [workerRole.permissions] },
    );

    const webhookUrl = new aws.lambda.FunctionUrl(
      `${name}-webhook-url`,
      { functionName: webhook.name, authorizationType: "NONE", invokeMode: "BUFFERED" },
      // One URL per function: a replacement must remove the old one first.
      fixed,
    );
    // Since October 2025 a public Function URL needs both permissions:
    // https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html
    new aws.lambda.Permission(
      `${name}-webhook-url-invoke`,
      { function: webhook.name, action: "lambda:InvokeFunctionUrl", principal: "*", functionUrlAuthType: "NONE" },
      parent,
    );
    new aws.lambda.Permission(
      `${name}-webhook-function-invoke`,
      { function: webhook.name, action: "lambda:InvokeFunction", principal: "*", invokedViaFunctionUrl: true },
      parent,
    );

    this.entryPointArn = entryPoint.arn;
    this.workerFunctionArn = worker.arn;
    this.webhookUrl = webhookUrl.functionUrl;
    this.ledgerTableName = ledger.name;
    this.queueUrl = queue.url;
    this.deadLetterQueueUrl = deadLetterQueue.url;
    this.entryPointRoleArn = entryPointRole.roleArn;
    this.workerRoleArn = workerRole.roleArn;
    this.webhookRoleArn = webhookRole.roleArn;
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

  /** One function with its log group (created first, so Lambda never creates an unmanaged one). */
  private lambda(
    name: string,
    suffix: string,
    spec: {
      functionName: string;
      entry: string;
      role: LeastPrivilegeRole;
      settings: { timeout: number; memorySize: number };
      retentionDays: number;
      externalAwsSdk: boolean;
      environment: Record<string, pulumi.Input<string>>;
    },
  ): aws.lambda.Function {
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-${suffix}-logs`,
      { name: lambdaLogGroupName(spec.functionName), retentionInDays: spec.retentionDays },
      { parent: this, ...FIXED_NAME_OPTIONS },
    );
    const bundle = bundleHandler(spec.entry, { externalAwsSdk: spec.externalAwsSdk });
    return new aws.lambda.Function(
      `${name}-${suffix}`,
      {
        name: spec.functionName,
        runtime: LAMBDA_RUNTIME,
        handler: "index.handler",
        architectures: ["arm64"],
        role: spec.role.roleArn,
        code: new pulumi.asset.AssetArchive({ [bundle.fileName]: new pulumi.asset.StringAsset(bundle.code) }),
        timeout: spec.settings.timeout,
        memorySize: spec.settings.memorySize,
        environment: { variables: spec.environment },
        loggingConfig: { logFormat: "JSON", logGroup: logGroup.name },
      },
      { parent: this, dependsOn: [logGroup, spec.role.permissions], ...FIXED_NAME_OPTIONS },
    );
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

/** A Secrets Manager secret and its current value; the Lambdas get only the ARN. */
function storedSecret(
  parent: pulumi.Resource,
  resourceName: string,
  secretName: string,
  value: pulumi.Input<string>,
  description: string,
): aws.secretsmanager.Secret {
  // No recovery window: a destroy deletes the secret at once, so the next `up` can create it under the same name
  // (with the default 30-day window it would fail: "scheduled for deletion"). The value lives in stack config.
  const secret = new aws.secretsmanager.Secret(
    resourceName,
    { name: secretName, description, recoveryWindowInDays: 0 },
    { parent, ...FIXED_NAME_OPTIONS },
  );
  new aws.secretsmanager.SecretVersion(
    `${resourceName}-value`,
    { secretId: secret.id, secretString: pulumi.secret(value) },
    { parent },
  );
  return secret;
}
