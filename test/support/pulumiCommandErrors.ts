/**
 * Builds the errors the Automation API really throws for a given CLI stderr, through the SDK's own
 * (internal) `createCommandError`, so tests of the classifier see exactly the SDK's classes and messages.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cmd = require("@pulumi/pulumi/automation/cmd.js") as {
  CommandResult: new (stdout: string, stderr: string, code: number, err?: Error) => unknown;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const errors = require("@pulumi/pulumi/automation/errors.js") as { createCommandError: (result: unknown) => Error };

/** The error the SDK throws when the CLI exits with `code` and prints `stderr`. */
export function pulumiCommandError(stderr: string, code = 255): Error {
  return errors.createCommandError(new cmd.CommandResult("", stderr, code));
}

/** ConcurrentUpdateError as raised against Pulumi Cloud (HTTP 409). */
export const concurrentUpdate = (): Error =>
  pulumiCommandError("error: [409] Conflict: Another update is currently in progress.\n");

/** ConcurrentUpdateError as raised by a DIY (file) backend lock. */
export const diyLocked = (): Error =>
  pulumiCommandError(
    "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end\n",
  );

/** What a DIY backend's lock check prints when the other update releases its lock while the check reads it. */
export const diyLockReleased = (): Error =>
  pulumiCommandError(
    "error: 2 errors occurred:\n\t1) open /tmp/b/.pulumi/locks/organization/meshstack-avm/account-222233334444/08164ed2-7642-42a5-bef8-fe11a02aa4a8.json: no such file or directory\n\t2) NotFound\n",
    1,
  );

/** StackNotFoundError. */
export const stackNotFound = (stackName: string): Error =>
  pulumiCommandError(`error: no stack named '${stackName}' found\n`);

/** The error the SDK throws when the `pulumi` binary is missing. */
export const cliMissing = (): Error =>
  errors.createCommandError(
    new cmd.CommandResult(
      "",
      "Command failed with ENOENT: pulumi version\nspawn pulumi ENOENT",
      -2,
      new Error("spawn pulumi ENOENT"),
    ),
  );
