import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { FIXED_NAME_OPTIONS, movedChild } from "./movedChild";

/** SQS message retention of both queues: 14 days, SQS's maximum. */
const RETENTION_SECONDS = 1_209_600;

/** Arguments of {@link WorkQueue}. */
export interface WorkQueueArgs {
  /** Physical names of the queue, the dead-letter queue and the alarm. */
  readonly queueName: string;
  readonly deadLetterQueueName: string;
  readonly alarmName: string;
  /** Visibility timeout of the work queue, in seconds. */
  readonly visibilityTimeoutSeconds: number;
  /** Deliveries without success after which a message moves to the dead-letter queue. */
  readonly maxReceiveCount: number;
}

/**
 * The work queue between `AVMEntryPoint` (producer) and the worker (consumer): an encrypted SQS queue with redrive
 * to an encrypted dead-letter queue, and a CloudWatch alarm as soon as one message is visible there.
 *
 * Children: `<name>-queue`, `<name>-dlq` (`aws:sqs/queue:Queue`), `<name>-dlq-alarm`.
 */
export class WorkQueue extends pulumi.ComponentResource {
  /** Pulumi type token. */
  static readonly TYPE = "avm:vending:WorkQueue";
  readonly queue: aws.sqs.Queue;
  readonly deadLetterQueue: aws.sqs.Queue;

  constructor(name: string, args: WorkQueueArgs, opts?: pulumi.ComponentResourceOptions) {
    super(WorkQueue.TYPE, name, {}, opts);
    const fixed = { ...movedChild(this, opts), ...FIXED_NAME_OPTIONS };
    this.deadLetterQueue = new aws.sqs.Queue(
      `${name}-dlq`,
      { name: args.deadLetterQueueName, sqsManagedSseEnabled: true, messageRetentionSeconds: RETENTION_SECONDS },
      fixed,
    );
    this.queue = new aws.sqs.Queue(
      `${name}-queue`,
      {
        name: args.queueName,
        sqsManagedSseEnabled: true,
        visibilityTimeoutSeconds: args.visibilityTimeoutSeconds,
        messageRetentionSeconds: RETENTION_SECONDS,
        redrivePolicy: pulumi.jsonStringify({
          deadLetterTargetArn: this.deadLetterQueue.arn,
          maxReceiveCount: args.maxReceiveCount,
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
        name: args.alarmName,
        alarmDescription: `Work messages are in the dead-letter queue ${args.deadLetterQueueName}: their requests are unfinished. Run \`avm reconcile --dlq-url <deadLetterQueueUrl> --queue-url <queueUrl>\`.`,
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: this.deadLetterQueue.name },
        statistic: "Maximum",
        period: 300,
        evaluationPeriods: 1,
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
      },
      fixed,
    );
    this.registerOutputs({ queueUrl: this.queue.url, deadLetterQueueUrl: this.deadLetterQueue.url });
  }
}
