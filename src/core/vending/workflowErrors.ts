/**
 * The workflow's error base classes, in their own module so readers of ledger records (the CLI's output) need not
 * load the workflow and the Organizations client with it.
 */

/** Base class of workflow errors. */
export class WorkflowError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A ledger record lacks what its state needs (a bug or a hand-edited record). */
export class WorkflowRecordError extends WorkflowError {}
