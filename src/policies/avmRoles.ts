/**
 * Execution roles of the AVM's Lambdas in the automation account: each can reach only its own log group, the ledger
 * table and its indexes, its queue, its secret and (worker only) the management account's vending role.
 */
import { type PolicyDocument, type PolicyStatement, policyDocument } from "./document";
import { AVM_RESOURCE_NAMES, lambdaLogGroupName } from "./platformNames";

/** Where the AVM runs. */
export interface AvmLocation {
  readonly partition: string;
  readonly region: string;
  /** 12-digit id of the automation account. */
  readonly accountId: string;
}

/** Inputs of {@link workerPolicy}. */
export interface WorkerPolicyArgs extends AvmLocation {
  /** ARN of the management account's vending role (the only role the worker may assume). */
  readonly vendingRoleArn: string;
  /** Whether a Pulumi access token secret exists (then the worker may read it). */
  readonly pulumiTokenSecret: boolean;
  /** Whether an external id secret exists (then the worker may read it to configure account stacks). */
  readonly externalIdSecret?: boolean;
}

/** Inputs of {@link webhookPolicy}. */
export interface WebhookPolicyArgs extends AvmLocation {
  /** Whether a webhook secret exists (then the webhook may read it). */
  readonly webhookSecret: boolean;
}

/**
 * Trust policy shared by the AVM's Lambda execution roles: only the Lambda service. (No `aws:SourceAccount`
 * condition: Lambda does not document setting it when it assumes an execution role.)
 */
export function lambdaTrustPolicy(): PolicyDocument {
  return policyDocument({
    Sid: "LambdaService",
    Effect: "Allow",
    Principal: { Service: "lambda.amazonaws.com" },
    Action: "sts:AssumeRole",
  });
}

/** ARN of a table in the AVM's account. */
export function ledgerTableArn(location: AvmLocation): string {
  return `arn:${location.partition}:dynamodb:${location.region}:${location.accountId}:table/${AVM_RESOURCE_NAMES.ledgerTable}`;
}

/** ARN of an SQS queue in the AVM's account. */
export function queueArn(location: AvmLocation, queueName: string): string {
  return `arn:${location.partition}:sqs:${location.region}:${location.accountId}:${queueName}`;
}

/**
 * Pattern matching a Secrets Manager secret named `secretName` (AWS appends `-` and six random characters).
 */
export function secretArnPattern(location: AvmLocation, secretName: string): string {
  return `arn:${location.partition}:secretsmanager:${location.region}:${location.accountId}:secret:${secretName}-??????`;
}

function logStatement(location: AvmLocation, functionName: string): PolicyStatement {
  const group = lambdaLogGroupName(functionName);
  return {
    Sid: "WriteOwnLogs",
    Effect: "Allow",
    Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
    Resource: `arn:${location.partition}:logs:${location.region}:${location.accountId}:log-group:${group}:*`,
  };
}

function ledgerStatement(location: AvmLocation, actions: readonly string[]): PolicyStatement {
  const table = ledgerTableArn(location);
  return { Sid: "Ledger", Effect: "Allow", Action: actions, Resource: [table, `${table}/index/*`] };
}

function enqueueWorkStatement(location: AvmLocation): PolicyStatement {
  return {
    Sid: "EnqueueWork",
    Effect: "Allow",
    Action: "sqs:SendMessage",
    Resource: queueArn(location, AVM_RESOURCE_NAMES.workQueue),
  };
}

/**
 * Ledger actions of the functions that read and write records (conditional PutItem is the compare-and-set) and
 * query the indexes; the worker also deletes its CreateAccount slot items.
 */
const LEDGER_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"] as const;

/** Inputs of {@link entryPointPolicy}. */
export interface EntryPointPolicyArgs extends AvmLocation {
  /** ARN of the management account's vending role (assumed only to check a hook's account id and email). */
  readonly vendingRoleArn: string;
}

/**
 * Permissions of `AVMEntryPoint`: validate, record in the ledger, enqueue; assume the vending role to look a
 * hook's account up (the handler passes a session policy that leaves only `organizations:DescribeAccount`).
 * The entry point could always make the worker act through a ledger record, so this adds no authority.
 */
export function entryPointPolicy(args: EntryPointPolicyArgs): PolicyDocument {
  return policyDocument(
    logStatement(args, AVM_RESOURCE_NAMES.entryPointFunction),
    ledgerStatement(args, LEDGER_ACTIONS),
    enqueueWorkStatement(args),
    { Sid: "AssumeVendingRole", Effect: "Allow", Action: "sts:AssumeRole", Resource: args.vendingRoleArn },
  );
}

/**
 * Permissions of the worker: consume (and re-enqueue to) the work queue, drive ledger records and take/release
 * CreateAccount slots (DeleteItem), assume the vending role, read the Pulumi token and external id secrets when
 * configured (the worker starts account stacks on Pulumi Deployments with them).
 */
export function workerPolicy(args: WorkerPolicyArgs): PolicyDocument {
  return policyDocument(
    logStatement(args, AVM_RESOURCE_NAMES.workerFunction),
    ledgerStatement(args, [...LEDGER_ACTIONS, "dynamodb:DeleteItem"]),
    {
      Sid: "ConsumeWork",
      Effect: "Allow",
      Action: [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
        "sqs:SendMessage",
      ],
      Resource: queueArn(args, AVM_RESOURCE_NAMES.workQueue),
    },
    { Sid: "AssumeVendingRole", Effect: "Allow", Action: "sts:AssumeRole", Resource: args.vendingRoleArn },
    ...(args.pulumiTokenSecret
      ? [
          {
            Sid: "ReadPulumiToken",
            Effect: "Allow" as const,
            Action: "secretsmanager:GetSecretValue",
            Resource: secretArnPattern(args, AVM_RESOURCE_NAMES.pulumiTokenSecret),
          },
        ]
      : []),
    ...(args.externalIdSecret === true
      ? [
          {
            Sid: "ReadExternalId",
            Effect: "Allow" as const,
            Action: "secretsmanager:GetSecretValue",
            Resource: secretArnPattern(args, AVM_RESOURCE_NAMES.externalIdSecret),
          },
        ]
      : []),
  );
}

/**
 * Permissions of the webhook function: dedupe deliveries and move ledger records on stack/deployment events (both in
 * the ledger table), enqueue the follow-up work, read the webhook secret when configured.
 */
export function webhookPolicy(args: WebhookPolicyArgs): PolicyDocument {
  return policyDocument(
    logStatement(args, AVM_RESOURCE_NAMES.webhookFunction),
    ledgerStatement(args, LEDGER_ACTIONS),
    enqueueWorkStatement(args),
    ...(args.webhookSecret
      ? [
          {
            Sid: "ReadWebhookSecret",
            Effect: "Allow" as const,
            Action: "secretsmanager:GetSecretValue",
            Resource: secretArnPattern(args, AVM_RESOURCE_NAMES.webhookSecret),
          },
        ]
      : []),
  );
}
