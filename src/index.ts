/**
 * Entry of the `meshstack-avm` Pulumi program (`main` in package.json) for `pulumi up` and Pulumi Deployments: runs
 * {@link avmProgram} (src/program.ts) and exports its outputs as stack outputs. Outputs of the other stack kind are
 * `undefined` and therefore absent. The Automation API runs `avmProgram` itself as an inline program.
 */
import { avmProgram } from "./program";

const outputs = avmProgram();

/** `account` or `platform`. */
export const stackKind = outputs.stackKind;
/** Account stacks: ARN of the meshStack access role (enter it in meshStack). */
export const accessRoleArn = outputs.accessRoleArn;
/** Account stacks: name of the meshStack access role. */
export const accessRoleName = outputs.accessRoleName;
/** Account stacks: `{programVersion, configDigest}` the stack was deployed with (`avm fleet status`). */
export const avmDeployment = outputs.avmDeployment;
/** Platform stack: ARN of `AVMEntryPoint`. */
export const entryPointArn = outputs.entryPointArn;
/** Platform stack: Function URL to register as Pulumi Cloud webhook. */
export const webhookUrl = outputs.webhookUrl;
/** Platform stack: DynamoDB ledger table. */
export const ledgerTableName = outputs.ledgerTableName;
/** Platform stack: work queue URL. */
export const queueUrl = outputs.queueUrl;
/** Platform stack: dead-letter queue URL. */
export const deadLetterQueueUrl = outputs.deadLetterQueueUrl;
/** Platform stack: execution role ARNs. */
export const entryPointRoleArn = outputs.entryPointRoleArn;
export const workerRoleArn = outputs.workerRoleArn;
export const webhookRoleArn = outputs.webhookRoleArn;
/** Platform stack: ARN of the vending role in the management account. */
export const vendingRoleArn = outputs.vendingRoleArn;
/** Platform stack with `meshfedServicePolicy` create or attach: ARN of meshStack's principal policy. */
export const meshfedServicePolicyArn = outputs.meshfedServicePolicyArn;
/**
 * Platform stack: `{targets, policies}`, the guardrail SCP ids by name and the OUs or roots they are attached to
 * (`avm doctor` checks the attachments); empty when `guardrailTargets` is not set.
 */
export const guardrails = outputs.guardrails;
/** Platform stack with `deploymentsOidc`: ARN of the deploy role Pulumi Deployments assumes through OIDC. */
export const deploymentsRoleArn = outputs.deploymentsRoleArn;
