/**
 * The wire format of a work item (the message body on any queue): JSON with exactly `email` and `requestId`.
 */
import type { WorkItem } from "./ports";

/** Base class of work queue errors. */
export class WorkQueueError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A message body is not a work item. */
export class WorkItemFormatError extends WorkQueueError {}

/** The JSON message body of `item` (only the two contract fields, in a fixed order). */
export function serializeWorkItem(item: WorkItem): string {
  return JSON.stringify({ email: item.email, requestId: item.requestId });
}

/**
 * Reads a message body written by {@link serializeWorkItem}.
 * @throws WorkItemFormatError naming what is wrong (never echoing the body).
 */
export function parseWorkItem(body: string): WorkItem {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    throw new WorkItemFormatError("work item body is not valid JSON", { cause: error });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new WorkItemFormatError("work item body must be a JSON object");
  }
  const { email, requestId } = value as Record<string, unknown>;
  if (typeof email !== "string" || email.trim() === "") {
    throw new WorkItemFormatError("work item field email must be a non-empty string");
  }
  if (typeof requestId !== "string" || requestId.trim() === "") {
    throw new WorkItemFormatError("work item field requestId must be a non-empty string");
  }
  return { email, requestId };
}
